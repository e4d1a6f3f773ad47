// encodeMessage writes exactly toBinary's bytes: for every manifest of test/fixtures (a kitchen
// sink of every kind), and for messages of every kind with every field set by a seeded filler
// (each scalar type, enums, repeated and packed fields, maps, oneofs, Struct fields held as
// JSON, nested messages three levels deep), plus zero values and unknown fields.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  create,
  type DescField,
  type DescMessage,
  fromBinary,
  type Message,
  ScalarType,
  toBinary,
} from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { PodSchema } from "../../src/gen/tug/core/v1/pod_pb.js";
import { allKinds } from "../../src/scheme/kinds.js";
import { parseManifests } from "../../src/scheme/manifest.js";
import { encodeMessage } from "../../src/scheme/message-encoder.js";
import { objectToBinary } from "../../src/scheme/object-codec.js";
import { mulberry32 } from "../patch/random-json.js";

const fixtures = join(import.meta.dirname, "..", "fixtures");

function scalarValue(t: ScalarType, r: () => number): unknown {
  const small = Math.floor(r() * 300) - 100;
  switch (t) {
    case ScalarType.STRING:
      return r() < 0.2 ? "" : `s${small}é`;
    case ScalarType.BOOL:
      return r() < 0.5;
    case ScalarType.BYTES:
      return new Uint8Array([small & 0xff, 1, 2]);
    case ScalarType.DOUBLE:
      return r() < 0.1 ? -0 : small / 7;
    case ScalarType.FLOAT:
      return 0.5 * small;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return BigInt(small) * 1_000_000_007n;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return BigInt(Math.abs(small)) * 1_000_000_007n;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return Math.abs(small) * 100_003;
    default:
      return small * 1000;
  }
}

/** Sets every field of `m` (message fields down to `depth`), as a fuzzer would. */
function fill(desc: DescMessage, r: () => number, depth: number): Message {
  const m = create(desc) as Record<string, unknown>;
  const oneofsSet = new Set<string>();
  for (const f of desc.fields) {
    if (f.oneof !== undefined) {
      if (oneofsSet.has(f.oneof.localName) || r() < 0.4) continue;
      const v = singular(f, r, depth);
      if (v === undefined) continue;
      oneofsSet.add(f.oneof.localName);
      m[f.oneof.localName] = { case: f.localName, value: v };
      continue;
    }
    if (r() < 0.15) continue; // some fields left at their zero value
    switch (f.fieldKind) {
      case "list": {
        const n = 1 + Math.floor(r() * 2);
        const items: unknown[] = [];
        for (let i = 0; i < n; i++) {
          if (f.listKind === "message") {
            if (depth <= 0) break;
            items.push(structOrMessage(f, f.message, r, depth - 1));
          } else if (f.listKind === "enum")
            items.push(f.enum.values[i % f.enum.values.length]?.number);
          else items.push(scalarValue(f.scalar, r));
        }
        m[f.localName] = items;
        break;
      }
      case "map": {
        const rec: Record<string, unknown> = {};
        for (let i = 0; i < 2; i++) {
          const key = `k${i}`;
          if (f.mapKind === "message") {
            if (depth <= 0) break;
            rec[key] = fill(f.message, r, depth - 1);
          } else if (f.mapKind === "enum")
            rec[key] = f.enum.values[1 % f.enum.values.length]?.number;
          else rec[key] = scalarValue(f.scalar, r);
        }
        m[f.localName] = rec;
        break;
      }
      default: {
        const v = singular(f, r, depth);
        if (v !== undefined) m[f.localName] = v;
      }
    }
  }
  return m as unknown as Message;
}

function singular(f: DescField, r: () => number, depth: number): unknown {
  switch (f.fieldKind) {
    case "scalar":
      return scalarValue(f.scalar, r);
    case "enum":
      return f.enum.values[Math.floor(r() * f.enum.values.length)]?.number;
    case "message":
      return depth <= 0 ? undefined : structOrMessage(f, f.message, r, depth - 1);
    default:
      return undefined;
  }
}

/** google.protobuf.Struct fields hold a JSON object in protobuf-es. */
function structOrMessage(f: DescField, desc: DescMessage, r: () => number, depth: number): unknown {
  if (desc.typeName === "google.protobuf.Struct" && f.parent.typeName !== "google.protobuf.Value") {
    return { a: 1, b: ["x", true, null], c: { d: "e" } };
  }
  return fill(desc, r, depth);
}

describe("encodeMessage", () => {
  it("writes toBinary's bytes for every fixture manifest", () => {
    let n = 0;
    for (const name of readdirSync(fixtures).filter((f) => f.endsWith(".yaml"))) {
      for (const { kind, object } of parseManifests(readFileSync(join(fixtures, name), "utf8"))) {
        const desc = object.$typeName === kind.schema.typeName ? kind.schema : kind.listSchema;
        if (desc === undefined) continue;
        expect(encodeMessage(desc, object), `${name} ${object.$typeName}`).toEqual(
          toBinary(desc, object),
        );
        n++;
      }
    }
    expect(n).toBeGreaterThan(20);
  });

  it("writes toBinary's bytes for every kind with every field set (40 seeds each)", () => {
    for (const kind of allKinds) {
      for (let seed = 1; seed <= 40; seed++) {
        const msg = fill(kind.schema, mulberry32(seed), 3);
        const expected = toBinary(kind.schema, msg);
        expect(encodeMessage(kind.schema, msg), `${kind.kind} seed ${seed}`).toEqual(expected);
      }
    }
  });

  it("leaves zero values out and keeps unknown fields, as toBinary does", () => {
    const empty = create(PodSchema);
    expect(encodeMessage(PodSchema, empty)).toEqual(toBinary(PodSchema, empty));
    expect(encodeMessage(PodSchema, empty).length).toBe(0);
    // Field 999 is not a Pod field: decoded, it is kept as an unknown field and written back.
    const withUnknown = fromBinary(PodSchema, new Uint8Array([0xba, 0x3e, 0x02, 0x68, 0x69]));
    expect(encodeMessage(PodSchema, withUnknown)).toEqual(
      new Uint8Array([0xba, 0x3e, 0x02, 0x68, 0x69]),
    );
  });

  it("leaves a value of the wrong type to toBinary, which names the field", () => {
    const bad = create(PodSchema, { metadata: { name: "p" } });
    (bad.metadata as unknown as Record<string, unknown>).generation = "not a number";
    expect(() => encodeMessage(PodSchema, bad)).toThrow(/ObjectMeta\.generation/);
    // The writer is usable after the failure.
    const good = create(PodSchema, { metadata: { name: "p" } });
    expect(encodeMessage(PodSchema, good)).toEqual(toBinary(PodSchema, good));
  });

  it("is what objectToBinary writes (apiVersion and kind filled in)", () => {
    const pod = create(PodSchema, { metadata: { name: "p", namespace: "d" } });
    expect(objectToBinary(pod)).toEqual(
      toBinary(PodSchema, { ...pod, apiVersion: "v1", kind: "Pod" }),
    );
  });
});
