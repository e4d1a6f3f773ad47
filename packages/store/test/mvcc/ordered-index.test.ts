// The ordered index against a sorted array, through many inserts and removals that split and
// merge leaves, with reads at random moments so that buffered inserts are placed one by one,
// merged in runs, and merged at the buffer's bound; and byte-order conversions of keys.

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

  /** A seeded generator of integers in [0, n): failures print the seed to replay. */
  const generator = (seed: number) => {
    let s = seed >>> 0;
    return (n: number) => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return (s >>> 8) % n;
    };
  };

  it.each([1, 2, 3, 4, 5, 6, 7, 8])("agrees with a model under seed %i", (seed) => {
    const rand = generator(seed);
    const index = new OrderedIndex<{ key: string }>();
    const model = new Set<string>();
    const inserted: string[] = [];
    // Few keys or many, with a shared prefix as real keys have.
    const keySpace = 1 + rand(30_000);
    const key = () => `/registry/pods/ns-${rand(7)}/p${rand(keySpace).toString(36)}`;
    const check = (why: string) => {
      const sorted = [...model].sort();
      expect(index.size, `seed ${seed} ${why}: size`).toBe(model.size);
      const lo = key();
      const hi = rand(4) === 0 ? null : key();
      const range: string[] = [];
      index.scan(lo, hi, (e) => {
        range.push(e.key);
        return true;
      });
      expect(range, `seed ${seed} ${why}: scan`).toEqual(
        sorted.filter((x) => x >= lo && (hi === null || x < hi)),
      );
      if (rand(4) === 0)
        expect(
          [...index].map((e) => e.key),
          `seed ${seed} ${why}`,
        ).toEqual(sorted);
    };
    for (let step = 0; step < 600 && model.size < 20_000; step++) {
      // Bursts of inserts of every length up past the buffer's bound, with no read between.
      const burst = rand(10) === 0 ? rand(6000) : rand(40);
      for (let i = 0; i < burst; i++) {
        const k = key();
        if (!model.has(k)) {
          model.add(k);
          inserted.push(k);
          index.insert({ key: k });
        }
      }
      switch (rand(4)) {
        case 0: {
          const k =
            rand(2) === 0 && inserted.length > 0
              ? (inserted[rand(inserted.length)] as string)
              : key();
          expect(index.get(k)?.key, `seed ${seed} step ${step}: get`).toBe(
            model.has(k) ? k : undefined,
          );
          break;
        }
        case 1:
          for (let n = rand(60); n > 0; n--) {
            const k =
              rand(2) === 0 && inserted.length > 0
                ? (inserted[rand(inserted.length)] as string)
                : key();
            expect(index.remove(k), `seed ${seed} step ${step}: remove`).toBe(model.has(k));
            model.delete(k);
          }
          break;
        case 2:
          check(`step ${step}`);
          break;
      }
    }
    check("end");
    expect(
      [...index].map((e) => e.key),
      `seed ${seed} end`,
    ).toEqual([...model].sort());
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
