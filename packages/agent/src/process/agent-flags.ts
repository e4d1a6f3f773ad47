// tug-agent's flags, with the kubelet's names where one exists; each flag also reads the env
// var TUG_AGENT_<FLAG> (upper case, dashes as underscores), a flag given on the command line
// winning over the env var.

import { hostname } from "node:os";
import { create } from "@bufbuild/protobuf";
import { Quantity, type Taint, TaintSchema } from "@tug/api";
import { Command, Option } from "commander";
import type { AgentOptions } from "../agent.js";
import { DEFAULT_AGENT_PORT, DEFAULT_MAX_PODS, DEFAULT_ROOT_DIR } from "../agent.js";
import { CONTAINER_GC_PERIOD_MS, MAX_DEAD_PER_CONTAINER } from "../gc/container-gc.js";
import type { LogLevel } from "../log.js";
import { parseIpv4Cidr } from "../network/node-network.js";
import { NETWORK_MODES, type NetworkMode } from "../network/node-networking.js";
import { NODE_LEASE_DURATION_SECONDS, NODE_STATUS_UPDATE_MS } from "../node/node-heartbeat.js";

/** The default CRI endpoint (tug-cri-docker's socket). */
export const DEFAULT_RUNTIME_ENDPOINT = "unix:///run/tug/cri-docker.sock";
/** The default API server address. */
export const DEFAULT_SERVER = "127.0.0.1:6443";
/** The default sandbox image (the kubelet's --pod-infra-container-image). */
export const DEFAULT_POD_INFRA_IMAGE = "tug/pause:latest";
/** The pod network (kube-controller-manager's --cluster-cidr as kubeadm and flannel use it). */
export const DEFAULT_CLUSTER_CIDR = "10.244.0.0/16";
/** The DNS ClusterIP (kube-dns's 10.96.0.10 in the default service CIDR 10.96.0.0/12). */
export const DEFAULT_CLUSTER_DNS = "10.96.0.10";

/** Settings that are the process's, not the Agent's. */
export interface ProcessSettings {
  agent: AgentOptions;
  logLevel: LogLevel;
  podInfraContainerImage: string;
  /** --cleanup: remove this node's networking and exit (kube-proxy's --cleanup). */
  cleanup: boolean;
}

/** A usage error naming the flag and how to fix it. */
export class FlagError extends Error {
  override readonly name = "FlagError";
}

/** "k=v,k2=v2" → map; "k" alone maps to "". */
export function parseKeyValues(flag: string, text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "")) {
    const eq = part.indexOf("=");
    const k = eq < 0 ? part : part.slice(0, eq);
    if (k === "") throw new FlagError(`--${flag}: "${part}" has no key; use key=value[,key=value]`);
    out[k] = eq < 0 ? "" : part.slice(eq + 1);
  }
  return out;
}

/** "key=value:Effect,key2:Effect" → taints (the kubelet's --register-with-taints syntax). */
export function parseTaints(text: string): Taint[] {
  const out: Taint[] = [];
  for (const part of text
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "")) {
    const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(part);
    if (m === null) {
      throw new FlagError(
        `--register-with-taints: "${part}" is not key[=value]:Effect with Effect NoSchedule, PreferNoSchedule or NoExecute`,
      );
    }
    out.push(
      create(TaintSchema, { key: m[1] as string, value: m[2] ?? "", effect: m[3] as string }),
    );
  }
  return out;
}

/** A Go duration ("10s", "1m30s", "500ms") in milliseconds. */
export function parseDurationMs(flag: string, text: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = "";
  for (const m of text.matchAll(re)) {
    const n = Number(m[1]);
    total += n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"];
    consumed += m[0];
  }
  if (consumed === "" || consumed !== text)
    throw new FlagError(`--${flag}: "${text}" is not a duration such as 10s, 1m or 500ms`);
  return total;
}

function intFlag(flag: string, text: string, min = 0): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min)
    throw new FlagError(`--${flag}: "${text}" must be an integer >= ${min}`);
  return n;
}

function boolFlag(flag: string, text: string): boolean {
  if (text === "true") return true;
  if (text === "false") return false;
  throw new FlagError(`--${flag}: "${text}" must be true or false (e.g. --${flag}=false)`);
}

function reservations(flag: string, text: string): Record<string, string> {
  const kv = parseKeyValues(flag, text);
  for (const [k, v] of Object.entries(kv)) {
    try {
      Quantity.parse(v);
    } catch {
      throw new FlagError(`--${flag}: ${k}=${v} is not a quantity such as 100m or 256Mi`);
    }
  }
  return kv;
}

/** The command with every flag (its --help is tug-agent's). */
export function agentCommand(): Command {
  return new Command("tug-agent")
    .description("tug's node agent: registers the node and runs the pods bound to it through CRI")
    .option("--node-name <name>", "the Node's name", hostname())
    .option(
      "--server <addresses>",
      "tug-apiserver address(es), comma-separated host:port",
      DEFAULT_SERVER,
    )
    .option(
      "--container-runtime-endpoint <endpoint>",
      "CRI runtime socket",
      DEFAULT_RUNTIME_ENDPOINT,
    )
    .option("--root-dir <dir>", `pod volumes and logs (default ${DEFAULT_ROOT_DIR}/<node-name>)`)
    .option("--address <ip>", "agent API listen address", "0.0.0.0")
    .option("--port <port>", "agent API port", String(DEFAULT_AGENT_PORT))
    .option("--node-ip <ip>", "the node's InternalIP (default: first non-internal IPv4)")
    .option("--node-labels <k=v,...>", "labels to add to the Node", "")
    .option("--node-role <role>", "adds the label node-role.kubernetes.io/<role>")
    .option("--register-with-taints <key=value:Effect,...>", "taints to register the Node with", "")
    .option("--max-pods <n>", "the Node's pods capacity", String(DEFAULT_MAX_PODS))
    .option("--kube-reserved <cpu=..,memory=..>", "resources reserved for tug's daemons", "")
    .option("--system-reserved <cpu=..,memory=..>", "resources reserved for the OS", "")
    .option(
      "--node-status-update-frequency <duration>",
      "how often the node status is posted",
      `${NODE_STATUS_UPDATE_MS / 1000}s`,
    )
    .option(
      "--node-lease-duration-seconds <n>",
      "the node Lease's duration",
      String(NODE_LEASE_DURATION_SECONDS),
    )
    .option(
      "--maximum-dead-containers-per-container <n>",
      "dead containers kept per container (at least 1)",
      String(MAX_DEAD_PER_CONTAINER),
    )
    .option(
      "--minimum-container-gc-period <duration>",
      "how often dead containers are collected",
      `${CONTAINER_GC_PERIOD_MS / 1000}s`,
    )
    .option(
      "--pod-infra-container-image <image>",
      "sandbox image (configured on tug-cri-docker; checked here)",
      DEFAULT_POD_INFRA_IMAGE,
    )
    .option(
      "--cluster-dns <ips>",
      "cluster DNS server IPs for ClusterFirst pods, comma-separated (empty: the runtime's resolv.conf)",
      DEFAULT_CLUSTER_DNS,
    )
    .option("--cluster-domain <domain>", "the cluster's DNS domain", "cluster.local")
    .option(
      "--cluster-cidr <cidr>",
      "the cluster's pod network (the controller manager's --cluster-cidr)",
      DEFAULT_CLUSTER_CIDR,
    )
    .addOption(
      new Option(
        "--network-mode <mode>",
        "bridge: the node's pod network (Docker bridge tug-<node> on the node's podCIDR, routes to other nodes); none: pods use the runtime's network",
      )
        .choices([...NETWORK_MODES])
        .default("bridge"),
    )
    .option(
      "--proxy [enabled]",
      "run the service proxy (iptables); one per host network namespace: --proxy=false on the others",
      "true",
    )
    .option(
      "--dns [enabled]",
      "run the cluster DNS server on the pod bridge's gateway (bridge mode); --dns=false to leave it to another agent of this host",
      "true",
    )
    .option(
      "--cleanup",
      "remove this node's networking (service proxy chains, routes, rules, the Docker network tug-<node>) and exit",
      false,
    )
    .addOption(
      new Option("--log-level <level>", "log level")
        .choices(["debug", "info", "warn", "error"])
        .default("info"),
    )
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
}

/** Flags from argv over env vars, checked, as the agent's options. */
export function parseAgentFlags(argv: readonly string[], env: NodeJS.ProcessEnv): ProcessSettings {
  const cmd = agentCommand();
  // Env vars fill in flags the command line does not give.
  const fromEnv: string[] = [];
  for (const opt of cmd.options) {
    const long = opt.long?.replace(/^--/, "") ?? "";
    const value = env[`TUG_AGENT_${long.toUpperCase().replace(/-/g, "_")}`];
    if (value !== undefined && !argv.some((a) => a === `--${long}` || a.startsWith(`--${long}=`))) {
      fromEnv.push(`--${long}=${value}`);
    }
  }
  cmd.parse([...fromEnv, ...argv], { from: "user" });
  const o = cmd.opts<Record<string, string | boolean | undefined>>();
  const get = (k: string) => {
    const v = o[k];
    return v === true ? "true" : v === false || v === undefined ? "" : v;
  };
  const agent: AgentOptions = {
    nodeName: get("nodeName"),
    servers: get("server")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
    runtimeEndpoint: get("containerRuntimeEndpoint"),
    address: get("address"),
    port: intFlag("port", get("port")),
    nodeLabels: parseKeyValues("node-labels", get("nodeLabels")),
    registerWithTaints: parseTaints(get("registerWithTaints")),
    maxPods: intFlag("max-pods", get("maxPods"), 1),
    reserved: sumReservations(
      reservations("kube-reserved", get("kubeReserved")),
      reservations("system-reserved", get("systemReserved")),
    ),
    nodeStatusUpdateMs: parseDurationMs(
      "node-status-update-frequency",
      get("nodeStatusUpdateFrequency"),
    ),
    nodeLeaseDurationSeconds: intFlag(
      "node-lease-duration-seconds",
      get("nodeLeaseDurationSeconds"),
      1,
    ),
    maxDeadContainersPerContainer: intFlag(
      "maximum-dead-containers-per-container",
      get("maximumDeadContainersPerContainer"),
      1,
    ),
    containerGcPeriodMs: parseDurationMs(
      "minimum-container-gc-period",
      get("minimumContainerGcPeriod"),
    ),
    clusterDns: get("clusterDns")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
    clusterDomain: get("clusterDomain"),
    networking: {
      mode: get("networkMode") as NetworkMode,
      clusterCidr: get("clusterCidr"),
      proxy: boolFlag("proxy", get("proxy")),
      dns: boolFlag("dns", get("dns")),
    },
  };
  try {
    parseIpv4Cidr(get("clusterCidr"), "--cluster-cidr");
  } catch (e) {
    throw new FlagError(e instanceof Error ? e.message : String(e));
  }
  if (agent.servers.length === 0)
    throw new FlagError("--server: give at least one tug-apiserver address host:port");
  if (o.rootDir !== undefined) agent.rootDir = get("rootDir");
  if (o.nodeIp !== undefined) agent.nodeIp = get("nodeIp");
  if (o.nodeRole !== undefined) agent.role = get("nodeRole");
  return {
    agent,
    logLevel: get("logLevel") as LogLevel,
    podInfraContainerImage: get("podInfraContainerImage"),
    cleanup: get("cleanup") === "true",
  };
}

function sumReservations(
  a: Record<string, string>,
  b: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    out[k] =
      out[k] === undefined
        ? v
        : Quantity.parse(out[k] as string)
            .add(Quantity.parse(v))
            .toString();
  }
  return out;
}
