// The simulator's agenda: messages in flight and other timed events, ordered by time (a binary
// min-heap). Random delivery times are what reorder messages; the sequence number breaks ties
// so that the order is a function of the seed alone.

export interface Scheduled<T> {
  /** Simulated time, in ticks (fractional: several events fit in one tick). */
  readonly at: number;
  readonly seq: number;
  readonly item: T;
}

function before<T>(a: Scheduled<T>, b: Scheduled<T>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

export class EventQueue<T> {
  private readonly heap: Scheduled<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(at: number, item: T): void {
    const h = this.heap;
    h.push({ at, seq: this.seq++, item });
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const x = h[i];
      const p = h[parent];
      if (x === undefined || p === undefined || !before(x, p)) break;
      h[i] = p;
      h[parent] = x;
      i = parent;
    }
  }

  /** Removes and returns the earliest event due strictly before `until`, if any. */
  popBefore(until: number): Scheduled<T> | undefined {
    const h = this.heap;
    const top = h[0];
    if (top === undefined || top.at >= until) return undefined;
    const last = h.pop();
    if (last !== undefined && h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        const hm = h[m];
        const hl = h[l];
        const hr = h[r];
        if (hl !== undefined && hm !== undefined && before(hl, hm)) m = l;
        const hm2 = h[m];
        if (hr !== undefined && hm2 !== undefined && before(hr, hm2)) m = r;
        if (m === i) break;
        const a = h[i];
        const b = h[m];
        if (a === undefined || b === undefined) break;
        h[i] = b;
        h[m] = a;
        i = m;
      }
    }
    return top;
  }
}
