// One key and its history since the compact revision: etcd's keyIndex (server/mvcc/key_index.go),
// without generations, as the keyspace keeps kvs themselves rather than revisions into bbolt.
//
// Held compactly because every key lives until it is deleted and compacted: a key with one kv
// (a key created and not changed since, or any live key right after a compaction: most keys
// of a Kubernetes store) holds it directly, with no array; from the second kv on they sit in an
// array, which a compaction replaces with one of exactly the kept length (V8 gives an array
// that is pushed to room for ~1.5x + 16 elements, which a splice never gives back).

import type { KeyValue } from "./types.js";

export class KeyHistory {
  /** Marks the keys one compaction has visited. */
  mark = 0;
  /**
   * In commit order, so ascending by modRevision; the last is the key's current state. One kv
   * per revision, except that a txn may put a key and then delete it (two kvs, one revision).
   * Undefined before the first kv, the kv itself while it is the only one, else an array of
   * two or more.
   */
  private kvs: KeyValue | KeyValue[] | undefined = undefined;

  constructor(
    readonly key: string,
    /** The key's bytes, in the keyspace's slabs; every kv of the key shares them. */
    public keyBytes: Uint8Array,
  ) {}

  /** How many kvs the history holds. */
  get count(): number {
    const kvs = this.kvs;
    return kvs === undefined ? 0 : Array.isArray(kvs) ? kvs.length : 1;
  }

  /** The i-th kv, oldest first; undefined outside [0, count). */
  at(i: number): KeyValue | undefined {
    const kvs = this.kvs;
    if (Array.isArray(kvs)) return kvs[i];
    return i === 0 ? kvs : undefined;
  }

  /** The newest kv: the key's current state (a tombstone when it is deleted). */
  last(): KeyValue | undefined {
    const kvs = this.kvs;
    return Array.isArray(kvs) ? kvs[kvs.length - 1] : kvs;
  }

  /** Adds kv as the newest; its modRevision must not be below the newest's. */
  append(kv: KeyValue): void {
    const kvs = this.kvs;
    if (kvs === undefined) this.kvs = kv;
    else if (Array.isArray(kvs)) kvs.push(kv);
    else this.kvs = [kvs, kv];
  }

  /** The first position whose kv's modRevision is >= rev; count when there is none. */
  firstAtOrAfter(rev: number): number {
    const kvs = this.kvs;
    if (!Array.isArray(kvs)) return kvs === undefined || kvs.modRevision >= rev ? 0 : 1;
    return firstAtOrAfter(kvs, rev);
  }

  /** Drops the n oldest kvs (0 < n <= count), keeping the rest in as little room as they need. */
  dropOldest(n: number): void {
    const kvs = this.kvs;
    if (!Array.isArray(kvs) || n >= kvs.length) {
      this.kvs = undefined;
      return;
    }
    this.kvs = n === kvs.length - 1 ? kvs[n] : kvs.slice(n);
  }
}

/** The first position in kvs (ascending by modRevision) whose modRevision is >= rev. */
export function firstAtOrAfter(kvs: readonly KeyValue[], rev: number): number {
  let lo = 0;
  let hi = kvs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((kvs[mid] as KeyValue).modRevision < rev) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
