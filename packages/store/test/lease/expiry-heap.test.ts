// The expiry heap against a sorted array, over seeded random pushes, pops and retains.

import { describe, expect, it } from "vitest";
import { ExpiryHeap } from "../../src/lease/expiry-heap.js";

/** mulberry32: a small seeded generator. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Entry {
  time: number;
  tie: number;
  tag: number;
  item: string;
}

const order = (a: Entry, b: Entry) => a.time - b.time || a.tie - b.tie;

describe("ExpiryHeap", () => {
  it("is empty when new", () => {
    const h = new ExpiryHeap<string>();
    expect(h.size).toBe(0);
    expect(h.topTime()).toBe(Number.POSITIVE_INFINITY);
    expect(h.topTag()).toBe(-1);
    expect(h.top()).toBeUndefined();
    expect(h.pop()).toBeUndefined();
  });

  it("pops by time, then tie", () => {
    const h = new ExpiryHeap<string>();
    h.push(5, 2, 1, "c");
    h.push(5, 1, 2, "b");
    h.push(1, 9, 3, "a");
    h.push(7, 0, 4, "d");
    const out: string[] = [];
    while (h.size > 0) out.push(h.pop() as string);
    expect(out).toEqual(["a", "b", "c", "d"]);
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])("matches a sorted array (seed %i)", (seed) => {
    const r = rng(seed);
    const h = new ExpiryHeap<string>();
    let model: Entry[] = [];
    let tag = 0;
    for (let step = 0; step < 5000; step++) {
      const x = r();
      if (x < 0.55) {
        // Few distinct times, so ties are common; ties are unique, so the order is total.
        const e = { time: Math.floor(r() * 50), tie: (tag * 7919) % 100_003, tag, item: `#${tag}` };
        tag++;
        h.push(e.time, e.tie, e.tag, e.item);
        model.push(e);
      } else if (x < 0.97) {
        model.sort(order);
        const want = model.shift();
        expect(h.topTime()).toBe(want?.time ?? Number.POSITIVE_INFINITY);
        expect(h.topTag()).toBe(want?.tag ?? -1);
        expect(h.pop()).toBe(want?.item);
      } else {
        const keepOdd = (tagOf: number) => tagOf % 2 === 1;
        h.retain((_item, t) => keepOdd(t));
        model = model.filter((m) => keepOdd(m.tag));
      }
      expect(h.size).toBe(model.length);
    }
  });
});
