// Test helper: decoded requests as plain data, for toEqual across decoders.

/** Bytes as plain arrays, so that Buffer views and Uint8Arrays of the same bytes compare equal. */
export function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return Array.from(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}
