// The lessor's expiry heap at 100k leases. It prints figures and asserts only that the results
// are right: no timing assertions, which would fail on a busy machine.

import { describe, expect, it } from "vitest";
import { EXPIRY_CHECK_INTERVAL_MS, LEASE_REVOKE_RATE, Lessor } from "../../src/lease/index.js";

const N = 100_000;
const enc = new TextEncoder();
const PER_CHECK = (LEASE_REVOKE_RATE * EXPIRY_CHECK_INTERVAL_MS) / 1000;

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

/** The lessor's private heap sizes: lazy deletion must not let stale entries grow unbounded. */
function heapSizes(le: Lessor): { expiry: number; checkpoint: number } {
  const inner = le as unknown as {
    expiryHeap: { size: number };
    checkpointHeap: { size: number };
  };
  return { expiry: inner.expiryHeap.size, checkpoint: inner.checkpointHeap.size };
}

function time<T>(label: string, ops: number, f: () => T): T {
  const t0 = performance.now();
  const out = f();
  const ms = performance.now() - t0;
  console.log(
    `${label.padEnd(52)} ${ops.toString().padStart(7)} ops ${ms.toFixed(1).padStart(8)} ms ${((ms * 1000) / ops).toFixed(2).padStart(7)} µs/op`,
  );
  return out;
}

describe(`lessor at ${N} leases (prints figures)`, () => {
  it("grant, promote, renew, expire and revoke", () => {
    const random = rng(7);
    const le = new Lessor({ minTtl: 2, random });
    const ttls = Array.from({ length: N }, () => 5 + Math.floor(random() * 600));
    time("grant + attach one key (replicated)", N, () => {
      for (let id = 1; id <= N; id++) {
        le.grant(id, ttls[id - 1] as number);
        le.attach(id, enc.encode(`/registry/leases/ns/l-${id}`));
      }
    });
    time("promote (with pile-up spreading)", N, () => le.promote(0, 1000));

    // Keep-alives: every lease renewed three times, leaving 3N stale heap entries behind
    // unless compaction drops them.
    let now = 0;
    time("renew (3 rounds)", 3 * N, () => {
      for (let round = 0; round < 3; round++) {
        now += 1000;
        for (let id = 1; id <= N; id++) le.renew(id, now);
      }
    });

    expect(heapSizes(le).expiry).toBeLessThanOrEqual(2 * N + 1024);
    console.log(`  expiry heap after 3N renewals: ${heapSizes(le).expiry} entries for ${N} leases`);

    // The server's loop: every 500 ms, revoke what expired, at most the revoke rate allows.
    let reported = 0;
    let calls = 0;
    let lastNow = now;
    const seen = new Set<number>();
    let keys = 0;
    let early = 0;
    time("expired() every 500 ms + revoke, until empty", N, () => {
      while (le.size > 0) {
        now += EXPIRY_CHECK_INTERVAL_MS;
        calls++;
        for (const id of le.expired(now, PER_CHECK)) {
          if (le.timeToLive(id, now, false).ttl > 0) early++;
          seen.add(id);
          keys += le.revoke(id).length;
          reported++;
        }
        lastNow = now;
      }
    });
    expect({ reported, distinct: seen.size, keys, early }).toEqual({
      reported: N,
      distinct: N,
      keys: N,
      early: 0,
    });
    console.log(
      `  ${calls} expiry checks over ${((lastNow - 3000) / 1000).toFixed(0)} s of simulated time`,
    );
  });

  it(`${N} leases expiring at the same instant`, () => {
    const le = new Lessor({ minTtl: 2, random: rng(1) });
    le.promote(0, 0);
    time("grant on the leader", N, () => {
      for (let id = 1; id <= N; id++) le.grant(id, 60);
    });
    time("anchor", N, () => le.anchor(0));
    expect(le.expired(59_999, N)).toEqual([]);
    const ids = time("expired(), one call for all", N, () => le.expired(60_000, N));
    expect(ids).toHaveLength(N);
    expect(ids.every((id, i) => id === i + 1)).toBe(true); // ties pop in ID order
  });

  it(`${N} leases revoked before expiry: lazy deletion`, () => {
    const le = new Lessor({ minTtl: 2, random: rng(1) });
    for (let id = 1; id <= N; id++) le.grant(id, 60);
    le.promote(0, 0);
    time("revoke", N, () => {
      for (let id = 1; id <= N; id++) le.revoke(id);
    });
    time("expired() skipping the stale entries", N, () => {
      expect(le.expired(1e9, N)).toEqual([]);
    });
    // Churn: grant, renew and revoke in a loop; compaction bounds the heap.
    time("churn: grant + 5 renews + revoke", 7 * N, () => {
      for (let id = 1; id <= N; id++) {
        le.grant(id, 60);
        for (let r = 0; r < 5; r++) le.renew(id, r);
        le.revoke(id);
      }
    });
    expect(le.expired(1e9, N)).toEqual([]);
    expect(heapSizes(le).expiry).toBeLessThanOrEqual(1024);
  });

  it("checkpoint heap stays bounded under churn", () => {
    const le = new Lessor({ minTtl: 2, random: rng(1), checkpointIntervalMs: 60_000 });
    le.promote(0, 0);
    for (let id = 1; id <= N; id++) {
      le.grant(id, 600);
      le.anchor(0);
      le.revoke(id);
    }
    expect(heapSizes(le).checkpoint).toBeLessThanOrEqual(1025);
    expect(le.dueCheckpoints(1e6)).toEqual([]);
  });
});
