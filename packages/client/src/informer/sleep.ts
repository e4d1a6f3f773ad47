// An abortable wait on an injected clock, for retry loops that must stop promptly.
import type { Clock } from "../workqueue/clock.js";

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
