// JSON Merge Patch: RFC 7386 (republished with an erratum fixed as RFC 7396; same algorithm).
// A patch object says, member by member: null deletes, an object merges recursively, anything
// else replaces. A patch that is not an object replaces the whole target. Kubernetes serves it
// as the "application/merge-patch+json" patch type.
import {
  cloneJson,
  getMember,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  jsonEqual,
  setMember,
} from "./json-value.js";

/**
 * Applies merge `patch` to `target` (RFC 7386 §2) and returns the result. Neither input is
 * mutated, and the result shares no objects or arrays with them.
 */
export function applyMergePatch(target: JsonValue, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch)) return cloneJson(patch);
  const result: JsonObject = {};
  if (isJsonObject(target)) {
    for (const [name, value] of Object.entries(target)) {
      if (!Object.hasOwn(patch, name)) setMember(result, name, cloneJson(value));
    }
  }
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) continue;
    const current = isJsonObject(target) ? getMember(target, name) : undefined;
    setMember(result, name, applyMergePatch(current ?? null, value));
  }
  return result;
}

/**
 * A merge patch that turns `original` into `modified`: members only in `original` become
 * null, changed members are given (objects as a nested patch, anything else whole), equal
 * members are left out. Equal objects give {}, a patch that changes nothing.
 *
 * Merge patch cannot set a member to null (RFC 7386 §1), so a null member in `modified`
 * reads as "delete": applyMergePatch(original, createMergePatch(original, modified)) equals
 * `modified` whenever `modified` holds no null member value.
 */
export function createMergePatch(original: JsonValue, modified: JsonValue): JsonValue {
  if (!isJsonObject(original) || !isJsonObject(modified)) return cloneJson(modified);
  const patch: JsonObject = {};
  for (const name of Object.keys(original)) {
    if (!Object.hasOwn(modified, name)) setMember(patch, name, null);
  }
  for (const [name, value] of Object.entries(modified)) {
    const before = getMember(original, name);
    if (before === undefined) {
      setMember(patch, name, cloneJson(value));
    } else if (!jsonEqual(before, value)) {
      setMember(patch, name, createMergePatch(before, value));
    }
  }
  return patch;
}
