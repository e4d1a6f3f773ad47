// An object packed for the wire (its google.protobuf.Any) straight from the bytes it is stored
// as, instead of encoding the object again. The stored bytes are the object's protobuf with
// apiVersion and kind filled in and resourceVersion left out (etcd keeps that as the key's mod
// revision); the resourceVersion is appended as a second occurrence of `metadata` holding only
// that field. Protobuf parsers merge repeated occurrences of a message field and take the
// last value of a scalar ("Last One Wins" and merging of embedded messages in
// https://protobuf.dev/programming-guides/encoding/#last-one-wins), so a client decodes exactly
// the object packObject would have sent, for the cost of one copy of the bytes.

import { create } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { type Any, AnySchema } from "@bufbuild/protobuf/wkt";
import type { KindInfo } from "@tug/api";

/** Per kind: the field numbers of `metadata` and of ObjectMeta's `resourceVersion`. */
const metadataFields = new WeakMap<KindInfo, { metadata: number; resourceVersion: number }>();

function fieldsOf(kind: KindInfo): { metadata: number; resourceVersion: number } {
  let known = metadataFields.get(kind);
  if (known === undefined) {
    const metadata = kind.schema.fields.find((f) => f.localName === "metadata");
    const resourceVersion =
      metadata?.fieldKind === "message"
        ? metadata.message.fields.find((f) => f.localName === "resourceVersion")
        : undefined;
    if (metadata === undefined || resourceVersion === undefined) {
      throw new TypeError(`${kind.kind} has no metadata.resourceVersion field`);
    }
    known = { metadata: metadata.number, resourceVersion: resourceVersion.number };
    metadataFields.set(kind, known);
  }
  return known;
}

/**
 * The Any of an object of `kind` from its stored bytes and its resourceVersion. `stored` must
 * be the encoding the store keeps (apiVersion and kind set, resourceVersion empty); it is
 * copied, not kept.
 */
export function anyFromStored(kind: KindInfo, stored: Uint8Array, resourceVersion: string): Any {
  const typeUrl = `type.googleapis.com/${kind.schema.typeName}`;
  if (resourceVersion === "") return create(AnySchema, { typeUrl, value: stored.slice() });
  const fields = fieldsOf(kind);
  const suffix = new BinaryWriter()
    .tag(fields.metadata, WireType.LengthDelimited)
    .fork()
    .tag(fields.resourceVersion, WireType.LengthDelimited)
    .string(resourceVersion)
    .join()
    .finish();
  const value = new Uint8Array(stored.length + suffix.length);
  value.set(stored, 0);
  value.set(suffix, stored.length);
  return create(AnySchema, { typeUrl, value });
}
