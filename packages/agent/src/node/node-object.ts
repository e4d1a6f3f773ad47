// The Node object the agent registers and the status it keeps posting (the kubelet's
// initialNode and setNodeStatus): capacity from the host, allocatable = capacity minus
// reservations and the hard eviction threshold, the well-known labels, taints, addresses,
// nodeInfo, daemonEndpoints and the four conditions
// (https://kubernetes.io/docs/reference/node/node-status/,
// https://kubernetes.io/docs/reference/labels-annotations-taints/).

import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type Node,
  type NodeCondition,
  NodeConditionSchema,
  NodeSchema,
  type NodeStatus,
  NodeStatusSchema,
  Quantity,
  type Taint,
} from "@tug/api";
import {
  bootId,
  cpuCount,
  filesystemBytes,
  goArch,
  hostName,
  kernelVersion,
  machineId,
  memoryAvailableBytes,
  memoryBytes,
  osImage,
} from "./host-facts.js";

/** The agent's version, reported as nodeInfo.kubeletVersion. */
export const AGENT_VERSION = "v0.1.0-tug";

/** The kubelet's default hard eviction threshold for memory (memory.available<100Mi). */
export const EVICTION_HARD_MEMORY = "100Mi";
/** The kubelet's default hard eviction threshold for the node filesystem (nodefs.available<10%). */
export const EVICTION_HARD_NODEFS_PERCENT = 10;

export interface NodeIdentity {
  name: string;
  /** InternalIP. */
  nodeIp: string;
  port: number;
  maxPods: number;
  rootDir: string;
  /** node-role.kubernetes.io/<role> label, if any. */
  role?: string;
  /** --node-labels. */
  labels: Readonly<Record<string, string>>;
  /** --register-with-taints. */
  taints: readonly Taint[];
  /** --kube-reserved plus --system-reserved, resource → quantity text. */
  reserved: Readonly<Record<string, string>>;
  /** "docker://27.x" from CRI Version. */
  runtimeVersion: string;
}

/** What the host has: cpu, memory, ephemeral-storage, pods. */
export function nodeCapacity(id: NodeIdentity): Record<string, string> {
  const out: Record<string, string> = {
    cpu: String(cpuCount()),
    memory: `${Math.floor(memoryBytes() / 1024)}Ki`,
    pods: String(id.maxPods),
  };
  const fs = filesystemBytes(id.rootDir);
  if (fs !== undefined) out["ephemeral-storage"] = `${Math.floor(fs.total / 1024)}Ki`;
  return out;
}

/** Capacity minus reservations and hard eviction thresholds, never below zero. */
export function nodeAllocatable(
  capacity: Readonly<Record<string, string>>,
  reserved: Readonly<Record<string, string>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, text] of Object.entries(capacity)) {
    let q = Quantity.parse(text);
    const r = reserved[name];
    if (r !== undefined) q = q.sub(Quantity.parse(r));
    if (name === "memory") q = q.sub(Quantity.parse(EVICTION_HARD_MEMORY));
    if (q.sign() < 0) q = Quantity.parse("0");
    out[name] = q.toString();
  }
  return out;
}

/** The Node to register. */
export function initialNode(id: NodeIdentity): Node {
  const capacity = nodeCapacity(id);
  const labels: Record<string, string> = {
    "kubernetes.io/hostname": id.name,
    "kubernetes.io/os": "linux",
    "kubernetes.io/arch": goArch(),
    "beta.kubernetes.io/os": "linux",
    "beta.kubernetes.io/arch": goArch(),
    ...id.labels,
  };
  if (id.role !== undefined && id.role !== "") labels[`node-role.kubernetes.io/${id.role}`] = "";
  return create(NodeSchema, {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: id.name, labels },
    spec: { taints: [...id.taints] },
    status: nodeStatus(id, capacity, [], { runtimeReady: true, runtimeMessage: "" }, Date.now()),
  });
}

/** Runtime health, as CRI Status reports it. */
export interface RuntimeHealth {
  runtimeReady: boolean;
  runtimeMessage: string;
  /**
   * Whether the agent's pod network (routes to this node's podCIDR) is set up; reported as the
   * NetworkUnavailable condition, which the network provider (not the kubelet) owns in
   * Kubernetes. Absent: the agent runs no node network and reports no such condition.
   */
  podNetworkReady?: boolean;
}

function nodeCondition(
  old: readonly NodeCondition[],
  type: string,
  status: "True" | "False",
  reason: string,
  message: string,
  nowMs: number,
): NodeCondition {
  const prev = old.find((c) => c.type === type);
  return create(NodeConditionSchema, {
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: timestampFromMs(nowMs),
    lastTransitionTime:
      prev?.status === status && prev.lastTransitionTime !== undefined
        ? prev.lastTransitionTime
        : timestampFromMs(nowMs),
  });
}

/** The node's status now; `old` conditions keep their lastTransitionTime while unchanged. */
export function nodeStatus(
  id: NodeIdentity,
  capacity: Readonly<Record<string, string>>,
  old: readonly NodeCondition[],
  health: RuntimeHealth,
  nowMs: number,
): NodeStatus {
  const memAvailable = memoryAvailableBytes();
  const memoryPressure =
    memAvailable !== undefined &&
    memAvailable < Number(Quantity.parse(EVICTION_HARD_MEMORY).value());
  const fs = filesystemBytes(id.rootDir);
  const diskPressure =
    fs !== undefined &&
    fs.total > 0 &&
    (fs.available * 100) / fs.total < EVICTION_HARD_NODEFS_PERCENT;
  const conditions = [
    nodeCondition(
      old,
      "MemoryPressure",
      memoryPressure ? "True" : "False",
      memoryPressure ? "KubeletHasInsufficientMemory" : "KubeletHasSufficientMemory",
      memoryPressure
        ? "kubelet has insufficient memory available"
        : "kubelet has sufficient memory available",
      nowMs,
    ),
    nodeCondition(
      old,
      "DiskPressure",
      diskPressure ? "True" : "False",
      diskPressure ? "KubeletHasDiskPressure" : "KubeletHasNoDiskPressure",
      diskPressure ? "kubelet has disk pressure" : "kubelet has no disk pressure",
      nowMs,
    ),
    nodeCondition(
      old,
      "PIDPressure",
      "False",
      "KubeletHasSufficientPID",
      "kubelet has sufficient PID available",
      nowMs,
    ),
    health.runtimeReady
      ? nodeCondition(
          old,
          "Ready",
          "True",
          "KubeletReady",
          "kubelet is posting ready status",
          nowMs,
        )
      : nodeCondition(
          old,
          "Ready",
          "False",
          "KubeletNotReady",
          `container runtime is down: ${health.runtimeMessage}`,
          nowMs,
        ),
  ];
  if (health.podNetworkReady !== undefined) {
    // The route controller's reasons and messages (k8s.io/cloud-provider route_controller.go).
    conditions.push(
      health.podNetworkReady
        ? nodeCondition(
            old,
            "NetworkUnavailable",
            "False",
            "RouteCreated",
            "tug-agent created the node's pod network and routes",
            nowMs,
          )
        : nodeCondition(
            old,
            "NetworkUnavailable",
            "True",
            "NoRouteCreated",
            "tug-agent is waiting for the node's podCIDR (node IPAM) to create the pod network",
            nowMs,
          ),
    );
  }
  return create(NodeStatusSchema, {
    capacity: { ...capacity },
    allocatable: nodeAllocatable(capacity, id.reserved),
    conditions,
    addresses: [
      { type: "InternalIP", address: id.nodeIp },
      { type: "Hostname", address: hostName() },
    ],
    daemonEndpoints: { kubeletEndpoint: { port: id.port } },
    nodeInfo: {
      machineId: machineId(),
      systemUuid: machineId(),
      bootId: bootId(),
      kernelVersion: kernelVersion(),
      osImage: osImage(),
      containerRuntimeVersion: id.runtimeVersion,
      kubeletVersion: AGENT_VERSION,
      kubeProxyVersion: "",
      operatingSystem: "linux",
      architecture: goArch(),
    },
  });
}
