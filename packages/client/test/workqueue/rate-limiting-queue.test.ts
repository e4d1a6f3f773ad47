import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/workqueue/fake-clock.js";
import { ItemExponentialFailureRateLimiter } from "../../src/workqueue/rate-limiter.js";
import { RateLimitingQueue } from "../../src/workqueue/rate-limiting-queue.js";

describe("RateLimitingQueue", () => {
  it("delays each retry of a key by its limiter's back-off until forgotten", () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue({
      clock,
      rateLimiter: new ItemExponentialFailureRateLimiter(10, 1000),
    });
    q.addRateLimited("a");
    expect(q.numRequeues("a")).toBe(1);
    clock.advance(9);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(q.len()).toBe(1);
    q.addRateLimited("b");
    q.addRateLimited("b");
    expect(q.numRequeues("b")).toBe(2);
    q.forget("b");
    expect(q.numRequeues("b")).toBe(0);
    // forget resets the back-off but does not cancel the retry already scheduled
    expect(q.waitingCount()).toBe(1);
  });

  it("uses the default controller limiter on the queue's clock", () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue({ clock });
    q.addRateLimited("a");
    clock.advance(4);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(q.len()).toBe(1);
  });

  it("counts retries in the metrics and ignores addRateLimited after shutdown", () => {
    const clock = new FakeClock();
    let retries = 0;
    const q = new RateLimitingQueue({
      clock,
      metrics: {
        incRetries: () => {
          retries++;
        },
      },
    });
    q.addRateLimited("a");
    expect(retries).toBe(1);
    q.shutDown();
    q.addRateLimited("a");
    expect(retries).toBe(1);
    expect(q.numRequeues("a")).toBe(1);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("shutDownWithDrain cancels pending delays and waits for in-flight keys", async () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue({ clock });
    q.add("busy");
    const got = await q.get();
    q.addAfter("later", 1000);
    let drained = false;
    const drain = q.shutDownWithDrain().then(() => {
      drained = true;
    });
    expect(clock.pendingTimers()).toBe(0);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(drained).toBe(false);
    q.done(got.key as string);
    await drain;
    expect(q.len()).toBe(0);
  });
});
