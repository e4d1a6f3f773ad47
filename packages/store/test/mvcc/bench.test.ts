// Micro benchmark of the keyspace at Kubernetes-like shapes (keys of ~40 bytes, values of
// 256 bytes, 100k keys). It prints figures and asserts only that the results are right: no
// timing assertions, which would fail on a busy machine.

import { describe, expect, it } from "vitest";
import { Keyspace } from "../../src/mvcc/index.js";

const N = 100_000;
const enc = new TextEncoder();
const keys = Array.from({ length: N }, (_, i) =>
  enc.encode(`/registry/pods/ns-${i % 100}/pod-${String(i).padStart(6, "0")}`),
);
const value = new Uint8Array(256).fill(120);

function time(label: string, ops: number, f: () => void): void {
  const t0 = performance.now();
  f();
  const ms = performance.now() - t0;
  const per = (ms * 1000) / ops;
  console.log(
    `${label.padEnd(44)} ${ops.toString().padStart(7)} ops ${ms.toFixed(1).padStart(8)} ms ${per.toFixed(2).padStart(8)} µs/op ${Math.round(
      (ops / ms) * 1000,
    )
      .toString()
      .padStart(9)} ops/s`,
  );
}

describe("keyspace micro benchmark (prints only)", () => {
  it(`${N} keys`, () => {
    const ks = new Keyspace();
    let events = 0;
    ks.subscribe((evs) => {
      events += evs.length;
    });
    time("put, new keys", N, () => {
      for (const key of keys) ks.put({ key, value });
    });
    time("put, existing keys", N, () => {
      for (const key of keys) ks.put({ key, value, prevKv: true });
    });
    expect(ks.revision).toBe(1 + 2 * N);
    expect(events).toBe(2 * N);

    let found = 0;
    time("range, one key", N, () => {
      for (let i = 0; i < N; i++) {
        found += ks.range({ key: keys[(i * 7919) % N] as Uint8Array }).kvs.length;
      }
    });
    expect(found).toBe(N);

    found = 0;
    time("range, one key at a past revision", N, () => {
      for (let i = 0; i < N; i++) {
        const j = (i * 7919) % N;
        found += ks.range({ key: keys[j] as Uint8Array, revision: N }).kvs.length;
      }
    });
    expect(found).toBe(N - 1); // at revision N the last key did not exist yet

    const prefix = (ns: number) => enc.encode(`/registry/pods/ns-${ns}/`);
    const prefixEnd = (ns: number) => enc.encode(`/registry/pods/ns-${ns}0`); // '/' + 1
    let listed = 0;
    time("range, list a namespace (1000 keys)", 100, () => {
      for (let ns = 0; ns < 100; ns++) {
        listed += ks.range({ key: prefix(ns), rangeEnd: prefixEnd(ns) }).kvs.length;
      }
    });
    expect(listed).toBe(N);

    let counted = 0;
    time("range, count_only over all keys", 10, () => {
      for (let i = 0; i < 10; i++) {
        counted = ks.range({
          key: new Uint8Array([0]),
          rangeEnd: new Uint8Array([0]),
          countOnly: true,
        }).count;
      }
    });
    expect(counted).toBe(N);

    let page = 0;
    time("range, page of 500 over all keys (limit)", 10, () => {
      for (let i = 0; i < 10; i++) {
        page = ks.range({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]), limit: 500 }).kvs
          .length;
      }
    });
    expect(page).toBe(500);

    let succeeded = 0;
    time("txn, compare mod revision then put", N, () => {
      for (let i = 0; i < N; i++) {
        const key = keys[i] as Uint8Array;
        const mod = ks.range({ key }).kvs[0]?.modRevision ?? 0;
        const r = ks.txn({
          compare: [{ key, target: "MOD", result: "EQUAL", modRevision: mod }],
          success: [{ requestPut: { key, value } }],
          failure: [{ requestRange: { key } }],
        });
        if (r.succeeded) succeeded++;
      }
    });
    expect(succeeded).toBe(N);

    let replayed = 0;
    time("eventsSince, replay the last 100k events", 1, () => {
      replayed = ks.eventsSince(ks.revision - N + 1, new Uint8Array([0]), new Uint8Array([0]))
        .events.length;
    });
    expect(replayed).toBe(N);

    console.log(`size before compaction: ${(ks.sizeBytes() / 1e6).toFixed(1)} MB (approx.)`);
    time("compact (300k revisions → 100k)", 1, () => {
      ks.compact(ks.revision);
    });
    console.log(`size after compaction: ${(ks.sizeBytes() / 1e6).toFixed(1)} MB (approx.)`);

    let h = 0;
    time("hash", 1, () => {
      h = ks.hash();
    });
    let bytes: Uint8Array = new Uint8Array();
    time("serialize", 1, () => {
      bytes = ks.serialize();
    });
    console.log(`snapshot: ${(bytes.length / 1e6).toFixed(1)} MB`);
    let back = ks;
    time("restore", 1, () => {
      back = Keyspace.restore(bytes);
    });
    expect(back.hash()).toBe(h);

    time("deleteRange, all keys in one revision", N, () => {
      expect(
        ks.deleteRange({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) }).deleted,
      ).toBe(N);
    });
  });
});
