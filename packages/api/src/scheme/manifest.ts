// Parsing manifest files, as `tug apply -f` reads them: YAML (one or more documents separated
// by ---) or JSON, each document one object, or a list of objects (kind: List, or a typed
// list such as PodList) whose items are taken one by one, as kubectl does.
//
// YAML is read as YAML 1.1, as Kubernetes' decoder (go-yaml via sigs.k8s.io/yaml) reads it:
// `defaultMode: 0644` is octal 420 and `yes` is true. Times stay strings, as in Kubernetes'
// JSON, rather than becoming dates.

import type { Message } from "@bufbuild/protobuf";
import { parseAllDocuments } from "yaml";
import type { KindInfo } from "./kinds.js";
import { kindFor } from "./lookup.js";
import { decodeObject } from "./object-codec.js";
import { SchemeError } from "./scheme-error.js";

/** One object of a manifest. */
export interface ManifestObject {
  /** The document it came from, counted from 0 in stream order (empty documents count). */
  readonly documentIndex: number;
  /** Its path within the document: "" for the document itself, "items[2]" in a list. */
  readonly path: string;
  readonly kind: KindInfo;
  readonly object: Message;
}

const YAML_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp";

/**
 * Parses a manifest text into objects, in order. Empty documents (only comments, a trailing
 * ---) are skipped. Throws SchemeError for the first document that does not parse or decode;
 * its message starts with "document <index>: " and names the field and the fix, and its
 * documentIndex and path say where. Nothing is returned unless every document decodes.
 */
export function parseManifests(text: string): ManifestObject[] {
  const out: ManifestObject[] = [];
  readDocuments(text).forEach((doc, documentIndex) => {
    if (doc === null || doc === undefined) return;
    for (const [path, json] of expandList(doc, documentIndex)) {
      const { kind, message } = decodeObject(json, { documentIndex, path });
      out.push({ documentIndex, path, kind, object: message });
    }
  });
  return out;
}

/** The documents of a YAML stream, or of JSON text (an array is a stream of documents). */
function readDocuments(text: string): unknown[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new SchemeError(
        "invalid_argument",
        `invalid JSON: ${(err as Error).message}; fix the syntax (or write the manifest as YAML)`,
        { documentIndex: 0 },
        { cause: err },
      );
    }
    return Array.isArray(json) ? json : [json];
  }
  const docs = parseAllDocuments(text, {
    version: "1.1",
    customTags: (tags) =>
      tags.filter(
        (tag) => tag !== "timestamp" && (typeof tag === "string" || tag.tag !== YAML_TIMESTAMP_TAG),
      ),
  });
  const list = Array.isArray(docs) ? docs : [docs];
  return list.map((doc, documentIndex) => {
    const [error] = doc.errors;
    if (error !== undefined) {
      throw new SchemeError(
        "invalid_argument",
        `document ${documentIndex}: invalid YAML: ${error.message.split("\n")[0]}`,
        { documentIndex },
        { cause: error },
      );
    }
    return doc.toJS();
  });
}

/**
 * A document as [path, object] pairs: itself, or the items of a list. Items of a typed list
 * (PodList) may leave out apiVersion and kind, as list responses do; they default to the
 * listed kind.
 */
function expandList(doc: unknown, documentIndex: number): [string, unknown][] {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return [["", doc]];
  const { apiVersion, kind, items } = doc as Record<string, unknown>;
  if (typeof apiVersion !== "string" || typeof kind !== "string" || !kind.endsWith("List")) {
    return [["", doc]];
  }
  const itemKind = kind === "List" ? undefined : kindFor(apiVersion, kind.slice(0, -"List".length));
  if (kind !== "List" && itemKind === undefined) return [["", doc]];
  if (items === undefined || items === null) return [];
  if (!Array.isArray(items)) {
    throw new SchemeError(
      "invalid_argument",
      `document ${documentIndex}: ${kind}: items: expected a list of objects`,
      { documentIndex, path: "items" },
    );
  }
  return items.map((item, i): [string, unknown] => {
    if (
      itemKind !== undefined &&
      typeof item === "object" &&
      item !== null &&
      !Array.isArray(item)
    ) {
      return [`items[${i}]`, { apiVersion: itemKind.apiVersion, kind: itemKind.kind, ...item }];
    }
    return [`items[${i}]`, item];
  });
}
