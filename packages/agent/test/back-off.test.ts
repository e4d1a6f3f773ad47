// The restart back-off: immediate first restart, then 10 s doubling to 5 min, reset after a
// long clean run; and Go's duration text in the CrashLoopBackOff message.

import { describe, expect, it } from "vitest";
import { goDuration, RestartBackOff } from "../src/index.js";

describe("RestartBackOff", () => {
  it("lets the first restart happen at once, then doubles the wait up to the cap", () => {
    let now = 1_000_000;
    const b = new RestartBackOff(10_000, 300_000, 600_000, () => now);
    expect(b.remainingMs("p/app/c", now)).toBe(0);
    b.restarted("p/app/c", now);
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      now += 1_000; // the container ran 1 s, then failed
      const failedAt = now;
      const wait = b.remainingMs("p/app/c", failedAt);
      delays.push(wait);
      now += wait;
      expect(b.remainingMs("p/app/c", failedAt)).toBe(0);
      b.restarted("p/app/c", failedAt);
    }
    expect(delays).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  });

  it("starts over after the container ran longer than the reset period", () => {
    let now = 0;
    const b = new RestartBackOff(10_000, 300_000, 600_000, () => now);
    b.restarted("k", now);
    now = 5_000;
    b.restarted("k", now); // delay now 20 s
    expect(b.delayMs("k")).toBe(20_000);
    now += 700_000;
    expect(b.remainingMs("k", now)).toBe(0);
    b.restarted("k", now);
    expect(b.delayMs("k")).toBe(10_000);
  });

  it("forgets a pod's keys", () => {
    const b = new RestartBackOff(10_000, 300_000, 600_000, () => 0);
    b.restarted("uid1/app/a", 0);
    b.restarted("uid2/app/a", 0);
    b.forget("uid1/");
    expect(b.remainingMs("uid1/app/a", 0)).toBe(0);
    expect(b.remainingMs("uid2/app/a", 0)).toBe(10_000);
  });
});

describe("goDuration", () => {
  it("prints whole seconds as Go does", () => {
    expect(goDuration(10_000)).toBe("10s");
    expect(goDuration(40_000)).toBe("40s");
    expect(goDuration(300_000)).toBe("5m0s");
    expect(goDuration(160_000)).toBe("2m40s");
  });
});
