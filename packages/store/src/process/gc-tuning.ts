// How a tug-store process sets V8's garbage collector: it lets the old generation grow to 3x
// what a full GC left alive before the next full GC (V8's --heap-growing-percent=200), instead
// of the factor V8 derives from its marking speed.
//
// Why: a member keeps its MVCC history and its Raft log in the heap, so every full GC
// (Mark-Compact) marks all of it, and its final pause stops the member for 15-50 ms on a busy
// 2-core machine; every request in flight through that member waits. V8's own factor is
// small when marking is fast compared with promotion, and the less a member promotes the
// tighter it gets: under 64 clients' puts each member ran 3-6 full GCs per 10 s. With 200,
// about one. Measured with `pnpm bench:store` on the idle 2-core machine, 4 alternated pairs
// (docs/store.md, "Measured 2026-12-06 11:12-11:22"): put p99 at 64 clients 0.81-0.84x etcd's
// with it, 0.85-1.01x without. The price is memory: between full GCs the heap may reach about
// 3x its live size.
//
// A node flag given on the command line wins (`node --heap-growing-percent=N tug-store.js`).

import { setFlagsFromString } from "node:v8";

/** The old generation may grow to (1 + HEAP_GROWING_PERCENT / 100) x its live size. */
export const HEAP_GROWING_PERCENT = 200;

export interface GcTuning {
  readonly heapGrowingPercent: number;
  /** "tug-store" when this module set it, "node flag" when the command line did. */
  readonly source: "tug-store" | "node flag";
}

const FLAG = /^--heap[-_]growing[-_]percent(?:=(\d+))?$/;

let applied: GcTuning | undefined;

/**
 * Sets V8's heap growing factor for this process unless `execArgv` (node's own flags) already
 * sets it. Call once, first thing in the process, before the heap has grown. `set` is for tests.
 */
export function applyGcTuning(
  execArgv: readonly string[] = process.execArgv,
  set: (flags: string) => void = setFlagsFromString,
): GcTuning {
  for (let i = 0; i < execArgv.length; i++) {
    const m = FLAG.exec(execArgv[i] as string);
    if (m === null) continue;
    const value = m[1] ?? execArgv[i + 1];
    applied = { heapGrowingPercent: Number(value), source: "node flag" };
    return applied;
  }
  set(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  applied = { heapGrowingPercent: HEAP_GROWING_PERCENT, source: "tug-store" };
  return applied;
}

/** What applyGcTuning did in this process; undefined if it was not called (an embedded store). */
export function gcTuning(): GcTuning | undefined {
  return applied;
}
