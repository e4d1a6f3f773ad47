// A delaying queue that spaces out retries with a RateLimiter: client-go's
// RateLimitingInterface (AddRateLimited, Forget, NumRequeues).
import { DelayingQueue } from "./delaying-queue.js";
import type { WorkQueueOptions } from "./queue.js";
import { defaultControllerRateLimiter, type RateLimiter } from "./rate-limiter.js";

export interface RateLimitingQueueOptions extends WorkQueueOptions {
  /** Defaults to defaultControllerRateLimiter() on the queue's clock. */
  readonly rateLimiter?: RateLimiter;
}

export class RateLimitingQueue extends DelayingQueue {
  private readonly rateLimiter: RateLimiter;

  constructor(options: RateLimitingQueueOptions = {}) {
    super(options);
    this.rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter(this.clock);
  }

  /** Adds `key` after the wait its rate limiter gives, counting one more failure for it. */
  addRateLimited(key: string): void {
    if (this.isShuttingDown()) return;
    this.metrics.incRetries?.();
    this.addAfter(key, this.rateLimiter.when(key));
  }

  /**
   * Clears the failure history of `key`, so its next failure starts back-off afresh. Call it
   * when the key succeeded or when giving up on it; it does not remove the key from the queue.
   */
  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  /** How many times `key` failed since it was last forgotten. */
  numRequeues(key: string): number {
    return this.rateLimiter.numRequeues(key);
  }
}
