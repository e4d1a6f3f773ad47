// An ordered set of entries keyed by latin1 strings: a sorted list of sorted leaves (a two-level
// B+tree, the layout of Python's sortedcontainers). Lookup is two binary searches, O(log n); an
// insert or removal moves at most LEAF_MAX references inside one leaf, plus one leaf reference
// in the top array when a leaf splits or empties; a range scan walks leaves in order.

/** Leaves split beyond this many entries. 512 keeps splices cheap and scans cache-friendly. */
const LEAF_MAX = 512;
/** A leaf this small is merged into its neighbour when both fit in half a full leaf. */
const LEAF_MIN = LEAF_MAX / 8;

export interface Keyed {
  readonly key: string;
}

export class OrderedIndex<V extends Keyed> {
  /** Non-empty sorted leaves, ordered: every key of leaves[i] is below every key of leaves[i+1]. */
  private leaves: V[][] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds v. Its key must not be present already (the caller keeps a Map beside the index). */
  insert(v: V): void {
    this.count++;
    const leaves = this.leaves;
    if (leaves.length === 0) {
      leaves.push([v]);
      return;
    }
    const li = this.leafFor(v.key);
    const leaf = leaves[li] as V[];
    const pos = lowerBound(leaf, v.key);
    if (pos === leaf.length) leaf.push(v);
    else leaf.splice(pos, 0, v);
    if (leaf.length > LEAF_MAX) {
      const half = leaf.splice(LEAF_MAX >> 1);
      leaves.splice(li + 1, 0, half);
    }
  }

  /** Removes the entry with this key; false if there was none. */
  remove(key: string): boolean {
    const leaves = this.leaves;
    if (leaves.length === 0) return false;
    const li = this.leafFor(key);
    const leaf = leaves[li] as V[];
    const pos = lowerBound(leaf, key);
    if (pos === leaf.length || (leaf[pos] as V).key !== key) return false;
    leaf.splice(pos, 1);
    this.count--;
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
    const leaves = this.leaves;
    if (leaves.length === 0) return undefined;
    const leaf = leaves[this.leafFor(key)] as V[];
    const e = leaf[lowerBound(leaf, key)];
    return e !== undefined && e.key === key ? e : undefined;
  }

  /**
   * Calls `visit` on each entry with start <= key < end (end null: no upper bound), in key
   * order, until it returns false. The index must not be changed during the scan.
   */
  scan(start: string, end: string | null, visit: (v: V) => boolean): void {
    const leaves = this.leaves;
    if (leaves.length === 0) return;
    if (end !== null && end <= start) return;
    let li = this.leafFor(start);
    let pos = lowerBound(leaves[li] as V[], start);
    for (; li < leaves.length; li++, pos = 0) {
      const leaf = leaves[li] as V[];
      for (; pos < leaf.length; pos++) {
        const e = leaf[pos] as V;
        if (end !== null && e.key >= end) return;
        if (!visit(e)) return;
      }
    }
  }

  /** Every entry in key order. */
  *[Symbol.iterator](): IterableIterator<V> {
    for (const leaf of this.leaves) yield* leaf;
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

/** The first position in the sorted leaf whose key is >= key. */
function lowerBound<V extends Keyed>(leaf: readonly V[], key: string): number {
  let lo = 0;
  let hi = leaf.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((leaf[mid] as V).key < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
