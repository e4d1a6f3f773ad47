// client-go's ControllerExpectations (k8s.io/kubernetes/pkg/controller/controller_utils.go):
// before a controller creates or deletes pods for an owner it records how many events it
// expects to see; until its informer has observed them, the owner is not synced again. That is
// what keeps a controller whose cache lags behind its own writes from creating pods twice.

import type { Clock } from "@tug/client";
import { realClock } from "@tug/client";

/**
 * How long expectations may stay unmet before they are ignored (client-go's
 * ExpectationsTimeout, 5 minutes): a watch event lost for good must not stall an owner forever.
 */
export const EXPECTATIONS_TIMEOUT_MS = 5 * 60_000;

interface Expectation {
  add: number;
  del: number;
  /** Keys ("namespace/name") of pods whose deletion is expected. */
  readonly deleting: Set<string>;
  readonly recordedAt: number;
}

/**
 * Per owner key: creations and deletions still expected. Creations are counted (a pod's name is
 * not known before it is created); deletions are tracked by pod key, so that a pod deleted twice
 * or one whose deletion was noticed by a relist is counted once (client-go's
 * UIDTrackingControllerExpectations).
 */
export class ControllerExpectations {
  private readonly expectations = new Map<string, Expectation>();

  constructor(private readonly clock: Clock = realClock) {}

  /**
   * True when `ownerKey` may be synced: nothing is expected, everything expected was observed,
   * or the expectations are older than EXPECTATIONS_TIMEOUT_MS. An owner with no record is
   * synced (a new owner, or a controller that just started).
   */
  satisfied(ownerKey: string): boolean {
    const e = this.expectations.get(ownerKey);
    if (e === undefined) return true;
    if (e.add <= 0 && e.del <= 0) return true;
    return this.clock.now() - e.recordedAt > EXPECTATIONS_TIMEOUT_MS;
  }

  /** Records that `count` pod creations are about to be made for `ownerKey` (replacing any record). */
  expectCreations(ownerKey: string, count: number): void {
    this.expectations.set(ownerKey, {
      add: count,
      del: 0,
      deleting: new Set(),
      recordedAt: this.clock.now(),
    });
  }

  /** Records that the pods `podKeys` are about to be deleted for `ownerKey`. */
  expectDeletions(ownerKey: string, podKeys: readonly string[]): void {
    this.expectations.set(ownerKey, {
      add: 0,
      del: podKeys.length,
      deleting: new Set(podKeys),
      recordedAt: this.clock.now(),
    });
  }

  /** A pod of `ownerKey` was seen created, or a creation failed and will never be seen. */
  creationObserved(ownerKey: string): void {
    const e = this.expectations.get(ownerKey);
    if (e !== undefined) e.add--;
  }

  /** The pod `podKey` of `ownerKey` was seen deleted (or its deletion failed). */
  deletionObserved(ownerKey: string, podKey: string): void {
    const e = this.expectations.get(ownerKey);
    if (e === undefined || !e.deleting.delete(podKey)) return;
    e.del--;
  }

  /** Forgets `ownerKey` (the owner was deleted). */
  delete(ownerKey: string): void {
    this.expectations.delete(ownerKey);
  }

  /** Creations and deletions still expected, for tests and debugging. */
  pending(ownerKey: string): { add: number; del: number } | undefined {
    const e = this.expectations.get(ownerKey);
    return e === undefined ? undefined : { add: e.add, del: e.del };
  }
}
