// Seeded random JSON documents for the merge patch property tests.
import type { JsonValue } from "../../src/patch/json-value.js";

/** A small seeded PRNG: a failing seed replays exactly. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random JSON value without null members (merge patch cannot express them). */
export function randomDocument(rng: () => number, depth: number): JsonValue {
  const kind = Math.floor(rng() * (depth > 0 ? 6 : 4));
  switch (kind) {
    case 0:
      return Math.floor(rng() * 5);
    case 1:
      return ["a", "b", "c"][Math.floor(rng() * 3)] as string;
    case 2:
      return rng() < 0.5;
    case 3:
      return [Math.floor(rng() * 3)];
    default: {
      const object: Record<string, JsonValue> = {};
      const members = Math.floor(rng() * 4);
      for (let i = 0; i < members; i++)
        object[`k${Math.floor(rng() * 5)}`] = randomDocument(rng, depth - 1);
      return object;
    }
  }
}

export function mutate(rng: () => number, value: JsonValue, depth: number): JsonValue {
  if (rng() < 0.2) return randomDocument(rng, depth);
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const copy: Record<string, JsonValue> = {};
  for (const [name, member] of Object.entries(value)) {
    const roll = rng();
    if (roll < 0.2) continue; // removed
    copy[name] = roll < 0.5 ? mutate(rng, member, depth - 1) : member;
  }
  if (rng() < 0.4) copy[`n${Math.floor(rng() * 3)}`] = randomDocument(rng, depth - 1);
  return copy;
}
