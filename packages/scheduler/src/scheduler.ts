// The scheduler loop (kube-scheduler's scheduleOne): pop a pod, pick a node on the cache,
// assume the pod there, bind it through the API without waiting, and on failure record a
// FailedScheduling event and requeue it. It talks to the world through three interfaces — the
// informer handlers it exposes (onPodAdd, onNodeUpdate...), a Binder and an EventRecorder — so
// that tests drive it with fakes and the process wires it to the API client.
// Reference: https://kubernetes.io/docs/concepts/scheduling-eviction/kube-scheduler/

import { type DescMessage, equals, type MessageShape } from "@bufbuild/protobuf";
import {
  type Namespace,
  type Node,
  type ObjectMeta,
  ObjectMetaSchema,
  type Pod,
  PodSpecSchema,
} from "@tug/api";
import type { Clock } from "@tug/client";
import { newPodInfo, type PodInfo, PodSpecError, podKey } from "./framework/pod-info.js";
import { DEFAULT_SCHEDULER_NAME, defaultProfile, type Profile } from "./framework/profile.js";
import { ScheduleAlgorithm } from "./framework/schedule-algorithm.js";
import { isTerminal, Snapshot } from "./framework/snapshot.js";
import { SchedulingQueue } from "./queue/scheduling-queue.js";

/** Binds pods to nodes: the API's Bind (pods/binding). */
export interface Binder {
  /** Resolves once the API accepted the binding; rejects with the API's error otherwise. */
  bind(pod: Pod, nodeName: string): Promise<void>;
}

/** Records the scheduler's events on pods (type, reason and message as kube-scheduler's). */
export interface EventRecorder {
  /** Warning FailedScheduling: "0/3 nodes are available: ...". */
  failedScheduling(pod: Pod, message: string): void;
  /** Normal Scheduled: "Successfully assigned <namespace>/<name> to <node>". */
  scheduled(pod: Pod, nodeName: string): void;
}

/**
 * Writes a pod's PodScheduled condition when an attempt fails (kube-scheduler's updatePod):
 * status False, reason `Unschedulable` when no node fits, `SchedulerError` otherwise. Best
 * effort: a failed write is the writer's to report.
 */
export interface PodConditionWriter {
  unschedulable(pod: Pod, reason: string, message: string): void;
}

/** PodScheduled reasons (core/v1 PodReasonUnschedulable, PodReasonSchedulerError). */
export const REASON_UNSCHEDULABLE = "Unschedulable";
export const REASON_SCHEDULER_ERROR = "SchedulerError";

/** kube-scheduler's Scheduled event message. */
export function scheduledMessage(pod: Pod, nodeName: string): string {
  return `Successfully assigned ${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""} to ${nodeName}`;
}

/**
 * At most this many Bind calls in flight; the loop waits for one to end beyond it. Well under
 * the API server's 200 mutating requests in flight (kube-apiserver's default, past which it
 * answers 429): a burst of pods must leave room for the scheduler's own Lease renewals and for
 * other clients. 64 binds in flight at 100 ms each is 640 binds/s, above the store's rate here.
 */
export const DEFAULT_MAX_CONCURRENT_BINDS = 64;
/** The loop yields to I/O (informer events, bind replies) after this much scheduling. */
const YIELD_AFTER_MS = 10;

export interface SchedulerOptions {
  readonly binder: Binder;
  readonly recorder: EventRecorder;
  /** Optional: also mark failed pods PodScheduled=False (what `tug describe pod` shows). */
  readonly conditions?: PodConditionWriter;
  /** Defaults to kube-scheduler's default profile for "default-scheduler". */
  readonly profile?: Profile;
  readonly clock?: Clock;
  /** Tie-breaking between equal scores; seed it in tests. */
  readonly random?: () => number;
  /** 0 (default) adaptive, as kube-scheduler's percentageOfNodesToScore. */
  readonly percentageOfNodesToScore?: number;
  readonly maxConcurrentBinds?: number;
  /** Back-off bounds (kube-scheduler's podInitialBackoffSeconds / podMaxBackoffSeconds). */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Called with errors the loop survives (a node or pod the cache cannot read). */
  readonly onError?: (err: unknown, context: string) => void;
}

/** Counters for /metrics and tests. */
export interface SchedulerStats {
  scheduled: number;
  unschedulable: number;
  bindErrors: number;
}

export class Scheduler {
  readonly snapshot = new Snapshot();
  readonly queue: SchedulingQueue;
  readonly stats: SchedulerStats = { scheduled: 0, unschedulable: 0, bindErrors: 0 };
  private readonly profile: Profile;
  private readonly algorithm: ScheduleAlgorithm;
  private readonly binder: Binder;
  private readonly recorder: EventRecorder;
  private readonly conditions: PodConditionWriter | undefined;
  private readonly maxConcurrentBinds: number;
  private readonly onError: (err: unknown, context: string) => void;
  private readonly bindings = new Set<Promise<void>>();
  /** Wakes the loop waiting for a free bind slot (one waiter at most: the loop). */
  private bindSlotFreed: (() => void) | undefined;
  private stopped = false;

  constructor(options: SchedulerOptions) {
    this.profile = options.profile ?? defaultProfile();
    this.algorithm = new ScheduleAlgorithm(this.profile, {
      percentageOfNodesToScore: options.percentageOfNodesToScore,
      random: options.random,
    });
    this.queue = new SchedulingQueue({
      clock: options.clock,
      initialBackoffMs: options.initialBackoffMs,
      maxBackoffMs: options.maxBackoffMs,
    });
    this.binder = options.binder;
    this.recorder = options.recorder;
    this.conditions = options.conditions;
    this.maxConcurrentBinds = options.maxConcurrentBinds ?? DEFAULT_MAX_CONCURRENT_BINDS;
    this.onError = options.onError ?? (() => {});
  }

  /** Whether this scheduler is the one for `pod` (spec.schedulerName, empty = default). */
  responsibleFor(pod: Pod): boolean {
    const name = pod.spec?.schedulerName || DEFAULT_SCHEDULER_NAME;
    return name === this.profile.schedulerName;
  }

  // Informer handlers. They only update the cache and the queue; they never block.

  onPodAdd(pod: Pod): void {
    this.onPodUpdate(undefined, pod);
  }

  onPodUpdate(old: Pod | undefined, pod: Pod): void {
    const key = podKey(pod);
    if ((pod.spec?.nodeName ?? "") !== "") {
      // Bound (by us or anyone): the cache holds it, the queue no longer.
      this.queue.delete(key);
      const before = this.snapshot.nodeOf(key);
      this.cacheSetPod(pod);
      // A pod placed or changed can satisfy others' pod affinity or spread; one that went
      // away (terminal) frees resources for anyone.
      if (isTerminal(pod) && before !== undefined) this.queue.moveAllToActiveOrBackoff();
      else this.queue.moveAllToActiveOrBackoff(dependsOnOtherPods);
      return;
    }
    if (this.snapshot.nodeOf(key) !== undefined) {
      // Assumed: our bind is on its way; the informer is behind.
      return;
    }
    if (!this.responsibleFor(pod) || isTerminal(pod) || pod.metadata?.deletionTimestamp) {
      this.queue.delete(key);
      return;
    }
    this.queue.update(pod, old === undefined || podUpdated(old, pod));
  }

  onPodDelete(pod: Pod): void {
    const key = podKey(pod);
    this.queue.delete(key);
    if (this.snapshot.nodeOf(key) !== undefined) {
      this.snapshot.removePod(key);
      this.queue.moveAllToActiveOrBackoff();
    }
  }

  onNodeAdd(node: Node): void {
    this.onNodeUpdate(undefined, node);
  }

  onNodeUpdate(_old: Node | undefined, node: Node): void {
    try {
      this.snapshot.setNode(node);
    } catch (err) {
      this.onError(err, `node ${node.metadata?.name ?? ""}`);
      return;
    }
    this.queue.moveAllToActiveOrBackoff();
  }

  onNodeDelete(node: Node): void {
    this.snapshot.removeNode(node.metadata?.name ?? "");
  }

  onNamespaceUpdate(namespace: Namespace): void {
    this.snapshot.setNamespace(namespace);
    this.queue.moveAllToActiveOrBackoff(dependsOnOtherPods);
  }

  onNamespaceDelete(namespace: Namespace): void {
    this.snapshot.removeNamespace(namespace.metadata?.name ?? "");
  }

  /**
   * One scheduling cycle: waits for a pod, decides, assumes and starts the bind. Resolves false
   * once the scheduler is stopped.
   */
  async scheduleOne(): Promise<boolean> {
    while (this.bindings.size >= this.maxConcurrentBinds) {
      // Not Promise.race(this.bindings): that would add a reaction to every bind in flight on
      // each cycle, and keep them until each bind ends.
      await new Promise<void>((resolve) => {
        this.bindSlotFreed = resolve;
      });
    }
    const queued = await this.queue.pop();
    if (queued === undefined) return false;
    const { key, pod } = queued;
    if (pod.metadata?.deletionTimestamp || this.snapshot.nodeOf(key) !== undefined) {
      this.queue.done(key);
      return true;
    }
    try {
      this.attempt(pod, key);
    } catch (err) {
      // A defect, not a verdict on the pod: report it and retry the pod after its back-off.
      this.onError(err, `scheduling pod ${key}`);
      if (this.snapshot.isAssumed(key)) this.snapshot.forgetPod(key);
      this.queue.requeueBackoff(key);
    }
    return true;
  }

  private attempt(pod: Pod, key: string): void {
    let info: PodInfo;
    try {
      info = newPodInfo(pod);
    } catch (err) {
      if (!(err instanceof PodSpecError)) throw err;
      this.fail(pod, key, REASON_SCHEDULER_ERROR, err.message);
      return;
    }
    const result = this.algorithm.schedulePod(info, this.snapshot);
    if (result.kind !== "scheduled") {
      const reason =
        result.kind === "unschedulable" ? REASON_UNSCHEDULABLE : REASON_SCHEDULER_ERROR;
      this.fail(pod, key, reason, result.message);
      return;
    }
    this.snapshot.assumePod(info, result.nodeName);
    this.stats.scheduled++;
    const binding: Promise<void> = this.bind(pod, key, result.nodeName).finally(() => {
      this.bindings.delete(binding);
      const wake = this.bindSlotFreed;
      this.bindSlotFreed = undefined;
      wake?.();
    });
    this.bindings.add(binding);
  }

  /** Schedules until stop(), yielding to I/O regularly. */
  async run(): Promise<void> {
    let since = performance.now();
    while (!this.stopped && (await this.scheduleOne())) {
      const now = performance.now();
      if (now - since >= YIELD_AFTER_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        since = performance.now();
      }
    }
  }

  /** Stops the loop and the queue's timers; binds in flight finish (see idle()). */
  stop(): void {
    this.stopped = true;
    this.queue.close();
  }

  /** Resolves when no Bind call is in flight. */
  async idle(): Promise<void> {
    while (this.bindings.size > 0) await Promise.allSettled([...this.bindings]);
  }

  private cacheSetPod(pod: Pod): void {
    try {
      this.snapshot.setPod(pod);
    } catch (err) {
      this.onError(err, `pod ${podKey(pod)}`);
    }
  }

  private fail(pod: Pod, key: string, reason: string, message: string): void {
    this.stats.unschedulable++;
    this.recorder.failedScheduling(pod, message);
    this.conditions?.unschedulable(pod, reason, message);
    this.queue.requeueUnschedulable(key);
  }

  private async bind(pod: Pod, key: string, nodeName: string): Promise<void> {
    try {
      await this.binder.bind(pod, nodeName);
    } catch (err) {
      this.stats.bindErrors++;
      this.stats.scheduled--;
      this.snapshot.forgetPod(key);
      const message = `binding rejected: ${err instanceof Error ? err.message : String(err)}`;
      this.recorder.failedScheduling(pod, message);
      this.conditions?.unschedulable(pod, REASON_SCHEDULER_ERROR, message);
      this.queue.requeueBackoff(key);
      // The resources it held on the node are free again.
      this.queue.moveAllToActiveOrBackoff();
      return;
    }
    this.queue.done(key);
    this.recorder.scheduled(pod, nodeName);
  }
}

/**
 * Whether `pod` differs from `old` in more than its status, resourceVersion, generation and
 * managed fields (kube-scheduler's isPodUpdated): a status-only write, or an informer resync,
 * cannot make an unschedulable pod fit and must not retry it.
 */
function podUpdated(old: Pod, pod: Pod): boolean {
  if (old === pod) return false;
  // Compared field by field rather than on stripped clones: a clone of a pod costs ten times
  // the comparison, and every status write of a pending pod comes through here.
  if (!sameOptional(PodSpecSchema, old.spec, pod.spec)) return true;
  if (old.apiVersion !== pod.apiVersion || old.kind !== pod.kind) return true;
  const strip = (m: ObjectMeta): ObjectMeta => ({
    ...m,
    resourceVersion: "",
    generation: 0,
    managedFields: [],
  });
  const om = old.metadata;
  const m = pod.metadata;
  if (om === undefined || m === undefined) return om !== m;
  return !equals(ObjectMetaSchema, strip(om), strip(m));
}

function sameOptional<Desc extends DescMessage>(
  schema: Desc,
  a: MessageShape<Desc> | undefined,
  b: MessageShape<Desc> | undefined,
): boolean {
  if (a === undefined || b === undefined) return a === b;
  return equals(schema, a, b);
}

/** Pods whose fit depends on where other pods are: pod (anti-)affinity or spread constraints. */
function dependsOnOtherPods(pod: Pod): boolean {
  const a = pod.spec?.affinity;
  return (
    a?.podAffinity !== undefined ||
    a?.podAntiAffinity !== undefined ||
    (pod.spec?.topologySpreadConstraints.length ?? 0) > 0
  );
}
