// Checks a JSON object against a kind's message before protobuf-es decodes it, so that an
// error can name the field path (spec.containers[0].image) and say what would fix it;
// protobuf-es's own errors name only the message and the field. The check is Kubernetes'
// strict decoding (kube-apiserver's fieldValidation=Strict): unknown fields are errors, and
// only the JSON (camelCase) names are fields, not the proto names. null is an unset field.
//
// It also does the one conversion Kubernetes' JSON does that proto3 JSON does not: a
// quantity may be written as a bare number (`cpu: 1`, `storage: 10`), which Kubernetes reads
// as the quantity "1"; here it becomes the string "1".

import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";

/** Reports a problem at a field path (the message names the path too) and does not return. */
export type ShapeFailure = (path: string, message: string) => never;

/**
 * Fields that hold quantities: maps of resource name to quantity, and single quantities.
 * The same names mean quantities in every tug kind (ResourceRequirements, NodeStatus,
 * ResourceQuota, LimitRangeItem, PersistentVolume(Claim), PodSpec.overhead, EmptyDir,
 * ResourceFieldSelector).
 */
const QUANTITY_FIELDS = new Set([
  "limits",
  "requests",
  "capacity",
  "allocatable",
  "hard",
  "used",
  "max",
  "min",
  "default",
  "defaultRequest",
  "maxLimitRequestRatio",
  "overhead",
  "sizeLimit",
  "divisor",
]);

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const UINT32_MAX = 4294967295;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** JSON names of each message's fields, built on first use. */
const fieldsByJsonName = new WeakMap<DescMessage, Map<string, DescField>>();

function fieldsOf(message: DescMessage): Map<string, DescField> {
  let fields = fieldsByJsonName.get(message);
  if (fields === undefined) {
    fields = new Map(message.fields.map((field) => [field.jsonName, field]));
    fieldsByJsonName.set(message, fields);
  }
  return fields;
}

/** The prefix of an error about the value at `path`: "spec.replicas: ", or "" at the root. */
function at(path: string): string {
  return path === "" ? "" : `${path}: `;
}

/** `spec` + `containers` -> `spec.containers`; the root has no path. */
function join(path: string, name: string): string {
  return path === "" ? name : `${path}.${name}`;
}

/** A JSON value as an error message shows it: `string "abc"`, `number 1.5`, `a list`. */
export function describeJson(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  switch (typeof value) {
    case "string":
      return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
    case "number":
      return `number ${value}`;
    case "boolean":
      return `boolean ${value}`;
    case "object":
      return "an object";
    default:
      return typeof value;
  }
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Levenshtein distance, for "did you mean" hints on misspelled field names. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

function suggestion(unknown: string, fields: Map<string, DescField>): string {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const name of fields.keys()) {
    const distance = editDistance(unknown.toLowerCase(), name.toLowerCase());
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(unknown.length / 3))
    ? `; did you mean "${best}"?`
    : "; remove it or fix its spelling (field names are camelCase, as in the Kubernetes API reference)";
}

/**
 * Checks `json` against `message` and returns it ready for protobuf-es fromJson: null fields
 * dropped, numeric quantities turned into strings. Calls `fail` with the field path of the
 * first problem. `path` is the path of `json` itself ("" for a whole object).
 */
export function checkMessageJson(
  message: DescMessage,
  json: unknown,
  path: string,
  fail: ShapeFailure,
): JsonObject {
  if (!isObject(json)) {
    fail(path, `${at(path)}expected an object (${message.name}), got ${describeJson(json)}`);
  }
  const fields = fieldsOf(message);
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(json)) {
    const field = fields.get(key);
    const fieldPath = join(path, key);
    if (field === undefined) {
      fail(
        fieldPath,
        `unknown field "${fieldPath}": ${message.name} has no field "${key}"${suggestion(key, fields)}`,
      );
    }
    if (value === null) continue;
    out[key] = checkField(field, value, fieldPath, fail);
  }
  return out;
}

function checkField(
  field: DescField,
  value: JsonValue,
  path: string,
  fail: ShapeFailure,
): JsonValue {
  const quantity = QUANTITY_FIELDS.has(field.jsonName);
  switch (field.fieldKind) {
    case "scalar":
      return checkScalar(field.scalar, value, path, fail, quantity);
    case "enum":
      // tug's protos use strings for Kubernetes' enums; an enum field would be a mistake.
      return value;
    case "message":
      return checkMessageOrWkt(field.message, value, path, fail);
    case "list": {
      if (!Array.isArray(value))
        fail(path, `${at(path)}expected a list, got ${describeJson(value)}`);
      return value.map((item, i) => {
        const itemPath = `${path}[${i}]`;
        if (item === null) fail(itemPath, `${at(itemPath)}expected a list item, got null`);
        if (field.listKind === "message")
          return checkMessageOrWkt(field.message, item, itemPath, fail);
        if (field.listKind === "scalar")
          return checkScalar(field.scalar, item, itemPath, fail, false);
        return item;
      });
    }
    case "map": {
      if (!isObject(value))
        fail(path, `${at(path)}expected an object of key: value pairs, got ${describeJson(value)}`);
      const out: JsonObject = {};
      for (const [key, item] of Object.entries(value)) {
        const itemPath = `${path}[${key}]`;
        if (item === null) fail(itemPath, `${at(itemPath)}expected a value, got null`);
        if (field.mapKind === "message")
          out[key] = checkMessageOrWkt(field.message, item, itemPath, fail);
        else if (field.mapKind === "scalar") {
          out[key] = checkScalar(field.scalar, item, itemPath, fail, quantity);
        } else out[key] = item;
      }
      return out;
    }
  }
}

function checkMessageOrWkt(
  message: DescMessage,
  value: JsonValue,
  path: string,
  fail: ShapeFailure,
): JsonValue {
  switch (message.typeName) {
    case "google.protobuf.Timestamp":
      if (typeof value !== "string" || !RFC3339.test(value)) {
        fail(
          path,
          `${at(path)}expected an RFC 3339 time such as "2024-01-02T15:04:05Z", got ${describeJson(value)}`,
        );
      }
      return value;
    case "google.protobuf.Value":
      // Every Value field of tug's protos is a Kubernetes IntOrString.
      if (typeof value === "string") return value;
      if (typeof value === "number" && Number.isSafeInteger(value)) return value;
      return fail(
        path,
        `${at(path)}expected an integer or a string (IntOrString), got ${describeJson(value)}`,
      );
    case "google.protobuf.Struct":
      if (!isObject(value)) fail(path, `${at(path)}expected an object, got ${describeJson(value)}`);
      return value;
    default:
      return checkMessageJson(message, value, path, fail);
  }
}

function checkScalar(
  type: ScalarType,
  value: JsonValue,
  path: string,
  fail: ShapeFailure,
  quantity: boolean,
): JsonValue {
  switch (type) {
    case ScalarType.STRING:
      if (typeof value === "string") return value;
      // Kubernetes reads a bare number as a quantity ("cpu: 1").
      if (quantity && typeof value === "number" && Number.isFinite(value)) return String(value);
      return fail(
        path,
        `${at(path)}expected ${quantity ? 'a quantity such as "500m" or "1Gi"' : "a string"}, got ${describeJson(value)}${typeof value === "number" || typeof value === "boolean" ? "; quote it" : ""}`,
      );
    case ScalarType.BOOL:
      if (typeof value === "boolean") return value;
      return fail(path, `${at(path)}expected true or false, got ${describeJson(value)}`);
    case ScalarType.BYTES:
      if (typeof value === "string" && BASE64.test(value)) return value;
      return fail(
        path,
        `${at(path)}expected base64-encoded data, got ${describeJson(value)}; encode the value with base64 (or put plain text in stringData)`,
      );
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      if (typeof value === "number") return value;
      return fail(path, `${at(path)}expected a number, got ${describeJson(value)}`);
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      if (
        typeof value === "number" &&
        Number.isInteger(value) &&
        value >= INT32_MIN &&
        value <= INT32_MAX
      ) {
        return value;
      }
      return fail(path, `${at(path)}expected an integer (32-bit), got ${describeJson(value)}`);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      if (
        typeof value === "number" &&
        Number.isInteger(value) &&
        value >= 0 &&
        value <= UINT32_MAX
      ) {
        return value;
      }
      return fail(
        path,
        `${at(path)}expected a non-negative integer (32-bit), got ${describeJson(value)}`,
      );
    default:
      // 64-bit integers: proto3 JSON takes a number or a decimal string.
      if (
        (typeof value === "number" && Number.isInteger(value)) ||
        (typeof value === "string" && /^-?\d+$/.test(value))
      ) {
        return value;
      }
      return fail(path, `${at(path)}expected an integer, got ${describeJson(value)}`);
  }
}
