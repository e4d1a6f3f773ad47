// A manual clock for async code: time moves only in advance(), which fires due timers one by one
// and lets the promise chains they start run to completion before moving on.
import type { Clock, TimerHandle } from "../../../src/workqueue/clock.js";

class FakeTimer {
  constructor(
    readonly dueAt: number,
    readonly seq: number,
    readonly callback: () => void,
  ) {}
}

/** Lets every pending promise continuation run (nothing in tests waits on real I/O). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

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

  pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing each timer due on the way and settling after each. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    await settle();
    for (;;) {
      const next = this.earliest();
      if (next === undefined || next.dueAt > target) break;
      this.timers.delete(next);
      this.current = Math.max(this.current, next.dueAt);
      next.callback();
      await settle();
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
