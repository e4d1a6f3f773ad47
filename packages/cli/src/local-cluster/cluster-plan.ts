// The plan of a local cluster as `tug up` starts it on one machine: which processes, with which
// flags, on which ports, in which order. Pure: no file, process or network access, so the port
// layout is tested on its own. Ports follow DESIGN.md's table, shifted by one offset so that a
// second cluster (or a test) runs beside the first:
//   store members  client 2379/22379/32379, peer +1, metrics +2 (etcd's Procfile layout)
//   apiserver      6443 (gRPC), 6444 (health)
//   scheduler      10259, controller-manager 10257
//   per node i     agent 10250+i, runtime metrics 10270+i, CRI socket <run-dir>/<node>/cri-docker.sock
// Networking: every node's pods join the Docker bridge tug-<node> on its podCIDR; the first
// node's agent runs the service proxy and the cluster DNS for the whole host.

import { createHash } from "node:crypto";
import { join } from "node:path";
import { CliError } from "../cli-error.js";

/** Where a component sits in the start order; each stage starts once the previous is ready. */
export type Stage = "store" | "apiserver" | "control-plane" | "agent";

/** The stages in start order (stopped in reverse). */
export const STAGES: readonly Stage[] = ["store", "apiserver", "control-plane", "agent"];

/** The daemons, as their package and bin names. */
export type Binary =
  | "tug-store"
  | "tug-apiserver"
  | "tug-scheduler"
  | "tug-controller-manager"
  | "tug-cri-docker"
  | "tug-agent";

export const BINARY_PACKAGE: Readonly<Record<Binary, string>> = {
  "tug-store": "store",
  "tug-apiserver": "apiserver",
  "tug-scheduler": "scheduler",
  "tug-controller-manager": "controller-manager",
  "tug-cri-docker": "cri-docker",
  "tug-agent": "agent",
};

export interface ComponentPlan {
  /** Unique within the cluster: "store-1", "apiserver", "cri-docker-tug-node-1", ... */
  readonly name: string;
  readonly binary: Binary;
  readonly stage: Stage;
  readonly args: readonly string[];
  /** The TCP ports the component listens on (what `tug status` shows first is the main one). */
  readonly ports: readonly number[];
  /** Answers 200 once the component is ready. */
  readonly readyUrl: string;
  readonly healthUrl: string;
  /** The runtime's CRI socket and Docker label instance, for runtimes only. */
  readonly criSocket?: string;
  readonly criInstance?: string;
  /** The node an agent or runtime serves. */
  readonly node?: string;
}

export interface ClusterPlan {
  readonly dataDir: string;
  readonly runDir: string;
  /** Short id derived from the data dir; names the runtimes' Docker instances. */
  readonly clusterId: string;
  /** "127.0.0.1:<port>" of the API server, what the CLI config points at. */
  readonly apiServer: string;
  readonly nodes: readonly string[];
  readonly components: readonly ComponentPlan[];
}

export interface PlanOptions {
  /** Absolute path of the cluster's data dir. */
  readonly dataDir: string;
  /** Absolute path under which each node's CRI socket directory is made. */
  readonly runDir: string;
  /** Number of node agents (each with its own runtime), 1 to MAX_AGENTS. */
  readonly agents: number;
  /** The first store member's client port; every other port moves by as much. */
  readonly basePort: number;
}

export const DEFAULT_BASE_PORT = 2379;
export const DEFAULT_AGENTS = 2;
/** Agent ports 10250+i must stay below the controller manager's 10257. */
export const MAX_AGENTS = 7;
const STORE_MEMBERS = 3;
const STORE_MEMBER_PORTS = [2379, 22379, 32379] as const;
const LOOPBACK = "127.0.0.1";

/** tug-store's Raft timing for one machine: etcd's defaults (heartbeat 100 ms, election 1 s). */
const STORE_HEARTBEAT_MS = 100;
const STORE_ELECTION_MS = 1000;

/**
 * Leader election for the scheduler and controller manager, shorter than Kubernetes' 15s/10s/2s
 * so that a restarted local component takes over within seconds (DESIGN.md: "`tug up` may
 * choose shorter ones and says so").
 */
export const LOCAL_LEADER_ELECTION = {
  leaseDuration: "6s",
  renewDeadline: "4s",
  retryPeriod: "1s",
} as const;

/** How often agents post node status: 5s instead of the kubelet's 10s, so Ready shows sooner. */
export const LOCAL_NODE_STATUS_UPDATE = "5s";

/**
 * The pod network and the DNS ClusterIP: the agents' and controller manager's defaults
 * (node IPAM gives each node a /24 of the cluster CIDR; docs/networking.md).
 */
export const LOCAL_CLUSTER_CIDR = "10.244.0.0/16";
export const LOCAL_CLUSTER_DNS = "10.96.0.10";

/**
 * The service-account key pair's files under a data dir, kubeadm's pki/sa.key and pki/sa.pub
 * (service-account-key.ts makes them before the cluster starts).
 */
export function serviceAccountKeyPaths(dataDir: string): {
  readonly privateKey: string;
  readonly publicKey: string;
} {
  return { privateKey: join(dataDir, "pki", "sa.key"), publicKey: join(dataDir, "pki", "sa.pub") };
}

/**
 * The issuer the API server accepts in service account tokens besides the legacy
 * "kubernetes/serviceaccount" the tokens controller signs with: the API server's in-cluster
 * name, as kubeadm sets it.
 */
export const LOCAL_SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local";

/** The Docker network a node's sandboxes join: tug-agent's podNetworkName(node). */
export function podNetworkOf(node: string): string {
  return `tug-${node}`;
}

/** The node names: tug-node-1, tug-node-2, ... */
export function nodeNames(agents: number): string[] {
  return Array.from({ length: agents }, (_, i) => `tug-node-${i + 1}`);
}

/** 8 hex digits of the data dir's SHA-256: two clusters from two data dirs never share labels. */
export function clusterIdFor(dataDir: string): string {
  return createHash("sha256").update(dataDir).digest("hex").slice(0, 8);
}

function checkOptions(options: PlanOptions): void {
  if (!Number.isInteger(options.agents) || options.agents < 1 || options.agents > MAX_AGENTS) {
    throw new CliError(
      `--agents ${options.agents}: must be a whole number from 1 to ${MAX_AGENTS} (agent ports 10250+ must stay below the controller manager's)`,
    );
  }
  const offset = options.basePort - DEFAULT_BASE_PORT;
  const lowest = Math.min(options.basePort, 6443 + offset);
  const highest = 32379 + 2 + offset;
  if (!Number.isInteger(options.basePort) || lowest < 1024 || highest > 65535) {
    throw new CliError(
      `--base-port ${options.basePort}: must be a whole number that keeps every port between 1024 and 65535 (the highest is base+30002); try ${DEFAULT_BASE_PORT} or 2479`,
    );
  }
}

/** Every port of the plan must be distinct; a collision names both components. */
function checkDistinctPorts(components: readonly ComponentPlan[]): void {
  const owner = new Map<number, string>();
  for (const component of components) {
    for (const port of component.ports) {
      const other = owner.get(port);
      if (other !== undefined) {
        throw new CliError(
          `port ${port} would be used by both ${other} and ${component.name}; choose another --base-port or fewer --agents`,
        );
      }
      owner.set(port, component.name);
    }
  }
}

/** The whole cluster's processes and flags. Throws CliError naming the flag on bad options. */
export function planCluster(options: PlanOptions): ClusterPlan {
  checkOptions(options);
  const offset = options.basePort - DEFAULT_BASE_PORT;
  const clusterId = clusterIdFor(options.dataDir);
  const url = (port: number) => `http://${LOOPBACK}:${port}`;
  const components: ComponentPlan[] = [];

  const members = STORE_MEMBER_PORTS.slice(0, STORE_MEMBERS).map((base, i) => ({
    name: `store-${i + 1}`,
    client: base + offset,
    peer: base + 1 + offset,
    metrics: base + 2 + offset,
  }));
  const initialCluster = members.map((m) => `${m.name}=${url(m.peer)}`).join(",");
  for (const m of members) {
    components.push({
      name: m.name,
      binary: "tug-store",
      stage: "store",
      args: [
        `--name=${m.name}`,
        `--data-dir=${join(options.dataDir, "store", m.name)}`,
        `--listen-client-urls=${url(m.client)}`,
        `--advertise-client-urls=${url(m.client)}`,
        `--listen-peer-urls=${url(m.peer)}`,
        `--initial-advertise-peer-urls=${url(m.peer)}`,
        `--listen-metrics-urls=${url(m.metrics)}`,
        `--initial-cluster=${initialCluster}`,
        `--initial-cluster-token=tug-local-${clusterId}`,
        "--initial-cluster-state=new",
        `--heartbeat-interval=${STORE_HEARTBEAT_MS}`,
        `--election-timeout=${STORE_ELECTION_MS}`,
      ],
      ports: [m.client, m.peer, m.metrics],
      readyUrl: `${url(m.metrics)}/readyz`,
      healthUrl: `${url(m.metrics)}/healthz`,
    });
  }

  const apiPort = 6443 + offset;
  const apiHealth = 6444 + offset;
  const apiServer = `${LOOPBACK}:${apiPort}`;
  const saKeys = serviceAccountKeyPaths(options.dataDir);
  components.push({
    name: "apiserver",
    binary: "tug-apiserver",
    stage: "apiserver",
    args: [
      `--etcd-servers=${members.map((m) => url(m.client)).join(",")}`,
      `--bind-address=${LOOPBACK}`,
      `--secure-port=${apiPort}`,
      `--health-port=${apiHealth}`,
      `--service-account-key-file=${saKeys.publicKey}`,
      `--service-account-issuer=${LOCAL_SERVICE_ACCOUNT_ISSUER}`,
    ],
    ports: [apiPort, apiHealth],
    readyUrl: `${url(apiHealth)}/readyz`,
    healthUrl: `${url(apiHealth)}/healthz`,
  });

  const election = [
    `--leader-elect-lease-duration=${LOCAL_LEADER_ELECTION.leaseDuration}`,
    `--leader-elect-renew-deadline=${LOCAL_LEADER_ELECTION.renewDeadline}`,
    `--leader-elect-retry-period=${LOCAL_LEADER_ELECTION.retryPeriod}`,
  ];
  for (const [name, binary, port] of [
    ["scheduler", "tug-scheduler", 10259 + offset],
    ["controller-manager", "tug-controller-manager", 10257 + offset],
  ] as const) {
    components.push({
      name,
      binary,
      stage: "control-plane",
      args: [
        `--master=${apiServer}`,
        `--bind-address=${LOOPBACK}`,
        `--secure-port=${port}`,
        ...election,
        // Node IPAM's range (the agents route and masquerade the same one), and the key the
        // tokens controller signs service account tokens with.
        ...(binary === "tug-controller-manager"
          ? [
              `--cluster-cidr=${LOCAL_CLUSTER_CIDR}`,
              `--service-account-private-key-file=${saKeys.privateKey}`,
            ]
          : []),
      ],
      ports: [port],
      readyUrl: `${url(port)}/readyz`,
      healthUrl: `${url(port)}/healthz`,
    });
  }

  const nodes = nodeNames(options.agents);
  nodes.forEach((node, i) => {
    const socket = join(options.runDir, node, "cri-docker.sock");
    const instance = `tug-local-${clusterId}-${node}`;
    const metrics = 10270 + i + offset;
    components.push({
      name: `cri-docker-${node}`,
      binary: "tug-cri-docker",
      // Runtimes need only Docker; they start beside the scheduler and controller manager.
      stage: "control-plane",
      args: [
        `--listen=${socket}`,
        `--instance=${instance}`,
        `--metrics-address=${LOOPBACK}:${metrics}`,
        // The agent makes this network (on the node's podCIDR) once node IPAM assigned one.
        `--pod-network=${podNetworkOf(node)}`,
      ],
      ports: [metrics],
      readyUrl: `${url(metrics)}/readyz`,
      healthUrl: `${url(metrics)}/healthz`,
      criSocket: socket,
      criInstance: instance,
      node,
    });
  });
  nodes.forEach((node, i) => {
    const port = 10250 + i + offset;
    components.push({
      name: `agent-${node}`,
      binary: "tug-agent",
      stage: "agent",
      args: [
        `--node-name=${node}`,
        `--server=${apiServer}`,
        `--container-runtime-endpoint=unix://${join(options.runDir, node, "cri-docker.sock")}`,
        `--root-dir=${join(options.dataDir, "agents", node)}`,
        `--port=${port}`,
        `--node-status-update-frequency=${LOCAL_NODE_STATUS_UPDATE}`,
        `--cluster-cidr=${LOCAL_CLUSTER_CIDR}`,
        `--cluster-dns=${LOCAL_CLUSTER_DNS}`,
        // Every agent lives in this host's network namespace: the service proxy's chains and
        // the DNS are host-wide, so the first node runs them for all (docs/networking.md).
        ...(i === 0 ? [] : ["--proxy=false", "--dns=false"]),
      ],
      ports: [port],
      readyUrl: `${url(port)}/readyz`,
      healthUrl: `${url(port)}/healthz`,
      node,
    });
  });

  checkDistinctPorts(components);
  return {
    dataDir: options.dataDir,
    runDir: options.runDir,
    clusterId,
    apiServer,
    nodes,
    components,
  };
}
