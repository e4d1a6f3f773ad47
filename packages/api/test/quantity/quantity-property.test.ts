import { describe, expect, it } from "vitest";
import { Quantity } from "../../src/quantity.js";

/** A small seeded generator (mulberry32), so a failing case is replayable from its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SUFFIXES = [
  "",
  "n",
  "u",
  "m",
  "k",
  "M",
  "G",
  "T",
  "P",
  "E",
  "Ki",
  "Mi",
  "Gi",
  "Ti",
  "Pi",
  "Ei",
];
const SUFFIX_NANOS: Record<string, bigint> = {
  "": 10n ** 9n,
  n: 1n,
  u: 10n ** 3n,
  m: 10n ** 6n,
  k: 10n ** 12n,
  M: 10n ** 15n,
  G: 10n ** 18n,
  T: 10n ** 21n,
  P: 10n ** 24n,
  E: 10n ** 27n,
  Ki: 1024n * 10n ** 9n,
  Mi: 1024n ** 2n * 10n ** 9n,
  Gi: 1024n ** 3n * 10n ** 9n,
  Ti: 1024n ** 4n * 10n ** 9n,
  Pi: 1024n ** 5n * 10n ** 9n,
  Ei: 1024n ** 6n * 10n ** 9n,
};

function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)] as T;
}

function digits(next: () => number, max: number): string {
  const n = Math.floor(next() * (max + 1));
  let out = "";
  for (let i = 0; i < n; i++) out += String(Math.floor(next() * 10));
  return out;
}

/** Random text in Kubernetes' quantity grammar, every suffix family and sign. */
function randomQuantityText(next: () => number): string {
  const sign = pick(next, ["", "", "-", "+"]);
  let whole = digits(next, 10);
  const fraction = next() < 0.5 ? digits(next, 12) : "";
  if (whole === "" && fraction === "") whole = "0";
  const number = fraction === "" && next() < 0.8 ? whole : `${whole}.${fraction}`;
  const suffix =
    next() < 0.25
      ? `${pick(next, ["e", "E"])}${pick(next, ["", "-", "+"])}${Math.floor(next() * 25)}`
      : pick(next, SUFFIXES);
  return `${sign}${number}${suffix}`;
}

const SEEDS = 3000;

describe("quantity properties over seeded random quantities", () => {
  it("parse(format(q)) == q, and formatting is idempotent", () => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const text = randomQuantityText(rng(seed));
      const q = Quantity.parse(text);
      const printed = q.toString();
      const again = Quantity.parse(printed);
      expect(again.nanos, `seed ${seed}: ${text} printed ${printed}`).toBe(q.nanos);
      expect(again.toString(), `seed ${seed}: ${text}`).toBe(printed);
    }
  });

  it("a + b - b == a, and a + b == b + a", () => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const next = rng(seed);
      const a = Quantity.parse(randomQuantityText(next));
      const b = Quantity.parse(randomQuantityText(next));
      expect(a.add(b).sub(b).equals(a), `seed ${seed}: ${a} ${b}`).toBe(true);
      expect(a.add(b).equals(b.add(a)), `seed ${seed}: ${a} ${b}`).toBe(true);
      expect(a.sub(b).equals(b.sub(a).neg()), `seed ${seed}: ${a} ${b}`).toBe(true);
    }
  });

  it("integer mantissas with a suffix are exactly mantissa × suffix", () => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const next = rng(seed);
      const mantissa = BigInt(digits(next, 15) || "0");
      const suffix = pick(next, SUFFIXES);
      const q = Quantity.parse(`${mantissa}${suffix}`);
      expect(q.nanos, `seed ${seed}: ${mantissa}${suffix}`).toBe(
        mantissa * (SUFFIX_NANOS[suffix] as bigint),
      );
    }
  });

  it("milli-value is the ceiling of |q| in thousandths, with q's sign", () => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const q = Quantity.parse(randomQuantityText(rng(seed)));
      const milli = q.milliValue();
      // |milli| - 1 < |q| in thousandths <= |milli|
      const n = q.nanos < 0n ? -q.nanos : q.nanos;
      const m = milli < 0n ? -milli : milli;
      expect(m * 1_000_000n >= n && (m - 1n) * 1_000_000n < n, `seed ${seed}: ${q}`).toBe(true);
      expect(q.sign() === 0 ? milli === 0n : milli < 0n === q.sign() < 0, `seed ${seed}`).toBe(
        true,
      );
    }
  });
});
