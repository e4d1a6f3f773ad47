// Time as informers and leader election see it: a monotonic "now" and one-shot timers, injected
// so that tests drive back-off, resync and lease expiry with a fake clock. The shape is the
// workqueue's Clock, so one clock object serves both.

/** An opaque handle for a scheduled callback; only the clock that issued it understands it. */
export type TimerHandle = object;

export interface Clock {
  /** Milliseconds on a monotonic scale; only differences between readings are meaningful. */
  now(): number;
  /** Runs `callback` once, `delayMs` (>= 0) milliseconds from now, like the global setTimeout. */
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  /** Cancels a timer from this clock's setTimeout; a no-op if it already fired or was cleared. */
  clearTimeout(handle: TimerHandle): void;
}

class RealTimer {
  constructor(readonly timeout: ReturnType<typeof setTimeout>) {}
}

/** The process's clock: performance.now(), which a wall-clock step cannot move. */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, delayMs) => new RealTimer(setTimeout(callback, Math.max(0, delayMs))),
  clearTimeout: (handle) => {
    if (handle instanceof RealTimer) clearTimeout(handle.timeout);
  },
};

/**
 * Resolves after `delayMs` on `clock`: true when the time passed, false as soon as `signal`
 * aborts (at once if it already has). Never rejects.
 */
export function sleep(clock: Clock, delayMs: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clock.clearTimeout(timer);
      resolve(false);
    };
    const timer = clock.setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, delayMs);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
