// A seeded uniform [0, 1) generator (mulberry32) for property tests and the benchmarks: the
// same seed gives the same clusters, workloads and tie-breaks, so a failing seed replays.

export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
