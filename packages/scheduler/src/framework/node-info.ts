// NodeInfo: one node as the scheduler sees it — the Node object, the pods on it (bound and
// assumed), what they request, and the host ports they hold (kube-scheduler's
// framework.NodeInfo). Kept up to date incrementally by the Snapshot.

import type { Node, Taint } from "@tug/api";
import { ANY_HOST_IP, type HostPort, hasAffinity, type PodInfo } from "./pod-info.js";
import {
  addResources,
  emptyResources,
  parseResourceList,
  RESOURCE_PODS,
  type Resources,
  resourceAmount,
} from "./resources.js";

/** The well-known zone label (topology.kubernetes.io/zone). */
export const LABEL_ZONE = "topology.kubernetes.io/zone";

export const TAINT_EFFECT_NO_SCHEDULE = "NoSchedule";
export const TAINT_EFFECT_PREFER_NO_SCHEDULE = "PreferNoSchedule";
export const TAINT_EFFECT_NO_EXECUTE = "NoExecute";

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * A node and its pods. The Snapshot owns it: read it, never mutate it from a plugin. A NodeInfo
 * may exist without a Node object (pods bound to a node the cache has not seen, or whose Node
 * was deleted); such a NodeInfo is never a scheduling candidate.
 */
export class NodeInfo {
  node: Node | undefined;
  labels: Readonly<Record<string, string>> = NO_LABELS;
  /** The `topology.kubernetes.io/zone` label, read once per Node update (scores read it per node). */
  zone: string | undefined;
  /** Allocatable resources; with `allowedPods`, what NodeResourcesFit checks against. */
  allocatable: Resources = emptyResources();
  /** status.allocatable.pods: how many pods the node accepts. */
  allowedPods = 0;
  /** The sum of the effective requests of the pods on the node. */
  readonly requested: Resources = emptyResources();
  /** cpu with 100m counted for each container that requests none (for scoring). */
  nonZeroMilliCpu = 0;
  /** memory with 200Mi counted for each container that requests none (for scoring). */
  nonZeroMemory = 0;
  /** Pods on the node by key. */
  readonly pods = new Map<string, PodInfo>();
  /** Pods on the node with any pod (anti-)affinity term. */
  readonly podsWithAffinity = new Map<string, PodInfo>();
  /** Pods on the node with a required anti-affinity term. */
  readonly podsWithRequiredAntiAffinity = new Map<string, PodInfo>();
  /** Host ports in use: "protocol/port" to the host IPs (with multiplicity) holding it. */
  readonly usedPorts = new Map<string, Map<string, number>>();
  /** Taints with effect NoSchedule or NoExecute (what the TaintToleration filter checks). */
  hardTaints: readonly Taint[] = [];
  /** Taints with effect PreferNoSchedule (what the TaintToleration score counts). */
  preferNoScheduleTaints: readonly Taint[] = [];
  /** spec.unschedulable (cordoned). */
  unschedulable = false;
  /** Bumped on every change; lets callers cache per-node results. */
  generation = 0;
  /**
   * allocatable − requested for cpu, memory and ephemeral storage, and allowedPods − pods: what
   * NodeResourcesFit's filter compares a pod against on every node it examines, and the cpu and
   * memory the scores read, kept as numbers on this object so that filters and scores read no
   * other object per node (the `allocatable`, `requested` and `pods` objects were three more
   * cache lines per node, ~420 nodes a pod). Updated with every change to the node or its pods.
   */
  allocatableMilliCpu = 0;
  allocatableMemory = 0;
  requestedMilliCpu = 0;
  requestedMemory = 0;
  freeMilliCpu = 0;
  freeMemory = 0;
  freeEphemeralStorage = 0;
  podRoom = 0;

  constructor(readonly name: string) {}

  /**
   * Sets the Node object, parsing allocatable and taints. Throws ResourceParseError for an
   * allocatable amount that is not a quantity.
   */
  setNode(node: Node): void {
    const allocatable = node.status?.allocatable;
    const parsed = parseResourceList(allocatable, "status.allocatable");
    const pods = allocatable?.[RESOURCE_PODS];
    const allowedPods =
      pods === undefined ? 0 : resourceAmount(RESOURCE_PODS, pods, "status.allocatable[pods]");
    this.allocatable = parsed;
    this.allowedPods = allowedPods;
    this.node = node;
    this.labels = node.metadata?.labels ?? NO_LABELS;
    this.zone = this.labels[LABEL_ZONE];
    const taints = node.spec?.taints ?? [];
    this.hardTaints = taints.filter(
      (t) => t.effect === TAINT_EFFECT_NO_SCHEDULE || t.effect === TAINT_EFFECT_NO_EXECUTE,
    );
    this.preferNoScheduleTaints = taints.filter(
      (t) => t.effect === TAINT_EFFECT_PREFER_NO_SCHEDULE,
    );
    this.unschedulable = node.spec?.unschedulable === true;
    this.generation++;
    this.refreshNumbers();
  }

  clearNode(): void {
    this.node = undefined;
    this.labels = NO_LABELS;
    this.zone = undefined;
    this.allocatable = emptyResources();
    this.allowedPods = 0;
    this.hardTaints = [];
    this.preferNoScheduleTaints = [];
    this.unschedulable = false;
    this.generation++;
    this.refreshNumbers();
  }

  /** Accounts `pod` on this node. The caller ensures its key is not already here. */
  addPod(pod: PodInfo): void {
    this.pods.set(pod.key, pod);
    if (hasAffinity(pod)) this.podsWithAffinity.set(pod.key, pod);
    if (pod.requiredAntiAffinity.length > 0) this.podsWithRequiredAntiAffinity.set(pod.key, pod);
    addResources(this.requested, pod.resources.requests, 1);
    this.nonZeroMilliCpu += pod.resources.nonZeroMilliCpu;
    this.nonZeroMemory += pod.resources.nonZeroMemory;
    for (const p of pod.hostPorts) this.updatePort(p, 1);
    this.generation++;
    this.refreshNumbers();
  }

  /** Removes the pod with `key`; returns it, or undefined when it was not here. */
  removePod(key: string): PodInfo | undefined {
    const pod = this.pods.get(key);
    if (pod === undefined) return undefined;
    this.pods.delete(key);
    this.podsWithAffinity.delete(key);
    this.podsWithRequiredAntiAffinity.delete(key);
    addResources(this.requested, pod.resources.requests, -1);
    this.nonZeroMilliCpu -= pod.resources.nonZeroMilliCpu;
    this.nonZeroMemory -= pod.resources.nonZeroMemory;
    for (const p of pod.hostPorts) this.updatePort(p, -1);
    this.generation++;
    this.refreshNumbers();
    return pod;
  }

  private refreshNumbers(): void {
    this.allocatableMilliCpu = this.allocatable.milliCpu;
    this.allocatableMemory = this.allocatable.memory;
    this.requestedMilliCpu = this.requested.milliCpu;
    this.requestedMemory = this.requested.memory;
    this.freeMilliCpu = this.allocatable.milliCpu - this.requested.milliCpu;
    this.freeMemory = this.allocatable.memory - this.requested.memory;
    this.freeEphemeralStorage = this.allocatable.ephemeralStorage - this.requested.ephemeralStorage;
    this.podRoom = this.allowedPods - this.pods.size;
  }

  /**
   * Whether `port` conflicts with a port in use: same protocol and number, and the same host
   * IP or either one the wildcard 0.0.0.0 (HostPortInfo.CheckConflict).
   */
  portConflicts(port: HostPort): boolean {
    const ips = this.usedPorts.get(`${port.protocol}/${port.port}`);
    if (ips === undefined) return false;
    if (port.ip === ANY_HOST_IP) return true;
    return ips.has(ANY_HOST_IP) || ips.has(port.ip);
  }

  private updatePort(port: HostPort, delta: 1 | -1): void {
    const key = `${port.protocol}/${port.port}`;
    let ips = this.usedPorts.get(key);
    if (ips === undefined) {
      if (delta < 0) return;
      ips = new Map();
      this.usedPorts.set(key, ips);
    }
    const n = (ips.get(port.ip) ?? 0) + delta;
    if (n > 0) ips.set(port.ip, n);
    else ips.delete(port.ip);
    if (ips.size === 0) this.usedPorts.delete(key);
  }
}
