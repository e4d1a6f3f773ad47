import { describe, expect, it } from "vitest";
import { EventWindow } from "../../src/storage/event-window.js";

/** A window on a clock the test moves. */
function windowAt(limits: { minEvents: number; freshMs: number; maxEvents: number }) {
  const clock = { ms: 0 };
  const w = new EventWindow<{ revision: number }>(limits, () => clock.ms);
  const revisions = (after = 0) => [...w.after(after)].map((e) => e.revision);
  return { w, clock, revisions };
}

describe("EventWindow", () => {
  it("keeps every event younger than freshMs beyond minEvents, and drops older ones", () => {
    const { w, clock, revisions } = windowAt({ minEvents: 2, freshMs: 1000, maxEvents: 100 });
    w.reset(10);
    for (let rev = 11; rev <= 15; rev++) w.push({ revision: rev });
    expect(revisions()).toEqual([11, 12, 13, 14, 15]);
    expect(w.start).toBe(10);
    // 1 s later the first five are stale: only minEvents of them stay besides the new one.
    clock.ms = 1000;
    w.push({ revision: 16 });
    expect(revisions()).toEqual([15, 16]);
    expect(w.start).toBe(14);
    expect(revisions(15)).toEqual([16]);
  });

  it("keeps at most maxEvents however fresh, and minEvents however old", () => {
    const { w, clock, revisions } = windowAt({ minEvents: 3, freshMs: 60_000, maxEvents: 5 });
    w.reset(0);
    for (let rev = 1; rev <= 8; rev++) w.push({ revision: rev });
    expect(revisions()).toEqual([4, 5, 6, 7, 8]);
    expect(w.start).toBe(3);
    clock.ms = 10 * 60_000;
    w.push({ revision: 9 });
    expect(revisions()).toEqual([7, 8, 9]);
    expect(w.start).toBe(6);
  });

  it("stays in order across the compaction of dropped events, and empties on reset", () => {
    const { w, clock, revisions } = windowAt({ minEvents: 10, freshMs: 0, maxEvents: 100 });
    w.reset(0);
    for (let rev = 1; rev <= 5000; rev++) {
      clock.ms = rev;
      w.push({ revision: rev * 2 });
    }
    expect(w.size).toBe(10);
    expect(revisions()).toEqual(Array.from({ length: 10 }, (_, i) => (4991 + i) * 2));
    expect(revisions(9995)).toEqual([9996, 9998, 10000]);
    expect(w.start).toBe(9980);
    w.reset(20_000);
    expect(w.size).toBe(0);
    expect(w.start).toBe(20_000);
    expect(revisions()).toEqual([]);
  });
});
