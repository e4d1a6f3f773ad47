// The keyspace's copies of keys and values (byte-slabs.ts): they are copies whatever the caller
// passes (a Buffer's slice() is a view, not a copy), they do not change when the input or the
// keyspace changes, compaction + repack keeps every byte, and repack bounds the slabs held.

import { describe, expect, it } from "vitest";
import {
  ByteSlabs,
  EMPTY_BYTES,
  MAX_SLABBED_BYTES,
  SLAB_BYTES,
} from "../../src/mvcc/byte-slabs.js";
import { Keyspace, type KeyValue } from "../../src/mvcc/index.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const b = (s: string): Uint8Array => enc.encode(s);
const ALL = { key: b("\0"), rangeEnd: b("\0") };

/** A value of n bytes that says which key and round it belongs to. */
function valueBytes(key: number, round: number, n = 200): Uint8Array {
  const head = enc.encode(`k${key}r${round}:`);
  const out = new Uint8Array(n).fill(97 + (key % 26));
  out.set(head);
  return out;
}

function distinctBuffers(kvs: readonly KeyValue[]): number {
  const set = new Set<ArrayBufferLike>();
  for (const kv of kvs) {
    if (kv.value.length > 0) set.add(kv.value.buffer);
    set.add(kv.key.buffer);
  }
  return set.size;
}

describe("ByteSlabs", () => {
  it("copies into shared slabs, big byte strings into their own buffer", () => {
    const slabs = new ByteSlabs();
    const input = Buffer.from("hello");
    const a = slabs.copy(input);
    const c = slabs.copy(b("world"));
    input.fill(0);
    expect(dec.decode(a)).toBe("hello");
    expect(dec.decode(c)).toBe("world");
    expect(a.buffer).toBe(c.buffer);
    expect(a.buffer.byteLength).toBe(SLAB_BYTES);
    expect(slabs.copy(new Uint8Array(0))).toBe(EMPTY_BYTES);
    const big = slabs.copy(new Uint8Array(MAX_SLABBED_BYTES + 1).fill(7));
    expect(big.buffer.byteLength).toBe(MAX_SLABBED_BYTES + 1);
    expect(slabs.liveBytes()).toBe(10);
  });

  it("counts live bytes per slab and reports fragmentation", () => {
    const slabs = new ByteSlabs();
    const copies: Uint8Array[] = [];
    // 40 slabs' worth of 1 KiB strings.
    for (let i = 0; i < 40 * 64; i++) copies.push(slabs.copy(new Uint8Array(1024).fill(i)));
    expect(slabs.heldBytes()).toBe(40 * SLAB_BYTES);
    expect(slabs.fragmented()).toBe(false);
    // Keep one string per slab: 40 KiB live in 40 slabs.
    copies.forEach((c, i) => {
      if (i % 64 !== 0) slabs.release(c);
    });
    expect(slabs.liveBytes()).toBe(40 * 1024);
    expect(slabs.heldBytes()).toBe(40 * SLAB_BYTES);
    expect(slabs.fragmented()).toBe(true);
    // The kept strings of the 39 full slabs are in sparse slabs; the last one's slab is the one
    // being filled, until the first move opens a new one. Moving them packs all 40 into one
    // new slab, bytes unchanged.
    const kept = copies.filter((_, i) => i % 64 === 0);
    expect(kept.map((c) => slabs.sparse(c))).toEqual([...new Array(39).fill(true), false]);
    const moved = kept.map((c) => (slabs.sparse(c) ? slabs.move(c) : c));
    moved.forEach((m, j) => {
      expect(m).toEqual(new Uint8Array(1024).fill((j * 64) & 0xff));
    });
    expect(new Set(moved.map((m) => m.buffer)).size).toBe(1);
    expect(slabs.sparse(moved[0] as Uint8Array)).toBe(false);
    expect(slabs.liveBytes()).toBe(40 * 1024);
    expect(slabs.heldBytes()).toBe(SLAB_BYTES);
    expect(slabs.fragmented()).toBe(false);
    copies.splice(0, copies.length, ...moved);
    // Releasing the rest frees every slab but the current one's count.
    for (const c of copies) slabs.release(c);
    expect(slabs.liveBytes()).toBe(0);
    expect(slabs.heldBytes()).toBe(0);
  });
});

describe("keyspace byte ownership", () => {
  it("copies keys and values given as Buffer views (Buffer#slice does not copy)", () => {
    const ks = new Keyspace();
    const entry = Buffer.from("key1value1");
    ks.put({ key: entry.subarray(0, 4), value: entry.subarray(4) });
    entry.fill(0x21);
    const kv = ks.range({ key: b("key1") }).kvs[0] as KeyValue;
    expect(dec.decode(kv.key)).toBe("key1");
    expect(dec.decode(kv.value)).toBe("value1");
    expect(ks.keysWithLease(0)).toEqual([]);
  });

  it("hands out values that stay right through later puts, compaction and repack", () => {
    const ks = new Keyspace();
    const KEYS = 1000;
    const key = (k: number): Uint8Array => b(`key/${String(k).padStart(4, "0")}`);
    // Round 0 fills ~46 slabs with 3000-byte values; rounds 1-9 overwrite every key but the
    // first 10 with 100-byte ones. After a compaction the round-0 slabs hold only 10 live
    // values and the key bytes: far more than twice the live bytes, so the keyspace repacks.
    for (let k = 0; k < KEYS; k++) ks.put({ key: key(k), value: valueBytes(k, 0, 3000) });
    const held = ks.range({ key: key(7) }).kvs[0] as KeyValue;
    const heldBuffer = held.value.buffer;
    for (let round = 1; round < 10; round++) {
      for (let k = 10; k < KEYS; k++) ks.put({ key: key(k), value: valueBytes(k, round, 100) });
    }
    const before = ks.range({ key: b("key/"), rangeEnd: b("key0") }).kvs.map((kv) => ({
      key: dec.decode(kv.key),
      value: dec.decode(kv.value),
    }));
    const watchFrom = ks.revision - 5;
    const eventsBefore = ks
      .eventsSince(watchFrom, ALL.key, ALL.rangeEnd)
      .events.map((e) => `${dec.decode(e.kv.key)}=${dec.decode(e.kv.value)}`);
    ks.compact(ks.revision - 5);
    const after = ks.range({ key: b("key/"), rangeEnd: b("key0") });
    expect(
      after.kvs.map((kv) => ({ key: dec.decode(kv.key), value: dec.decode(kv.value) })),
    ).toEqual(before);
    expect(
      ks
        .eventsSince(watchFrom, ALL.key, ALL.rangeEnd)
        .events.map((e) => `${dec.decode(e.kv.key)}=${dec.decode(e.kv.value)}`),
    ).toEqual(eventsBefore);
    // The repack moved the kept bytes into fresh slabs; the view handed out earlier still reads
    // its bytes (it keeps its old slab alive), and the same kv now reads them from the new one.
    expect(dec.decode(held.value)).toBe(dec.decode(valueBytes(7, 0, 3000)));
    expect(held.value.buffer).not.toBe(heldBuffer);
    // Live: ~140 KB in ~3 slabs, not the ~60 the puts filled; the bound is 2 x live + 5 slabs.
    const all = ks.range(ALL).kvs;
    const live = all.reduce((n, kv) => n + kv.key.length + kv.value.length, 0);
    expect(distinctBuffers(all)).toBeLessThanOrEqual(Math.ceil((2 * live) / SLAB_BYTES) + 5);
    // Nothing observable changed: a restored copy (fresh slabs, no repack) agrees byte for byte.
    const back = Keyspace.restore(ks.serialize());
    expect(back.hash()).toBe(ks.hash());
    expect(back.serialize()).toEqual(ks.serialize());
    expect(back.hash(ks.revision - 3)).toBe(ks.hash(ks.revision - 3));
  });

  it("keeps the hash and snapshot of a keyspace that repacked equal to one that did not", () => {
    // Two keyspaces get the same writes; one compacts in many small steps, the other in one
    // step (which frees enough to repack). Their state at the end must be the same.
    const writes = (ks: Keyspace, compactEvery: number): void => {
      for (let round = 0; round < 8; round++) {
        for (let k = 0; k < 1500; k++) {
          ks.put({ key: b(`k/${k}`), value: valueBytes(k, round, 100 + (k % 50)) });
          if (k % 97 === 0) ks.deleteRange({ key: b(`k/${k - 1}`) });
          if (compactEvery > 0 && ks.revision % compactEvery === 0) ks.compact(ks.revision - 1);
        }
      }
    };
    const small = new Keyspace();
    writes(small, 50);
    const one = new Keyspace();
    writes(one, 0);
    expect(one.revision).toBe(small.revision);
    one.compact(small.compactRevision);
    expect(one.hash()).toBe(small.hash());
    expect(one.serialize()).toEqual(small.serialize());
  });
});
