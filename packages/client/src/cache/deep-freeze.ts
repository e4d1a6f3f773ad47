// Freezing what enters the cache, so a handler that mutates a shared object fails at the
// mutation instead of silently diverging every other reader's view from the API server.

/**
 * Freezes `value` and everything reachable from it through own enumerable string-keyed
 * properties and array elements, in place, and returns it. That is every field of a
 * protobuf-es message (plain objects and arrays; map fields are plain objects). Typed arrays
 * (protobuf `bytes` fields) cannot be frozen by the language and are left writable; already
 * frozen subtrees are not walked again.
 *
 * The walk is on every informer's hot path (each watch event), so it avoids the allocations of
 * `Reflect.ownKeys`: a `for...in` over a message costs less than half as much, which matters
 * when it is done as often as decoding.
 */
export function deepFreeze<T>(value: T): T {
  if (isFreezable(value)) freezeInto(value);
  return value;
}

function isFreezable(value: unknown): value is object {
  return (
    typeof value === "object" &&
    value !== null &&
    !Object.isFrozen(value) &&
    !ArrayBuffer.isView(value)
  );
}

function freezeInto(value: object): void {
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (isFreezable(item)) freezeInto(item);
    }
    return;
  }
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const field: unknown = (value as Record<string, unknown>)[key];
    if (isFreezable(field)) freezeInto(field);
  }
}
