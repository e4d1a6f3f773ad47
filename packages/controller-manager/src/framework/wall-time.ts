// Wall time for what controllers write into objects (condition times, availability after
// minReadySeconds). The workqueue's realClock is monotonic (performance.now(), near 0 at process
// start), so it must never stand for the date; an injected test clock may.

import type { Clock } from "@tug/client";

/** An injected clock's time as wall time (tests), or the system's wall clock. */
export function wallTime(clock: Clock | undefined): () => Date {
  return clock === undefined ? () => new Date() : () => new Date(clock.now());
}
