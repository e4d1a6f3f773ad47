// The MVCC keyspace: the deterministic state machine that Raft-committed requests are applied
// to, with etcd v3's semantics (server/mvcc and server/etcdserver/apply.go, etcd 3.4).
//
// A global revision starts at 1 for an empty keyspace; every write that changes something
// commits as the next revision, all its changes sharing it and ordered by the write (etcd's
// sub-revisions). Each key keeps its history since the compact revision as KeyValues, oldest
// first (key-history.ts), a tombstone (version 0) marking a deletion; their key and value bytes
// are copies packed into shared slabs (byte-slabs.ts). Keys live in a Map for point lookups and
// an OrderedIndex for range scans; a log of every change since the compact revision, in commit
// order, serves watches that start in the past.
//
// Pure: no IO, no timers, no randomness. Applying the same requests to two keyspaces gives the
// same responses, events, hash() and serialize().

import { StoreError } from "../errors.js";
import { ByteSlabs, EMPTY_BYTES as EMPTY } from "./byte-slabs.js";
import { CompactedError } from "./compacted-error.js";
import { crc32c } from "./crc32c.js";
import { compareBytes, inBounds, keyBounds, keyString } from "./key-bytes.js";
import { firstAtOrAfter, KeyHistory } from "./key-history.js";
import { OrderedIndex } from "./ordered-index.js";
import { ByteReader, ByteWriter } from "./snapshot-codec.js";
import type {
  CompactionResponse,
  Compare,
  DeleteRangeRequest,
  DeleteRangeResponse,
  EventListener,
  EventsSince,
  KeyValue,
  KvEvent,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseOp,
  SortTarget,
  TxnRequest,
  TxnResponse,
} from "./types.js";
import {
  checkDeleteRangeRequest,
  checkPutRequest,
  checkRangeRequest,
  checkTxnRequest,
} from "./validate.js";

/** The revision of an empty keyspace, as in etcd: the first write commits as revision 2. */
export const FIRST_REVISION = 1;

/** What sizeBytes() counts per revision beyond its key and value: roughly bbolt's framing. */
const REVISION_OVERHEAD_BYTES = 64;

/** The kv an absent key compares as (etcd compares against a zero mvccpb.KeyValue). */
const ABSENT: KeyValue = {
  key: EMPTY,
  createRevision: 0,
  modRevision: 0,
  version: 0,
  value: EMPTY,
  lease: 0,
};

const SNAPSHOT_MAGIC = [0x54, 0x4d, 0x56, 0x43]; // "TMVC"
const SNAPSHOT_VERSION = 1;

/** A KeyValue as the keyspace itself may rewrite it: repack() moves its bytes. */
type StoredKv = { -readonly [F in keyof KeyValue]: KeyValue[F] };

/** A write in progress: the revision it commits as, and its changes so far in order. */
interface Write {
  readonly rev: number;
  readonly events: KvEvent[];
}

export interface KeyspaceOptions {
  /**
   * Whether a lease exists. A put that names an unknown lease fails with leaseNotFound, and a
   * txn whose taken branch holds such a put fails whole, as in etcd. Absent: any lease goes.
   */
  leaseExists?: (id: number) => boolean;
}

export class Keyspace {
  private rev = FIRST_REVISION;
  /** History below it is gone; 0 until the first compaction. */
  private compactRev = 0;
  private readonly byKey = new Map<string, KeyHistory>();
  private readonly ordered = new OrderedIndex<KeyHistory>();
  /** Every change with modRevision >= compactRev in commit order, and the key each belongs to. */
  private logKvs: KeyValue[] = [];
  private logKeys: KeyHistory[] = [];
  /** The keys currently attached to each lease. */
  private readonly byLease = new Map<number, Set<KeyHistory>>();
  private readonly listeners = new Set<EventListener>();
  /** Where the keyspace's copies of keys and values live (see byte-slabs.ts). */
  private readonly slabs = new ByteSlabs();
  private bytes = 0;
  private compactions = 0;
  private readonly leaseExists: ((id: number) => boolean) | undefined;

  constructor(options: KeyspaceOptions = {}) {
    this.leaseExists = options.leaseExists;
  }

  /** The current revision: that of the last write that changed something. */
  get revision(): number {
    return this.rev;
  }

  /** The revision of the last compaction (0 if none): the oldest revision still readable. */
  get compactRevision(): number {
    return this.compactRev;
  }

  /** Approximate size of the keyspace with its history, for db size metrics and quotas. */
  sizeBytes(): number {
    return this.bytes;
  }

  // ---------------------------------------------------------------- reads

  /**
   * etcd's Range. Throws futureRevision past the current revision, and CompactedError before
   * the compact revision (reading at exactly the compact revision is allowed, as in etcd).
   */
  range(r: RangeRequest): RangeResponse {
    checkRangeRequest(r);
    return this.rangeAt(r, this.rev);
  }

  /**
   * The events of every change to the keys named by key/rangeEnd (as in RangeRequest) at
   * revisions >= startRev, in commit order, for a watch that starts in the past. Throws
   * CompactedError when startRev is below the compact revision. With `limit` (> 0), stops at
   * the end of the first revision that reaches `limit` events; `revision` tells where it stopped.
   */
  eventsSince(
    startRev: number,
    key: Uint8Array,
    rangeEnd?: Uint8Array,
    limit?: number,
  ): EventsSince {
    if (startRev < this.compactRev) throw new CompactedError(this.compactRev);
    const bounds = keyBounds(key, rangeEnd);
    const kvs = this.logKvs;
    const keys = this.logKeys;
    const events: KvEvent[] = [];
    const max = limit !== undefined && limit > 0 ? limit : Number.POSITIVE_INFINITY;
    for (let i = firstAtOrAfter(kvs, startRev); i < kvs.length; i++) {
      const kv = kvs[i] as KeyValue;
      const last = events[events.length - 1];
      if (last !== undefined && events.length >= max && kv.modRevision > last.kv.modRevision) {
        return { events, revision: kv.modRevision - 1 };
      }
      const h = keys[i] as KeyHistory;
      if (inBounds(h.key, bounds)) events.push(eventOf(h, kv));
    }
    return { events, revision: this.rev };
  }

  /** The keys attached to the lease, in key order. */
  keysWithLease(id: number): Uint8Array[] {
    const set = this.byLease.get(id);
    if (set === undefined) return [];
    return [...set].sort(byKey).map((h) => h.keyBytes);
  }

  /**
   * Calls `listener` with the events of every later write. Returns the function that stops
   * it. Listeners run synchronously, after the write is fully applied, in subscription order.
   */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  // ---------------------------------------------------------------- writes

  put(r: PutRequest): PutResponse {
    checkPutRequest(r);
    this.checkPut(r);
    const w = this.begin();
    const resp = this.applyPut(w, r);
    this.commit(w);
    return resp;
  }

  deleteRange(r: DeleteRangeRequest): DeleteRangeResponse {
    checkDeleteRangeRequest(r);
    const w = this.begin();
    const resp = this.applyDeleteRange(w, r);
    this.commit(w);
    return resp;
  }

  /**
   * etcd's Txn. Every compare, nested ones included, is evaluated against the keyspace as it
   * was before the txn (etcd's compareToPath); then the ops of the branches taken run in order,
   * each seeing the changes of the ones before, all committing as one revision. Errors (bad
   * request, duplicateKey, keyNotFound, leaseNotFound, a range's compacted/futureRevision) are
   * found before anything is applied: a txn applies whole or not at all.
   */
  txn(r: TxnRequest): TxnResponse {
    checkTxnRequest(r);
    const path: boolean[] = [];
    this.comparePath(r, path);
    this.checkTxnPuts(r, path, { i: 0 });
    this.checkTxnRanges(r, path, { i: 0 });
    const w = this.begin();
    const resp = this.applyTxn(w, r, path, { i: 0 });
    this.commit(w);
    resp.revision = this.rev;
    return resp;
  }

  /**
   * Deletes the keys in one revision, as when their lease expires or is revoked; keys already
   * absent are skipped. Deletions happen in key order, as etcd's lessor sorts them.
   */
  deleteKeys(keys: readonly Uint8Array[]): DeleteRangeResponse {
    const sorted = [...new Set(keys.map(keyString))].sort();
    const w = this.begin();
    let deleted = 0;
    for (const k of sorted) {
      const h = this.byKey.get(k);
      if (h === undefined) continue;
      const prev = current(h);
      if (prev === undefined) continue;
      this.tombstone(w, h, prev);
      deleted++;
    }
    this.commit(w);
    return { revision: this.rev, deleted, prevKvs: [] };
  }

  /**
   * Drops history before `rev`, keeping for each key its changes at `rev` and later, or else
   * its state at `rev` (the latest kv before it, unless that is a deletion), so that reads at
   * `rev` and watches from `rev` still work. Throws CompactedError if `rev` is not above the
   * compact revision, futureRevision past the current one. Costs O(changes since the last
   * compaction). etcd drops a deletion at exactly `rev` too; keeping it until the next
   * compaction lets a watch from `rev` see it.
   */
  compact(rev: number): CompactionResponse {
    if (rev <= this.compactRev) throw new CompactedError(this.compactRev);
    if (rev > this.rev) throw StoreError.etcd("futureRevision");
    const mark = ++this.compactions;
    const kvs = this.logKvs;
    const keys = this.logKeys;
    // Only keys changed since the last compaction can have history to drop: any other key has
    // at most its one kept kv before that compaction.
    for (let i = 0; i < kvs.length && (kvs[i] as KeyValue).modRevision <= rev; i++) {
      const h = keys[i] as KeyHistory;
      if (h.mark === mark) continue;
      h.mark = mark;
      this.compactKey(h, rev);
    }
    const cut = firstAtOrAfter(kvs, rev);
    this.logKvs = kvs.slice(cut);
    this.logKeys = keys.slice(cut);
    this.compactRev = rev;
    if (this.slabs.fragmented()) this.repack();
    return { revision: this.rev };
  }

  // ---------------------------------------------------------------- hash and snapshot

  /**
   * CRC-32C over the compact revision, `revision` (default: the current one), and every key's
   * history from the compact revision up to `revision`: etcd's HashKV. Members that applied
   * the same log and compacted at the same revision agree on it at any revision both hold; a
   * mismatch means one of them diverged. Throws futureRevision / CompactedError as range does.
   */
  hash(revision?: number): number {
    const rev = revision === undefined || revision <= 0 ? this.rev : revision;
    if (rev > this.rev) throw StoreError.etcd("futureRevision");
    if (rev < this.compactRev) throw new CompactedError(this.compactRev);
    const scratch = new Uint8Array(48);
    const view = new DataView(scratch.buffer);
    view.setFloat64(0, rev, true);
    view.setFloat64(8, this.compactRev, true);
    let crc = crc32c(scratch, 0, 16);
    for (const h of this.ordered) {
      const n = rev === this.rev ? h.count : h.firstAtOrAfter(rev + 1);
      if (n === 0) continue;
      view.setUint32(0, h.keyBytes.length, true);
      view.setUint32(4, n, true);
      crc = crc32c(scratch, crc, 8);
      crc = crc32c(h.keyBytes, crc);
      for (let i = 0; i < n; i++) {
        const kv = h.at(i) as KeyValue;
        view.setFloat64(0, kv.modRevision, true);
        view.setFloat64(8, kv.createRevision, true);
        view.setFloat64(16, kv.version, true);
        view.setFloat64(24, kv.lease, true);
        view.setUint32(32, kv.value.length, true);
        crc = crc32c(scratch, crc, 36);
        crc = crc32c(kv.value, crc);
      }
    }
    return crc;
  }

  /**
   * Everything restore() needs: revisions, every key's history since the compact revision,
   * and the commit order of that history (for watches). Magic "TMVC", a version byte, varint
   * fields, and a CRC-32C of the whole at the end.
   */
  serialize(): Uint8Array {
    const out = new ByteWriter(this.bytes + 64);
    out.raw(SNAPSHOT_MAGIC);
    out.byte(SNAPSHOT_VERSION);
    out.uvarint(this.rev);
    out.uvarint(this.compactRev);
    out.uvarint(this.ordered.size);
    const ordinal = new Map<KeyHistory, number>();
    for (const h of this.ordered) {
      ordinal.set(h, ordinal.size);
      out.bytes(h.keyBytes);
      const n = h.count;
      out.uvarint(n);
      for (let i = 0; i < n; i++) {
        const kv = h.at(i) as KeyValue;
        out.uvarint(kv.modRevision);
        out.uvarint(kv.version);
        if (kv.version === 0) continue;
        out.uvarint(kv.createRevision);
        out.uvarint(kv.lease);
        out.bytes(kv.value);
      }
    }
    out.uvarint(this.logKeys.length);
    for (const h of this.logKeys) out.uvarint(ordinal.get(h) as number);
    out.uint32(crc32c(out.view()));
    return out.finish();
  }

  /** The keyspace serialize() captured. Throws StoreError DATA_LOSS naming what is wrong. */
  static restore(bytes: Uint8Array, options: KeyspaceOptions = {}): Keyspace {
    const fail = (why: string): never => {
      throw new StoreError("DATA_LOSS", `mvcc snapshot is invalid: ${why}`);
    };
    if (bytes.length < SNAPSHOT_MAGIC.length + 1 + 4) fail(`only ${bytes.length} bytes`);
    for (let i = 0; i < SNAPSHOT_MAGIC.length; i++) {
      if (bytes[i] !== SNAPSHOT_MAGIC[i]) fail("not an mvcc snapshot (bad magic)");
    }
    if (bytes[4] !== SNAPSHOT_VERSION) {
      fail(`format version ${bytes[4]}, this build reads version ${SNAPSHOT_VERSION}`);
    }
    const body = bytes.subarray(0, bytes.length - 4);
    const tail = bytes.subarray(bytes.length - 4);
    const want = new DataView(tail.buffer, tail.byteOffset, 4).getUint32(0, true);
    if (crc32c(body) !== want) fail("checksum mismatch");
    const ks = new Keyspace(options);
    try {
      ks.load(new ByteReader(body, SNAPSHOT_MAGIC.length + 1), fail);
    } catch (e) {
      if (e instanceof StoreError) throw e;
      throw new StoreError("DATA_LOSS", `mvcc snapshot is invalid: ${String(e)}`, { cause: e });
    }
    return ks;
  }

  private load(r: ByteReader, fail: (why: string) => never): void {
    const rev = r.uvarint();
    const compactRev = r.uvarint();
    if (rev < FIRST_REVISION) fail(`revision ${rev} is below ${FIRST_REVISION}`);
    if (compactRev > rev) fail(`compact revision ${compactRev} is past revision ${rev}`);
    this.rev = rev;
    this.compactRev = compactRev;
    const keyCount = r.uvarint();
    const histories: KeyHistory[] = [];
    let prevKey: string | undefined;
    for (let k = 0; k < keyCount; k++) {
      const kb = this.slabs.copy(r.bytesView());
      const key = keyString(kb);
      if (kb.length === 0) fail(`key #${k} is empty`);
      if (prevKey !== undefined && key <= prevKey) fail(`key #${k} is out of order`);
      prevKey = key;
      const h = new KeyHistory(key, kb);
      const n = r.uvarint();
      if (n === 0) fail(`key #${k} has no history`);
      for (let j = 0; j < n; j++) {
        const modRevision = r.uvarint();
        const version = r.uvarint();
        let kv: KeyValue;
        if (version === 0) {
          kv = { key: kb, createRevision: 0, modRevision, version, value: EMPTY, lease: 0 };
        } else {
          const createRevision = r.uvarint();
          const lease = r.uvarint();
          const value = this.slabs.copy(r.bytesView());
          kv = { key: kb, createRevision, modRevision, version, value, lease };
        }
        const why = checkSuccessor(h.last(), kv, compactRev, rev);
        if (why !== undefined) fail(`key #${k} revision ${modRevision}: ${why}`);
        h.append(kv);
        this.bytes += kvBytes(kv);
      }
      histories.push(h);
      this.byKey.set(key, h);
      this.ordered.insert(h);
      const cur = current(h);
      if (cur !== undefined && cur.lease !== 0) this.attach(h, cur.lease);
    }
    // Rebuild the log: the n-th mention of a key is its n-th kv at or after the compact revision.
    const logLen = r.uvarint();
    const next = histories.map((h) => h.firstAtOrAfter(compactRev));
    let last = 0;
    for (let i = 0; i < logLen; i++) {
      const o = r.uvarint();
      const h = histories[o];
      if (h === undefined) fail(`log entry ${i} names key #${o} of ${keyCount}`);
      const j = next[o] as number;
      const kv = (h as KeyHistory).at(j);
      if (kv === undefined) fail(`log entry ${i} names key #${o} once too often`);
      if ((kv as KeyValue).modRevision < last) fail(`log entry ${i} goes back in revision`);
      last = (kv as KeyValue).modRevision;
      next[o] = j + 1;
      this.logKvs.push(kv as KeyValue);
      this.logKeys.push(h as KeyHistory);
    }
    for (let o = 0; o < histories.length; o++) {
      if (next[o] !== (histories[o] as KeyHistory).count) {
        fail(`the log misses changes of key #${o}`);
      }
    }
    if (logLen > 0 ? last !== rev : rev !== FIRST_REVISION) {
      fail(`revision ${rev} but the last change is at ${last}`);
    }
    if (!r.done()) fail(`${r.remaining()} bytes left over`);
  }

  // ---------------------------------------------------------------- internals

  private begin(): Write {
    return { rev: this.rev + 1, events: [] };
  }

  private commit(w: Write): void {
    if (w.events.length === 0) return;
    this.rev = w.rev;
    if (this.listeners.size === 0) return;
    for (const listener of [...this.listeners]) listener(w.events, w.rev);
  }

  /** The revision reads inside the write see: the write's own once it changed something. */
  private static readRev(w: Write): number {
    return w.events.length > 0 ? w.rev : w.rev - 1;
  }

  private rangeAt(r: RangeRequest, curRev: number): RangeResponse {
    let rev = r.revision ?? 0;
    if (rev > curRev) throw StoreError.etcd("futureRevision");
    if (rev <= 0) rev = curRev;
    if (rev < this.compactRev) throw new CompactedError(this.compactRev);

    const limit = r.limit !== undefined && r.limit > 0 ? r.limit : 0;
    const minMod = r.minModRevision ?? 0;
    const maxMod = r.maxModRevision ?? 0;
    const minCreate = r.minCreateRevision ?? 0;
    const maxCreate = r.maxCreateRevision ?? 0;
    const filtered = minMod !== 0 || maxMod !== 0 || minCreate !== 0 || maxCreate !== 0;
    const target = r.sortTarget ?? "KEY";
    let order = r.sortOrder ?? "NONE";
    // etcd sorts ascending when only a target is given; kvs come out in key order anyway.
    if (order === "NONE" && target !== "KEY") order = "ASCEND";
    if (order === "ASCEND" && target === "KEY") order = "NONE";
    // Without filters or sorting, only limit+1 kvs are needed (the extra one sets `more`);
    // every key is still visited, as count is the whole range's.
    const cap = r.countOnly
      ? 0
      : limit > 0 && !filtered && order === "NONE"
        ? limit + 1
        : Number.POSITIVE_INFINITY;

    let kvs: KeyValue[] = [];
    let count = 0;
    const bounds = keyBounds(r.key, r.rangeEnd);
    if (bounds.end === undefined) {
      const h = this.byKey.get(bounds.start);
      const kv = h === undefined ? undefined : stateAt(h, rev);
      if (kv !== undefined) {
        count = 1;
        if (cap > 0) kvs.push(kv);
      }
    } else {
      this.ordered.scan(bounds.start, bounds.end, (h) => {
        const kv = stateAt(h, rev);
        if (kv !== undefined) {
          count++;
          if (kvs.length < cap) kvs.push(kv);
        }
        return true;
      });
    }

    if (filtered) {
      kvs = kvs.filter(
        (kv) =>
          (maxMod === 0 || kv.modRevision <= maxMod) &&
          (minMod === 0 || kv.modRevision >= minMod) &&
          (maxCreate === 0 || kv.createRevision <= maxCreate) &&
          (minCreate === 0 || kv.createRevision >= minCreate),
      );
    }
    if (order !== "NONE") sortKvs(kvs, target, order === "DESCEND");
    let more = false;
    if (limit > 0 && kvs.length > limit) {
      kvs.length = limit;
      more = true;
    }
    if (r.keysOnly) kvs = kvs.map((kv) => (kv.value.length === 0 ? kv : { ...kv, value: EMPTY }));
    return { revision: curRev, kvs, more, count };
  }

  /** Throws what applyPut would find wrong, before anything is applied. */
  private checkPut(r: PutRequest): void {
    const lease = r.lease ?? 0;
    if (lease !== 0 && this.leaseExists !== undefined && !this.leaseExists(lease)) {
      throw StoreError.etcd("leaseNotFound");
    }
    if (r.ignoreValue || r.ignoreLease) {
      const h = this.byKey.get(keyString(r.key));
      if (h === undefined || current(h) === undefined) throw StoreError.etcd("keyNotFound");
    }
  }

  private applyPut(w: Write, r: PutRequest): PutResponse {
    const k = keyString(r.key);
    let h = this.byKey.get(k);
    const prev = h === undefined ? undefined : current(h);
    // checkPut guarantees prev for ignoreValue/ignoreLease.
    // Each kv holds its own copy (released one by one at compaction), ignoreValue's too.
    const value = this.slabs.copy(r.ignoreValue ? (prev as KeyValue).value : (r.value ?? EMPTY));
    const lease = r.ignoreLease ? (prev as KeyValue).lease : (r.lease ?? 0);
    if (h === undefined) {
      h = new KeyHistory(k, this.slabs.copy(r.key));
      this.byKey.set(k, h);
      this.ordered.insert(h);
    }
    const kv: KeyValue = {
      key: h.keyBytes,
      createRevision: prev === undefined ? w.rev : prev.createRevision,
      modRevision: w.rev,
      version: prev === undefined ? 1 : prev.version + 1,
      value,
      lease,
    };
    this.record(w, h, kv, prev);
    const prevLease = prev === undefined ? 0 : prev.lease;
    if (prevLease !== lease) {
      if (prevLease !== 0) this.detach(h, prevLease);
      if (lease !== 0) this.attach(h, lease);
    }
    return r.prevKv && prev !== undefined ? { revision: w.rev, prevKv: prev } : { revision: w.rev };
  }

  private applyDeleteRange(w: Write, r: DeleteRangeRequest): DeleteRangeResponse {
    const prevKvs: KeyValue[] = [];
    let deleted = 0;
    const del = (h: KeyHistory): boolean => {
      const prev = current(h);
      if (prev === undefined) return true;
      this.tombstone(w, h, prev);
      deleted++;
      if (r.prevKv) prevKvs.push(prev);
      return true;
    };
    const bounds = keyBounds(r.key, r.rangeEnd);
    if (bounds.end === undefined) {
      const h = this.byKey.get(bounds.start);
      if (h !== undefined) del(h);
    } else {
      // Tombstones change histories, not the index, so deleting while scanning is safe.
      this.ordered.scan(bounds.start, bounds.end, del);
    }
    return { revision: Keyspace.readRev(w), deleted, prevKvs };
  }

  private tombstone(w: Write, h: KeyHistory, prev: KeyValue): void {
    const kv: KeyValue = {
      key: h.keyBytes,
      createRevision: 0,
      modRevision: w.rev,
      version: 0,
      value: EMPTY,
      lease: 0,
    };
    this.record(w, h, kv, prev);
    if (prev.lease !== 0) this.detach(h, prev.lease);
  }

  private record(w: Write, h: KeyHistory, kv: KeyValue, prev: KeyValue | undefined): void {
    h.append(kv);
    this.logKvs.push(kv);
    this.logKeys.push(h);
    this.bytes += kvBytes(kv);
    const type = kv.version === 0 ? "DELETE" : "PUT";
    w.events.push(prev === undefined ? { type, kv } : { type, kv, prevKv: prev });
  }

  private attach(h: KeyHistory, lease: number): void {
    let set = this.byLease.get(lease);
    if (set === undefined) {
      set = new Set();
      this.byLease.set(lease, set);
    }
    set.add(h);
  }

  private detach(h: KeyHistory, lease: number): void {
    const set = this.byLease.get(lease);
    if (set === undefined) return;
    set.delete(h);
    if (set.size === 0) this.byLease.delete(lease);
  }

  /** etcd's compareToPath: the outcome of every compare along the branches taken, depth first. */
  private comparePath(r: TxnRequest, path: boolean[]): void {
    let ok = true;
    for (const c of r.compare ?? []) {
      if (!this.compareHolds(c)) {
        ok = false;
        break;
      }
    }
    path.push(ok);
    for (const op of (ok ? r.success : r.failure) ?? []) {
      if ("requestTxn" in op) this.comparePath(op.requestTxn, path);
    }
  }

  private compareHolds(c: Compare): boolean {
    let any = false;
    let ok = true;
    const check = (h: KeyHistory): boolean => {
      const kv = current(h);
      if (kv === undefined) return true;
      any = true;
      ok = compareKv(c, kv);
      return ok;
    };
    const bounds = keyBounds(c.key, c.rangeEnd);
    if (bounds.end === undefined) {
      const h = this.byKey.get(bounds.start);
      if (h !== undefined) check(h);
    } else {
      this.ordered.scan(bounds.start, bounds.end, check);
    }
    if (any) return ok;
    // No key: a VALUE compare always fails (no way to tell a missing value from an empty one).
    return c.target === "VALUE" ? false : compareKv(c, ABSENT);
  }

  private checkTxnPuts(r: TxnRequest, path: readonly boolean[], at: { i: number }): void {
    const ok = path[at.i++] as boolean;
    for (const op of (ok ? r.success : r.failure) ?? []) {
      if ("requestPut" in op) this.checkPut(op.requestPut);
      else if ("requestTxn" in op) this.checkTxnPuts(op.requestTxn, path, at);
    }
  }

  private checkTxnRanges(r: TxnRequest, path: readonly boolean[], at: { i: number }): void {
    const ok = path[at.i++] as boolean;
    for (const op of (ok ? r.success : r.failure) ?? []) {
      if ("requestRange" in op) {
        const rev = op.requestRange.revision ?? 0;
        if (rev <= 0) continue;
        if (rev > this.rev) throw StoreError.etcd("futureRevision");
        if (rev < this.compactRev) throw new CompactedError(this.compactRev);
      } else if ("requestTxn" in op) {
        this.checkTxnRanges(op.requestTxn, path, at);
      }
    }
  }

  private applyTxn(
    w: Write,
    r: TxnRequest,
    path: readonly boolean[],
    at: { i: number },
  ): TxnResponse {
    const succeeded = path[at.i++] as boolean;
    const ops: readonly RequestOp[] = (succeeded ? r.success : r.failure) ?? [];
    const responses: ResponseOp[] = [];
    for (const op of ops) {
      if ("requestRange" in op) {
        responses.push({ responseRange: this.rangeAt(op.requestRange, Keyspace.readRev(w)) });
      } else if ("requestPut" in op) {
        responses.push({ responsePut: this.applyPut(w, op.requestPut) });
      } else if ("requestDeleteRange" in op) {
        responses.push({ responseDeleteRange: this.applyDeleteRange(w, op.requestDeleteRange) });
      } else {
        responses.push({ responseTxn: this.applyTxn(w, op.requestTxn, path, at) });
      }
    }
    return { revision: Keyspace.readRev(w), succeeded, responses };
  }

  private compactKey(h: KeyHistory, rev: number): void {
    const f = h.firstAtOrAfter(rev);
    let drop: number;
    if ((h.at(f)?.modRevision ?? -1) === rev) {
      // Changes at exactly rev stay (a deletion too), so that a watch from rev sees them.
      drop = f;
    } else {
      // The latest kv before rev is the state at rev: kept, unless it is a deletion.
      drop = f === 0 ? 0 : (h.at(f - 1) as KeyValue).version === 0 ? f : f - 1;
    }
    if (drop === 0) return;
    for (let i = 0; i < drop; i++) {
      const kv = h.at(i) as KeyValue;
      this.bytes -= kvBytes(kv);
      this.slabs.release(kv.value);
    }
    h.dropOldest(drop);
    if (h.count === 0) {
      this.slabs.release(h.keyBytes);
      this.byKey.delete(h.key);
      this.ordered.remove(h.key);
    }
  }

  /**
   * Moves the keys and values that lie in slabs less than half live into the current slab,
   * in key order, so that those slabs, mostly dropped history after a compaction, can be
   * collected (byte-slabs.ts). The kvs are rewritten in place with views of the same bytes: a
   * caller still holding one reads the same bytes before and after (a view it took earlier
   * keeps its old slab alive). Costs a look-up per kv, and a copy of the bytes moved.
   */
  private repack(): void {
    const slabs = this.slabs;
    for (const h of this.ordered) {
      const n = h.count;
      if (slabs.sparse(h.keyBytes)) {
        const kb = slabs.move(h.keyBytes);
        h.keyBytes = kb;
        for (let i = 0; i < n; i++) (h.at(i) as StoredKv).key = kb;
      }
      for (let i = 0; i < n; i++) {
        const kv = h.at(i) as StoredKv;
        if (slabs.sparse(kv.value)) kv.value = slabs.move(kv.value);
      }
    }
  }
}

/** The key's current kv, or undefined when it is deleted. */
function current(h: KeyHistory): KeyValue | undefined {
  const kv = h.last();
  return kv === undefined || kv.version === 0 ? undefined : kv;
}

/** The key's kv as of revision rev, or undefined when it did not exist then. */
function stateAt(h: KeyHistory, rev: number): KeyValue | undefined {
  const last = h.last();
  if (last === undefined) return undefined;
  if (last.modRevision <= rev) return last.version === 0 ? undefined : last;
  const kv = h.at(h.firstAtOrAfter(rev + 1) - 1);
  return kv === undefined || kv.version === 0 ? undefined : kv;
}

/** The event for kv, a change to key h, with the kv it replaced when that is still held. */
function eventOf(h: KeyHistory, kv: KeyValue): KvEvent {
  const type = kv.version === 0 ? "DELETE" : "PUT";
  // A key can change twice in one revision (a put, then a deletion by a later nested txn).
  let i = h.firstAtOrAfter(kv.modRevision);
  while (h.at(i) !== kv) i++;
  const prev = i === 0 ? undefined : h.at(i - 1);
  return prev === undefined || prev.version === 0 ? { type, kv } : { type, kv, prevKv: prev };
}

function compareKv(c: Compare, kv: KeyValue): boolean {
  let d: number;
  switch (c.target) {
    case "VALUE":
      d = compareBytes(kv.value, c.value ?? EMPTY);
      break;
    case "CREATE":
      d = kv.createRevision - (c.createRevision ?? 0);
      break;
    case "MOD":
      d = kv.modRevision - (c.modRevision ?? 0);
      break;
    case "VERSION":
      d = kv.version - (c.version ?? 0);
      break;
    case "LEASE":
      d = kv.lease - (c.lease ?? 0);
      break;
  }
  switch (c.result) {
    case "EQUAL":
      return d === 0;
    case "NOT_EQUAL":
      return d !== 0;
    case "GREATER":
      return d > 0;
    case "LESS":
      return d < 0;
  }
}

/**
 * Sorts kvs (given in key order) by target. The sort is stable, so ties stay in ascending key
 * order, whichever the direction (etcd leaves ties unspecified).
 */
function sortKvs(kvs: KeyValue[], target: SortTarget, descend: boolean): void {
  if (target === "KEY") {
    if (descend) kvs.reverse();
    return;
  }
  const sign = descend ? -1 : 1;
  switch (target) {
    case "VERSION":
      kvs.sort((a, b) => sign * (a.version - b.version));
      return;
    case "CREATE":
      kvs.sort((a, b) => sign * (a.createRevision - b.createRevision));
      return;
    case "MOD":
      kvs.sort((a, b) => sign * (a.modRevision - b.modRevision));
      return;
    case "VALUE":
      kvs.sort((a, b) => sign * compareBytes(a.value, b.value));
      return;
  }
}

/** Checks that kv can follow prev (undefined: kv opens the history); the reason if not. */
function checkSuccessor(
  prev: KeyValue | undefined,
  kv: KeyValue,
  compactRev: number,
  rev: number,
): string | undefined {
  if (kv.modRevision < 1 || kv.modRevision > rev) return `outside [1, ${rev}]`;
  if (prev !== undefined) {
    // Within one revision a key can only be put and then deleted (etcd's checkIntervals lets a
    // nested txn delete what an earlier nested txn put).
    const sameRev = kv.modRevision === prev.modRevision && prev.version !== 0 && kv.version === 0;
    if (kv.modRevision <= prev.modRevision && !sameRev) return "revisions not ascending";
    if (kv.modRevision < compactRev) return "more than one kv before the compact revision";
  }
  if (kv.version === 0) {
    // A deletion follows a live kv, or opens the history when it is at the compact revision.
    const ok = prev === undefined ? kv.modRevision === compactRev : prev.version !== 0;
    return ok ? undefined : "deletion of an absent key";
  }
  if (kv.createRevision < 1 || kv.createRevision > kv.modRevision) {
    return "create revision out of range";
  }
  if (kv.version === 1 && kv.createRevision !== kv.modRevision) {
    return "version 1 not at its create revision";
  }
  if (prev === undefined) {
    // A key absent at the compact revision must start its kept history with its creation.
    if (kv.modRevision > compactRev && kv.version !== 1) return "history starts mid-life";
  } else if (prev.version === 0) {
    if (kv.version !== 1) return "version after a deletion is not 1";
  } else if (kv.version !== prev.version + 1 || kv.createRevision !== prev.createRevision) {
    return "version or create revision does not follow";
  }
  return undefined;
}

function kvBytes(kv: KeyValue): number {
  return kv.key.length + kv.value.length + REVISION_OVERHEAD_BYTES;
}

function byKey(a: KeyHistory, b: KeyHistory): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
