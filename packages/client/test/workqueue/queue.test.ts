import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/workqueue/fake-clock.js";
import type { WorkQueueMetrics } from "../../src/workqueue/metrics.js";
import { type GetResult, WorkQueue } from "../../src/workqueue/queue.js";

/** Lets every pending promise callback run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

async function key(queue: WorkQueue): Promise<string> {
  const result = await queue.get();
  if (result.shutdown) throw new Error("queue unexpectedly shut down");
  return result.key;
}

describe("WorkQueue", () => {
  it("hands keys out in the order they were added", async () => {
    const q = new WorkQueue();
    for (const k of ["c", "a", "b"]) q.add(k);
    expect([await key(q), await key(q), await key(q)]).toEqual(["c", "a", "b"]);
  });

  it("hands a key added several times before processing out once", async () => {
    const q = new WorkQueue();
    q.add("a");
    q.add("b");
    q.add("a");
    q.add("a");
    expect(q.len()).toBe(2);
    expect(await key(q)).toBe("a");
    expect(await key(q)).toBe("b");
    expect(q.len()).toBe(0);
  });

  it("does not hand a key being processed to a second worker, and re-queues it on done", async () => {
    const q = new WorkQueue();
    q.add("a");
    expect(await key(q)).toBe("a");
    q.add("a"); // added while being processed
    expect(q.len()).toBe(0);
    let second: GetResult | undefined;
    void q.get().then((r) => {
      second = r;
    });
    await flush();
    expect(second).toBeUndefined();
    q.done("a");
    await flush();
    expect(second).toEqual({ shutdown: false, key: "a" });
  });

  it("does not re-queue a key on done when it was not added again", async () => {
    const q = new WorkQueue();
    q.add("a");
    await key(q);
    q.done("a");
    expect(q.len()).toBe(0);
    expect(q.processingCount()).toBe(0);
  });

  it("collapses several adds during processing into one re-queue, behind keys added earlier", async () => {
    const q = new WorkQueue();
    q.add("a");
    await key(q);
    q.add("a");
    q.add("b");
    q.add("a");
    q.done("a");
    expect(q.len()).toBe(2);
    expect(await key(q)).toBe("b");
    expect(await key(q)).toBe("a");
  });

  it("get() waits for work and waiters are served in order", async () => {
    const q = new WorkQueue();
    const got: string[] = [];
    const w1 = q.get().then((r) => got.push(`w1:${r.key}`));
    const w2 = q.get().then((r) => got.push(`w2:${r.key}`));
    await flush();
    expect(got).toEqual([]);
    q.add("x");
    q.add("y");
    await Promise.all([w1, w2]);
    expect(got).toEqual(["w1:x", "w2:y"]);
    expect(q.processingCount()).toBe(2);
  });

  it("shutDown() wakes every waiter with a shutting-down result and ignores later adds", async () => {
    const q = new WorkQueue();
    const waiters = [q.get(), q.get(), q.get()];
    q.shutDown();
    expect(await Promise.all(waiters)).toEqual([
      { shutdown: true },
      { shutdown: true },
      { shutdown: true },
    ]);
    expect(q.isShuttingDown()).toBe(true);
    q.add("late");
    expect(q.len()).toBe(0);
    expect(await q.get()).toEqual({ shutdown: true });
  });

  it("still hands out keys queued before shutDown(), then reports shutdown", async () => {
    const q = new WorkQueue();
    q.add("a");
    q.add("b");
    q.shutDown();
    expect(await key(q)).toBe("a");
    expect(await key(q)).toBe("b");
    expect(await q.get()).toEqual({ shutdown: true });
  });

  it("shutDownWithDrain() resolves only after every in-flight key is done", async () => {
    const q = new WorkQueue();
    q.add("a");
    q.add("b");
    await key(q);
    await key(q);
    let drained = false;
    const drain = q.shutDownWithDrain().then(() => {
      drained = true;
    });
    await flush();
    expect(drained).toBe(false);
    q.done("a");
    await flush();
    expect(drained).toBe(false);
    q.done("b");
    await drain;
    expect(drained).toBe(true);
  });

  it("shutDownWithDrain() resolves at once when nothing is in flight", async () => {
    const q = new WorkQueue();
    await q.shutDownWithDrain();
    expect(await q.get()).toEqual({ shutdown: true });
  });

  it("reports depth, adds, queue and work durations to the metrics hooks", async () => {
    const clock = new FakeClock();
    const seen = { depth: [] as number[], adds: 0, queued: [] as number[], work: [] as number[] };
    const metrics: WorkQueueMetrics = {
      setDepth: (d) => seen.depth.push(d),
      incAdds: () => {
        seen.adds++;
      },
      observeQueueDuration: (ms) => seen.queued.push(ms),
      observeWorkDuration: (ms) => seen.work.push(ms),
    };
    const q = new WorkQueue({ clock, metrics });
    q.add("a");
    q.add("a"); // a duplicate is not an add
    q.add("b");
    clock.advance(30);
    await key(q);
    clock.advance(7);
    q.done("a");
    expect(seen.adds).toBe(2);
    expect(seen.queued).toEqual([30]);
    expect(seen.work).toEqual([7]);
    expect(seen.depth.at(-1)).toBe(1);
  });
});
