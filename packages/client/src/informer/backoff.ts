// The reflector's retry delay after a failed list or watch (client-go's reflector uses
// wait.NewExponentialBackoffManager(800ms, 30s, 2m, 2.0, 1.0, clock)).
import type { Clock } from "../workqueue/clock.js";

/** First delay: short enough that a blip costs under a second. */
export const REFLECTOR_BACKOFF_INITIAL_MS = 800;
/**
 * Largest delay before jitter: an API server that is down for long is polled every 30-60 s
 * per informer, not hammered by every client in the cluster at once.
 */
export const REFLECTOR_BACKOFF_CAP_MS = 30_000;
/** A failure this long after the previous back-off started begins again from the initial delay. */
export const REFLECTOR_BACKOFF_RESET_MS = 120_000;
/** Each consecutive failure doubles the delay. */
export const REFLECTOR_BACKOFF_FACTOR = 2;
/** Each delay grows by a random 0-100% so that clients restarted together do not retry together. */
export const REFLECTOR_BACKOFF_JITTER = 1.0;

export interface BackoffOptions {
  initialMs?: number;
  capMs?: number;
  resetMs?: number;
  factor?: number;
  jitter?: number;
}

/**
 * Exponential back-off with jitter and reset, as client-go's exponentialBackoffManagerImpl:
 * delays run initial, initial*factor, ... up to cap, each plus `jitter * random() * delay`; a
 * call more than resetMs after the previous one starts over at initial.
 */
export class ExponentialBackoff {
  private readonly initialMs: number;
  private readonly capMs: number;
  private readonly resetMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private currentMs: number;
  private lastStart: number | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly random: () => number,
    options: BackoffOptions = {},
  ) {
    this.initialMs = options.initialMs ?? REFLECTOR_BACKOFF_INITIAL_MS;
    this.capMs = options.capMs ?? REFLECTOR_BACKOFF_CAP_MS;
    this.resetMs = options.resetMs ?? REFLECTOR_BACKOFF_RESET_MS;
    this.factor = options.factor ?? REFLECTOR_BACKOFF_FACTOR;
    this.jitter = options.jitter ?? REFLECTOR_BACKOFF_JITTER;
    if (!(this.initialMs > 0)) throw new RangeError("backoff initialMs must be > 0");
    if (!(this.capMs >= this.initialMs)) throw new RangeError("backoff capMs must be >= initialMs");
    if (!(this.factor >= 1)) throw new RangeError("backoff factor must be >= 1");
    if (!(this.jitter >= 0)) throw new RangeError("backoff jitter must be >= 0");
    this.currentMs = this.initialMs;
  }

  /** The delay to wait before the next retry; advances the sequence. */
  next(): number {
    const now = this.clock.now();
    if (this.lastStart !== undefined && now - this.lastStart > this.resetMs) {
      this.currentMs = this.initialMs;
    }
    this.lastStart = now;
    const base = this.currentMs;
    this.currentMs = Math.min(this.capMs, this.currentMs * this.factor);
    return base + base * this.jitter * this.random();
  }
}
