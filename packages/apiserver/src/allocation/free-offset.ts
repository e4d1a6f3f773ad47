// Choosing a free slot of a range, as Kubernetes' bitmap allocators do for dynamic allocation:
// a random free slot of the upper (dynamic) band, and of the static band only when the upper
// band is full (KEP-3070, KEP-3668).

/** Randomness in [0, 1), injected so that tests are deterministic. */
export type Random = () => number;

/** Random probes before scanning: a sparse range finds a slot at once, a full one still ends. */
const RANDOM_PROBES = 32;

/**
 * A free offset in [0, size) not in `used`, preferring [staticBand, size); undefined when every
 * offset is used.
 */
export function pickFreeOffset(
  size: number,
  staticBand: number,
  used: ReadonlySet<number>,
  random: Random,
): number | undefined {
  return pickIn(staticBand, size, used, random) ?? pickIn(0, staticBand, used, random);
}

function pickIn(
  lo: number,
  hi: number,
  used: ReadonlySet<number>,
  random: Random,
): number | undefined {
  const width = hi - lo;
  if (width <= 0) return undefined;
  for (let i = 0; i < RANDOM_PROBES; i++) {
    const offset = lo + Math.floor(random() * width);
    if (!used.has(offset)) return offset;
  }
  // Dense: scan from a random start, wrapping, so that the choice stays spread.
  const start = Math.floor(random() * width);
  for (let i = 0; i < width; i++) {
    const offset = lo + ((start + i) % width);
    if (!used.has(offset)) return offset;
  }
  return undefined;
}
