// Patch formats on plain JSON values: JSON Merge Patch (RFC 7386) and JSON Patch (RFC 6902).
export {
  applyJsonPatch,
  type JsonPatchOperation,
  MAX_JSON_PATCH_OPERATIONS,
  parseJsonPatch,
} from "./json-patch.js";
export { formatJsonPointer, parseJsonPointer } from "./json-pointer.js";
export {
  cloneJson,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  jsonEqual,
} from "./json-value.js";
export { applyMergePatch, createMergePatch } from "./merge-patch.js";
export {
  PatchError,
  type PatchErrorCode,
  type PatchErrorLocation,
  type PatchErrorReason,
} from "./patch-error.js";
export { createThreeWayMergePatch } from "./three-way-merge-patch.js";
