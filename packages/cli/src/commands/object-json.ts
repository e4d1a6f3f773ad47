// Small conversions between the client's messages and the Kubernetes JSON commands print,
// patch and compare.

import {
  type JsonObject,
  type KindInfo,
  kindForMessage,
  objectFromJson,
  objectToJson,
} from "@tug/api";
import { CliError } from "../cli-error.js";
import type { Message } from "../client/cli-client.js";
import { obj, str } from "../printers/json-view.js";

export function toJson(message: Message): JsonObject {
  return objectToJson(message);
}

/** Decodes Kubernetes JSON into a message; errors become CliErrors with the scheme's text. */
export function fromJson(json: JsonObject): Message {
  try {
    return objectFromJson(json);
  } catch (err) {
    throw new CliError((err as Error).message, { cause: err });
  }
}

export function kindOf(message: Message): KindInfo {
  const kind = kindForMessage(message);
  if (kind === undefined) throw new CliError(`${message.$typeName} is not an API object`);
  return kind;
}

export function nameOf(json: JsonObject): string {
  return str(json, "metadata", "name");
}

export function namespaceOf(json: JsonObject): string {
  return str(json, "metadata", "namespace");
}

/** The object's metadata member, created when missing. */
export function metadataOf(json: JsonObject): JsonObject {
  const existing = obj(json, "metadata");
  if (existing !== undefined) return existing;
  const created: JsonObject = {};
  json.metadata = created;
  return created;
}

/** `pod "web"`, as kubectl names an object in messages (`deployment.apps "web"` for groups). */
export function quotedName(kind: KindInfo, name: string): string {
  return `${kind.singular}${kind.group === "" ? "" : `.${kind.group}`} "${name}"`;
}
