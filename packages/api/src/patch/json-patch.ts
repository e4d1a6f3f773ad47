// JSON Patch, RFC 6902: an array of operations (add, remove, replace, move, copy, test) applied
// in order; if any fails, the whole patch fails and the document is left as it was (§5).
// Kubernetes serves it as the "application/json-patch+json" patch type.
import { formatJsonPointer, parseJsonPointer } from "./json-pointer.js";
import {
  cloneJson,
  describeJson,
  getMember,
  isJsonObject,
  type JsonValue,
  jsonEqual,
  setMember,
} from "./json-value.js";
import { PatchError, type PatchErrorLocation } from "./patch-error.js";

export type JsonPatchOperation =
  | { readonly op: "add"; readonly path: string; readonly value: JsonValue }
  | { readonly op: "remove"; readonly path: string }
  | { readonly op: "replace"; readonly path: string; readonly value: JsonValue }
  | { readonly op: "move"; readonly from: string; readonly path: string }
  | { readonly op: "copy"; readonly from: string; readonly path: string }
  | { readonly op: "test"; readonly path: string; readonly value: JsonValue };

/**
 * The most operations one JSON patch may hold: kube-apiserver's maxJSONPatchOperations, which
 * bounds the CPU a single request can spend (each operation walks the document).
 */
export const MAX_JSON_PATCH_OPERATIONS = 10_000;

const OPS = ["add", "remove", "replace", "move", "copy", "test"] as const;

/**
 * Checks that `patch` (parsed JSON, e.g. a request body) is a JSON Patch document: an array of
 * objects, each with a known "op", a string "path", a "value" for add/replace/test and a
 * string "from" for move/copy (RFC 6902 §4). Other members are ignored (§4). Pointer syntax is
 * checked too. Throws a malformed PatchError naming the operation and the member to fix, or a
 * too-large one past MAX_JSON_PATCH_OPERATIONS operations.
 */
export function parseJsonPatch(patch: unknown): JsonPatchOperation[] {
  if (!Array.isArray(patch)) {
    throw new PatchError(
      "malformed",
      `a JSON patch must be an array of operations such as [{"op":"replace","path":"/spec/replicas","value":3}], got ${typeName(patch)}`,
    );
  }
  if (patch.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new PatchError(
      "too-large",
      `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${patch.length}`,
    );
  }
  return patch.map((operation: unknown, index) => parseOperation(operation, index));
}

/**
 * Applies `patch` to `document` (RFC 6902 §5) and returns the result. All or nothing: the
 * operations run on a deep copy, so `document` and `patch` are never mutated, and the first
 * failing operation throws a PatchError whose message starts with
 * "patch operation <index> (<op> <path>)" (index 0 is the first operation).
 */
export function applyJsonPatch(
  document: JsonValue,
  patch: readonly JsonPatchOperation[],
): JsonValue {
  const operations = parseJsonPatch(patch);
  let root = cloneJson(document);
  operations.forEach((operation, index) => {
    root = applyOperation(root, operation, {
      operationIndex: index,
      op: operation.op,
      path: operation.path,
    });
  });
  return root;
}

function applyOperation(
  root: JsonValue,
  operation: JsonPatchOperation,
  at: PatchErrorLocation,
): JsonValue {
  const path = parseJsonPointer(operation.path);
  switch (operation.op) {
    case "add":
      return add(root, path, cloneJson(operation.value), at);
    case "remove":
      remove(root, path, at);
      return root;
    case "replace":
      return replace(root, path, cloneJson(operation.value), at);
    case "move": {
      const from = parseJsonPointer(operation.from);
      if (from.length < path.length && from.every((token, i) => token === path[i])) {
        throw new PatchError(
          "failed",
          `cannot move ${operation.from} into its own child; "from" must not be a prefix of "path"`,
          at,
        );
      }
      if (from.length === path.length && from.every((token, i) => token === path[i])) {
        resolve(root, from, at, '"from"');
        return root;
      }
      return add(root, path, remove(root, from, at, '"from"'), at);
    }
    case "copy": {
      const value = resolve(root, parseJsonPointer(operation.from), at, '"from"');
      return add(root, path, cloneJson(value), at);
    }
    case "test": {
      const actual = resolve(root, path, at, "path");
      if (!jsonEqual(actual, operation.value)) {
        throw new PatchError(
          "failed",
          `test failed: the value is ${describeJson(actual)}, expected ${describeJson(operation.value)}`,
          at,
        );
      }
      return root;
    }
  }
}

/** The value at `tokens`, or a "path not found" PatchError saying which step is missing. */
function resolve(
  root: JsonValue,
  tokens: readonly string[],
  at: PatchErrorLocation,
  which: string,
): JsonValue {
  let current = root;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    const here = formatJsonPointer(tokens.slice(0, i));
    let next: JsonValue | undefined;
    if (Array.isArray(current)) {
      const index = arrayIndex(token, at);
      if (index === "-" || index >= current.length) {
        throw notFound(
          which,
          `index ${token} is out of range for ${where(here)} (length ${current.length})`,
          at,
        );
      }
      next = current[index];
    } else if (isJsonObject(current)) {
      next = getMember(current, token);
      if (next === undefined)
        throw notFound(which, `${where(here)} has no member ${JSON.stringify(token)}`, at);
    } else {
      throw notFound(which, `${where(here)} is ${typeName(current)}, not an object or array`, at);
    }
    current = next as JsonValue;
  }
  return current;
}

/** Adds `value` at `tokens` (RFC 6902 §4.1): inserts into arrays, sets object members. */
function add(
  root: JsonValue,
  tokens: readonly string[],
  value: JsonValue,
  at: PatchErrorLocation,
): JsonValue {
  if (tokens.length === 0) return value;
  const parentTokens = tokens.slice(0, -1);
  const parent = resolve(root, parentTokens, at, "path");
  const last = tokens[tokens.length - 1] as string;
  if (Array.isArray(parent)) {
    const index = arrayIndex(last, at);
    if (index === "-") {
      parent.push(value);
    } else if (index > parent.length) {
      throw notFound(
        "path",
        `index ${last} is past the end of ${where(formatJsonPointer(parentTokens))} (length ${parent.length}); use "-" to append`,
        at,
      );
    } else {
      parent.splice(index, 0, value);
    }
  } else if (isJsonObject(parent)) {
    setMember(parent, last, value);
  } else {
    throw notFound(
      "path",
      `${where(formatJsonPointer(parentTokens))} is ${typeName(parent)}, not an object or array`,
      at,
    );
  }
  return root;
}

/** Replaces the value at `tokens` (RFC 6902 §4.3), which must exist, with `value`. */
function replace(
  root: JsonValue,
  tokens: readonly string[],
  value: JsonValue,
  at: PatchErrorLocation,
): JsonValue {
  resolve(root, tokens, at, "path");
  if (tokens.length === 0) return value;
  const parent = resolve(root, tokens.slice(0, -1), at, "path");
  const last = tokens[tokens.length - 1] as string;
  if (Array.isArray(parent)) parent[arrayIndex(last, at) as number] = value;
  else if (isJsonObject(parent)) setMember(parent, last, value);
  return root;
}

/** Removes the value at `tokens` (RFC 6902 §4.2), which must exist, and returns it. */
function remove(
  root: JsonValue,
  tokens: readonly string[],
  at: PatchErrorLocation,
  which = "path",
): JsonValue {
  const value = resolve(root, tokens, at, which);
  if (tokens.length === 0) {
    throw new PatchError(
      "failed",
      `cannot remove the whole document; use "replace" with path ""`,
      at,
    );
  }
  const parent = resolve(root, tokens.slice(0, -1), at, which);
  const last = tokens[tokens.length - 1] as string;
  if (Array.isArray(parent)) {
    parent.splice(arrayIndex(last, at) as number, 1);
  } else if (isJsonObject(parent)) {
    delete parent[last];
  }
  return value;
}

/** An array index token: "0" or digits without a leading zero (RFC 6901 §4), or "-". */
function arrayIndex(token: string, at: PatchErrorLocation): number | "-" {
  if (token === "-") return "-";
  if (!/^(0|[1-9][0-9]*)$/.test(token)) {
    throw new PatchError(
      "failed",
      `${JSON.stringify(token)} is not an array index: use a non-negative integer without leading zeros, or "-" to append`,
      at,
    );
  }
  return Number(token);
}

function notFound(which: string, detail: string, at: PatchErrorLocation): PatchError {
  const what = which === "path" ? "path not found" : `${which} path not found`;
  return new PatchError("failed", `${what}: ${detail}`, at);
}

function where(pointer: string): string {
  return pointer === "" ? "the document" : pointer;
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `a ${typeof value}`;
}

function parseOperation(operation: unknown, index: number): JsonPatchOperation {
  if (typeof operation !== "object" || operation === null || Array.isArray(operation)) {
    throw new PatchError(
      "malformed",
      `must be an object with "op" and "path", got ${typeName(operation)}`,
      { operationIndex: index },
    );
  }
  const fields = operation as Record<string, unknown>;
  const op = Object.hasOwn(fields, "op") ? fields.op : undefined;
  const path = Object.hasOwn(fields, "path") ? fields.path : undefined;
  const at: PatchErrorLocation = {
    operationIndex: index,
    ...(typeof op === "string" ? { op } : {}),
    ...(typeof path === "string" ? { path } : {}),
  };
  if (typeof op !== "string" || !(OPS as readonly string[]).includes(op)) {
    throw new PatchError(
      "malformed",
      `"op" must be one of ${OPS.join(", ")}; got ${op === undefined ? "none" : JSON.stringify(op)}`,
      at,
    );
  }
  if (typeof path !== "string") {
    throw new PatchError(
      "malformed",
      `"path" must be a string holding a JSON pointer such as "/spec/replicas"; got ${path === undefined ? "none" : typeName(path)}`,
      at,
    );
  }
  checkPointer(path, '"path"', at);
  switch (op) {
    case "add":
    case "replace":
    case "test": {
      if (!Object.hasOwn(fields, "value") || fields.value === undefined) {
        throw new PatchError("malformed", `"value" is required for "${op}"`, at);
      }
      return { op, path, value: fields.value as JsonValue };
    }
    case "remove":
      return { op, path };
    default: {
      const from = Object.hasOwn(fields, "from") ? fields.from : undefined;
      if (typeof from !== "string") {
        throw new PatchError(
          "malformed",
          `"from" must be a string holding the JSON pointer to ${op} from; got ${from === undefined ? "none" : typeName(from)}`,
          at,
        );
      }
      checkPointer(from, '"from"', at);
      return { op: op as "move" | "copy", from, path };
    }
  }
}

function checkPointer(pointer: string, member: string, at: PatchErrorLocation): void {
  try {
    parseJsonPointer(pointer);
  } catch (error) {
    if (!(error instanceof PatchError)) throw error;
    throw new PatchError("malformed", `${member}: ${error.detail}`, at, { cause: error });
  }
}
