// Freezing what enters the cache, so a handler that mutates a shared object fails at the
// mutation instead of silently diverging every other reader's view from the API server.

/**
 * Freezes `value` and everything reachable from it, in place, and returns it. Typed arrays
 * (protobuf `bytes` fields) cannot be frozen by the language and are left writable; already
 * frozen subtrees are not walked again.
 */
export function deepFreeze<T>(value: T): T {
  freezeInto(value);
  return value;
}

function freezeInto(value: unknown): void {
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return;
  if (ArrayBuffer.isView(value)) return;
  Object.freeze(value);
  for (const key of Reflect.ownKeys(value)) {
    freezeInto((value as Record<PropertyKey, unknown>)[key]);
  }
}
