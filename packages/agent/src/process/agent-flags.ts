// tug-agent's flags, with the kubelet's names where one exists; each flag is also the env var
// TUG_AGENT_<FLAG> (upper case, dashes as underscores) and a key of the YAML --config file. A
// flag beats the environment, which beats the file, which beats the default (@tug/daemon's
// layering, docs/daemon.md).

import { hostname } from "node:os";
import { create } from "@bufbuild/protobuf";
import { Quantity, type Taint, TaintSchema } from "@tug/api";
import {
  ConfigError,
  type FlagSpec,
  type GatherOptions,
  gatherSettings,
  type ParsedSettings,
  type SettingsCommand,
} from "@tug/daemon";
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

/** A bad flag value, naming the flag and how to fix it (a ConfigError: the process exits 2). */
export class FlagError extends ConfigError {
  constructor(message: string) {
    super([message]);
  }
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

/** Every setting, in --help order. */
export const FLAGS: readonly FlagSpec[] = [
  { name: "node-name", arg: "<name>", description: "the Node's name", default: hostname() },
  {
    name: "server",
    arg: "<addresses>",
    description: "tug-apiserver address(es), comma-separated host:port",
    default: DEFAULT_SERVER,
  },
  {
    name: "container-runtime-endpoint",
    arg: "<endpoint>",
    description: "CRI runtime socket",
    default: DEFAULT_RUNTIME_ENDPOINT,
  },
  {
    name: "root-dir",
    arg: "<dir>",
    description: `pod volumes and logs (default ${DEFAULT_ROOT_DIR}/<node-name>)`,
  },
  { name: "address", arg: "<ip>", description: "agent API listen address", default: "0.0.0.0" },
  {
    name: "port",
    arg: "<port>",
    description: "agent API port",
    default: String(DEFAULT_AGENT_PORT),
  },
  {
    name: "node-ip",
    arg: "<ip>",
    description: "the node's InternalIP (default: first non-internal IPv4)",
  },
  { name: "node-labels", arg: "<k=v,...>", description: "labels to add to the Node", default: "" },
  {
    name: "node-role",
    arg: "<role>",
    description: "adds the label node-role.kubernetes.io/<role>",
  },
  {
    name: "register-with-taints",
    arg: "<key=value:Effect,...>",
    description: "taints to register the Node with",
    default: "",
  },
  {
    name: "max-pods",
    arg: "<n>",
    description: "the Node's pods capacity",
    default: String(DEFAULT_MAX_PODS),
  },
  {
    name: "kube-reserved",
    arg: "<cpu=..,memory=..>",
    description: "resources reserved for tug's daemons",
    default: "",
  },
  {
    name: "system-reserved",
    arg: "<cpu=..,memory=..>",
    description: "resources reserved for the OS",
    default: "",
  },
  {
    name: "node-status-update-frequency",
    arg: "<duration>",
    description: "how often the node status is posted",
    default: `${NODE_STATUS_UPDATE_MS / 1000}s`,
  },
  {
    name: "node-lease-duration-seconds",
    arg: "<n>",
    description: "the node Lease's duration",
    default: String(NODE_LEASE_DURATION_SECONDS),
  },
  {
    name: "maximum-dead-containers-per-container",
    arg: "<n>",
    description: "dead containers kept per container (at least 1)",
    default: String(MAX_DEAD_PER_CONTAINER),
  },
  {
    name: "minimum-container-gc-period",
    arg: "<duration>",
    description: "how often dead containers are collected",
    default: `${CONTAINER_GC_PERIOD_MS / 1000}s`,
  },
  {
    name: "pod-infra-container-image",
    arg: "<image>",
    description: "sandbox image (configured on tug-cri-docker; checked here)",
    default: DEFAULT_POD_INFRA_IMAGE,
  },
  {
    name: "cluster-dns",
    arg: "<ips>",
    description:
      "cluster DNS server IPs for ClusterFirst pods, comma-separated (empty: the runtime's resolv.conf)",
    default: DEFAULT_CLUSTER_DNS,
  },
  {
    name: "cluster-domain",
    arg: "<domain>",
    description: "the cluster's DNS domain",
    default: "cluster.local",
  },
  {
    name: "cluster-cidr",
    arg: "<cidr>",
    description: "the cluster's pod network (the controller manager's --cluster-cidr)",
    default: DEFAULT_CLUSTER_CIDR,
  },
  {
    name: "network-mode",
    arg: "<mode>",
    description:
      "bridge: the node's pod network (Docker bridge tug-<node> on the node's podCIDR, routes to other nodes); none: pods use the runtime's network",
    default: "bridge",
  },
  {
    name: "proxy",
    arg: "[enabled]",
    description:
      "run the service proxy (iptables); one per host network namespace: --proxy=false on the others",
    default: "true",
  },
  {
    name: "dns",
    arg: "[enabled]",
    description:
      "run the cluster DNS server on the pod bridge's gateway (bridge mode); --dns=false to leave it to another agent of this host",
    default: "true",
  },
  {
    name: "cleanup",
    arg: "",
    description:
      "remove this node's networking (service proxy chains, routes, rules, the Docker network tug-<node>) and exit",
    default: "false",
  },
  { name: "log-level", arg: "<level>", description: "debug, info, warn or error", default: "info" },
];

const COMMAND: SettingsCommand = {
  name: "tug-agent",
  description: "tug's node agent: registers the node and runs the pods bound to it through CRI",
  helpAfter: [
    "Every flag can also be set in the environment as TUG_AGENT_<FLAG>, e.g. TUG_AGENT_NODE_NAME=node-1,",
    "or as a key of the --config YAML file, e.g. node-name: node-1. A flag wins over the",
    "environment, the environment over the file. Docs: docs/agent.md.",
  ].join("\n"),
  envPrefix: "TUG_AGENT_",
  flags: FLAGS,
  configFlag: "config",
  configFormat: "yaml",
  configExample: '"node-name: node-1"',
};

/**
 * Flags over env vars over the --config file, checked, as the agent's options. --help,
 * --version and usage errors give an "exit" result; a bad value throws ConfigError (FlagError
 * for one the agent checks itself).
 */
export function parseAgentFlags(
  argv: readonly string[],
  options: GatherOptions = {},
): ParsedSettings<ProcessSettings> {
  const gathered = gatherSettings(COMMAND, argv, options);
  if (gathered.kind === "exit") return gathered;
  const s = gathered.settings;
  const networkMode = s.oneOf("network-mode", NETWORK_MODES);
  const logLevel = s.logLevel();
  s.check();
  const get = (flag: string) => s.value(flag);
  const agent: AgentOptions = {
    nodeName: get("node-name"),
    servers: s.list("server"),
    runtimeEndpoint: get("container-runtime-endpoint"),
    address: get("address"),
    port: intFlag("port", get("port")),
    nodeLabels: parseKeyValues("node-labels", get("node-labels")),
    registerWithTaints: parseTaints(get("register-with-taints")),
    maxPods: intFlag("max-pods", get("max-pods"), 1),
    reserved: sumReservations(
      reservations("kube-reserved", get("kube-reserved")),
      reservations("system-reserved", get("system-reserved")),
    ),
    nodeStatusUpdateMs: parseDurationMs(
      "node-status-update-frequency",
      get("node-status-update-frequency"),
    ),
    nodeLeaseDurationSeconds: intFlag(
      "node-lease-duration-seconds",
      get("node-lease-duration-seconds"),
      1,
    ),
    maxDeadContainersPerContainer: intFlag(
      "maximum-dead-containers-per-container",
      get("maximum-dead-containers-per-container"),
      1,
    ),
    containerGcPeriodMs: parseDurationMs(
      "minimum-container-gc-period",
      get("minimum-container-gc-period"),
    ),
    clusterDns: s.list("cluster-dns"),
    clusterDomain: get("cluster-domain"),
    networking: {
      mode: networkMode as NetworkMode,
      clusterCidr: get("cluster-cidr"),
      proxy: boolFlag("proxy", get("proxy")),
      dns: boolFlag("dns", get("dns")),
    },
  };
  try {
    parseIpv4Cidr(get("cluster-cidr"), "--cluster-cidr");
  } catch (e) {
    throw new FlagError(e instanceof Error ? e.message : String(e));
  }
  if (agent.servers.length === 0)
    throw new FlagError("--server: give at least one tug-apiserver address host:port");
  if (s.raw("root-dir") !== undefined) agent.rootDir = get("root-dir");
  if (s.raw("node-ip") !== undefined) agent.nodeIp = get("node-ip");
  if (s.raw("node-role") !== undefined) agent.role = get("node-role");
  return {
    kind: "run",
    settings: {
      agent,
      logLevel,
      podInfraContainerImage: get("pod-infra-container-image"),
      cleanup: boolFlag("cleanup", get("cleanup")),
    },
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
