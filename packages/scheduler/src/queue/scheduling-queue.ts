// The scheduling queue (kube-scheduler's PriorityQueue): activeQ holds pods ready for a
// scheduling attempt (highest priority first, then first in); backoffQ holds pods waiting out
// their back-off after a failed attempt; unschedulablePods holds pods that did not fit, until a
// cluster event might make them fit (or 5 minutes pass). One pod is never handed out twice at
// once: from pop() until done() or requeue*(), it is "in flight", and updates to it are kept
// for when the attempt ends.
//
// Cluster events: tug moves every unschedulable pod on any node add/update or pod delete/update
// (moveAllToActiveOrBackoffQueue), rather than asking each plugin which events could help it
// (kube-scheduler's QueueingHints). Simpler, and at worst it retries pods that still do not fit,
// each bounded by its own back-off.
// Reference: https://github.com/kubernetes/enhancements/tree/master/keps/sig-scheduling/4247-queueinghint

import type { Pod } from "@tug/api";
import { type Clock, realClock, type TimerHandle } from "@tug/client";
import { podKey } from "../framework/pod-info.js";
import { KeyedHeap } from "./keyed-heap.js";

/** The first back-off after a failed attempt (kube-scheduler's podInitialBackoffSeconds: 1). */
export const POD_INITIAL_BACKOFF_MS = 1_000;
/** The longest back-off (podMaxBackoffSeconds: 10): doubling stops here. */
export const POD_MAX_BACKOFF_MS = 10_000;
/**
 * How long a pod may sit in unschedulablePods without a cluster event before it is retried
 * anyway (podMaxInUnschedulablePodsDuration: 5 min), in case an event was missed.
 */
export const POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION_MS = 5 * 60_000;
/** How often unschedulablePods is checked for pods past that duration (kube-scheduler: 30 s). */
export const UNSCHEDULABLE_PODS_FLUSH_INTERVAL_MS = 30_000;

/** A pod in the queue and what the queue knows of its attempts. */
export interface QueuedPod {
  /** The latest version of the pod. */
  readonly pod: Pod;
  readonly key: string;
  /** Scheduling attempts so far (counted when popped). */
  readonly attempts: number;
  /** When it entered the queue the first time (clock ms): for latency metrics. */
  readonly initialAttemptTimestamp: number;
  /** The scheduling cycle of its latest pop; 0 before its first. */
  readonly cycle: number;
}

interface Entry {
  pod: Pod;
  /**
   * spec.priority of `pod`, kept on the entry (setPod): activeQ's comparisons read it about
   * 2·log2(n) times per push and pop, and reading it through the pod is two more objects each.
   */
  priority: number;
  readonly key: string;
  attempts: number;
  readonly initialAttemptTimestamp: number;
  /** When it last entered a queue (clock ms): FIFO order within a priority. */
  timestamp: number;
  /** Tie-breaker for equal timestamps: order of entry. */
  seq: number;
  cycle: number;
  /** When its back-off ends (clock ms). */
  backoffExpiry: number;
}

interface InFlight {
  entry: Entry;
  /** The uid of the pod being attempted. */
  readonly uid: string;
  /** Set when the pod was deleted during the attempt: it must not come back. */
  deleted: boolean;
}

export interface SchedulingQueueOptions {
  readonly clock?: Clock;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly maxInUnschedulableMs?: number;
}

/** Counts per sub-queue, for metrics (scheduler_pending_pods) and tests. */
export interface PendingPods {
  readonly active: number;
  readonly backoff: number;
  readonly unschedulable: number;
  readonly inFlight: number;
}

function priorityOf(pod: Pod): number {
  return pod.spec?.priority ?? 0;
}

/** Points `entry` at a newer version of its pod. */
function setPod(entry: Entry, pod: Pod): void {
  entry.pod = pod;
  entry.priority = priorityOf(pod);
}

function toQueued(e: Entry): QueuedPod {
  return {
    pod: e.pod,
    key: e.key,
    attempts: e.attempts,
    initialAttemptTimestamp: e.initialAttemptTimestamp,
    cycle: e.cycle,
  };
}

export class SchedulingQueue {
  private readonly clock: Clock;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxInUnschedulableMs: number;
  private readonly activeQ = new KeyedHeap<Entry>(
    (e) => e.key,
    (a, b) => {
      if (a.priority !== b.priority) return a.priority > b.priority;
      if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp;
      return a.seq < b.seq;
    },
  );
  private readonly backoffQ = new KeyedHeap<Entry>(
    (e) => e.key,
    (a, b) =>
      a.backoffExpiry < b.backoffExpiry || (a.backoffExpiry === b.backoffExpiry && a.seq < b.seq),
  );
  private readonly unschedulable = new Map<string, Entry>();
  private readonly inFlight = new Map<string, InFlight>();
  private seq = 0;
  private schedulingCycle = 0;
  /** The cycle at the latest move request: pods failing in an earlier cycle may have missed it. */
  private moveRequestCycle = -1;
  private backoffTimer: TimerHandle | undefined;
  private backoffTimerDue = Number.POSITIVE_INFINITY;
  private flushTimer: TimerHandle | undefined;
  private waiters: ((e: Entry | undefined) => void)[] = [];
  private closed = false;

  constructor(options: SchedulingQueueOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.initialBackoffMs = options.initialBackoffMs ?? POD_INITIAL_BACKOFF_MS;
    this.maxBackoffMs = options.maxBackoffMs ?? POD_MAX_BACKOFF_MS;
    this.maxInUnschedulableMs =
      options.maxInUnschedulableMs ?? POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION_MS;
  }

  /** A new pending pod: to activeQ. A pod already known is updated instead. */
  add(pod: Pod): void {
    if (this.closed) return;
    const key = podKey(pod);
    if (this.known(key)) {
      this.update(pod);
      return;
    }
    const now = this.clock.now();
    this.pushActive({
      pod,
      priority: priorityOf(pod),
      key,
      attempts: 0,
      initialAttemptTimestamp: now,
      timestamp: now,
      seq: this.seq++,
      cycle: 0,
      backoffExpiry: now,
    });
  }

  /**
   * A pending pod changed. In flight: kept for when the attempt ends. Unschedulable: if
   * `changed` (more than its status), the change may make it fit, so it moves to activeQ (or
   * backoffQ while backing off). Unknown: added.
   */
  update(pod: Pod, changed = true): void {
    if (this.closed) return;
    const key = podKey(pod);
    const flying = this.inFlight.get(key);
    if (flying !== undefined) {
      setPod(flying.entry, pod);
      // Deleted and created again under the same name: the new pod is pending.
      if (flying.deleted && pod.metadata?.uid !== flying.uid) flying.deleted = false;
      return;
    }
    const active = this.activeQ.get(key);
    if (active !== undefined) {
      setPod(active, pod);
      this.activeQ.push(active);
      return;
    }
    const backingOff = this.backoffQ.get(key);
    if (backingOff !== undefined) {
      setPod(backingOff, pod);
      return;
    }
    const parked = this.unschedulable.get(key);
    if (parked !== undefined) {
      setPod(parked, pod);
      if (!changed) return;
      this.unschedulable.delete(key);
      this.moveOut(parked);
      return;
    }
    this.add(pod);
  }

  /** The pod is gone (deleted, or bound by someone): forget it everywhere. */
  delete(key: string): void {
    this.activeQ.remove(key);
    if (this.backoffQ.remove(key) !== undefined) this.armBackoffTimer();
    this.unschedulable.delete(key);
    const flying = this.inFlight.get(key);
    if (flying !== undefined) flying.deleted = true;
  }

  /**
   * The next pod to schedule, waiting until there is one; undefined once closed. The pod is in
   * flight until done(), requeueUnschedulable() or requeueBackoff().
   */
  pop(): Promise<QueuedPod | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const e = this.activeQ.pop();
    if (e !== undefined) return Promise.resolve(this.startAttempt(e));
    return new Promise((resolve) => {
      this.waiters.push((entry) =>
        resolve(entry === undefined ? undefined : this.startAttempt(entry)),
      );
    });
  }

  /**
   * The attempt ended and the pod needs no retry (it was bound, or is gone). A pod created
   * again under the same name during the attempt is queued as new.
   */
  done(key: string): void {
    const flying = this.inFlight.get(key);
    if (flying === undefined) return;
    this.inFlight.delete(key);
    const latest = flying.entry.pod;
    if (!this.closed && !flying.deleted && latest.metadata?.uid !== flying.uid) this.add(latest);
  }

  /**
   * The attempt found no node. The pod waits in unschedulablePods for a cluster event, unless
   * one already came during the attempt, in which case it only backs off.
   */
  requeueUnschedulable(key: string): void {
    const e = this.finishAttempt(key);
    if (e === undefined) return;
    e.timestamp = this.clock.now();
    e.backoffExpiry = e.timestamp + this.backoffDuration(e.attempts);
    if (this.moveRequestCycle >= e.cycle) this.pushBackoff(e);
    else {
      this.unschedulable.set(key, e);
      this.armFlushTimer();
    }
  }

  /** The attempt failed for another reason (a bind error): retry after the back-off. */
  requeueBackoff(key: string): void {
    const e = this.finishAttempt(key);
    if (e === undefined) return;
    e.timestamp = this.clock.now();
    e.backoffExpiry = e.timestamp + this.backoffDuration(e.attempts);
    this.pushBackoff(e);
  }

  /**
   * A cluster event that may let unschedulable pods fit (a node added or changed, a pod
   * deleted): every one of them (or those `which` accepts) moves to activeQ, or to backoffQ
   * until its back-off ends.
   */
  moveAllToActiveOrBackoff(which?: (pod: Pod) => boolean): void {
    for (const [key, e] of this.unschedulable) {
      if (which !== undefined && !which(e.pod)) continue;
      this.unschedulable.delete(key);
      this.moveOut(e);
    }
    this.moveRequestCycle = this.schedulingCycle;
  }

  pending(): PendingPods {
    return {
      active: this.activeQ.size,
      backoff: this.backoffQ.size,
      unschedulable: this.unschedulable.size,
      inFlight: this.inFlight.size,
    };
  }

  /** Whether the queue holds `key` in some sub-queue or in flight. */
  has(key: string): boolean {
    return this.known(key);
  }

  /** The back-off after `attempts` failed attempts: 1 s, 2 s, 4 s, 8 s, then 10 s. */
  backoffDuration(attempts: number): number {
    let d = this.initialBackoffMs;
    for (let i = 1; i < attempts && d < this.maxBackoffMs; i++) d *= 2;
    return Math.min(d, this.maxBackoffMs);
  }

  /** Stops the timers and wakes every pop() with undefined. */
  close(): void {
    this.closed = true;
    if (this.backoffTimer !== undefined) this.clock.clearTimeout(this.backoffTimer);
    if (this.flushTimer !== undefined) this.clock.clearTimeout(this.flushTimer);
    this.backoffTimer = undefined;
    this.flushTimer = undefined;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(undefined);
  }

  private known(key: string): boolean {
    return (
      this.inFlight.has(key) ||
      this.activeQ.has(key) ||
      this.backoffQ.has(key) ||
      this.unschedulable.has(key)
    );
  }

  private startAttempt(e: Entry): QueuedPod {
    this.schedulingCycle++;
    e.attempts++;
    e.cycle = this.schedulingCycle;
    this.inFlight.set(e.key, { entry: e, uid: e.pod.metadata?.uid ?? "", deleted: false });
    return toQueued(e);
  }

  private finishAttempt(key: string): Entry | undefined {
    const flying = this.inFlight.get(key);
    if (flying === undefined) return undefined;
    this.inFlight.delete(key);
    if (flying.deleted || this.closed) return undefined;
    return flying.entry;
  }

  private moveOut(e: Entry): void {
    if (e.backoffExpiry > this.clock.now()) this.pushBackoff(e);
    else {
      e.timestamp = this.clock.now();
      this.pushActive(e);
    }
  }

  private pushActive(e: Entry): void {
    e.seq = this.seq++;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) waiter(e);
    else this.activeQ.push(e);
  }

  private pushBackoff(e: Entry): void {
    e.seq = this.seq++;
    this.backoffQ.push(e);
    this.armBackoffTimer();
  }

  /** Keeps one timer set for the earliest back-off expiry. */
  private armBackoffTimer(): void {
    if (this.closed) return;
    const next = this.backoffQ.peek();
    if (next === undefined) {
      if (this.backoffTimer !== undefined) this.clock.clearTimeout(this.backoffTimer);
      this.backoffTimer = undefined;
      this.backoffTimerDue = Number.POSITIVE_INFINITY;
      return;
    }
    if (this.backoffTimer !== undefined && this.backoffTimerDue <= next.backoffExpiry) return;
    if (this.backoffTimer !== undefined) this.clock.clearTimeout(this.backoffTimer);
    this.backoffTimerDue = next.backoffExpiry;
    this.backoffTimer = this.clock.setTimeout(() => {
      this.backoffTimer = undefined;
      this.backoffTimerDue = Number.POSITIVE_INFINITY;
      this.flushBackoffCompleted();
    }, next.backoffExpiry - this.clock.now());
  }

  private flushBackoffCompleted(): void {
    const now = this.clock.now();
    for (;;) {
      const next = this.backoffQ.peek();
      if (next === undefined || next.backoffExpiry > now) break;
      this.backoffQ.pop();
      next.timestamp = now;
      this.pushActive(next);
    }
    this.armBackoffTimer();
  }

  private armFlushTimer(): void {
    if (this.closed || this.flushTimer !== undefined) return;
    this.flushTimer = this.clock.setTimeout(() => {
      this.flushTimer = undefined;
      this.flushUnschedulableLeftover();
    }, UNSCHEDULABLE_PODS_FLUSH_INTERVAL_MS);
  }

  /** Retries pods that waited longer than maxInUnschedulableMs for an event. */
  private flushUnschedulableLeftover(): void {
    const now = this.clock.now();
    for (const [key, e] of this.unschedulable) {
      if (now - e.timestamp >= this.maxInUnschedulableMs) {
        this.unschedulable.delete(key);
        this.moveOut(e);
      }
    }
    if (this.unschedulable.size > 0) this.armFlushTimer();
  }
}
