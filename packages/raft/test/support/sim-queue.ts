// The simulator's wire: messages in flight, ordered by delivery time (a binary min-heap).
// Random delivery times are what reorder messages; the sequence number breaks ties so that the
// order is a function of the seed alone.

import type { Message } from "../../src/index.js";

export interface InFlight {
  /** Simulated time of delivery, in ticks (fractional: several deliveries fit in one tick). */
  readonly at: number;
  readonly seq: number;
  readonly m: Message;
}

function before(a: InFlight, b: InFlight): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

export class MessageQueue {
  private readonly heap: InFlight[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(at: number, m: Message): void {
    const h = this.heap;
    h.push({ at, seq: this.seq++, m });
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

  /** Removes and returns the earliest message due strictly before `until`, if any. */
  popBefore(until: number): InFlight | undefined {
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
