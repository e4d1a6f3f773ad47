import { describe, expect, it } from "vitest";
import { KeyedHeap } from "../../src/queue/keyed-heap.js";

describe("KeyedHeap", () => {
  it("pops in order, and removes and updates by key", () => {
    const h = new KeyedHeap<{ k: string; v: number }>(
      (x) => x.k,
      (a, b) => a.v < b.v,
    );
    const values = [5, 3, 9, 1, 7, 2, 8, 6, 4, 0];
    for (const v of values) h.push({ k: `k${v}`, v });
    expect(h.remove("k3")?.v).toBe(3);
    h.push({ k: "k9", v: -1 });
    expect(h.size).toBe(9);
    const out: number[] = [];
    for (let x = h.pop(); x !== undefined; x = h.pop()) out.push(x.v);
    expect(out).toEqual([-1, 0, 1, 2, 4, 5, 6, 7, 8]);
  });
});
