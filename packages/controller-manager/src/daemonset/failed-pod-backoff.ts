// Back-off for replacing failed daemon pods, per DaemonSet and node (the DaemonSet controller's
// failedPodsBackoff, a client-go flowcontrol.Backoff): a node whose kubelet keeps rejecting the
// pod must not make the controller create and delete pods in a hot loop.

import type { Clock } from "@tug/client";

/** First wait after a failed daemon pod is deleted (kube-controller-manager: 1 s). */
export const FAILED_POD_BACKOFF_INITIAL_MS = 1_000;
/** Longest wait between replacements on one node (kube-controller-manager: 15 min). */
export const FAILED_POD_BACKOFF_MAX_MS = 15 * 60_000;

interface Entry {
  delayMs: number;
  lastUpdateMs: number;
}

export class FailedPodBackoff {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    private readonly initialMs = FAILED_POD_BACKOFF_INITIAL_MS,
    private readonly maxMs = FAILED_POD_BACKOFF_MAX_MS,
  ) {}

  /** True while `key`'s last failure is more recent than its current delay. */
  inBackoff(key: string): boolean {
    const e = this.entries.get(key);
    return e !== undefined && this.clock.now() - e.lastUpdateMs < e.delayMs;
  }

  /** Milliseconds until `key` may act again (0 when it may now). */
  remainingMs(key: string): number {
    const e = this.entries.get(key);
    if (e === undefined) return 0;
    return Math.max(0, e.lastUpdateMs + e.delayMs - this.clock.now());
  }

  /**
   * Records a failure of `key`: the delay doubles up to the maximum, and starts again from the
   * initial delay after twice the maximum without failures.
   */
  next(key: string): void {
    const now = this.clock.now();
    const e = this.entries.get(key);
    if (e === undefined || now - e.lastUpdateMs > 2 * this.maxMs) {
      this.entries.set(key, { delayMs: this.initialMs, lastUpdateMs: now });
      return;
    }
    e.delayMs = Math.min(e.delayMs * 2, this.maxMs);
    e.lastUpdateMs = now;
  }

  /** Forgets entries idle for twice the maximum delay (GC). */
  gc(): void {
    const now = this.clock.now();
    for (const [key, e] of this.entries) {
      if (now - e.lastUpdateMs > 2 * this.maxMs) this.entries.delete(key);
    }
  }
}
