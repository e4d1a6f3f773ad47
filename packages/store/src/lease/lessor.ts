// The lease manager of tug-store: etcd v3.4's lessor (go.etcd.io/etcd/lease/lessor.go) as a
// deterministic state machine. No IO, no timers, no clock: leader-side calls take the time in
// milliseconds from the caller's monotonic clock, and randomness is a function passed in.
//
// Two kinds of calls, as in etcd:
//
// - Replicated: grant, revoke, attach, detach, checkpoint, restore. Every member applies them
//   from the Raft log in the same order with the same arguments, so they never look at a
//   clock. Their effects (which leases exist, their TTLs and keys) are identical everywhere.
//
// - Leader-side ("primary" in etcd): promote, demote, renew, expired, timeToLive,
//   dueCheckpoints, anchor. Only the leader tracks expiry; its expiry times are local state,
//   never replicated, and a new leader rebuilds them in promote(). Followers never expire a
//   lease: the leader finds expired leases and proposes a revoke for each through Raft.
//
// The server's duties, which live outside this module:
//   - LeaseGrant with ID 0: call chooseId() before proposing, so the log holds a concrete ID.
//   - On becoming leader: promote(now, electionTimeoutMs). On losing it: demote().
//   - Every EXPIRY_CHECK_INTERVAL_MS on the leader: for each id of
//     expired(now, LEASE_REVOKE_RATE * EXPIRY_CHECK_INTERVAL_MS / 1000), propose a revoke; on
//     applying it, delete the returned keys in one revision (Keyspace.deleteKeys).
//   - After applying entries on the leader, anchor(now) (see there).
//   - KeepAlive and TimeToLive on a follower: these throw notLeader; forward the request to
//     the leader, as etcd does over its peer lease endpoints, rather than answering the client.
//   - With checkpointing on, propose checkpoints from dueCheckpoints(now, ...) periodically.
//   - A put with a lease: attach(id, key); a put that drops or changes it, or a delete:
//     detach(key) first.

import { StoreError } from "../errors.js";
import { keyBytes, keyString } from "../mvcc/key-bytes.js";
import { ExpiryHeap } from "./expiry-heap.js";
import { decodeLeaseSnapshot, encodeLeaseSnapshot, type SnapshotLease } from "./lease-snapshot.js";

/** etcd's MaxLeaseTTL, in seconds: a longer TTL fails with leaseTtlTooLarge. */
export const MAX_LEASE_TTL = 9_000_000_000;

/**
 * The largest lease ID tug-store hands out or accepts: 2^53 - 1, so IDs survive JavaScript
 * numbers end to end. etcd IDs are int64; IDs beyond this cannot be represented here.
 */
export const MAX_LEASE_ID = Number.MAX_SAFE_INTEGER;

/** etcd's leaseRevokeRate: at most this many expired leases are revoked per second. */
export const LEASE_REVOKE_RATE = 1000;

/** How often etcd's lessor loop looks for expired leases (its runLoop's 500 ms). */
export const EXPIRY_CHECK_INTERVAL_MS = 500;

/**
 * etcd's defaultExpiredleaseRetryInterval: an expired lease whose revoke has not been applied
 * this long after expired() reported it is reported again (the revoke proposal may have been
 * lost, e.g. dropped by a leader change).
 */
export const EXPIRED_RETRY_MS = 3000;

/** etcd's defaultLeaseCheckpointInterval. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 5 * 60_000;

/** etcd's maxLeaseCheckpointBatchSize: checkpoints per proposal. */
export const MAX_CHECKPOINT_BATCH = 1000;

/**
 * etcd's minimum lease TTL, in seconds: ceil((3 * electionTicks / 2) * heartbeat), with the
 * division an integer one as in etcd's config (so a lease outlives a leader election).
 */
export function minLeaseTtl(electionTicks: number, heartbeatMs: number): number {
  return Math.ceil((Math.floor((3 * electionTicks) / 2) * heartbeatMs) / 1000);
}

export interface LessorOptions {
  /** Granted TTLs below this many seconds are raised to it. A positive integer; see minLeaseTtl. */
  readonly minTtl: number;
  /** Uniform in [0, 1), like the global generator; used by chooseId only. Seed it in tests. */
  readonly random: () => number;
  /**
   * Turns on lease checkpointing (etcd's --experimental-enable-lease-checkpoint): the leader
   * records the remaining TTL of long leases in the log every this many ms, so a new leader
   * restores the remaining TTL instead of the full one. Absent: off, as etcd 3.4's default.
   */
  readonly checkpointIntervalMs?: number;
  /** See EXPIRED_RETRY_MS. Must be positive. */
  readonly expiredRetryMs?: number;
}

export interface LeaseGrantResult {
  readonly id: number;
  /** The TTL granted, in seconds: the requested one raised to the minimum. */
  readonly ttl: number;
}

/** etcd's LeaseTimeToLiveResponse fields. */
export interface LeaseTimeToLive {
  readonly id: number;
  /**
   * Remaining seconds, truncated as etcd's int64(Remaining().Seconds()). -1 for a lease that
   * does not exist (etcd's gRPC layer turns not-found into TTL -1) and for one past its expiry
   * by a second or more (etcd would say -2, -3, ... until the revoke applies).
   */
  readonly ttl: number;
  /** The granted TTL; 0 for a lease that does not exist. */
  readonly grantedTtl: number;
  /** In byte order; empty unless asked for. The caller owns the array. */
  readonly keys: Uint8Array[];
}

/** etcd's LeaseCheckpoint: the remaining TTL to record for a lease; 0 clears it. */
export interface LeaseCheckpoint {
  readonly id: number;
  readonly remainingTtl: number;
}

/** The replicated view of one lease, the same on every member. */
export interface LeaseInfo {
  readonly id: number;
  readonly grantedTtl: number;
  /** The last checkpointed remaining TTL in seconds; 0 when unset. */
  readonly remainingTtl: number;
  /** In byte order. The caller owns the array. */
  readonly keys: Uint8Array[];
}

class Lease {
  readonly keys = new Set<string>();
  /** Checkpointed remaining TTL in seconds; 0: unset, use the full TTL. */
  remainingTtl = 0;
  /** Leader only: when it expires, in ms on the leader's clock. Infinity when not tracked. */
  expiry = Number.POSITIVE_INFINITY;
  /** Leader only: granted (or restored) since the last leader-side call, clock not started. */
  pending = false;
  /** Tags of the current entries in the expiry and checkpoint heaps; others are stale. */
  expiryTag = 0;
  checkpointTag = 0;
  revoked = false;

  constructor(
    readonly id: number,
    readonly ttl: number,
  ) {}

  /** etcd's Lease.RemainingTTL: the checkpointed remaining TTL if set, else the full TTL. */
  effectiveTtl(): number {
    return this.remainingTtl > 0 ? this.remainingTtl : this.ttl;
  }
}

export class Lessor {
  private leasesById = new Map<number, Lease>();
  /** Which lease each attached key belongs to (etcd's itemMap). */
  private itemMap = new Map<string, Lease>();

  private readonly minTtl: number;
  private readonly random: () => number;
  private readonly checkpointIntervalMs: number | undefined;
  private readonly expiredRetryMs: number;

  // Leader-local state: none of it is replicated or snapshotted.
  private primary = false;
  private readonly expiryHeap = new ExpiryHeap<Lease>();
  private readonly checkpointHeap = new ExpiryHeap<Lease>();
  private pending: Lease[] = [];
  /** Leases renewed while a checkpointed remaining TTL was set: propose checkpoint 0. */
  private readonly clears = new Set<Lease>();
  private nextTag = 1;
  /** The latest time seen; earlier times are read as this one, so expiries never go back. */
  private lastNow = Number.NEGATIVE_INFINITY;

  constructor(options: LessorOptions) {
    const { minTtl, checkpointIntervalMs, expiredRetryMs = EXPIRED_RETRY_MS } = options;
    if (!Number.isSafeInteger(minTtl) || minTtl < 1 || minTtl > MAX_LEASE_TTL) {
      throw new RangeError(`minTtl must be an integer number of seconds >= 1, not ${minTtl}`);
    }
    if (checkpointIntervalMs !== undefined && !(checkpointIntervalMs > 0)) {
      throw new RangeError(`checkpointIntervalMs must be > 0, not ${checkpointIntervalMs}`);
    }
    if (!(expiredRetryMs > 0)) {
      throw new RangeError(`expiredRetryMs must be > 0, not ${expiredRetryMs}`);
    }
    this.minTtl = minTtl;
    this.random = options.random;
    this.checkpointIntervalMs = checkpointIntervalMs;
    this.expiredRetryMs = expiredRetryMs;
  }

  // ---------------------------------------------------------------- queries (any member)

  /** Whether this member is the primary lessor (between promote and demote). */
  get isLeader(): boolean {
    return this.primary;
  }

  /** The number of leases. */
  get size(): number {
    return this.leasesById.size;
  }

  /** Whether the lease exists: the Keyspace's leaseExists option. */
  has(id: number): boolean {
    return this.leasesById.has(id);
  }

  /** The lease the key is attached to; 0 (etcd's NoLease) for none. */
  leaseOf(key: Uint8Array): number {
    return this.itemMap.get(keyString(key))?.id ?? 0;
  }

  /** Every lease ID, ascending (etcd's LeaseLeases lists IDs only). The caller owns it. */
  leases(): number[] {
    return [...this.leasesById.keys()].sort((a, b) => a - b);
  }

  /** The replicated state of one lease, or undefined. */
  lookup(id: number): LeaseInfo | undefined {
    const l = this.leasesById.get(id);
    if (l === undefined) return undefined;
    return { id, grantedTtl: l.ttl, remainingTtl: l.remainingTtl, keys: sortedKeys(l) };
  }

  /**
   * A fresh ID for a LeaseGrant that asked for 0 ("server chooses"), to put in the proposal:
   * uniform in [1, 2^53 - 1] and not a lease this member knows. etcd draws positive int64s
   * from its request ID generator; 53 random bits make a clash with another proposer's choice
   * negligible, and a clash fails at apply with leaseExists rather than corrupting anything.
   */
  chooseId(): number {
    for (;;) {
      const hi = Math.min(Math.floor(this.draw() * 2 ** 21), 2 ** 21 - 1);
      const lo = Math.min(Math.floor(this.draw() * 2 ** 32), 2 ** 32 - 1);
      const id = hi * 2 ** 32 + lo;
      if (id !== 0 && !this.leasesById.has(id)) return id;
    }
  }

  // ---------------------------------------------------------------- replicated

  /**
   * etcd's Lessor.Grant. `id` must already be chosen (0 fails with leaseNotFound, as in
   * etcd); an existing ID fails with leaseExists; a TTL over MAX_LEASE_TTL with
   * leaseTtlTooLarge; a TTL below the minimum (zero and negative ones too) is raised to it.
   * On the leader the lease's clock starts at the next leader-side call (see anchor).
   */
  grant(id: number, ttl: number): LeaseGrantResult {
    if (id === 0) throw StoreError.etcd("leaseNotFound");
    if (!Number.isSafeInteger(id) || id < 0) {
      throw new StoreError(
        "INVALID_ARGUMENT",
        `lease ID ${id} is out of range: tug-store lease IDs are integers in [1, 2^53-1]`,
      );
    }
    if (!Number.isSafeInteger(ttl)) {
      throw new StoreError("INVALID_ARGUMENT", `lease TTL ${ttl} is not a whole number of seconds`);
    }
    if (ttl > MAX_LEASE_TTL) throw StoreError.etcd("leaseTtlTooLarge");
    if (this.leasesById.has(id)) throw StoreError.etcd("leaseExists");
    const l = new Lease(id, Math.max(ttl, this.minTtl));
    this.leasesById.set(id, l);
    if (this.primary) {
      l.pending = true;
      this.pending.push(l);
    }
    return { id, ttl: l.ttl };
  }

  /**
   * etcd's Lessor.Revoke: removes the lease and returns its keys in byte order, for the caller
   * to delete in one revision (all members delete them in the same order). Unknown ID:
   * leaseNotFound.
   */
  revoke(id: number): Uint8Array[] {
    const l = this.leasesById.get(id);
    if (l === undefined) throw StoreError.etcd("leaseNotFound");
    const keys = sortedKeys(l);
    for (const k of l.keys) {
      if (this.itemMap.get(k) === l) this.itemMap.delete(k);
    }
    l.revoked = true;
    this.leasesById.delete(id);
    this.clears.delete(l);
    return keys;
  }

  /**
   * etcd's Lessor.Attach for one key, as a put with a lease does. A key attached to another
   * lease moves (etcd's store detaches it first; doing it here keeps the maps consistent
   * whatever the caller does). Unknown lease: leaseNotFound.
   */
  attach(id: number, key: Uint8Array): void {
    const l = this.leasesById.get(id);
    if (l === undefined) throw StoreError.etcd("leaseNotFound");
    const k = keyString(key);
    const prev = this.itemMap.get(k);
    if (prev === l) return;
    if (prev !== undefined) prev.keys.delete(k);
    l.keys.add(k);
    this.itemMap.set(k, l);
  }

  /**
   * etcd's Lessor.Detach, by key: a put that drops or changes the key's lease, or a delete.
   * Returns the lease it was attached to, 0 if none.
   */
  detach(key: Uint8Array): number {
    const k = keyString(key);
    const l = this.itemMap.get(k);
    if (l === undefined) return 0;
    l.keys.delete(k);
    this.itemMap.delete(k);
    return l.id;
  }

  /**
   * etcd's Lessor.Checkpoint: records the remaining TTL (seconds; 0 clears it) that promote()
   * will use instead of the full TTL. Unknown IDs are ignored, as in etcd: the lease may have
   * been revoked after the leader proposed the checkpoint.
   */
  checkpoint(id: number, remainingTtl: number): void {
    if (!Number.isSafeInteger(remainingTtl) || remainingTtl < 0 || remainingTtl > MAX_LEASE_TTL) {
      throw new StoreError(
        "INVALID_ARGUMENT",
        `lease checkpoint remaining TTL ${remainingTtl} is not a whole number of seconds in [0, ${MAX_LEASE_TTL}]`,
      );
    }
    const l = this.leasesById.get(id);
    if (l === undefined) return;
    l.remainingTtl = remainingTtl;
    if (remainingTtl === 0) this.clears.delete(l);
  }

  /** The replicated state, for a Raft snapshot. */
  serialize(): Uint8Array {
    const out: SnapshotLease[] = [];
    for (const id of this.leases()) {
      const l = this.leasesById.get(id) as Lease;
      out.push({ id, ttl: l.ttl, remainingTtl: l.remainingTtl, keys: [...l.keys].sort() });
    }
    return encodeLeaseSnapshot(out);
  }

  /**
   * Replaces the replicated state with a snapshot's (etcd's Recover). The snapshot is checked
   * whole first (StoreError DATA_LOSS naming the fault) and nothing changes if it is bad. TTLs
   * below this member's minimum are raised to it, as etcd does on recovery. On the leader the
   * restored leases' clocks start at the next leader-side call.
   */
  restore(snapshot: Uint8Array): void {
    const decoded = decodeLeaseSnapshot(snapshot, { maxId: MAX_LEASE_ID, maxTtl: MAX_LEASE_TTL });
    for (const l of this.leasesById.values()) l.revoked = true;
    this.leasesById = new Map();
    this.itemMap = new Map();
    this.resetTracking();
    for (const s of decoded) {
      const l = new Lease(s.id, Math.max(s.ttl, this.minTtl));
      l.remainingTtl = s.remainingTtl;
      for (const k of s.keys) {
        l.keys.add(k);
        this.itemMap.set(k, l);
      }
      this.leasesById.set(s.id, l);
      if (this.primary) {
        l.pending = true;
        this.pending.push(l);
      }
    }
  }

  // ---------------------------------------------------------------- leader-side

  /**
   * etcd's Lessor.Promote, for when this member becomes leader: every lease expires at
   * now + its remaining TTL (checkpointed, else full) + extendMs. etcd passes the election
   * timeout as extendMs, so that no lease expires because its keep-alives could not reach
   * anyone while there was no leader. With LEASE_REVOKE_RATE leases or more, expiries that
   * pile up are spread out as etcd does, so that at most 3/4 of the revoke rate fall in any
   * one-second window.
   */
  promote(nowMs: number, extendMs: number): void {
    const now = this.now(nowMs);
    this.primary = true;
    this.resetTracking();
    const all = [...this.leasesById.values()];
    for (const l of all) l.expiry = now + extendMs + l.effectiveTtl() * 1000;
    if (all.length >= LEASE_REVOKE_RATE) spreadPileUp(all, now, extendMs);
    for (const l of all) {
      this.track(l);
      this.scheduleCheckpoint(l, now);
    }
  }

  /**
   * etcd's Lessor.Demote, for when this member stops being leader: expiry tracking stops and
   * every lease lives until a leader revokes it.
   */
  demote(): void {
    this.primary = false;
    this.resetTracking();
    for (const l of this.leasesById.values()) l.expiry = Number.POSITIVE_INFINITY;
  }

  /**
   * Starts the clocks of leases granted or restored since the last leader-side call: their
   * expiry becomes now + TTL. Replicated calls cannot read a clock, so a lease granted on the
   * leader is timed from the first leader-side call after it; every such call anchors first.
   * Call it after applying entries to start clocks promptly; if not, a lease lives at most
   * one expiry check interval longer, never shorter.
   */
  anchor(nowMs: number): void {
    const now = this.now(nowMs);
    if (!this.primary || this.pending.length === 0) return;
    const pending = this.pending;
    this.pending = [];
    for (const l of pending) {
      if (l.revoked || !l.pending) continue;
      l.pending = false;
      l.expiry = now + l.effectiveTtl() * 1000;
      this.track(l);
      this.scheduleCheckpoint(l, now);
    }
  }

  /**
   * etcd's Lessor.Renew, for a KeepAlive: the lease expires at now + its granted TTL, which
   * is returned. Not the leader: StoreError notLeader, and the server forwards the keep-alive
   * to the leader as etcd does. Unknown lease: leaseNotFound. A lease already past its expiry
   * also fails with leaseNotFound: its revoke is on its way (etcd waits for the revoke to
   * apply and then answers the same).
   */
  renew(id: number, nowMs: number): number {
    if (!this.primary) throw StoreError.etcd("notLeader");
    this.anchor(nowMs);
    const now = this.now(nowMs);
    const l = this.leasesById.get(id);
    if (l === undefined || now >= l.expiry) throw StoreError.etcd("leaseNotFound");
    // etcd 3.4 refreshes by RemainingTTL() here while the clear is still in flight, so a
    // renewal right after a checkpoint grants only the checkpointed remainder; later versions
    // wait for the clear to apply first, which amounts to the full TTL, as here.
    l.expiry = now + l.ttl * 1000;
    this.track(l);
    if (this.checkpointIntervalMs !== undefined && l.remainingTtl > 0) this.clears.add(l);
    return l.ttl;
  }

  /**
   * etcd's findExpiredLeases: up to `limit` leases whose expiry is at or before now, earliest
   * first (ties by ID), for the server to revoke through Raft. A reported lease is reported
   * again after expiredRetryMs if its revoke has not applied by then. Always empty on a
   * follower. Cost: O((reported + stale entries) log n).
   */
  expired(nowMs: number, limit: number): number[] {
    const out: number[] = [];
    if (!this.primary || limit <= 0) return out;
    this.anchor(nowMs);
    const now = this.now(nowMs);
    const heap = this.expiryHeap;
    while (out.length < limit && heap.size > 0) {
      const l = heap.top() as Lease;
      if (l.revoked || heap.topTag() !== l.expiryTag) {
        heap.pop();
        continue;
      }
      if (now < heap.topTime()) break;
      heap.pop();
      // Recheck after the retry interval; the lease's expiry itself stays.
      l.expiryTag = this.nextTag++;
      heap.push(now + this.expiredRetryMs, l.id, l.expiryTag, l);
      out.push(l.id);
    }
    this.compactHeaps();
    return out;
  }

  /**
   * The leader's answer to LeaseTimeToLive. Not the leader: notLeader (forward it, as etcd
   * does). Unknown lease: TTL -1 and granted TTL 0, the response etcd's gRPC layer makes of
   * lease-not-found.
   */
  timeToLive(id: number, nowMs: number, withKeys: boolean): LeaseTimeToLive {
    if (!this.primary) throw StoreError.etcd("notLeader");
    this.anchor(nowMs);
    const now = this.now(nowMs);
    const l = this.leasesById.get(id);
    if (l === undefined) return { id, ttl: -1, grantedTtl: 0, keys: [] };
    // + 0 turns the -0 of a lease just past expiry into 0.
    const ttl = Math.max(-1, Math.trunc((l.expiry - now) / 1000) + 0);
    return { id, ttl, grantedTtl: l.ttl, keys: withKeys ? sortedKeys(l) : [] };
  }

  /**
   * With checkpointing on, the checkpoints the leader should propose now, at most `limit`
   * (etcd's findDueScheduledCheckpoints, plus the clears etcd's Renew proposes): first a
   * remaining TTL of 0 for each lease renewed while it had one recorded, then for each lease
   * due (every checkpointIntervalMs while its TTL exceeds the interval) its remaining whole
   * seconds, rounded up, unless that is its full TTL. Empty when off or not the leader.
   */
  dueCheckpoints(nowMs: number, limit: number = MAX_CHECKPOINT_BATCH): LeaseCheckpoint[] {
    const out: LeaseCheckpoint[] = [];
    const interval = this.checkpointIntervalMs;
    if (!this.primary || interval === undefined || limit <= 0) return out;
    this.anchor(nowMs);
    const now = this.now(nowMs);
    for (const l of this.clears) {
      if (out.length >= limit) return out;
      this.clears.delete(l);
      if (!l.revoked && l.remainingTtl > 0) out.push({ id: l.id, remainingTtl: 0 });
    }
    const heap = this.checkpointHeap;
    while (out.length < limit && heap.size > 0) {
      const l = heap.top() as Lease;
      if (l.revoked || heap.topTag() !== l.checkpointTag) {
        heap.pop();
        continue;
      }
      if (now < heap.topTime()) break;
      heap.pop();
      l.checkpointTag = this.nextTag++;
      heap.push(now + interval, l.id, l.checkpointTag, l);
      if (now >= l.expiry) continue;
      const remaining = Math.ceil((l.expiry - now) / 1000);
      if (remaining >= l.ttl) continue;
      out.push({ id: l.id, remainingTtl: remaining });
    }
    return out;
  }

  // ---------------------------------------------------------------- internals

  private draw(): number {
    const r = this.random();
    if (!(r >= 0 && r < 1)) throw new RangeError(`random() returned ${r}, not a number in [0, 1)`);
    return r;
  }

  private now(nowMs: number): number {
    if (nowMs > this.lastNow) this.lastNow = nowMs;
    return this.lastNow;
  }

  /** Drops every leader-local record: heaps, pending clocks, clears. */
  private resetTracking(): void {
    this.expiryHeap.clear();
    this.checkpointHeap.clear();
    for (const l of this.pending) l.pending = false;
    this.pending = [];
    this.clears.clear();
  }

  /** Makes the lease's current expiry the one its heap entry stands for. */
  private track(l: Lease): void {
    l.expiryTag = this.nextTag++;
    this.expiryHeap.push(l.expiry, l.id, l.expiryTag, l);
    this.compactHeaps();
  }

  private scheduleCheckpoint(l: Lease, now: number): void {
    const interval = this.checkpointIntervalMs;
    if (interval === undefined || l.ttl * 1000 <= interval) return;
    l.checkpointTag = this.nextTag++;
    this.checkpointHeap.push(now + interval, l.id, l.checkpointTag, l);
    this.compactHeaps();
  }

  /** Renewals and revokes leave stale entries behind; rebuild once they outnumber live ones. */
  private compactHeaps(): void {
    const bound = 2 * this.leasesById.size + 1024;
    if (this.expiryHeap.size > bound) {
      this.expiryHeap.retain((l, tag) => !l.revoked && tag === l.expiryTag);
    }
    if (this.checkpointHeap.size > bound) {
      this.checkpointHeap.retain((l, tag) => !l.revoked && tag === l.checkpointTag);
    }
  }
}

function sortedKeys(l: Lease): Uint8Array[] {
  return [...l.keys].sort().map(keyBytes);
}

/**
 * etcd's Promote pile-up adjustment: walking the leases in expiry order, once more than 3/4
 * of LEASE_REVOKE_RATE would expire within a second of the window's start, later ones are
 * pushed back in proportion, so expiries after a leader change arrive at a rate revokes can
 * keep up with. Every lease's expiry only grows.
 */
function spreadPileUp(leases: Lease[], now: number, extendMs: number): void {
  leases.sort((a, b) => a.expiry - b.expiry || a.id - b.id);
  const target = (3 * LEASE_REVOKE_RATE) / 4;
  let baseWindow = (leases[0] as Lease).expiry - now;
  let nextWindow = baseWindow + 1000;
  let expires = 0;
  for (const l of leases) {
    const remaining = l.expiry - now;
    if (remaining > nextWindow) {
      baseWindow = remaining;
      nextWindow = baseWindow + 1000;
      expires = 1;
      continue;
    }
    expires++;
    if (expires <= target) continue;
    const delay = 1000 * (expires / target) - (remaining - baseWindow);
    nextWindow = baseWindow + delay;
    l.expiry = now + delay + extendMs + l.effectiveTtl() * 1000;
  }
}
