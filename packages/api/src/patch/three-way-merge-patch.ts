// The merge patch `tug apply` sends: kubectl's three-way JSON merge patch (k8s.io/apimachinery
// jsonmergepatch.CreateThreeWayJSONMergePatch, the form kubectl uses for resources without a
// strategic-merge schema), built from
// - original: the manifest applied last time (the kubectl.kubernetes.io/last-applied-configuration
//   annotation), or null on the first apply,
// - modified: the manifest being applied now,
// - current: the live object.
// Members the user removed from the manifest (in original, not in modified) are deleted;
// members whose live value differs from the manifest are set to it; members only the cluster
// wrote (defaults, status, fields other clients own) are left alone.
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
 * The merge patch that makes `current` agree with `modified` while keeping members the
 * manifests never held (see the file comment). `original` null means "no last-applied
 * manifest": nothing is deleted. Returns {} when nothing needs to change. If `modified` or
 * `current` is not an object, the patch is `modified` itself (replace the whole document).
 */
export function createThreeWayMergePatch(
  original: JsonValue,
  modified: JsonValue,
  current: JsonValue,
): JsonValue {
  if (!isJsonObject(modified) || !isJsonObject(current)) return cloneJson(modified);
  const changes = diff(current, modified, false);
  const deletions = isJsonObject(original) ? diff(original, modified, true) : {};
  return mergeDisjoint(changes, deletions);
}

/**
 * With deletionsOnly false: the additions and changes taking `from` to `to`, ignoring members
 * `to` lacks. With deletionsOnly true: only the null members for what `to` lacks.
 */
function diff(from: JsonObject, to: JsonObject, deletionsOnly: boolean): JsonObject {
  const patch: JsonObject = {};
  if (deletionsOnly) {
    for (const name of Object.keys(from)) {
      if (!Object.hasOwn(to, name)) setMember(patch, name, null);
    }
  }
  for (const [name, value] of Object.entries(to)) {
    const before = getMember(from, name);
    if (before === undefined) {
      if (!deletionsOnly) setMember(patch, name, cloneJson(value));
    } else if (!jsonEqual(before, value)) {
      if (isJsonObject(before) && isJsonObject(value)) {
        const nested = diff(before, value, deletionsOnly);
        if (Object.keys(nested).length > 0) setMember(patch, name, nested);
      } else if (!deletionsOnly) {
        setMember(patch, name, cloneJson(value));
      }
    }
  }
  return patch;
}

/**
 * Merges the deletions into the changes. At any one level their member names differ (a
 * deletion is for a member `modified` lacks, a change for one it has), except for objects
 * present in both, which merge recursively.
 */
function mergeDisjoint(changes: JsonObject, deletions: JsonObject): JsonObject {
  const merged: JsonObject = changes;
  for (const [name, value] of Object.entries(deletions)) {
    const existing = getMember(merged, name);
    if (isJsonObject(existing) && isJsonObject(value)) {
      setMember(merged, name, mergeDisjoint(existing, value));
    } else {
      setMember(merged, name, value);
    }
  }
  return merged;
}
