// Keys as latin1 strings: one char per byte, so that JavaScript's string order (UTF-16 code
// units) is exactly etcd's byte order, and strings can key Maps and be compared natively.

/** The key bytes as a string of char codes 0..255. */
export function keyString(bytes: Uint8Array): string {
  const n = bytes.length;
  // fromCharCode over a typed array makes a flat string in one step (a loop of += makes a rope
  // that Map lookups must flatten); chunks keep the argument count under engines' limits.
  const CHUNK = 8192;
  if (n <= CHUNK) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  let s = "";
  for (let i = 0; i < n; i += CHUNK) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[]);
  }
  return s;
}

/** The inverse of keyString. */
export function keyBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Byte-wise comparison, like Go's bytes.Compare. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/**
 * The keys a request names, as etcd reads key/range_end: `end` undefined means the single key
 * `start`; null means every key >= `start`; otherwise the half-open [start, end).
 */
export interface KeyBounds {
  readonly start: string;
  readonly end: string | null | undefined;
}

export function keyBounds(key: Uint8Array, rangeEnd: Uint8Array | undefined): KeyBounds {
  const start = keyString(key);
  if (rangeEnd === undefined || rangeEnd.length === 0) return { start, end: undefined };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { start, end: null };
  return { start, end: keyString(rangeEnd) };
}

/** Whether key k lies within the bounds. */
export function inBounds(k: string, b: KeyBounds): boolean {
  if (b.end === undefined) return k === b.start;
  return k >= b.start && (b.end === null || k < b.end);
}
