// Reading fields out of an object's Kubernetes JSON (what `tug get -o json` shows) without
// casts at every step: each accessor walks a path of member names and returns the value when it
// has the expected type, else a neutral default. Printers work on this JSON, so a column reads
// the same field path the Kubernetes API reference documents.

import type { JsonObject, JsonValue } from "@tug/api";

/** The value at `path` below `value`, or undefined when any step is missing or not an object. */
export function at(value: JsonValue | undefined, ...path: string[]): JsonValue | undefined {
  let current: JsonValue | undefined = value;
  for (const name of path) {
    if (typeof current !== "object" || current === null || Array.isArray(current)) return undefined;
    current = current[name];
  }
  return current;
}

/** The string at `path`, or "" when absent or not a string. */
export function str(value: JsonValue | undefined, ...path: string[]): string {
  const found = at(value, ...path);
  return typeof found === "string" ? found : "";
}

/** The number at `path`, or undefined when absent or not a number. */
export function num(value: JsonValue | undefined, ...path: string[]): number | undefined {
  const found = at(value, ...path);
  return typeof found === "number" ? found : undefined;
}

/** The boolean at `path`, or false when absent or not a boolean. */
export function bool(value: JsonValue | undefined, ...path: string[]): boolean {
  return at(value, ...path) === true;
}

/** The array at `path`, or [] when absent or not an array. */
export function arr(value: JsonValue | undefined, ...path: string[]): JsonValue[] {
  const found = at(value, ...path);
  return Array.isArray(found) ? found : [];
}

/** The object at `path`, or undefined when absent or not an object. */
export function obj(value: JsonValue | undefined, ...path: string[]): JsonObject | undefined {
  const found = at(value, ...path);
  return typeof found === "object" && found !== null && !Array.isArray(found) ? found : undefined;
}

/** The string-valued members of the object at `path` (labels, annotations, selectors). */
export function stringMap(value: JsonValue | undefined, ...path: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, member] of Object.entries(obj(value, ...path) ?? {})) {
    if (typeof member === "string") out[key] = member;
  }
  return out;
}
