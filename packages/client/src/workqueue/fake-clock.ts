// A manual clock for deterministic tests: time moves only when the test calls advance().
import type { Clock, TimerHandle } from "./clock.js";

class FakeTimer {
  constructor(
    readonly dueAt: number,
    readonly seq: number,
    readonly callback: () => void,
  ) {}
}

/**
 * A Clock whose time stands still until `advance(ms)`. Timers fire in order of due time, then
 * in the order they were set; a timer set by a firing callback fires within the same advance
 * if it falls due before its end.
 */
export class FakeClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly timers = new Set<FakeTimer>();

  constructor(startMs = 0) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer = new FakeTimer(this.current + Math.max(0, delayMs), this.seq++, callback);
    this.timers.add(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    if (handle instanceof FakeTimer) this.timers.delete(handle);
  }

  /** The number of timers set and not yet fired or cleared. */
  pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms` (>= 0), firing every timer that falls due on the way. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`FakeClock.advance: ms must be >= 0, got ${ms}`);
    const target = this.current + ms;
    for (;;) {
      const next = this.earliest();
      if (next === undefined || next.dueAt > target) break;
      this.timers.delete(next);
      this.current = Math.max(this.current, next.dueAt);
      next.callback();
    }
    this.current = target;
  }

  private earliest(): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.timers) {
      if (
        best === undefined ||
        t.dueAt < best.dueAt ||
        (t.dueAt === best.dueAt && t.seq < best.seq)
      ) {
        best = t;
      }
    }
    return best;
  }
}
