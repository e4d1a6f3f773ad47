// The ordered index against a sorted array, through many inserts and removals that split and
// merge leaves; and byte-order conversions of keys.

import { describe, expect, it } from "vitest";
import { compareBytes, keyBytes, keyString } from "../../src/mvcc/key-bytes.js";
import { OrderedIndex } from "../../src/mvcc/ordered-index.js";

describe("OrderedIndex", () => {
  it("agrees with a sorted array through splits and merges", () => {
    let s = 12345;
    const rand = (n: number) => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return (s >>> 8) % n;
    };
    const index = new OrderedIndex<{ key: string }>();
    const model = new Set<string>();
    const key = () => `k${rand(5000).toString(36)}`;
    for (let step = 0; step < 40_000; step++) {
      const k = key();
      // Grow for a while, then shrink, so that leaves both split and merge.
      const grow = step < 15_000 || (step > 30_000 && step < 35_000);
      if (grow ? rand(10) < 8 : rand(10) < 2) {
        if (!model.has(k)) {
          model.add(k);
          index.insert({ key: k });
        }
      } else {
        expect(index.remove(k)).toBe(model.has(k));
        model.delete(k);
      }
      if (step % 2000 === 0 || step === 39_999) {
        const sorted = [...model].sort();
        expect(index.size).toBe(sorted.length);
        expect([...index].map((e) => e.key)).toEqual(sorted);
        const lo = key();
        const hi = key();
        const got: string[] = [];
        index.scan(lo, hi, (e) => {
          got.push(e.key);
          return true;
        });
        expect(got).toEqual(sorted.filter((x) => x >= lo && x < hi));
        const open: string[] = [];
        index.scan(lo, null, (e) => {
          open.push(e.key);
          return open.length < 10;
        });
        expect(open).toEqual(sorted.filter((x) => x >= lo).slice(0, 10));
        expect(index.get(lo)?.key).toBe(model.has(lo) ? lo : undefined);
      }
    }
  });
});

describe("key bytes", () => {
  it("maps bytes to strings whose order is byte order", () => {
    const samples = [
      [],
      [0],
      [0, 0],
      [1],
      [0x7f],
      [0x80],
      [0xff],
      [0xff, 0],
      Array.from({ length: 20_000 }, (_, i) => (i * 7) & 0xff),
    ].map((xs) => new Uint8Array(xs));
    for (const a of samples) {
      expect(keyBytes(keyString(a))).toEqual(a);
      for (const c of samples) {
        const byString = keyString(a) < keyString(c) ? -1 : keyString(a) > keyString(c) ? 1 : 0;
        expect(byString).toBe(compareBytes(a, c));
      }
    }
  });
});
