// etcd v3.4 lessor semantics (go.etcd.io/etcd/lease/lessor.go, etcdserver/v3_server.go and
// v3rpc/lease.go), case by case: grant/revoke/attach/detach/checkpoint as applied from the log,
// the leader-only expiry clock, the leader-change extension, checkpoints and snapshots.

import { describe, expect, it } from "vitest";
import { StoreError } from "../../src/errors.js";
import {
  EXPIRED_RETRY_MS,
  LEASE_REVOKE_RATE,
  Lessor,
  type LessorOptions,
  MAX_LEASE_ID,
  MAX_LEASE_TTL,
  minLeaseTtl,
} from "../../src/lease/index.js";
import { encodeLeaseSnapshot } from "../../src/lease/lease-snapshot.js";
import { crc32c } from "../../src/mvcc/crc32c.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const k = (s: string) => enc.encode(s);
const strs = (keys: Uint8Array[]) => keys.map((b) => dec.decode(b));

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

function lessor(extra: Partial<LessorOptions> = {}): Lessor {
  return new Lessor({ minTtl: 2, random: rng(1), ...extra });
}

/** The StoreError a call throws, for matching code and text. */
function thrown(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    if (e instanceof StoreError) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error("expected a StoreError, nothing was thrown");
}

const NOT_FOUND = { code: "NOT_FOUND", message: "etcdserver: requested lease not found" };
const NOT_LEADER = { code: "UNAVAILABLE", message: "etcdserver: not leader" };

describe("minLeaseTtl", () => {
  it.each([
    // etcd: ceil(((3 * electionTicks) / 2) * heartbeat) seconds, integer division first.
    [10, 100, 2], // etcd's defaults: 15 * 100 ms = 1.5 s
    [10, 500, 8], // 7.5 s
    [5, 100, 1], // (15 / 2 = 7) * 100 ms = 0.7 s
    [20, 100, 3],
    [10, 200, 3],
  ])("electionTicks %i, heartbeat %i ms: %i s", (ticks, hb, want) => {
    expect(minLeaseTtl(ticks, hb)).toBe(want);
  });
});

describe("constructor", () => {
  it.each([0, -1, 1.5, Number.NaN])("rejects minTtl %s", (minTtl) => {
    expect(() => new Lessor({ minTtl, random: rng(1) })).toThrow(/minTtl/);
  });
  it("rejects a non-positive retry or checkpoint interval", () => {
    expect(() => lessor({ expiredRetryMs: 0 })).toThrow(/expiredRetryMs/);
    expect(() => lessor({ checkpointIntervalMs: 0 })).toThrow(/checkpointIntervalMs/);
  });
});

describe("grant", () => {
  it.each([
    // [requested TTL, granted TTL] with a minimum of 2 s
    [10, 10],
    [2, 2],
    [1, 2],
    [0, 2],
    [-5, 2],
    [MAX_LEASE_TTL, MAX_LEASE_TTL],
  ])("TTL %i is granted as %i", (ttl, want) => {
    const le = lessor();
    expect(le.grant(7, ttl)).toEqual({ id: 7, ttl: want });
    expect(le.lookup(7)).toEqual({ id: 7, grantedTtl: want, remainingTtl: 0, keys: [] });
  });

  it.each([
    ["ID 0 (etcd's NoLease)", 0, 10, NOT_FOUND],
    [
      "a TTL over 9e9 s",
      1,
      MAX_LEASE_TTL + 1,
      { code: "OUT_OF_RANGE", message: "etcdserver: too large lease TTL" },
    ],
    ["a negative ID", -1, 10, { code: "INVALID_ARGUMENT" }],
    ["an ID beyond 2^53 - 1", 2 ** 53, 10, { code: "INVALID_ARGUMENT" }],
    ["a fractional ID", 1.5, 10, { code: "INVALID_ARGUMENT" }],
    ["a fractional TTL", 1, 1.5, { code: "INVALID_ARGUMENT" }],
  ])("rejects %s", (_what, id, ttl, want) => {
    const le = lessor();
    expect(thrown(() => le.grant(id, ttl))).toMatchObject(want);
    expect(le.size).toBe(0);
  });

  it("accepts the largest ID", () => {
    expect(lessor().grant(MAX_LEASE_ID, 5).id).toBe(MAX_LEASE_ID);
  });

  it("rejects an existing ID and leaves the lease as it was", () => {
    const le = lessor();
    le.grant(5, 10);
    le.attach(5, k("a"));
    expect(thrown(() => le.grant(5, 30))).toEqual({
      code: "FAILED_PRECONDITION",
      message: "etcdserver: lease already exists",
    });
    expect(le.lookup(5)).toMatchObject({ grantedTtl: 10 });
    expect(le.leaseOf(k("a"))).toBe(5);
  });

  it("an ID is free again once revoked", () => {
    const le = lessor();
    le.grant(5, 10);
    le.revoke(5);
    expect(le.grant(5, 20)).toEqual({ id: 5, ttl: 20 });
  });
});

describe("revoke, attach, detach", () => {
  it("revoke returns the keys in byte order and forgets them", () => {
    const le = lessor();
    le.grant(1, 10);
    le.grant(2, 10);
    for (const key of ["b", "a", "\u00ff", "ab", "c"]) le.attach(1, k(key));
    le.attach(2, k("z"));
    expect(le.revoke(1).map((b) => [...b])).toEqual(
      ["a", "ab", "b", "c", "\u00ff"].map((s) => [...k(s)]),
    );
    expect(le.has(1)).toBe(false);
    expect(le.leaseOf(k("a"))).toBe(0);
    expect(le.leaseOf(k("z"))).toBe(2);
    expect(le.leases()).toEqual([2]);
  });

  it("revoke of an unknown lease is leaseNotFound", () => {
    const le = lessor();
    expect(thrown(() => le.revoke(9))).toEqual(NOT_FOUND);
    le.grant(9, 10);
    le.revoke(9);
    expect(thrown(() => le.revoke(9))).toEqual(NOT_FOUND);
  });

  it("attach to an unknown lease is leaseNotFound", () => {
    expect(thrown(() => lessor().attach(3, k("a")))).toEqual(NOT_FOUND);
  });

  it("attach moves a key from its old lease; attaching twice is a no-op", () => {
    const le = lessor();
    le.grant(1, 10);
    le.grant(2, 10);
    le.attach(1, k("x"));
    le.attach(1, k("x"));
    expect(strs(le.lookup(1)?.keys ?? [])).toEqual(["x"]);
    le.attach(2, k("x"));
    expect(le.lookup(1)?.keys).toEqual([]);
    expect(strs(le.lookup(2)?.keys ?? [])).toEqual(["x"]);
    expect(le.leaseOf(k("x"))).toBe(2);
    expect(strs(le.revoke(2))).toEqual(["x"]);
    expect(le.revoke(1)).toEqual([]);
  });

  it("detach returns the lease the key had, 0 if none", () => {
    const le = lessor();
    le.grant(1, 10);
    le.attach(1, k("x"));
    expect(le.detach(k("x"))).toBe(1);
    expect(le.detach(k("x"))).toBe(0);
    expect(le.detach(k("never"))).toBe(0);
    expect(le.revoke(1)).toEqual([]);
  });

  it("leases() lists IDs ascending", () => {
    const le = lessor();
    for (const id of [30, 4, 2 ** 40, 17]) le.grant(id, 10);
    expect(le.leases()).toEqual([4, 17, 30, 2 ** 40]);
    expect(le.size).toBe(4);
  });
});

describe("checkpoint (applied)", () => {
  it("records the remaining TTL; 0 clears it; unknown IDs are ignored", () => {
    const le = lessor();
    le.grant(1, 100);
    le.checkpoint(1, 40);
    expect(le.lookup(1)?.remainingTtl).toBe(40);
    le.checkpoint(1, 0);
    expect(le.lookup(1)?.remainingTtl).toBe(0);
    le.checkpoint(99, 5);
    expect(le.has(99)).toBe(false);
  });
  it.each([-1, 1.5, MAX_LEASE_TTL + 1])("rejects remaining TTL %s", (ttl) => {
    const le = lessor();
    le.grant(1, 100);
    expect(thrown(() => le.checkpoint(1, ttl)).code).toBe("INVALID_ARGUMENT");
  });
});

describe("chooseId", () => {
  /** A generator that plays back `xs`, then fails the test. */
  function script(xs: number[]): () => number {
    let i = 0;
    return () => {
      const x = xs[i++];
      if (x === undefined) throw new Error("script ran out");
      return x;
    };
  }
  const lo = (n: number) => n / 2 ** 32;

  it("draws positive IDs below 2^53, all different (seeded)", () => {
    const le = lessor({ random: rng(42) });
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) {
      const id = le.chooseId();
      expect(Number.isSafeInteger(id) && id >= 1 && id <= MAX_LEASE_ID).toBe(true);
      seen.add(id);
    }
    expect(seen.size).toBe(10_000);
    // The high bits are used too, not just the low 32.
    expect([...seen].some((id) => id > 2 ** 52)).toBe(true);
  });

  it("skips 0 and IDs in use", () => {
    const le = lessor({ random: script([0, 0, 0, lo(5), 0, lo(6)]) });
    le.grant(6, 10);
    expect(le.chooseId()).toBe(5);
    const le2 = lessor({ random: script([0, lo(6), 0, lo(7)]) });
    le2.grant(6, 10);
    expect(le2.chooseId()).toBe(7);
  });

  it("stays in range at the top of [0, 1) and rejects values outside it", () => {
    const top = 1 - 2 ** -53;
    expect(lessor({ random: script([top, top]) }).chooseId()).toBe(MAX_LEASE_ID);
    expect(() => lessor({ random: script([1, 0]) }).chooseId()).toThrow(RangeError);
    expect(() => lessor({ random: script([Number.NaN, 0]) }).chooseId()).toThrow(RangeError);
  });
});

describe("a follower", () => {
  it("never reports a lease expired, however late", () => {
    const le = lessor();
    le.grant(1, 2);
    expect(le.isLeader).toBe(false);
    expect(le.expired(0, 10)).toEqual([]);
    expect(le.expired(1e15, 10)).toEqual([]);
  });
  it("refuses KeepAlive and TimeToLive with notLeader (the server forwards them)", () => {
    const le = lessor();
    le.grant(1, 10);
    expect(thrown(() => le.renew(1, 0))).toEqual(NOT_LEADER);
    expect(thrown(() => le.renew(404, 0))).toEqual(NOT_LEADER);
    expect(thrown(() => le.timeToLive(1, 0, false))).toEqual(NOT_LEADER);
  });
  it("proposes no checkpoints", () => {
    const le = lessor({ checkpointIntervalMs: 1000 });
    le.grant(1, 100);
    expect(le.dueCheckpoints(1e9)).toEqual([]);
  });
});

describe("the leader's clock", () => {
  function leaderWith(ttls: Record<number, number>, at = 0): Lessor {
    const le = lessor();
    le.promote(at, 0);
    for (const [id, ttl] of Object.entries(ttls)) le.grant(Number(id), ttl);
    le.anchor(at);
    return le;
  }

  it("a lease expires when now reaches grant + TTL, not before", () => {
    const le = leaderWith({ 1: 10 }, 1000);
    expect(le.expired(10_999, 10)).toEqual([]);
    expect(le.expired(11_000, 10)).toEqual([1]);
  });

  it.each([
    // [now, ttl] for a 10 s lease anchored at 1000: etcd's int64(Remaining().Seconds())
    [1000, 10],
    [1500, 9],
    [10_999, 0],
    [11_000, 0],
    [11_999, 0],
    [12_000, -1],
    [99_000, -1],
  ])("timeToLive at %i ms says %i s", (now, ttl) => {
    const le = leaderWith({ 1: 10 }, 1000);
    le.attach(1, k("b"));
    le.attach(1, k("a"));
    const got = le.timeToLive(1, now, true);
    expect({ ...got, keys: strs(got.keys) }).toEqual({
      id: 1,
      ttl,
      grantedTtl: 10,
      keys: ["a", "b"],
    });
    expect(le.timeToLive(1, now, false).keys).toEqual([]);
  });

  it("timeToLive of an unknown lease is TTL -1 (etcd's gRPC answer to not-found)", () => {
    const le = leaderWith({});
    expect(le.timeToLive(8, 0, true)).toEqual({ id: 8, ttl: -1, grantedTtl: 0, keys: [] });
  });

  it("a lease granted on the leader is timed from the next leader-side call", () => {
    const le = lessor();
    le.promote(0, 0);
    le.grant(1, 10);
    // Replicated calls read no clock; the first leader-side call after the grant starts it.
    expect(le.timeToLive(1, 5000, false).ttl).toBe(10);
    expect(le.expired(14_999, 10)).toEqual([]);
    expect(le.expired(15_000, 10)).toEqual([1]);
  });

  it("renew restarts the full TTL and returns it", () => {
    const le = leaderWith({ 1: 10 });
    expect(le.renew(1, 8000)).toBe(10);
    expect(le.expired(17_999, 10)).toEqual([]);
    expect(le.timeToLive(1, 17_999, false).ttl).toBe(0);
    expect(le.expired(18_000, 10)).toEqual([1]);
  });

  it("renew of an unknown or already expired lease is leaseNotFound", () => {
    const le = leaderWith({ 1: 10 });
    expect(thrown(() => le.renew(2, 0))).toEqual(NOT_FOUND);
    expect(thrown(() => le.renew(1, 10_000))).toEqual(NOT_FOUND);
    // Not renewed by the failed attempt: it is still expired.
    expect(le.expired(10_000, 10)).toEqual([1]);
  });

  it("an expired lease is reported again if its revoke has not applied after the retry interval", () => {
    const le = leaderWith({ 1: 10 });
    expect(le.expired(10_000, 10)).toEqual([1]);
    expect(le.expired(10_000, 10)).toEqual([]);
    expect(le.expired(10_000 + EXPIRED_RETRY_MS - 1, 10)).toEqual([]);
    expect(le.expired(10_000 + EXPIRED_RETRY_MS, 10)).toEqual([1]);
    le.revoke(1);
    expect(le.expired(1e9, 10)).toEqual([]);
  });

  it("reports earliest expiry first, ties by ID, at most `limit` per call", () => {
    const le = leaderWith({ 5: 3, 4: 3, 9: 2, 1: 7, 2: 30 });
    expect(le.expired(10_000, 2)).toEqual([9, 4]);
    expect(le.expired(10_000, 2)).toEqual([5, 1]);
    expect(le.expired(10_000, 2)).toEqual([]);
    expect(le.expired(10_000, 0)).toEqual([]);
  });

  it("a revoked lease is not reported, nor is its ID once granted again", () => {
    const le = leaderWith({ 1: 2, 2: 2 });
    le.revoke(1);
    le.grant(1, 60);
    expect(le.expired(2000, 10)).toEqual([2]);
  });

  it("a clock that steps back is read as the latest time seen", () => {
    const le = leaderWith({ 1: 10 }, 5000);
    expect(le.renew(1, 3000)).toBe(10);
    expect(le.expired(14_999, 10)).toEqual([]);
    expect(le.expired(15_000, 10)).toEqual([1]);
  });
});

describe("leader changes", () => {
  const ELECTION_MS = 1000;

  it("a lease that would expire during the election survives because of the extension", () => {
    // Member A leads; the client's last keep-alive reaches it at 0 (TTL 2 s).
    const a = lessor();
    const b = lessor();
    for (const m of [a, b]) m.grant(1, 2);
    a.promote(0, ELECTION_MS);
    expect(a.renew(1, 0)).toBe(2);
    // A dies at 500; B wins the election at 1800. The client's keep-alives fail meanwhile and
    // reach B only at 4500: past 1800 + TTL, within 1800 + TTL + election timeout.
    const without = lessor();
    without.grant(1, 2);
    without.promote(1800, 0);
    expect(without.expired(4500, 10)).toEqual([1]); // without the extension it would be lost

    b.promote(1800, ELECTION_MS);
    expect(b.expired(4500, 10)).toEqual([]);
    expect(b.renew(1, 4500)).toBe(2);
    expect(b.expired(6499, 10)).toEqual([]);
    expect(b.expired(6500, 10)).toEqual([1]);
  });

  it("promote resets every expiry to now + TTL + extend, whatever the old leader had", () => {
    const le = lessor();
    le.promote(0, 0);
    le.grant(1, 10);
    le.anchor(0);
    le.demote();
    le.promote(50_000, ELECTION_MS);
    expect(le.timeToLive(1, 50_000, false).ttl).toBe(11);
    expect(le.expired(60_999, 10)).toEqual([]);
    expect(le.expired(61_000, 10)).toEqual([1]);
  });

  it("demote stops the clock: nothing expires and KeepAlive is refused", () => {
    const le = lessor();
    le.promote(0, 0);
    le.grant(1, 2);
    le.grant(2, 2);
    le.anchor(0);
    expect(le.expired(2000, 1)).toEqual([1]);
    le.demote();
    expect(le.isLeader).toBe(false);
    expect(le.expired(1e12, 10)).toEqual([]);
    expect(thrown(() => le.renew(2, 0))).toEqual(NOT_LEADER);
    // Replicated operations go on as before.
    le.grant(3, 5);
    le.revoke(1);
    expect(le.leases()).toEqual([2, 3]);
  });

  it("a new leader times a checkpointed lease from its remaining TTL", () => {
    const le = lessor();
    le.grant(1, 100);
    le.checkpoint(1, 30);
    le.promote(0, ELECTION_MS);
    expect(le.timeToLive(1, 0, false)).toMatchObject({ ttl: 31, grantedTtl: 100 });
    expect(le.expired(30_999, 10)).toEqual([]);
    expect(le.expired(31_000, 10)).toEqual([1]);
  });

  it(`fewer than ${LEASE_REVOKE_RATE} leases are not spread`, () => {
    const le = lessor();
    for (let id = 1; id < LEASE_REVOKE_RATE; id++) le.grant(id, 10);
    le.promote(0, ELECTION_MS);
    expect(le.expired(10_999, 5000)).toEqual([]);
    expect(le.expired(11_000, 5000)).toHaveLength(LEASE_REVOKE_RATE - 1);
  });

  it("a pile-up of expiries is spread as etcd does, later and no more than 3/4 of the revoke rate a second", () => {
    const N = 3000;
    const le = lessor();
    for (let id = 1; id <= N; id++) le.grant(id, 10);
    le.promote(0, ELECTION_MS);
    // Walk time forward in 10 ms steps and record when each lease is first reported.
    const at = new Map<number, number>();
    for (let t = 10_000; at.size < N && t < 30_000; t += 10) {
      for (const id of le.expired(t, N)) if (!at.has(id)) at.set(id, t);
    }
    expect(at.size).toBe(N);
    const times = [...at.values()].sort((a, b) => a - b);
    expect(times[0]).toBe(11_000); // none earlier than TTL + extension
    // The first 750 keep their expiry; then at most 750 per second.
    expect(times.filter((t) => t === 11_000)).toHaveLength((3 * LEASE_REVOKE_RATE) / 4);
    let maxPerSecond = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while ((times[j] as number) < (times[i] as number) - 999) j++;
      maxPerSecond = Math.max(maxPerSecond, i - j + 1);
    }
    console.log(
      `pile-up of ${N}: last expiry at ${times[N - 1]} ms, at most ${maxPerSecond} expiries in any second`,
    );
    expect(maxPerSecond).toBeLessThanOrEqual((3 * LEASE_REVOKE_RATE) / 4);
    expect(times[N - 1]).toBeLessThan(11_000 + (N / ((3 * LEASE_REVOKE_RATE) / 4)) * 1000 + 100);
  });
});

describe("checkpointing (proposed by the leader)", () => {
  const INTERVAL = 60_000;

  it("is off unless configured", () => {
    const le = lessor();
    le.grant(1, 1000);
    le.promote(0, 0);
    expect(le.dueCheckpoints(10 * INTERVAL)).toEqual([]);
  });

  it("records the remaining TTL of long leases every interval", () => {
    const le = lessor({ checkpointIntervalMs: INTERVAL });
    le.grant(1, 300);
    le.grant(2, 30); // shorter than the interval: never checkpointed
    le.promote(0, 0);
    expect(le.dueCheckpoints(INTERVAL - 1)).toEqual([]);
    expect(le.dueCheckpoints(INTERVAL)).toEqual([{ id: 1, remainingTtl: 240 }]);
    expect(le.dueCheckpoints(INTERVAL + 1)).toEqual([]);
    expect(le.dueCheckpoints(2 * INTERVAL + 500)).toEqual([{ id: 1, remainingTtl: 180 }]);
  });

  it("skips a lease whose remaining TTL is still the full TTL", () => {
    const le = lessor({ checkpointIntervalMs: INTERVAL });
    le.grant(1, 300);
    le.promote(0, 0);
    le.renew(1, INTERVAL);
    expect(le.dueCheckpoints(INTERVAL)).toEqual([]);
  });

  it("a renew after a checkpoint proposes clearing it, once", () => {
    const le = lessor({ checkpointIntervalMs: INTERVAL });
    le.grant(1, 300);
    le.promote(0, 0);
    const [cp] = le.dueCheckpoints(INTERVAL);
    expect(cp).toEqual({ id: 1, remainingTtl: 240 });
    le.checkpoint(1, 240); // applied from the log
    le.renew(1, INTERVAL + 1000);
    expect(le.dueCheckpoints(INTERVAL + 1000)).toEqual([{ id: 1, remainingTtl: 0 }]);
    expect(le.dueCheckpoints(INTERVAL + 1000)).toEqual([]);
    le.checkpoint(1, 0);
    expect(le.lookup(1)?.remainingTtl).toBe(0);
  });

  it("a checkpoint survives a leader change: the new leader uses it", () => {
    const leader = lessor({ checkpointIntervalMs: INTERVAL });
    const follower = lessor({ checkpointIntervalMs: INTERVAL });
    for (const m of [leader, follower]) m.grant(1, 300);
    leader.promote(0, 0);
    for (const cp of leader.dueCheckpoints(INTERVAL)) {
      for (const m of [leader, follower]) m.checkpoint(cp.id, cp.remainingTtl);
    }
    leader.demote();
    follower.promote(100_000, 1000);
    // 240 s remained at the last checkpoint, plus the election extension.
    expect(follower.timeToLive(1, 100_000, false).ttl).toBe(241);
  });

  it("respects the batch limit, clears first", () => {
    const le = lessor({ checkpointIntervalMs: INTERVAL });
    for (let id = 1; id <= 5; id++) le.grant(id, 300);
    le.checkpoint(3, 100);
    le.promote(0, 0);
    le.renew(3, 0);
    expect(le.dueCheckpoints(INTERVAL, 2)).toEqual([
      { id: 3, remainingTtl: 0 },
      { id: 1, remainingTtl: 240 },
    ]);
    expect(le.dueCheckpoints(INTERVAL, 2)).toEqual([
      { id: 2, remainingTtl: 240 },
      { id: 3, remainingTtl: 240 },
    ]);
    expect(le.dueCheckpoints(INTERVAL, 2)).toEqual([
      { id: 4, remainingTtl: 240 },
      { id: 5, remainingTtl: 240 },
    ]);
  });
});

describe("snapshot", () => {
  function populated(): Lessor {
    const le = lessor();
    le.grant(3, 10);
    le.grant(1, 100);
    le.grant(2 ** 50, MAX_LEASE_TTL);
    le.attach(1, k("b"));
    le.attach(1, k("a"));
    le.attach(3, k("\u00ff\u0000"));
    le.checkpoint(1, 42);
    return le;
  }
  const stateOf = (le: Lessor) =>
    le.leases().map((id) => {
      const info = le.lookup(id);
      return { ...info, keys: (info?.keys ?? []).map((b) => [...b]) };
    });

  it("round-trips the replicated state, byte for byte", () => {
    const a = populated();
    const bytes = a.serialize();
    const b = lessor();
    b.grant(77, 5); // replaced
    b.restore(bytes);
    expect(stateOf(b)).toEqual(stateOf(a));
    expect(b.leaseOf(k("a"))).toBe(1);
    expect(b.has(77)).toBe(false);
    expect(b.serialize()).toEqual(bytes);
  });

  it("an empty lessor round-trips", () => {
    const b = lessor();
    b.restore(lessor().serialize());
    expect(b.size).toBe(0);
  });

  it("raises TTLs below this member's minimum, as etcd's recovery does", () => {
    const a = lessor();
    a.grant(1, 2);
    const b = lessor({ minTtl: 5 });
    b.restore(a.serialize());
    expect(b.lookup(1)?.grantedTtl).toBe(5);
  });

  it("on the leader, restored leases are timed from the next leader-side call", () => {
    const a = populated();
    const b = lessor();
    b.grant(9, 2);
    b.promote(0, 0);
    b.restore(a.serialize());
    // Lease 9 (expiring at 2000) is gone; lease 3's clock starts now.
    expect(b.expired(1e6, 10)).toEqual([]);
    expect(b.timeToLive(3, 1e6, false).ttl).toBe(10);
    expect(b.expired(1e6 + 9_999, 10)).toEqual([]);
    expect(b.expired(1e6 + 10_000, 10)).toEqual([3]);
  });

  it.each([
    ["an empty input", () => new Uint8Array(0), /only 0 bytes/],
    ["bad magic", () => withByte(populated().serialize(), 0, 0x00), /bad magic/],
    ["another version", () => withByte(populated().serialize(), 4, 2), /format version 2/],
    ["a flipped bit", () => withByte(populated().serialize(), 9, 0x40, true), /checksum/],
    ["truncation", () => populated().serialize().subarray(0, 20), /checksum/],
    ["a well-sealed truncation", () => resealed(populated().serialize(), -6), /truncated|overruns/],
    ["trailing bytes", () => resealed(lessor().serialize(), 3), /3 trailing bytes/],
    [
      "a key on two leases",
      () =>
        encodeLeaseSnapshot([
          { id: 1, ttl: 5, remainingTtl: 0, keys: ["a"] },
          { id: 2, ttl: 5, remainingTtl: 0, keys: ["a"] },
        ]),
      /both lease 1 and lease 2/,
    ],
    [
      "IDs out of order",
      () =>
        encodeLeaseSnapshot([
          { id: 2, ttl: 5, remainingTtl: 0, keys: [] },
          { id: 1, ttl: 5, remainingTtl: 0, keys: [] },
        ]),
      /out of order/,
    ],
    [
      "ID 0",
      () => encodeLeaseSnapshot([{ id: 0, ttl: 5, remainingTtl: 0, keys: [] }]),
      /ID 0, outside/,
    ],
    ["TTL 0", () => encodeLeaseSnapshot([{ id: 1, ttl: 0, remainingTtl: 0, keys: [] }]), /TTL 0/],
    [
      "a TTL too large",
      () => encodeLeaseSnapshot([{ id: 1, ttl: MAX_LEASE_TTL + 1, remainingTtl: 0, keys: [] }]),
      /TTL 9000000001/,
    ],
    [
      "keys out of order",
      () => encodeLeaseSnapshot([{ id: 1, ttl: 5, remainingTtl: 0, keys: ["b", "a"] }]),
      /key #1 is out of order/,
    ],
    [
      "an empty key",
      () => encodeLeaseSnapshot([{ id: 1, ttl: 5, remainingTtl: 0, keys: [""] }]),
      /empty key/,
    ],
  ])("rejects %s with DATA_LOSS and changes nothing", (_what, make, why) => {
    const le = populated();
    const before = stateOf(le);
    let err: unknown;
    try {
      le.restore(make());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe("DATA_LOSS");
    expect((err as StoreError).message).toMatch(why);
    expect(stateOf(le)).toEqual(before);
  });
});

/** The snapshot's body grown by `extra` zero bytes (or cut by -extra), with a valid CRC. */
function resealed(bytes: Uint8Array, extra: number): Uint8Array {
  const body = bytes.subarray(0, bytes.length - 4);
  const out = new Uint8Array(body.length + extra + 4);
  out.set(extra < 0 ? body.subarray(0, body.length + extra) : body);
  const n = body.length + extra;
  new DataView(out.buffer).setUint32(n, crc32c(out.subarray(0, n)), true);
  return out;
}

/** A copy of `bytes` with byte `i` set to `v` (or xored with it). */
function withByte(bytes: Uint8Array, i: number, v: number, xor = false): Uint8Array {
  const out = bytes.slice();
  out[i] = xor ? (out[i] as number) ^ v : v;
  return out;
}
