// The decision `tug apply` makes for one object, as kubectl's client-side apply does: create
// it (recording the manifest in the kubectl.kubernetes.io/last-applied-configuration
// annotation) when it does not exist; else send the three-way merge patch between the last
// applied manifest, this manifest and the live object, or nothing when that patch is empty.
// https://kubernetes.io/docs/tasks/manage-kubernetes-objects/declarative-config/

import {
  applyDefaults,
  applyMergePatch,
  createThreeWayMergePatch,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  jsonEqual,
  objectFromJson,
  objectToJson,
} from "@tug/api";
import { obj, str } from "../printers/json-view.js";

/** The annotation holding the manifest last applied (kubectl's name, so kubectl reads it). */
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

export type ApplyPlan =
  | { readonly action: "create"; readonly object: JsonObject }
  | { readonly action: "patch"; readonly patch: JsonObject }
  | { readonly action: "unchanged" };

/**
 * The manifest with the last-applied annotation set to its own JSON (without that annotation,
 * and without status and the fields only the server sets), as kubectl records it.
 */
export function withLastApplied(manifest: JsonObject): JsonObject {
  const copy = structuredClone(manifest);
  const metadata = obj(copy, "metadata") ?? {};
  const annotations = { ...(obj(metadata, "annotations") ?? {}) };
  delete annotations[LAST_APPLIED_ANNOTATION];
  const recorded: JsonObject = structuredClone(copy);
  const recordedMeta = obj(recorded, "metadata");
  if (recordedMeta !== undefined) {
    if (Object.keys(annotations).length === 0) delete recordedMeta.annotations;
    else recordedMeta.annotations = annotations;
    for (const serverField of ["resourceVersion", "uid", "creationTimestamp", "generation"]) {
      delete recordedMeta[serverField];
    }
  }
  delete recorded.status;
  copy.metadata = {
    ...metadata,
    annotations: { ...annotations, [LAST_APPLIED_ANNOTATION]: `${JSON.stringify(recorded)}\n` },
  };
  return copy;
}

/** The manifest last applied to `live`, or null when it was never applied (or unreadable). */
export function lastApplied(live: JsonObject): JsonValue {
  const text = str(live, "metadata", "annotations", LAST_APPLIED_ANNOTATION);
  if (text === "") return null;
  try {
    const parsed: JsonValue = JSON.parse(text);
    return isJsonObject(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/** What apply does for `manifest` given the live object (undefined when it does not exist). */
export function planApply(manifest: JsonObject, live: JsonObject | undefined): ApplyPlan {
  const modified = withLastApplied(manifest);
  if (live === undefined) return { action: "create", object: modified };
  const patch = createThreeWayMergePatch(lastApplied(live), modified, live);
  if (!isJsonObject(patch)) return { action: "patch", patch: modified };
  if (Object.keys(patch).length === 0 || patchChangesNothing(live, patch)) {
    return { action: "unchanged" };
  }
  return { action: "patch", patch };
}

/**
 * Whether the server would store the same object after this patch. A JSON merge patch
 * replaces whole lists, so a manifest's containers (without the server's defaults) always
 * differ from the live ones; once the patched object gets Kubernetes' defaults again, as the
 * server gives it, it may be exactly the live object, and then apply sends nothing (where
 * kubectl's strategic merge patch, merging lists by key, would have been empty).
 */
export function patchChangesNothing(live: JsonObject, patch: JsonObject): boolean {
  try {
    const patched = applyMergePatch(structuredClone(live), patch);
    if (!isJsonObject(patched)) return false;
    return jsonEqual(
      objectToJson(applyDefaults(objectFromJson(patched))),
      objectToJson(objectFromJson(live)),
    );
  } catch {
    // A patch that does not decode is the server's to judge (and to explain).
    return false;
  }
}
