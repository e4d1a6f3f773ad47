// The node lifecycle controller (Kubernetes' pkg/controller/nodelifecycle): watches each node's
// heartbeats — its Lease in kube-node-lease and its Ready condition — and, when none arrives
// for the grace period, sets the node's conditions to Unknown and marks its pods not ready.
// It keeps the node's condition taints in step with its conditions: NoSchedule taints for the
// scheduler, and the not-ready / unreachable NoExecute taints (added at a per-zone rate, and
// not at all when every zone is down) that make the taint eviction controller evict pods.
// https://kubernetes.io/docs/concepts/architecture/nodes/#node-controller
// https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/#taint-based-evictions

import { clone, create } from "@bufbuild/protobuf";
import { type Timestamp, timestampFromDate, timestampMs } from "@bufbuild/protobuf/wkt";
import {
  type Lease,
  type Node,
  type NodeCondition,
  NodeConditionSchema,
  NodeSchema,
  NodeSpecSchema,
  NodeStatusSchema,
  type Pod,
  PodConditionSchema,
  PodSchema,
  type Taint,
  TaintSchema,
} from "@tug/api";
import {
  type ApiClient,
  type Clock,
  createLister,
  isApiError,
  isDeletedFinalStateUnknown,
  type Lister,
  RateLimitingQueue,
  realClock,
  type SharedIndexInformer,
} from "@tug/client";
import type { Controller, Syncable } from "../framework/controller.js";
import type { EventRecorder } from "../framework/event-recorder.js";
import { ensurePodNodeNameIndex, POD_NODE_NAME_INDEX } from "./pods-by-node.js";
import {
  sameTaint,
  TAINT_NODE_DISK_PRESSURE,
  TAINT_NODE_MEMORY_PRESSURE,
  TAINT_NODE_NETWORK_UNAVAILABLE,
  TAINT_NODE_NOT_READY,
  TAINT_NODE_PID_PRESSURE,
  TAINT_NODE_UNREACHABLE,
  TAINT_NODE_UNSCHEDULABLE,
} from "./taints.js";
import {
  computeZoneState,
  evictionRate,
  LARGE_CLUSTER_SIZE_THRESHOLD,
  NODE_EVICTION_RATE,
  SECONDARY_NODE_EVICTION_RATE,
  TokenBucket,
  UNHEALTHY_ZONE_THRESHOLD,
  type ZoneState,
  zoneKey,
} from "./zone-state.js";

/** --node-monitor-period: how often each node's health is checked. */
export const NODE_MONITOR_PERIOD_MS = 5_000;
/**
 * --node-monitor-grace-period: silence after which a running node is Unknown. 50 s since
 * Kubernetes 1.29 (40 s before): the kubelet's 10 s status period times 5 tries.
 */
export const NODE_MONITOR_GRACE_PERIOD_MS = 50_000;
/** --node-startup-grace-period: silence allowed to a node that never posted its Ready condition. */
export const NODE_STARTUP_GRACE_PERIOD_MS = 60_000;

/** Where node agents renew their heartbeat Leases, one per node, named as the node. */
export const NODE_LEASE_NAMESPACE = "kube-node-lease";

/** Conditions the node controller sets to Unknown with Ready (nodeConditionsToMonitor). */
const MONITORED_CONDITIONS = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"] as const;

/** Condition (type=status) → the NoSchedule taint it puts on the node (TaintNodesByCondition). */
const CONDITION_TAINTS: readonly { type: string; status: string; key: string }[] = [
  { type: "Ready", status: "False", key: TAINT_NODE_NOT_READY },
  { type: "Ready", status: "Unknown", key: TAINT_NODE_UNREACHABLE },
  { type: "MemoryPressure", status: "True", key: TAINT_NODE_MEMORY_PRESSURE },
  { type: "DiskPressure", status: "True", key: TAINT_NODE_DISK_PRESSURE },
  { type: "PIDPressure", status: "True", key: TAINT_NODE_PID_PRESSURE },
  { type: "NetworkUnavailable", status: "True", key: TAINT_NODE_NETWORK_UNAVAILABLE },
];
const NO_SCHEDULE_KEYS = new Set([...CONDITION_TAINTS.map((c) => c.key), TAINT_NODE_UNSCHEDULABLE]);
const NO_EXECUTE_KEYS = new Set([TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE]);

export const NODE_STATUS_UNKNOWN_REASON = "NodeStatusUnknown";
export const NODE_STATUS_UNKNOWN_MESSAGE = "Kubelet stopped posting node status.";
export const NODE_STATUS_NEVER_UPDATED_REASON = "NodeStatusNeverUpdated";
export const NODE_STATUS_NEVER_UPDATED_MESSAGE = "Kubelet never posted node status.";

export interface NodeLifecycleControllerOptions {
  readonly api: Pick<ApiClient, "get" | "update" | "updateStatus">;
  readonly nodes: SharedIndexInformer<Node>;
  /** Leases; only those in kube-node-lease are read. */
  readonly leases: SharedIndexInformer<Lease>;
  readonly pods: SharedIndexInformer<Pod>;
  readonly recorder: EventRecorder;
  readonly nodeMonitorPeriodMs?: number;
  readonly nodeMonitorGracePeriodMs?: number;
  readonly nodeStartupGracePeriodMs?: number;
  readonly nodeEvictionRate?: number;
  readonly secondaryNodeEvictionRate?: number;
  readonly largeClusterSizeThreshold?: number;
  readonly unhealthyZoneThreshold?: number;
  /** Monotonic time for heartbeat ages and rates. */
  readonly clock?: Clock;
  /** Wall time for timestamps written to objects. */
  readonly now?: () => Date;
  readonly queue?: RateLimitingQueue;
}

/** What the controller last saw of a node's heartbeats, and when (on its own clock) it saw news. */
interface NodeHealth {
  probeMs: number;
  heartbeatMs: number | undefined;
  renewMs: number | undefined;
}

type ReadyStatus = "True" | "False" | "Unknown";

function condition(node: Node, type: string): NodeCondition | undefined {
  return node.status?.conditions.find((c) => c.type === type);
}

function readyStatus(node: Node): ReadyStatus {
  const s = condition(node, "Ready")?.status;
  return s === "True" || s === "False" ? s : "Unknown";
}

function ms(ts: Timestamp | undefined): number | undefined {
  return ts === undefined ? undefined : timestampMs(ts);
}

export class NodeLifecycleController implements Controller {
  readonly name = "nodelifecycle";
  readonly informers: readonly Syncable[];
  readonly queue: RateLimitingQueue;
  private readonly nodeLister: Lister<Node>;
  private readonly leaseLister: Lister<Lease>;
  private readonly clock: Clock;
  private readonly now: () => Date;
  private readonly period: number;
  private readonly grace: number;
  private readonly startupGrace: number;
  private readonly health = new Map<string, NodeHealth>();
  /** Ready as this controller last decided or saw it, ahead of a lagging cache. */
  private readonly observedReady = new Map<string, ReadyStatus>();
  /** Nodes that went not ready whose pods are still to be marked not ready. */
  private readonly podsToMark = new Set<string>();
  private readonly zoneTainters = new Map<string, TokenBucket>();

  constructor(private readonly options: NodeLifecycleControllerOptions) {
    this.clock = options.clock ?? realClock;
    this.now = options.now ?? (() => new Date());
    this.queue = options.queue ?? new RateLimitingQueue({ clock: this.clock });
    this.period = options.nodeMonitorPeriodMs ?? NODE_MONITOR_PERIOD_MS;
    this.grace = options.nodeMonitorGracePeriodMs ?? NODE_MONITOR_GRACE_PERIOD_MS;
    this.startupGrace = options.nodeStartupGracePeriodMs ?? NODE_STARTUP_GRACE_PERIOD_MS;
    this.informers = [options.nodes, options.leases, options.pods];
    this.nodeLister = createLister(options.nodes.getIndexer());
    this.leaseLister = createLister(options.leases.getIndexer());
    ensurePodNodeNameIndex(options.pods);
    const enqueueNode = (node: Node) => this.queue.add(node.metadata?.name ?? "");
    options.nodes.addEventHandler({
      onAdd: enqueueNode,
      onUpdate: (_old, node) => enqueueNode(node),
      onDelete: (obj) => {
        const node = isDeletedFinalStateUnknown(obj) ? obj.obj : obj;
        this.queue.add(node.metadata?.name ?? "");
      },
    });
    const enqueueLease = (lease: Lease) => {
      if (lease.metadata?.namespace === NODE_LEASE_NAMESPACE) {
        this.queue.add(lease.metadata.name);
      }
    };
    options.leases.addEventHandler({
      onAdd: enqueueLease,
      onUpdate: (_old, lease) => enqueueLease(lease),
    });
  }

  /** monitorNodeHealth for one node: health, then pods, then taints; again a period later. */
  async reconcile(name: string): Promise<void> {
    const cached = this.nodeLister.get(name);
    if (cached === undefined) {
      this.health.delete(name);
      this.observedReady.delete(name);
      this.podsToMark.delete(name);
      return;
    }
    const before = this.observedReady.get(name) ?? readyStatus(cached);
    let node = await this.updateHealth(cached);
    const ready = readyStatus(node);
    this.observedReady.set(name, ready);
    if (before === "True" && ready !== "True") {
      this.options.recorder.event(
        { apiVersion: "v1", kind: "Node", metadata: node.metadata },
        "Normal",
        "NodeNotReady",
        `Node ${name} status is now: NodeNotReady`,
      );
      this.podsToMark.add(name);
    }
    if (ready === "True") this.podsToMark.delete(name);
    if (this.podsToMark.has(name)) {
      await this.markPodsNotReady(name);
      this.podsToMark.delete(name);
    }
    node = await this.reconcileTaints(node, ready);
    this.queue.addAfter(name, this.period);
  }

  /**
   * tryUpdateNodeHealth: notes news from the node (a new Ready heartbeat or Lease renewal, timed
   * by this controller's clock so that skewed node clocks do not matter) and, after the grace
   * period without any, sets the monitored conditions to Unknown. Returns the node as stored.
   */
  private async updateHealth(node: Node): Promise<Node> {
    const name = node.metadata?.name ?? "";
    const nowMs = this.clock.now();
    const ready = condition(node, "Ready");
    const heartbeatMs = ms(ready?.lastHeartbeatTime);
    const lease = this.leaseLister.namespace(NODE_LEASE_NAMESPACE).get(name);
    const renewMs = ms(lease?.spec?.renewTime);
    let h = this.health.get(name);
    if (h === undefined) {
      h = { probeMs: nowMs, heartbeatMs, renewMs };
      this.health.set(name, h);
    } else {
      if (heartbeatMs !== h.heartbeatMs) {
        h.heartbeatMs = heartbeatMs;
        h.probeMs = nowMs;
      }
      if (renewMs !== undefined && (h.renewMs === undefined || renewMs > h.renewMs)) {
        h.renewMs = renewMs;
        h.probeMs = nowMs;
      }
    }
    const grace = ready === undefined ? this.startupGrace : this.grace;
    if (nowMs <= h.probeMs + grace) {
      // Look again just after the grace period would end.
      this.queue.addAfter(name, Math.max(1, h.probeMs + grace - nowMs + 1));
      return node;
    }
    const updated = clone(NodeSchema, node);
    updated.status ??= create(NodeStatusSchema);
    const status = updated.status;
    const now = timestampFromDate(this.now());
    let changed = false;
    for (const type of MONITORED_CONDITIONS) {
      const c = status.conditions.find((x) => x.type === type);
      if (c === undefined) {
        status.conditions.push(
          create(NodeConditionSchema, {
            type,
            status: "Unknown",
            reason: NODE_STATUS_NEVER_UPDATED_REASON,
            message: NODE_STATUS_NEVER_UPDATED_MESSAGE,
            lastHeartbeatTime: node.metadata?.creationTimestamp,
            lastTransitionTime: now,
          }),
        );
        changed = true;
      } else if (c.status !== "Unknown") {
        c.status = "Unknown";
        c.reason = NODE_STATUS_UNKNOWN_REASON;
        c.message = NODE_STATUS_UNKNOWN_MESSAGE;
        c.lastTransitionTime = now;
        changed = true;
      }
    }
    if (!changed) return node;
    try {
      return await this.options.api.updateStatus(NodeSchema, updated);
    } catch (error) {
      // The node wrote its status meanwhile: that is news; judge again from the fresh object.
      if (isApiError(error, "Conflict")) this.queue.add(name);
      throw error;
    }
  }

  /** MarkPodsNotReady: the Ready condition of every pod on the node becomes False. */
  private async markPodsNotReady(nodeName: string): Promise<void> {
    const pods = this.options.pods.getIndexer().byIndex(POD_NODE_NAME_INDEX, nodeName);
    const now = timestampFromDate(this.now());
    for (const pod of pods) {
      const ready = pod.status?.conditions.find((c) => c.type === "Ready");
      if (ready?.status === "False") continue;
      const copy = clone(PodSchema, pod);
      if (copy.status === undefined) continue;
      const c = copy.status.conditions.find((x) => x.type === "Ready");
      if (c === undefined) {
        copy.status.conditions.push(
          create(PodConditionSchema, { type: "Ready", status: "False", lastTransitionTime: now }),
        );
      } else {
        c.status = "False";
        c.lastTransitionTime = now;
      }
      try {
        await this.options.api.updateStatus(PodSchema, copy);
      } catch (error) {
        if (!isApiError(error, "NotFound")) throw error;
      }
    }
  }

  /** The NoSchedule taints the node's conditions and spec.unschedulable call for. */
  private noScheduleTaints(node: Node): Set<string> {
    const keys = new Set<string>();
    for (const { type, status, key } of CONDITION_TAINTS) {
      if (condition(node, type)?.status === status) keys.add(key);
    }
    if (node.spec?.unschedulable === true) keys.add(TAINT_NODE_UNSCHEDULABLE);
    return keys;
  }

  /** Each zone's state, judged from the nodes' readiness as this controller sees it. */
  private zoneStates(): Map<string, { state: ZoneState; size: number }> {
    const byZone = new Map<string, boolean[]>();
    for (const node of this.nodeLister.list()) {
      const name = node.metadata?.name ?? "";
      const ready = (this.observedReady.get(name) ?? readyStatus(node)) === "True";
      const zone = zoneKey(node);
      const list = byZone.get(zone) ?? [];
      list.push(ready);
      byZone.set(zone, list);
    }
    const threshold = this.options.unhealthyZoneThreshold ?? UNHEALTHY_ZONE_THRESHOLD;
    return new Map(
      [...byZone].map(([zone, ready]) => [
        zone,
        { state: computeZoneState(ready, threshold), size: ready.length },
      ]),
    );
  }

  /** The NoExecute taint a node that is `ready` should carry, if any. */
  private noExecuteTaint(ready: ReadyStatus): string | undefined {
    if (ready === "True") return undefined;
    const zones = this.zoneStates();
    // Every zone down at once: the control plane has more likely lost the nodes than the nodes
    // died; evicting everything would only make it worse (handleDisruption).
    if ([...zones.values()].every((z) => z.state === "FullDisruption")) return undefined;
    return ready === "False" ? TAINT_NODE_NOT_READY : TAINT_NODE_UNREACHABLE;
  }

  /** Whether the node's zone may have one more node tainted for eviction now. */
  private mayTaint(node: Node): boolean {
    const zone = zoneKey(node);
    const z = this.zoneStates().get(zone) ?? { state: "Normal" as ZoneState, size: 1 };
    const rate = evictionRate(z.state, z.size, {
      primary: this.options.nodeEvictionRate ?? NODE_EVICTION_RATE,
      secondary: this.options.secondaryNodeEvictionRate ?? SECONDARY_NODE_EVICTION_RATE,
      largeClusterThreshold: this.options.largeClusterSizeThreshold ?? LARGE_CLUSTER_SIZE_THRESHOLD,
    });
    const nowMs = this.clock.now();
    let bucket = this.zoneTainters.get(zone);
    if (bucket === undefined) {
      bucket = new TokenBucket(rate, nowMs);
      this.zoneTainters.set(zone, bucket);
    }
    bucket.setRate(rate);
    const taken = bucket.tryTake(nowMs);
    if (!taken.ok && Number.isFinite(taken.waitMs)) {
      this.queue.addAfter(node.metadata?.name ?? "", Math.ceil(taken.waitMs));
    }
    return taken.ok;
  }

  /** Brings the node's managed taints in line with its conditions; others are left as they are. */
  private async reconcileTaints(node: Node, ready: ReadyStatus): Promise<Node> {
    const current = node.spec?.taints ?? [];
    const wantNoSchedule = this.noScheduleTaints(node);
    const wantNoExecute = this.noExecuteTaint(ready);
    const hasNoExecute = current.find(
      (t) => t.effect === "NoExecute" && NO_EXECUTE_KEYS.has(t.key),
    );
    let noExecute = wantNoExecute;
    if (
      wantNoExecute !== undefined &&
      hasNoExecute?.key !== wantNoExecute &&
      // Swapping not-ready for unreachable (or back) is not a new eviction: no rate applies.
      hasNoExecute === undefined &&
      !this.mayTaint(node)
    ) {
      noExecute = undefined;
    }
    const now = timestampFromDate(this.now());
    const next: Taint[] = current.filter((t) => {
      if (t.effect === "NoSchedule" && NO_SCHEDULE_KEYS.has(t.key))
        return wantNoSchedule.has(t.key);
      if (t.effect === "NoExecute" && NO_EXECUTE_KEYS.has(t.key)) return t.key === noExecute;
      return true;
    });
    for (const key of wantNoSchedule) {
      if (!next.some((t) => sameTaint(t, { key, effect: "NoSchedule" }))) {
        next.push(create(TaintSchema, { key, effect: "NoSchedule" }));
      }
    }
    if (
      noExecute !== undefined &&
      !next.some((t) => sameTaint(t, { key: noExecute, effect: "NoExecute" }))
    ) {
      next.push(create(TaintSchema, { key: noExecute, effect: "NoExecute", timeAdded: now }));
    }
    const same =
      next.length === current.length &&
      next.every((t) => current.some((c) => sameTaint(c, t) && c.value === t.value));
    if (same) return node;
    const updated = clone(NodeSchema, node);
    updated.spec ??= create(NodeSpecSchema);
    updated.spec.taints = next;
    return this.options.api.update(NodeSchema, updated);
  }
}
