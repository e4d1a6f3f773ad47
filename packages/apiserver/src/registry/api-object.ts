// The shape every API object shares (apiVersion, kind, metadata, and usually spec and status),
// and the few operations on it that the registry and admission need without knowing the kind:
// deep copy, empty sub-messages, timestamps, and semantic comparison of a field.
// Objects are the protobuf-es messages of @tug/api (proto/tug/<group>/v1).

import {
  type KindInfo,
  type ObjectMeta,
  objectFromBinary,
  objectToBinary,
  objectToJson,
} from "@tug/api";

/** Any API object: a protobuf-es message of one of the scheme's kinds. */
export interface ApiObject {
  readonly $typeName: string;
  apiVersion: string;
  kind: string;
  metadata?: ObjectMeta | undefined;
}

/** google.protobuf.Timestamp as the generated code types it. */
export type Timestamp = NonNullable<ObjectMeta["creationTimestamp"]>;

/** A field of an object read by name, for the kind-independent parts (spec, status). */
export function fieldOf(obj: ApiObject, field: string): unknown {
  return (obj as unknown as Record<string, unknown>)[field];
}

/** Sets a field of an object by name. */
export function setFieldOf(obj: ApiObject, field: string, value: unknown): void {
  (obj as unknown as Record<string, unknown>)[field] = value;
}

/** True when the kind's message has a top-level field with this (JSON) name. */
export function kindHasField(kind: KindInfo, field: string): boolean {
  return kind.schema.fields.some((f) => f.localName === field);
}

/** A deep copy of `obj` (through its binary encoding, so nothing is shared). */
export function cloneObject<T extends ApiObject>(kind: KindInfo, obj: T): T {
  return objectFromBinary(kind, objectToBinary(obj)) as unknown as T;
}

/**
 * A new, empty message for the top-level message field `field` of `kind` (an empty PodStatus
 * for a Pod's "status"). Decoding a zero-length occurrence of the field is the one way to make
 * an empty sub-message from the kind's descriptor alone.
 */
export function emptyMessageField(kind: KindInfo, field: string): unknown {
  const desc = kind.schema.fields.find((f) => f.localName === field);
  if (desc === undefined || desc.fieldKind !== "message") {
    throw new TypeError(`${kind.kind} has no message field "${field}"`);
  }
  const tag = varint((desc.number << 3) | 2);
  const bytes = new Uint8Array([...tag, 0]);
  return fieldOf(objectFromBinary(kind, bytes) as unknown as ApiObject, field);
}

/** metadata of `obj`, created empty first if the object has none. */
export function metaOf(kind: KindInfo, obj: ApiObject): ObjectMeta {
  if (obj.metadata === undefined) obj.metadata = emptyMessageField(kind, "metadata") as ObjectMeta;
  return obj.metadata;
}

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

/** A Timestamp at whole seconds (Kubernetes' metav1.Time has seconds precision on the wire). */
export function timestampAtSeconds(date: Date): Timestamp {
  return {
    $typeName: "google.protobuf.Timestamp",
    seconds: BigInt(Math.floor(date.getTime() / 1000)),
    nanos: 0,
  };
}

/** A Timestamp `seconds` after `ts`. */
export function addSeconds(ts: Timestamp, seconds: number): Timestamp {
  return {
    $typeName: "google.protobuf.Timestamp",
    seconds: ts.seconds + BigInt(seconds),
    nanos: ts.nanos,
  };
}

/** Milliseconds since the epoch of a Timestamp. */
export function timestampMillis(ts: Timestamp): number {
  return Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1_000_000);
}

/**
 * Whether two objects of one kind agree on a top-level message or map field, compared as the
 * field's canonical Kubernetes JSON (keys sorted; absent equals empty). Not the binary encoding:
 * protobuf-es writes map entries in insertion order, so equal maps decoded from differently
 * ordered JSON would differ on the wire.
 */
export function sameField(a: ApiObject, b: ApiObject, field: string): boolean {
  return (
    canonicalJson(objectToJson(a)[field] ?? {}) === canonicalJson(objectToJson(b)[field] ?? {})
  );
}

/** JSON text with object keys sorted at every level; undefined for an absent value. */
export function canonicalJson(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}
