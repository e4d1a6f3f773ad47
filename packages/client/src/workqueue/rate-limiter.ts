// Rate limiters decide how long a failed key waits before its retry: client-go's
// workqueue.TypedRateLimiter and the three limiters its DefaultControllerRateLimiter combines.
import { type Clock, realClock } from "./clock.js";

export interface RateLimiter {
  /** Records one more failure of `key` and returns how many milliseconds it should wait. */
  when(key: string): number;
  /** Clears the failure history of `key` (it succeeded, or the caller gave up on it). */
  forget(key: string): void;
  /** How many failures of `key` have been recorded since it was last forgotten. */
  numRequeues(key: string): number;
}

/**
 * First retry of a key after 5 ms (client-go's DefaultControllerRateLimiter): most failures
 * are transient (a resourceVersion conflict, a cache that lags a write) and clear at once.
 */
export const DEFAULT_ITEM_BASE_DELAY_MS = 5;
/**
 * A failing key's delay doubles up to 1000 s (client-go's default): about 17 minutes apart, a
 * permanently broken object still gets retried without costing the controller anything.
 */
export const DEFAULT_ITEM_MAX_DELAY_MS = 1_000_000;
/**
 * All retries of one controller together are limited to 10 per second (client-go's default
 * bucket), so that a mass failure (the API server restarting) does not become a retry storm.
 */
export const DEFAULT_OVERALL_QPS = 10;
/** ...after a burst of 100 (client-go's default), so a handful of failures retry at once. */
export const DEFAULT_OVERALL_BURST = 100;

/** Per key: baseDelay * 2^failures, capped at maxDelay (client-go's ItemExponentialFailureRateLimiter). */
export class ItemExponentialFailureRateLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();

  constructor(
    readonly baseDelayMs: number = DEFAULT_ITEM_BASE_DELAY_MS,
    readonly maxDelayMs: number = DEFAULT_ITEM_MAX_DELAY_MS,
  ) {
    if (!(baseDelayMs >= 0)) throw new RangeError(`baseDelayMs must be >= 0, got ${baseDelayMs}`);
    if (!(maxDelayMs >= baseDelayMs)) {
      throw new RangeError(`maxDelayMs must be >= baseDelayMs (${baseDelayMs}), got ${maxDelayMs}`);
    }
  }

  when(key: string): number {
    const exp = this.failures.get(key) ?? 0;
    this.failures.set(key, exp + 1);
    if (this.baseDelayMs === 0) return 0;
    // 2 ** exp becomes Infinity long before exp overflows, and Infinity is capped here.
    return Math.min(this.baseDelayMs * 2 ** exp, this.maxDelayMs);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

export interface BucketRateLimiterOptions {
  /** Tokens added per second. */
  readonly qps?: number;
  /** Bucket size: how many retries may go at once after a quiet period; the bucket starts full. */
  readonly burst?: number;
  readonly clock?: Clock;
}

/**
 * One token bucket over all keys (client-go's BucketRateLimiter over golang.org/x/time/rate):
 * each when() reserves a token and returns the wait until that token exists. It keeps no
 * per-key state, so forget() does nothing and numRequeues() is 0.
 */
export class BucketRateLimiter implements RateLimiter {
  readonly qps: number;
  readonly burst: number;
  private readonly clock: Clock;
  private tokens: number;
  private last: number;

  constructor(options: BucketRateLimiterOptions = {}) {
    this.qps = options.qps ?? DEFAULT_OVERALL_QPS;
    this.burst = options.burst ?? DEFAULT_OVERALL_BURST;
    if (!(this.qps > 0)) throw new RangeError(`qps must be > 0, got ${this.qps}`);
    if (!(this.burst >= 1)) throw new RangeError(`burst must be >= 1, got ${this.burst}`);
    this.clock = options.clock ?? realClock;
    this.tokens = this.burst;
    this.last = this.clock.now();
  }

  when(_key: string): number {
    const now = this.clock.now();
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.qps) / 1000);
      this.last = now;
    }
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.qps;
  }

  forget(_key: string): void {}

  numRequeues(_key: string): number {
    return 0;
  }
}

/** The longest wait any of its limiters asks for (client-go's MaxOfRateLimiter). */
export class MaxOfRateLimiter implements RateLimiter {
  private readonly limiters: readonly RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    if (limiters.length === 0) throw new RangeError("MaxOfRateLimiter needs at least one limiter");
    this.limiters = limiters;
  }

  when(key: string): number {
    let longest = 0;
    // Every limiter records the failure, not only the one that wins.
    for (const limiter of this.limiters) longest = Math.max(longest, limiter.when(key));
    return longest;
  }

  forget(key: string): void {
    for (const limiter of this.limiters) limiter.forget(key);
  }

  numRequeues(key: string): number {
    let most = 0;
    for (const limiter of this.limiters) most = Math.max(most, limiter.numRequeues(key));
    return most;
  }
}

/**
 * client-go's DefaultControllerRateLimiter: per-key exponential back-off from 5 ms to 1000 s,
 * and 10 retries per second (burst 100) over all keys; the longer wait wins.
 */
export function defaultControllerRateLimiter(clock: Clock = realClock): RateLimiter {
  return new MaxOfRateLimiter(
    new ItemExponentialFailureRateLimiter(DEFAULT_ITEM_BASE_DELAY_MS, DEFAULT_ITEM_MAX_DELAY_MS),
    new BucketRateLimiter({ qps: DEFAULT_OVERALL_QPS, burst: DEFAULT_OVERALL_BURST, clock }),
  );
}
