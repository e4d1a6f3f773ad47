// Binary protobuf encoding of API objects, byte for byte what protobuf-es's toBinary writes,
// from an encoder generated per message type (plain property reads of that type's fields) and
// one reused BinaryWriter.
//
// Why: toBinary walks every message with field writers that are closures shared by all message
// types, so in a server that encodes many kinds, each read of a field is megamorphic; and each
// call grows a fresh buffer from 128 bytes. Measured inside tug-apiserver on bench:scheduler's
// path: ~30 µs per stored object with toBinary, ~20 µs with this (8–12 µs and 4–5 µs alone;
// docs/apiserver.md, "Encoding objects").
//
// Wire format: https://protobuf.dev/programming-guides/encoding/. The field order, the zero
// values skipped (implicit presence), packed repeated scalars and unknown fields follow
// protobuf-es's to-binary.js, so the bytes are identical (test/scheme/message-encoder.test.ts).

import {
  type DescField,
  type DescMessage,
  fromJson,
  type JsonObject,
  type Message,
  ScalarType,
  toBinary,
} from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { isWrapperDesc, StructSchema } from "@bufbuild/protobuf/wkt";

/** Encodes one message (its fields, without tag or length) into the writer. */
type FieldsEncoder = (w: BinaryWriter, m: Message) => void;

/** proto FieldPresence values (google.protobuf.FeatureSet). */
const IMPLICIT = 2;
const LEGACY_REQUIRED = 3;

/** Buffers above this are not kept for the next call (a huge object must not pin its buffer). */
const MAX_KEPT_BUFFER = 256 * 1024;

const encoders = new WeakMap<DescMessage, FieldsEncoder | null>();
let writer = new BinaryWriter();

/**
 * The binary protobuf of `message` (of `schema`): the same bytes as toBinary(schema, message).
 * Types this encoder does not handle (proto2 required fields, groups, wrapper fields, maps with
 * non-string keys) and any error (a value of the wrong type) go to toBinary, which writes them
 * or throws its own error.
 */
export function encodeMessage(schema: DescMessage, message: Message): Uint8Array {
  const encode = encoderFor(schema);
  if (encode === null) return toBinary(schema, message);
  const w = writer;
  try {
    encode(w, message);
  } catch {
    writer = new BinaryWriter();
    return toBinary(schema, message);
  }
  const bytes = w.finish();
  if (bytes.length > MAX_KEPT_BUFFER) writer = new BinaryWriter();
  return bytes;
}

/** The encoder of a message type; null when some type it reaches is not supported. */
function encoderFor(desc: DescMessage): FieldsEncoder | null {
  let known = encoders.get(desc);
  if (known === undefined) {
    known = compileAll(desc);
  }
  return known;
}

/**
 * Generates the encoders of `root` and every message type it reaches (recursive types refer to
 * each other through a table filled in before any is called).
 */
function compileAll(root: DescMessage): FieldsEncoder | null {
  const order: DescMessage[] = [];
  const index = new Map<DescMessage, number>();
  const visit = (d: DescMessage): boolean => {
    if (index.has(d)) return true;
    index.set(d, order.length);
    order.push(d);
    for (const f of d.fields) {
      if (!supported(f)) return false;
      const child = childMessage(f);
      if (child !== undefined && !isJsonStruct(f) && !visit(child)) return false;
    }
    return true;
  };
  if (!visit(root)) {
    encoders.set(root, null);
    return null;
  }
  const table: FieldsEncoder[] = [];
  for (const d of order) table.push(generate(d, index, table));
  for (const [d, i] of index) if (!encoders.has(d)) encoders.set(d, table[i] as FieldsEncoder);
  return table[0] as FieldsEncoder;
}

function childMessage(f: DescField): DescMessage | undefined {
  switch (f.fieldKind) {
    case "message":
      return f.message;
    case "list":
      return f.listKind === "message" ? f.message : undefined;
    case "map":
      return f.mapKind === "message" ? f.message : undefined;
    default:
      return undefined;
  }
}

/** A google.protobuf.Struct field held as a JsonObject (protobuf-es's local form). */
function isJsonStruct(f: DescField): boolean {
  const m = childMessage(f);
  return m?.typeName === "google.protobuf.Struct" && f.parent.typeName !== "google.protobuf.Value";
}

function supported(f: DescField): boolean {
  if (f.presence === LEGACY_REQUIRED) return false;
  if (f.fieldKind === "message" && f.delimitedEncoding) return false;
  if (f.fieldKind === "list" && f.listKind === "message" && f.delimitedEncoding) return false;
  if (f.fieldKind === "message" && f.oneof === undefined && isWrapperDesc(f.message)) return false;
  if (f.fieldKind === "map") {
    if (f.mapKey !== ScalarType.STRING) return false;
    if (f.mapKind === "message" && isJsonStruct(f)) return false;
  }
  return true;
}

/** The BinaryWriter method of a scalar type (enums are int32). */
function writeMethod(t: ScalarType): string {
  switch (t) {
    case ScalarType.STRING:
      return "string";
    case ScalarType.BOOL:
      return "bool";
    case ScalarType.DOUBLE:
      return "double";
    case ScalarType.FLOAT:
      return "float";
    case ScalarType.INT32:
      return "int32";
    case ScalarType.INT64:
      return "int64";
    case ScalarType.UINT64:
      return "uint64";
    case ScalarType.FIXED64:
      return "fixed64";
    case ScalarType.BYTES:
      return "bytes";
    case ScalarType.FIXED32:
      return "fixed32";
    case ScalarType.SFIXED32:
      return "sfixed32";
    case ScalarType.SFIXED64:
      return "sfixed64";
    case ScalarType.SINT64:
      return "sint64";
    case ScalarType.UINT32:
      return "uint32";
    case ScalarType.SINT32:
      return "sint32";
  }
}

function wireTypeOf(t: ScalarType): WireType {
  switch (t) {
    case ScalarType.BYTES:
    case ScalarType.STRING:
      return WireType.LengthDelimited;
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return WireType.Bit64;
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
    case ScalarType.FLOAT:
      return WireType.Bit32;
    default:
      return WireType.Varint;
  }
}

const tagOf = (no: number, wt: WireType): number => ((no << 3) | wt) >>> 0;

/** `obj.name`, or `obj["name"]` when the name is not a plain identifier. */
function prop(obj: string, name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? `${obj}.${name}` : `${obj}[${JSON.stringify(name)}]`;
}

/** The condition under which protobuf-es writes an implicit-presence field holding `v`. */
function implicitSet(f: DescField & { fieldKind: "scalar" | "enum" }, v: string): string {
  if (f.fieldKind === "enum") return `${v} !== ${f.enum.values[0]?.number ?? 0}`;
  switch (f.scalar) {
    case ScalarType.BOOL:
      return `${v} !== false`;
    case ScalarType.STRING:
      return `${v} !== ""`;
    case ScalarType.BYTES:
      return `(!(${v} instanceof Uint8Array) || ${v}.byteLength > 0)`;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return `!Object.is(${v}, 0)`;
    default:
      // Loose comparison matches 0n, 0 and "0", as protobuf-es's check does.
      return `${v} != 0`;
  }
}

/** Source of one message type's encoder: `(w, m) => void`, with `E` the encoder table. */
function generate(
  desc: DescMessage,
  index: ReadonlyMap<DescMessage, number>,
  table: readonly FieldsEncoder[],
): FieldsEncoder {
  const lines: string[] = [];
  const fields = desc.fields.concat().sort((a, b) => a.number - b.number);
  // Writes the value `v` of a singular field (tag included).
  const writeValue = (f: DescField, v: string): string => {
    if (f.fieldKind === "message") {
      const tag = tagOf(f.number, WireType.LengthDelimited);
      if (isJsonStruct(f)) return `w.uint32(${tag}).bytes(structBytes(${v}));`;
      return `w.uint32(${tag}).fork(); E[${index.get(f.message)}](w, ${v}); w.join();`;
    }
    if (f.fieldKind === "scalar" || f.fieldKind === "enum") {
      const t = f.fieldKind === "enum" ? ScalarType.INT32 : f.scalar;
      return `w.uint32(${tagOf(f.number, wireTypeOf(t))}).${writeMethod(t)}(${v});`;
    }
    throw new Error(`${f.toString()}: not a singular field`);
  };
  for (const f of fields) {
    const value = prop("m", f.localName);
    switch (f.fieldKind) {
      case "message":
      case "scalar":
      case "enum": {
        if (f.oneof !== undefined) {
          const o = prop("m", f.oneof.localName);
          lines.push(
            `if (${o}.case === ${JSON.stringify(f.localName)}) { ${writeValue(f, `${o}.value`)} }`,
          );
        } else if (f.presence !== IMPLICIT) {
          lines.push(
            `{ const v = ${value}; if (v !== undefined && hasOwn(m, ${JSON.stringify(f.localName)})) { ${writeValue(f, "v")} } }`,
          );
        } else {
          const implicit = f as DescField & { fieldKind: "scalar" | "enum" };
          lines.push(
            `{ const v = ${value}; if (${implicitSet(implicit, "v")}) { ${writeValue(f, "v")} } }`,
          );
        }
        break;
      }
      case "list": {
        if (f.listKind === "message") {
          const tag = tagOf(f.number, WireType.LengthDelimited);
          const item = isJsonStruct(f)
            ? `w.uint32(${tag}).bytes(structBytes(a[i]));`
            : `w.uint32(${tag}).fork(); E[${index.get(f.message)}](w, a[i]); w.join();`;
          lines.push(`{ const a = ${value}; for (let i = 0; i < a.length; i++) { ${item} } }`);
          break;
        }
        const t = f.listKind === "enum" ? ScalarType.INT32 : f.scalar;
        const method = writeMethod(t);
        if (f.packed) {
          lines.push(
            `{ const a = ${value}; if (a.length !== 0) { w.uint32(${tagOf(f.number, WireType.LengthDelimited)}).fork(); for (let i = 0; i < a.length; i++) w.${method}(a[i]); w.join(); } }`,
          );
        } else {
          const tag = tagOf(f.number, wireTypeOf(t));
          lines.push(
            `{ const a = ${value}; for (let i = 0; i < a.length; i++) w.uint32(${tag}).${method}(a[i]); }`,
          );
        }
        break;
      }
      case "map": {
        const tag = tagOf(f.number, WireType.LengthDelimited);
        const key = `w.uint32(${tagOf(1, WireType.LengthDelimited)}).string(k);`;
        let val: string;
        if (f.mapKind === "message") {
          val = `w.uint32(${tagOf(2, WireType.LengthDelimited)}).fork(); E[${index.get(f.message)}](w, r[k]); w.join();`;
        } else {
          const t = f.mapKind === "enum" ? ScalarType.INT32 : f.scalar;
          val = `w.uint32(${tagOf(2, wireTypeOf(t))}).${writeMethod(t)}(r[k]);`;
        }
        lines.push(
          `{ const r = ${value}; const ks = Object.keys(r); for (let i = 0; i < ks.length; i++) { const k = ks[i]; w.uint32(${tag}).fork(); ${key} ${val} w.join(); } }`,
        );
        break;
      }
    }
  }
  lines.push(
    "{ const u = m.$unknown; if (u !== undefined) for (let i = 0; i < u.length; i++) { const f = u[i]; w.tag(f.no, f.wireType).raw(f.data); } }",
  );
  const make = new Function(
    "E",
    "hasOwn",
    "structBytes",
    `return (w, m) => {\n${lines.join("\n")}\n};`,
  );
  return make(table, hasOwn, structBytes) as FieldsEncoder;
}

function hasOwn(m: object, key: string): boolean {
  return Object.hasOwn(m, key);
}

/** A google.protobuf.Struct held as a JsonObject, encoded as protobuf-es encodes it. */
function structBytes(json: JsonObject): Uint8Array {
  return toBinary(StructSchema, fromJson(StructSchema, json));
}
