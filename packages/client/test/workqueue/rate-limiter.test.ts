import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/workqueue/fake-clock.js";
import {
  BucketRateLimiter,
  DEFAULT_ITEM_BASE_DELAY_MS,
  DEFAULT_ITEM_MAX_DELAY_MS,
  defaultControllerRateLimiter,
  ItemExponentialFailureRateLimiter,
  MaxOfRateLimiter,
} from "../../src/workqueue/rate-limiter.js";

describe("ItemExponentialFailureRateLimiter", () => {
  it("uses client-go's controller defaults: 5 ms base, 1000 s cap", () => {
    expect(DEFAULT_ITEM_BASE_DELAY_MS).toBe(5);
    expect(DEFAULT_ITEM_MAX_DELAY_MS).toBe(1000 * 1000);
  });

  it("doubles the delay per failure of a key and caps it", () => {
    const limiter = new ItemExponentialFailureRateLimiter();
    const delays = Array.from({ length: 20 }, () => limiter.when("a"));
    expect(delays.slice(0, 6)).toEqual([5, 10, 20, 40, 80, 160]);
    // 5 ms * 2^17 = 655.36 s; 2^18 would exceed 1000 s.
    expect(delays[17]).toBe(655_360);
    expect(delays[18]).toBe(1_000_000);
    expect(delays[19]).toBe(1_000_000);
    expect(limiter.numRequeues("a")).toBe(20);
  });

  it("keeps to the cap after very many failures", () => {
    const limiter = new ItemExponentialFailureRateLimiter(1, 60_000);
    for (let i = 0; i < 5000; i++) limiter.when("a");
    expect(limiter.when("a")).toBe(60_000);
  });

  it("tracks keys independently and starts afresh after forget", () => {
    const limiter = new ItemExponentialFailureRateLimiter(1, 1000);
    limiter.when("a");
    limiter.when("a");
    expect(limiter.when("b")).toBe(1);
    expect(limiter.numRequeues("a")).toBe(2);
    limiter.forget("a");
    expect(limiter.numRequeues("a")).toBe(0);
    expect(limiter.when("a")).toBe(1);
  });

  it("rejects a cap below the base delay, naming both", () => {
    expect(() => new ItemExponentialFailureRateLimiter(10, 5)).toThrow(
      "maxDelayMs must be >= baseDelayMs (10), got 5",
    );
  });
});

describe("BucketRateLimiter", () => {
  it("lets a burst through, then spaces requests at 1/qps", () => {
    const clock = new FakeClock();
    const limiter = new BucketRateLimiter({ qps: 10, burst: 100, clock });
    for (let i = 0; i < 100; i++) expect(limiter.when(`k${i}`)).toBe(0);
    expect(limiter.when("x")).toBe(100);
    expect(limiter.when("y")).toBe(200);
    expect(limiter.when("z")).toBe(300);
  });

  it("refills at qps tokens per second, never above the burst", () => {
    const clock = new FakeClock();
    const limiter = new BucketRateLimiter({ qps: 10, burst: 3, clock });
    for (let i = 0; i < 3; i++) limiter.when("k");
    expect(limiter.when("k")).toBe(100); // tokens now -1
    clock.advance(300); // +3 tokens: 2
    expect(limiter.when("k")).toBe(0);
    expect(limiter.when("k")).toBe(0);
    expect(limiter.when("k")).toBe(100);
    clock.advance(60_000); // refills to 3 at most
    for (let i = 0; i < 3; i++) expect(limiter.when("k")).toBe(0);
    expect(limiter.when("k")).toBe(100);
  });

  it("has no per-key state", () => {
    const limiter = new BucketRateLimiter({ clock: new FakeClock() });
    limiter.when("a");
    expect(limiter.numRequeues("a")).toBe(0);
  });
});

describe("MaxOfRateLimiter and the default controller rate limiter", () => {
  it("returns the longest wait and records the failure in every limiter", () => {
    const a = new ItemExponentialFailureRateLimiter(1, 1000);
    const b = new ItemExponentialFailureRateLimiter(3, 1000);
    const max = new MaxOfRateLimiter(a, b);
    expect(max.when("k")).toBe(3);
    expect(max.when("k")).toBe(6);
    expect(a.numRequeues("k")).toBe(2);
    expect(max.numRequeues("k")).toBe(2);
    max.forget("k");
    expect(a.numRequeues("k")).toBe(0);
    expect(b.numRequeues("k")).toBe(0);
  });

  it("combines per-key back-off with the 10 qps / burst 100 bucket", () => {
    const clock = new FakeClock();
    const limiter = defaultControllerRateLimiter(clock);
    expect(limiter.when("a")).toBe(5);
    expect(limiter.when("a")).toBe(10);
    for (let i = 0; i < 98; i++) expect(limiter.when(`other-${i}`)).toBe(5);
    // The bucket is empty: a fresh key waits for the bucket, not its own 5 ms.
    expect(limiter.when("fresh")).toBe(100);
    expect(limiter.numRequeues("a")).toBe(2);
  });
});
