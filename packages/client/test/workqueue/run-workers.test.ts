import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/workqueue/fake-clock.js";
import { RateLimitingQueue } from "../../src/workqueue/rate-limiting-queue.js";
import { runWorkers } from "../../src/workqueue/run-workers.js";

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("runWorkers", () => {
  it("retries a failing key with back-off, forgets it on success and always calls done", async () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue({ clock });
    const attempts: number[] = [];
    const errors: string[] = [];
    const running = runWorkers(
      q,
      1,
      async (key) => {
        attempts.push(clock.now());
        if (attempts.length <= 3) throw new Error(`boom ${attempts.length}`);
        expect(key).toBe("a");
      },
      { onError: (key, error) => errors.push(`${key}: ${(error as Error).message}`) },
    );
    q.add("a");
    await flush();
    expect(attempts).toEqual([0]);
    expect(q.numRequeues("a")).toBe(1);
    expect(q.processingCount()).toBe(0);
    clock.advance(4);
    await flush();
    expect(attempts).toHaveLength(1); // the first retry waits 5 ms
    clock.advance(1);
    await flush();
    clock.advance(10);
    await flush();
    clock.advance(20);
    await flush();
    expect(attempts).toEqual([0, 5, 15, 35]);
    expect(errors).toEqual(["a: boom 1", "a: boom 2", "a: boom 3"]);
    expect(q.numRequeues("a")).toBe(0);
    expect(q.processingCount()).toBe(0);
    q.shutDown();
    await running;
  });

  it("runs up to n keys at once and resolves when the queue shuts down", async () => {
    const q = new RateLimitingQueue({ clock: new FakeClock() });
    let active = 0;
    let peak = 0;
    const release: (() => void)[] = [];
    const running = runWorkers(q, 3, async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise<void>((resolve) => release.push(resolve));
      active--;
    });
    for (const k of ["a", "b", "c", "d", "e"]) q.add(k);
    await flush();
    expect(active).toBe(3);
    expect(q.len()).toBe(2);
    while (release.length > 0 || q.len() > 0 || q.processingCount() > 0) {
      for (const r of release.splice(0)) r();
      await flush();
    }
    expect(peak).toBe(3);
    let finished = false;
    void running.then(() => {
      finished = true;
    });
    await flush();
    expect(finished).toBe(false);
    q.shutDown();
    await running;
  });

  it("counts a synchronous throw from reconcile as a failure", async () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue({ clock });
    const running = runWorkers(q, 1, (key) => {
      if (key === "bad") throw new Error("sync");
      return Promise.resolve();
    });
    q.add("bad");
    await flush();
    expect(q.numRequeues("bad")).toBe(1);
    expect(q.waitingCount()).toBe(1);
    q.shutDown();
    await running;
  });

  it("rejects a worker count below one", async () => {
    const q = new RateLimitingQueue({ clock: new FakeClock() });
    await expect(runWorkers(q, 0, async () => {})).rejects.toThrow(
      "runWorkers: workers must be an integer >= 1, got 0",
    );
  });
});
