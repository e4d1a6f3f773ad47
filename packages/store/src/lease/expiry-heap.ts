// A binary min-heap of deadlines, the lessor's replacement for etcd's LeaseExpiredNotifier.
// Entries are ordered by (time, tie), so equal deadlines pop in a fixed order (the lessor ties
// on the lease ID) and every member that runs the same calls pops the same sequence.
//
// Deletion is lazy: the heap never searches for an entry. Each entry carries a `tag`; its owner
// remembers the tag of the one entry that is current and treats any other popped entry as
// stale. `retain` drops stale entries in O(n) when they pile up.

export class ExpiryHeap<T> {
  // Parallel arrays rather than an object per entry: less garbage at 100k leases.
  private times: number[] = [];
  private ties: number[] = [];
  private tags: number[] = [];
  private items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  /** The deadline at the top; Infinity when the heap is empty. */
  topTime(): number {
    return this.times.length === 0 ? Number.POSITIVE_INFINITY : (this.times[0] as number);
  }

  /** The tag of the top entry; -1 when the heap is empty. */
  topTag(): number {
    return this.tags.length === 0 ? -1 : (this.tags[0] as number);
  }

  /** The item at the top, or undefined when the heap is empty. */
  top(): T | undefined {
    return this.items[0];
  }

  push(time: number, tie: number, tag: number, item: T): void {
    this.times.push(time);
    this.ties.push(tie);
    this.tags.push(tag);
    this.items.push(item);
    this.up(this.items.length - 1);
  }

  /** Removes the top entry and returns its item. */
  pop(): T | undefined {
    const n = this.items.length;
    if (n === 0) return undefined;
    const item = this.items[0] as T;
    const last = n - 1;
    if (last > 0) this.move(last, 0);
    this.times.pop();
    this.ties.pop();
    this.tags.pop();
    this.items.pop();
    if (last > 1) this.down(0);
    return item;
  }

  clear(): void {
    this.times = [];
    this.ties = [];
    this.tags = [];
    this.items = [];
  }

  /** Keeps only the entries `keep` accepts, and restores heap order in O(n). */
  retain(keep: (item: T, tag: number) => boolean): void {
    let w = 0;
    for (let r = 0; r < this.items.length; r++) {
      if (!keep(this.items[r] as T, this.tags[r] as number)) continue;
      if (w !== r) this.move(r, w);
      w++;
    }
    this.times.length = w;
    this.ties.length = w;
    this.tags.length = w;
    this.items.length = w;
    for (let i = (w >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private less(i: number, j: number): boolean {
    const ti = this.times[i] as number;
    const tj = this.times[j] as number;
    return ti < tj || (ti === tj && (this.ties[i] as number) < (this.ties[j] as number));
  }

  private move(from: number, to: number): void {
    this.times[to] = this.times[from] as number;
    this.ties[to] = this.ties[from] as number;
    this.tags[to] = this.tags[from] as number;
    this.items[to] = this.items[from] as T;
  }

  private swap(i: number, j: number): void {
    const t = this.times[i] as number;
    this.times[i] = this.times[j] as number;
    this.times[j] = t;
    const e = this.ties[i] as number;
    this.ties[i] = this.ties[j] as number;
    this.ties[j] = e;
    const g = this.tags[i] as number;
    this.tags[i] = this.tags[j] as number;
    this.tags[j] = g;
    const it = this.items[i] as T;
    this.items[i] = this.items[j] as T;
    this.items[j] = it;
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.items.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const min = r < n && this.less(r, l) ? r : l;
      if (!this.less(min, i)) return;
      this.swap(i, min);
      i = min;
    }
  }
}
