// Plain JSON values (RFC 8259) and the few operations the patch formats need on them.
// Object members are read and written as own properties only, so member names such as
// "__proto__" or "constructor" are ordinary data, never the prototype chain.

import type { JsonObject, JsonValue } from "@bufbuild/protobuf";

// protobuf-es's JSON types, so that the patch functions take and return exactly what the
// scheme's toJson/fromJson use.
export type { JsonObject, JsonValue };

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The member `name` of `object` if it has one of its own, else undefined. */
export function getMember(object: JsonObject, name: string): JsonValue | undefined {
  return Object.hasOwn(object, name) ? object[name] : undefined;
}

/** Sets member `name`, defining it as an own data property even when it is "__proto__". */
export function setMember(object: JsonObject, name: string, value: JsonValue): void {
  Object.defineProperty(object, name, {
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  });
}

/** A deep copy sharing nothing with `value`. */
export function cloneJson(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(cloneJson);
  if (isJsonObject(value)) {
    const copy: JsonObject = {};
    for (const [name, member] of Object.entries(value)) setMember(copy, name, cloneJson(member));
    return copy;
  }
  return value;
}

/**
 * JSON equality as RFC 6902 §4.6 defines it for "test": same type; numbers numerically equal;
 * strings equal code unit by code unit; arrays equal element by element in order; objects with
 * the same member names (in any order) whose values are equal.
 */
export function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((element, i) => jsonEqual(element, b[i] as JsonValue));
  }
  if (isJsonObject(a)) {
    if (!isJsonObject(b)) return false;
    const names = Object.keys(a);
    if (names.length !== Object.keys(b).length) return false;
    return names.every((name) => {
      const other = getMember(b, name);
      return other !== undefined && jsonEqual(a[name] as JsonValue, other);
    });
  }
  return false;
}

/** A short rendering of `value` for error messages. */
export function describeJson(value: JsonValue, limit = 80): string {
  const text = JSON.stringify(value);
  return text.length > limit ? `${text.slice(0, limit - 3)}...` : text;
}
