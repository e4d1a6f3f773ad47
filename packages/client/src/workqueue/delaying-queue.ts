// A workqueue that can add a key after a delay: client-go's DelayingInterface (AddAfter).

import type { TimerHandle } from "./clock.js";
import { WorkQueue, type WorkQueueOptions } from "./queue.js";

interface Pending {
  readonly readyAt: number;
  readonly seq: number;
  readonly key: string;
}

function before(a: Pending, b: Pending): boolean {
  return a.readyAt < b.readyAt || (a.readyAt === b.readyAt && a.seq < b.seq);
}

export class DelayingQueue extends WorkQueue {
  /** The earliest time each waiting key becomes ready: the earliest of its pending delays. */
  private readonly readyAt = new Map<string, number>();
  /** A min-heap of (readyAt, seq); entries that no longer match `readyAt` are stale, skipped. */
  private readonly heap: Pending[] = [];
  private seq = 0;
  private timer: TimerHandle | undefined;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(options: WorkQueueOptions = {}) {
    super(options);
  }

  /**
   * Adds `key` once `delayMs` milliseconds have passed on the queue's clock; at once if
   * delayMs <= 0. If the key is already waiting for an earlier time, that time stands: the
   * earliest of several pending delays wins. Ignored after shutdown.
   */
  addAfter(key: string, delayMs: number): void {
    if (this.isShuttingDown()) return;
    if (!(delayMs > 0)) {
      this.add(key);
      return;
    }
    const readyAt = this.clock.now() + delayMs;
    const current = this.readyAt.get(key);
    if (current !== undefined && current <= readyAt) return;
    this.readyAt.set(key, readyAt);
    this.push({ readyAt, seq: this.seq++, key });
    this.arm();
  }

  /** The number of keys waiting for their delay to pass. */
  waitingCount(): number {
    return this.readyAt.size;
  }

  override shutDown(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    this.readyAt.clear();
    this.heap.length = 0;
    super.shutDown();
  }

  /** Moves every key whose time has come into the queue, in order of readiness. */
  private fire(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.readyAt > now) break;
      this.pop();
      if (this.readyAt.get(top.key) !== top.readyAt) continue;
      this.readyAt.delete(top.key);
      this.add(top.key);
    }
    this.arm();
  }

  /** Keeps one timer set for the earliest live entry. */
  private arm(): void {
    while (this.heap.length > 0) {
      const top = this.heap[0] as Pending;
      if (this.readyAt.get(top.key) === top.readyAt) break;
      this.pop();
    }
    const top = this.heap[0];
    if (top === undefined || top.readyAt >= this.timerAt) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerAt = top.readyAt;
    this.timer = this.clock.setTimeout(() => this.fire(), top.readyAt - this.clock.now());
  }

  private push(entry: Pending): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i] as Pending, h[parent] as Pending)) break;
      [h[i], h[parent]] = [h[parent] as Pending, h[i] as Pending];
      i = parent;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < h.length && before(h[l] as Pending, h[min] as Pending)) min = l;
      if (r < h.length && before(h[r] as Pending, h[min] as Pending)) min = r;
      if (min === i) break;
      [h[i], h[min]] = [h[min] as Pending, h[i] as Pending];
      i = min;
    }
  }
}
