// An ordered set of entries keyed by latin1 strings: a sorted list of sorted leaves (a two-level
// B+tree, the layout of Python's sortedcontainers). Lookup is two binary searches, O(log n); a
// removal moves at most LEAF_MAX references inside one leaf, plus one leaf reference in the top
// array when a leaf empties; a range scan walks leaves in order.
//
// Inserts are placed lazily. On a busy store nearly every insert (a new key) comes from a put,
// and puts never read the order: placing each key at once costs two binary searches whose every
// step reads a key string that is cold in the cache (~17 reads, 4-5 µs per new key on every
// member under bench load, measured in docs/store.md), plus a splice. So inserts go to an
// unsorted buffer, and the first ordered read after them (scan, get, remove, iteration) sorts
// the buffer, which is small and freshly written, and merges it into the leaves in one pass:
// each leaf that receives keys is rebuilt once, whatever how many it receives. The buffer is
// bounded (PENDING_MAX), so no read waits for more than one bounded sort and merge.

/** Leaves split beyond this many entries. 512 keeps splices cheap and scans cache-friendly. */
const LEAF_MAX = 512;
/** A leaf this small is merged into its neighbour when both fit in half a full leaf. */
const LEAF_MIN = LEAF_MAX / 8;
/**
 * Inserts buffered before they are placed anyway: bounds the sort and merge a read may have
 * to wait for (4096 keys: ~50,000 comparisons of warm strings, a few milliseconds).
 */
const PENDING_MAX = 4096;
/** Fewer buffered inserts than this are placed one by one: a merge walks the top array. */
const MERGE_MIN = 16;

export interface Keyed {
  readonly key: string;
}

export class OrderedIndex<V extends Keyed> {
  /** Non-empty sorted leaves, ordered: every key of leaves[i] is below every key of leaves[i+1]. */
  private leaves: V[][] = [];
  /** Entries in the leaves. */
  private placed = 0;
  /** Inserted, not yet in the leaves, in insertion order; none of their keys is in the leaves. */
  private pending: V[] = [];

  get size(): number {
    return this.placed + this.pending.length;
  }

  /**
   * Adds v. Its key must not be present already (the caller keeps a Map beside the index).
   * O(1): the entry is placed by the next ordered read, or once PENDING_MAX wait.
   */
  insert(v: V): void {
    this.pending.push(v);
    if (this.pending.length >= PENDING_MAX) this.flush();
  }

  /** Removes the entry with this key; false if there was none. */
  remove(key: string): boolean {
    this.flush();
    const leaves = this.leaves;
    if (leaves.length === 0) return false;
    const li = this.leafFor(key);
    const leaf = leaves[li] as V[];
    const pos = lowerBound(leaf, key, 0);
    if (pos === leaf.length || (leaf[pos] as V).key !== key) return false;
    leaf.splice(pos, 1);
    this.placed--;
    if (leaf.length === 0) {
      leaves.splice(li, 1);
    } else if (leaf.length < LEAF_MIN) {
      const next = leaves[li + 1];
      if (next !== undefined && leaf.length + next.length <= LEAF_MAX >> 1) {
        for (const e of next) leaf.push(e);
        leaves.splice(li + 1, 1);
      }
    }
    return true;
  }

  get(key: string): V | undefined {
    this.flush();
    const leaves = this.leaves;
    if (leaves.length === 0) return undefined;
    const leaf = leaves[this.leafFor(key)] as V[];
    const e = leaf[lowerBound(leaf, key, 0)];
    return e !== undefined && e.key === key ? e : undefined;
  }

  /**
   * Calls `visit` on each entry with start <= key < end (end null: no upper bound), in key
   * order, until it returns false. The index must not be changed during the scan.
   */
  scan(start: string, end: string | null, visit: (v: V) => boolean): void {
    if (end !== null && end <= start) return;
    this.flush();
    const leaves = this.leaves;
    if (leaves.length === 0) return;
    let li = this.leafFor(start);
    let pos = lowerBound(leaves[li] as V[], start, 0);
    for (; li < leaves.length; li++, pos = 0) {
      const leaf = leaves[li] as V[];
      for (; pos < leaf.length; pos++) {
        const e = leaf[pos] as V;
        if (end !== null && e.key >= end) return;
        if (!visit(e)) return;
      }
    }
  }

  /** Every entry in key order. The index must not be changed during the iteration. */
  *[Symbol.iterator](): IterableIterator<V> {
    this.flush();
    for (const leaf of this.leaves) yield* leaf;
  }

  /** Places every buffered insert in the leaves. */
  private flush(): void {
    const pending = this.pending;
    if (pending.length === 0) return;
    this.pending = [];
    this.placed += pending.length;
    if (pending.length < MERGE_MIN) {
      for (const v of pending) this.place(v);
      return;
    }
    pending.sort(byKey);
    this.merge(pending);
  }

  /** Puts v in its leaf at once: two binary searches and a splice. */
  private place(v: V): void {
    const leaves = this.leaves;
    if (leaves.length === 0) {
      leaves.push([v]);
      return;
    }
    const li = this.leafFor(v.key);
    const leaf = leaves[li] as V[];
    const pos = lowerBound(leaf, v.key, 0);
    if (pos === leaf.length) leaf.push(v);
    else leaf.splice(pos, 0, v);
    if (leaf.length > LEAF_MAX) {
      const half = leaf.splice(LEAF_MAX >> 1);
      leaves.splice(li + 1, 0, half);
    }
  }

  /**
   * Merges sorted entries (keys distinct, none in the leaves) into the leaves: each run of
   * entries that falls into one leaf rebuilds that leaf once, split into leaves of at most
   * LEAF_MAX; leaves that receive nothing are kept as they are.
   */
  private merge(sorted: readonly V[]): void {
    const leaves = this.leaves;
    const out: V[][] = [];
    let p = 0;
    let kept = 0; // leaves[kept..] are not yet in out
    while (p < sorted.length) {
      const li = leaves.length === 0 ? 0 : this.leafFor((sorted[p] as V).key);
      for (; kept < li; kept++) out.push(leaves[kept] as V[]);
      const next = leaves[li + 1];
      let q = p + 1;
      if (next === undefined) {
        q = sorted.length;
      } else {
        const bound = (next[0] as V).key;
        while (q < sorted.length && (sorted[q] as V).key < bound) q++;
      }
      pushChunks(out, mergeRun(leaves[li] ?? [], sorted, p, q));
      kept = li + 1;
      p = q;
    }
    for (; kept < leaves.length; kept++) out.push(leaves[kept] as V[]);
    this.leaves = out;
  }

  /** The last leaf whose first key is <= key, or leaf 0. Requires at least one leaf. */
  private leafFor(key: string): number {
    const leaves = this.leaves;
    let lo = 0;
    let hi = leaves.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (((leaves[mid] as V[])[0] as V).key <= key) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/** The first position at or after `from` in the sorted leaf whose key is >= key. */
function lowerBound<V extends Keyed>(leaf: readonly V[], key: string, from: number): number {
  let lo = from;
  let hi = leaf.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((leaf[mid] as V).key < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The sorted leaf with sorted[p..q) merged in (their keys are not in the leaf). */
function mergeRun<V extends Keyed>(
  leaf: readonly V[],
  sorted: readonly V[],
  p: number,
  q: number,
): V[] {
  const out: V[] = [];
  let pos = 0;
  for (let i = p; i < q; i++) {
    const v = sorted[i] as V;
    const at = lowerBound(leaf, v.key, pos);
    for (; pos < at; pos++) out.push(leaf[pos] as V);
    out.push(v);
  }
  for (; pos < leaf.length; pos++) out.push(leaf[pos] as V);
  return out;
}

/** Appends `run` to `out` as leaves of at most LEAF_MAX entries, of even sizes. */
function pushChunks<V>(out: V[][], run: V[]): void {
  if (run.length <= LEAF_MAX) {
    out.push(run);
    return;
  }
  const chunks = Math.ceil(run.length / LEAF_MAX);
  for (let c = 0; c < chunks; c++) {
    out.push(
      run.slice(Math.floor((c * run.length) / chunks), Math.floor(((c + 1) * run.length) / chunks)),
    );
  }
}

function byKey(a: Keyed, b: Keyed): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
