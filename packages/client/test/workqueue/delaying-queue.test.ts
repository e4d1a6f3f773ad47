import { describe, expect, it } from "vitest";
import { DelayingQueue } from "../../src/workqueue/delaying-queue.js";
import { FakeClock } from "../../src/workqueue/fake-clock.js";

function drainKeys(q: DelayingQueue): Promise<string[]> {
  const keys: string[] = [];
  const take = async (): Promise<string[]> => {
    while (q.len() > 0) {
      const r = await q.get();
      if (r.shutdown) break;
      keys.push(r.key);
      q.done(r.key);
    }
    return keys;
  };
  return take();
}

describe("DelayingQueue", () => {
  it("adds a key only once its delay has passed", async () => {
    const clock = new FakeClock();
    const q = new DelayingQueue({ clock });
    q.addAfter("a", 100);
    expect(q.len()).toBe(0);
    expect(q.waitingCount()).toBe(1);
    clock.advance(99);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(q.len()).toBe(1);
    expect(q.waitingCount()).toBe(0);
    expect(await drainKeys(q)).toEqual(["a"]);
  });

  it("adds at once when the delay is zero or negative", () => {
    const q = new DelayingQueue({ clock: new FakeClock() });
    q.addAfter("a", 0);
    q.addAfter("b", -5);
    expect(q.len()).toBe(2);
  });

  it("releases keys in order of readiness, not of addAfter calls", async () => {
    const clock = new FakeClock();
    const q = new DelayingQueue({ clock });
    q.addAfter("slow", 300);
    q.addAfter("fast", 100);
    q.addAfter("middle", 200);
    q.addAfter("tie-with-middle", 200);
    clock.advance(1000);
    expect(await drainKeys(q)).toEqual(["fast", "middle", "tie-with-middle", "slow"]);
  });

  it("uses the earliest of several pending delays for one key", async () => {
    const clock = new FakeClock();
    const q = new DelayingQueue({ clock });
    q.addAfter("a", 500);
    q.addAfter("a", 100); // earlier: wins
    q.addAfter("a", 800); // later: ignored
    expect(q.waitingCount()).toBe(1);
    clock.advance(100);
    expect(q.len()).toBe(1);
    expect(await drainKeys(q)).toEqual(["a"]);
    clock.advance(1000); // neither the 500 nor the 800 ms entry adds it again
    expect(q.len()).toBe(0);
  });

  it("keeps a single timer armed for the earliest pending key", () => {
    const clock = new FakeClock();
    const q = new DelayingQueue({ clock });
    q.addAfter("a", 300);
    q.addAfter("b", 200);
    q.addAfter("c", 100);
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(100);
    expect(q.len()).toBe(1);
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(200);
    expect(q.len()).toBe(3);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("deduplicates a delayed key against the same key already queued", async () => {
    const clock = new FakeClock();
    const q = new DelayingQueue({ clock });
    q.add("a");
    q.addAfter("a", 10);
    clock.advance(10);
    expect(q.len()).toBe(1);
    expect(await drainKeys(q)).toEqual(["a"]);
  });

  it("drops pending delays and cancels its timer on shutdown, and ignores later addAfter", async () => {
    const clock = new FakeClock();
    const q = new DelayingQueue({ clock });
    q.addAfter("a", 100);
    q.shutDown();
    expect(clock.pendingTimers()).toBe(0);
    q.addAfter("b", 10);
    q.addAfter("c", 0);
    clock.advance(1000);
    expect(q.len()).toBe(0);
    expect(await q.get()).toEqual({ shutdown: true });
  });
});

describe("DelayingQueue on the real clock", () => {
  it("adds a delayed key after the delay", async () => {
    const q = new DelayingQueue();
    const started = performance.now();
    q.addAfter("a", 20);
    const result = await q.get();
    expect(result).toEqual({ shutdown: false, key: "a" });
    expect(performance.now() - started).toBeGreaterThanOrEqual(19);
    q.shutDown();
  });
});
