// Time as the workqueue sees it: a monotonic "now" and one-shot timers. Injected so that tests
// drive delays and back-off with a fake clock instead of waiting (k8s.io/utils/clock plays this
// role for client-go's workqueue).

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

/**
 * The process's clock. `now()` is performance.now(): monotonic, so a wall-clock step (NTP,
 * a VM resumed from suspend) can neither fire every delayed key at once nor stall them.
 */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, delayMs) => new RealTimer(setTimeout(callback, Math.max(0, delayMs))),
  clearTimeout: (handle) => {
    if (handle instanceof RealTimer) clearTimeout(handle.timeout);
  },
};
