// Converting API objects between their three forms: Kubernetes JSON (what manifests, kubectl
// and `tug get -o json` show), protobuf-es messages (what code holds) and binary protobuf
// (what the API server stores and sends). The JSON is the message's proto3 JSON, which tug's
// protos make identical to Kubernetes' JSON; apiVersion and kind are always written.

import { fromBinary, fromJson, type JsonObject, type Message, toJson } from "@bufbuild/protobuf";
import { addAlwaysWritten } from "./always-written.js";
import { checkMessageJson, describeJson } from "./json-shape.js";
import { allKinds, type KindInfo } from "./kinds.js";
import { kindForMessage, requireKind } from "./lookup.js";
import { encodeMessage } from "./message-encoder.js";
import { apiRegistry } from "./registry.js";
import { SchemeError } from "./scheme-error.js";

/** Where an object came from, for error messages. */
export interface ObjectSource {
  /** The document of a manifest stream, counted from 0. */
  readonly documentIndex?: number;
  /** The path of the object within its document: "" for the document itself, "items[2]". */
  readonly path?: string;
}

/**
 * Decodes one object from Kubernetes JSON (an already parsed JSON or YAML value). apiVersion
 * and kind pick the kind; unknown fields, values of the wrong type, bad base64 and bad times
 * are SchemeError invalid_argument whose message names the document, the kind and name of
 * the object, the field path and the fix; an unknown kind is SchemeError not_found.
 */
export function objectFromJson(json: unknown, source: ObjectSource = {}): Message {
  return decodeObject(json, source).message;
}

/** objectFromJson, also returning the kind. */
export function decodeObject(
  json: unknown,
  source: ObjectSource = {},
): { kind: KindInfo; message: Message } {
  const at = (path: string) => joinPath(source.path ?? "", path);
  const prefix =
    (source.documentIndex === undefined ? "" : `document ${source.documentIndex}: `) +
    (source.path ? `${source.path}: ` : "");
  const fail = (
    message: string,
    path: string,
    code: "invalid_argument" | "not_found" = "invalid_argument",
  ): never => {
    throw new SchemeError(code, `${prefix}${message}`, {
      documentIndex: source.documentIndex,
      path: at(path),
    });
  };
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return fail(`expected an object with apiVersion and kind, got ${describeJson(json)}`, "");
  }
  const obj = json as JsonObject;
  const apiVersion = obj.apiVersion;
  const kind = obj.kind;
  if (apiVersion !== undefined && typeof apiVersion !== "string") {
    fail(
      `apiVersion: expected a string such as "v1" or "apps/v1", got ${describeJson(apiVersion)}`,
      "apiVersion",
    );
  }
  if (kind !== undefined && typeof kind !== "string") {
    fail(`kind: expected a string such as "Pod", got ${describeJson(kind)}`, "kind");
  }
  if (!apiVersion && !kind) {
    fail(
      'apiVersion and kind not set; every object needs both, e.g. "apiVersion: v1" and "kind: Pod"',
      "",
    );
  }
  if (!kind) fail('kind not set; add the kind of the object, e.g. "kind: Pod"', "kind");
  if (!apiVersion) {
    const known = kindNamed(kind as string);
    fail(
      `apiVersion not set; ${known === undefined ? 'add the apiVersion of the kind, e.g. "apiVersion: v1"' : `a ${known.kind} has "apiVersion: ${known.apiVersion}"`}`,
      "apiVersion",
    );
  }
  let info: KindInfo;
  try {
    info = requireKind(apiVersion as string, kind as string);
  } catch (err) {
    return fail((err as Error).message, "kind", "not_found");
  }
  const meta = obj.metadata;
  const name =
    typeof meta === "object" &&
    meta !== null &&
    !Array.isArray(meta) &&
    typeof meta.name === "string"
      ? ` "${meta.name}"`
      : "";
  const what = `${info.kind}${name}`;
  const checked = checkMessageJson(info.schema, obj, "", (path, message) =>
    fail(`${what}: ${message}`, path),
  );
  try {
    return { kind: info, message: fromJson(info.schema, checked, { registry: apiRegistry }) };
  } catch (err) {
    return fail(`${what}: ${(err as Error).message}`, "", "invalid_argument");
  }
}

/** The kind named `kind` (case-sensitive) in any group, for the "apiVersion not set" hint. */
function kindNamed(kind: string): KindInfo | undefined {
  return allKinds.find((info) => info.kind === kind);
}

function joinPath(prefix: string, path: string): string {
  if (prefix === "") return path;
  if (path === "") return prefix;
  return `${prefix}.${path}`;
}

/**
 * The Kubernetes JSON of an object or list, with apiVersion and kind set from the scheme
 * (whatever the message's own fields say) and written first, and the zero values Kubernetes
 * always writes (`ready: false`, `restartCount: 0`) present. Throws SchemeError not_found for
 * a message that is not an API kind (a PodSpec).
 */
export function objectToJson(message: Message): JsonObject {
  const info = requireKindOf(message);
  const isList = info.schema.typeName !== message.$typeName;
  const schema = isList && info.listSchema !== undefined ? info.listSchema : info.schema;
  const json = addAlwaysWritten(
    schema,
    toJson(schema, message, { registry: apiRegistry }) as JsonObject,
  );
  const kind = isList ? (info.listKind ?? info.kind) : info.kind;
  const { apiVersion: _apiVersion, kind: _kind, ...rest } = json;
  return { apiVersion: info.apiVersion, kind, ...rest };
}

/** The binary protobuf of an object or list, with apiVersion and kind filled in when empty. */
export function objectToBinary(message: Message): Uint8Array {
  const info = requireKindOf(message);
  const isList = info.schema.typeName !== message.$typeName;
  const schema = isList && info.listSchema !== undefined ? info.listSchema : info.schema;
  const typed = message as Message & { apiVersion?: string; kind?: string };
  if (typed.apiVersion && typed.kind) return encodeMessage(schema, message);
  const filled = {
    ...typed,
    apiVersion: typed.apiVersion || info.apiVersion,
    kind: typed.kind || (isList ? (info.listKind ?? info.kind) : info.kind),
  };
  return encodeMessage(schema, filled);
}

/**
 * Decodes an object of `kind` from binary protobuf. Throws SchemeError invalid_argument
 * naming the kind when the bytes are not a valid encoding.
 */
export function objectFromBinary(kind: KindInfo, bytes: Uint8Array): Message {
  try {
    return fromBinary(kind.schema, bytes);
  } catch (err) {
    throw new SchemeError(
      "invalid_argument",
      `cannot decode a ${kind.kind} from protobuf: ${(err as Error).message}`,
      undefined,
      { cause: err },
    );
  }
}

function requireKindOf(message: Message): KindInfo {
  const info = kindForMessage(message);
  if (info === undefined) {
    throw new SchemeError(
      "not_found",
      `${message.$typeName} is not an API kind; encode the object that holds it (a Pod, not its PodSpec)`,
    );
  }
  return info;
}
