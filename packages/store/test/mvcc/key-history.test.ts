// KeyHistory's compact representation: no kv, one kv held directly, an array of two or more;
// every transition must read the same as a plain array would.

import { describe, expect, it } from "vitest";
import type { KeyValue } from "../../src/mvcc/index.js";
import { KeyHistory } from "../../src/mvcc/key-history.js";

const KEY = new Uint8Array([107]);

function kv(modRevision: number): KeyValue {
  return {
    key: KEY,
    createRevision: 2,
    modRevision,
    version: modRevision - 1,
    value: KEY,
    lease: 0,
  };
}

/** What h reads as: every kv by position, plus what lies just outside. */
function read(h: KeyHistory): (number | undefined)[] {
  const out: (number | undefined)[] = [];
  for (let i = -1; i <= h.count; i++) out.push(h.at(i)?.modRevision);
  return out;
}

describe("KeyHistory", () => {
  it("reads as the array of its kvs through appends and drops", () => {
    const h = new KeyHistory("k", KEY);
    expect(h.count).toBe(0);
    expect(h.last()).toBeUndefined();
    expect(h.firstAtOrAfter(5)).toBe(0);
    h.append(kv(2));
    expect(read(h)).toEqual([undefined, 2, undefined]);
    expect(h.last()?.modRevision).toBe(2);
    expect([1, 2, 3].map((r) => h.firstAtOrAfter(r))).toEqual([0, 0, 1]);
    for (let r = 3; r <= 8; r++) h.append(kv(r));
    expect(read(h)).toEqual([undefined, 2, 3, 4, 5, 6, 7, 8, undefined]);
    expect([1, 2, 5, 8, 9].map((r) => h.firstAtOrAfter(r))).toEqual([0, 0, 3, 6, 7]);
    h.dropOldest(2);
    expect(read(h)).toEqual([undefined, 4, 5, 6, 7, 8, undefined]);
    h.dropOldest(4);
    expect(read(h)).toEqual([undefined, 8, undefined]);
    expect(h.last()?.modRevision).toBe(8);
    h.append(kv(9));
    expect(read(h)).toEqual([undefined, 8, 9, undefined]);
    h.dropOldest(2);
    expect(h.count).toBe(0);
    expect(h.last()).toBeUndefined();
    h.append(kv(10));
    h.dropOldest(1);
    expect(h.count).toBe(0);
  });
});
