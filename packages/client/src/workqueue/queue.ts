// The basic workqueue: client-go's k8s.io/client-go/util/workqueue Type, in TypeScript.
//
// Guarantees (the same as client-go's):
// - Fair: keys are handed out in the order they were added.
// - Stingy: a key added several times before it is handed out is handed out once.
// - Exclusive: a key is never handed to two workers at once. A key added while a worker holds
//   it is marked dirty and re-queued when that worker calls done(key).
// - Shutdown: after shutDown() new adds are ignored; keys already queued are still handed out,
//   and a get() on an empty queue returns { shutdown: true } instead of waiting.
import { type Clock, realClock } from "./clock.js";
import type { WorkQueueMetrics } from "./metrics.js";

/** What get() resolves to: the next key, or notice that the queue is shut down and empty. */
export type GetResult =
  | { readonly shutdown: false; readonly key: string }
  | { readonly shutdown: true; readonly key?: undefined };

export interface WorkQueueOptions {
  /** Times queue and work durations for the metrics; defaults to the process clock. */
  readonly clock?: Clock;
  readonly metrics?: WorkQueueMetrics;
}

const SHUTDOWN: GetResult = { shutdown: true };

export class WorkQueue {
  protected readonly clock: Clock;
  protected readonly metrics: WorkQueueMetrics;

  /** Keys waiting to be handed out, FIFO; `head` indexes the first live one. */
  private fifo: string[] = [];
  private head = 0;
  /** Keys that need processing: waiting in `fifo`, or added again while being processed. */
  private readonly dirty = new Set<string>();
  /** Keys handed out by get() and not yet done(), with the time they were handed out. */
  private readonly processing = new Map<string, number>();
  /** When each dirty key was accepted, for the queue-duration metric. */
  private readonly addedAt = new Map<string, number>();
  /** Callers of get() waiting for a key, oldest first. */
  private readonly getters: ((result: GetResult) => void)[] = [];
  /** Callers of shutDownWithDrain() waiting for in-flight keys to be done. */
  private readonly drainers: (() => void)[] = [];
  private shuttingDownFlag = false;
  private draining = false;

  constructor(options: WorkQueueOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.metrics = options.metrics ?? {};
  }

  /** Marks `key` as needing processing. Ignored after shutdown and while it is already waiting. */
  add(key: string): void {
    if (this.shuttingDownFlag || this.dirty.has(key)) return;
    this.metrics.incAdds?.();
    this.dirty.add(key);
    this.addedAt.set(key, this.clock.now());
    // Exclusive: a key being processed waits for done() before it is queued again.
    if (this.processing.has(key)) return;
    this.fifo.push(key);
    this.handOut();
  }

  /**
   * Resolves with the next key, waiting for one if none is queued, or with { shutdown: true }
   * once the queue is shut down and empty. The caller owns the key until it calls done(key).
   */
  get(): Promise<GetResult> {
    const key = this.take();
    if (key !== undefined) return Promise.resolve({ shutdown: false, key });
    if (this.shuttingDownFlag) return Promise.resolve(SHUTDOWN);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /**
   * Ends processing of `key`, which must have come from get(). If it was added again meanwhile
   * it goes back to the end of the queue.
   */
  done(key: string): void {
    const startedAt = this.processing.get(key);
    if (startedAt === undefined) return;
    this.processing.delete(key);
    this.metrics.observeWorkDuration?.(this.clock.now() - startedAt);
    if (this.dirty.has(key)) {
      this.fifo.push(key);
      this.handOut();
    }
    if (this.draining && this.processing.size === 0) {
      for (const resolve of this.drainers.splice(0)) resolve();
    }
  }

  /** The number of keys waiting to be handed out (keys being processed are not counted). */
  len(): number {
    return this.fifo.length - this.head;
  }

  /** The number of keys handed out by get() and not yet done(). */
  processingCount(): number {
    return this.processing.size;
  }

  isShuttingDown(): boolean {
    return this.shuttingDownFlag;
  }

  /**
   * Stops accepting keys and wakes every waiting get() with { shutdown: true }. Keys already
   * queued are still handed out to later get() calls; in-flight keys are not waited for.
   */
  shutDown(): void {
    this.shuttingDownFlag = true;
    for (const resolve of this.getters.splice(0)) resolve(SHUTDOWN);
  }

  /**
   * shutDown(), then resolves once every key handed out so far is done() — client-go's
   * ShutDownWithDrain. Workers must keep calling done(), or this never resolves.
   */
  shutDownWithDrain(): Promise<void> {
    this.draining = true;
    this.shutDown();
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainers.push(resolve));
  }

  /** Removes the first queued key and marks it as being processed. */
  private take(): string | undefined {
    if (this.head >= this.fifo.length) return undefined;
    const key = this.fifo[this.head] as string;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.fifo.length) {
      this.fifo = this.fifo.slice(this.head);
      this.head = 0;
    }
    const now = this.clock.now();
    this.processing.set(key, now);
    this.dirty.delete(key);
    const addedAt = this.addedAt.get(key);
    this.addedAt.delete(key);
    if (addedAt !== undefined) this.metrics.observeQueueDuration?.(now - addedAt);
    this.metrics.setDepth?.(this.len());
    return key;
  }

  /** Gives queued keys to waiting getters; the key is marked as processing before resolve. */
  private handOut(): void {
    while (this.getters.length > 0) {
      const key = this.take();
      if (key === undefined) break;
      const resolve = this.getters.shift() as (result: GetResult) => void;
      resolve({ shutdown: false, key });
    }
    this.metrics.setDepth?.(this.len());
  }
}
