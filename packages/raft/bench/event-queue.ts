// A min-heap of timed events for the discrete-event simulation. Ties in time keep insertion
// order (a sequence number breaks them), so a run is a pure function of its seed.

interface Slot<T> {
  readonly time: number;
  readonly seq: number;
  readonly item: T;
}

export class EventQueue<T> {
  private readonly heap: Slot<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(time: number, item: T): void {
    const slot: Slot<T> = { time, seq: this.seq++, item };
    const h = this.heap;
    h.push(slot);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as Slot<T>;
      if (!earlier(slot, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = slot;
  }

  /** Removes and returns the earliest event. */
  pop(): Slot<T> | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const left = h[l] as Slot<T>;
      const right = h[l + 1];
      const [c, child] = right !== undefined && earlier(right, left) ? [l + 1, right] : [l, left];
      if (!earlier(child, last)) break;
      h[i] = child;
      i = c;
    }
    h[i] = last;
    return top;
  }
}

function earlier<T>(a: Slot<T>, b: Slot<T>): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
