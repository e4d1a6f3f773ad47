// Every manifest in test/fixtures (copied unchanged from /work/shared/examples, a kitchen
// sink of every kind, and objects as `kubectl get -o yaml` exports them) parses, and YAML -> JSON -> protobuf -> JSON gives back the
// YAML's JSON; binary protobuf round-trips too.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { equals, isMessage, toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { SecretSchema } from "../../src/gen/tug/core/v1/config_pb.js";
import { PodSchema } from "../../src/gen/tug/core/v1/pod_pb.js";
import { parseManifests } from "../../src/scheme/manifest.js";
import { objectFromBinary, objectToBinary, objectToJson } from "../../src/scheme/object-codec.js";

const fixtures = join(import.meta.dirname, "..", "fixtures");
const files = [
  ...readdirSync(fixtures).filter((name) => name.endsWith(".yaml")),
  ...readdirSync(join(fixtures, "exported")).map((name) => `exported/${name}`),
];

/** The YAML documents as plain JSON, read independently of the scheme (YAML 1.1, as go-yaml). */
function yamlJson(text: string): unknown[] {
  return parseAllDocuments(text, {
    version: "1.1",
    customTags: (tags) =>
      tags.filter(
        (tag) =>
          tag !== "timestamp" &&
          (typeof tag === "string" || tag.tag !== "tag:yaml.org,2002:timestamp"),
      ),
  })
    .map((doc) => doc.toJS())
    .filter((doc) => doc !== null)
    .map(withoutNulls);
}

/** null is an unset field in Kubernetes' JSON; the round trip leaves such fields out. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => [k, withoutNulls(v)]),
    );
  }
  return value;
}

describe("fixtures round-trip", () => {
  it("has the shared examples and the kitchen sink", () => {
    expect(files).toEqual(
      expect.arrayContaining([
        "client-deployment.yaml",
        "client-node-port.yaml",
        "client-pod.yaml",
        "node-selector-pod.yaml",
        "secret-pod.yaml",
        "kitchen-sink.yaml",
        "exported/pod.yaml",
        "exported/node.yaml",
      ]),
    );
  });

  for (const file of files) {
    describe(file, () => {
      const text = readFileSync(join(fixtures, file), "utf8");
      const expected = yamlJson(text);
      const objects = parseManifests(text);

      it("parses every document", () => {
        expect(objects).toHaveLength(expected.length);
      });

      it("gives back the YAML's JSON", () => {
        objects.forEach((obj, i) => {
          expect(objectToJson(obj.object), `document ${obj.documentIndex}`).toEqual(expected[i]);
        });
      });

      it("round-trips through binary protobuf", () => {
        for (const obj of objects) {
          const decoded = objectFromBinary(obj.kind, objectToBinary(obj.object));
          expect(equals(obj.kind.schema, decoded, obj.object)).toBe(true);
          expect(objectToJson(decoded)).toEqual(objectToJson(obj.object));
        }
      });
    });
  }

  it("keeps a secret's base64 data byte-exact", () => {
    const [, secret] = parseManifests(readFileSync(join(fixtures, "secret-pod.yaml"), "utf8"));
    const message = secret?.object;
    if (!isMessage(message, SecretSchema)) throw new Error("document 1 is not a Secret");
    expect(message.type).toBe("Opaque");
    expect(Buffer.from(message.data.password ?? []).toString("latin1")).toBe("value-2\r\n");
    expect(Buffer.from(message.data.username ?? []).toString("latin1")).toBe("value-1\r\n");
    const json = toJson(SecretSchema, message) as { data: Record<string, string> };
    expect(json.data).toEqual({ password: "dmFsdWUtMg0K", username: "dmFsdWUtMQ0K" });
  });

  it("reads irregular JSON names into the proto fields", () => {
    const [pod] = parseManifests(readFileSync(join(fixtures, "kitchen-sink.yaml"), "utf8"));
    const message = pod?.object;
    if (!isMessage(message, PodSchema)) throw new Error("document 0 is not a Pod");
    expect(message.status?.podIp).toBe("10.244.1.7");
    expect(message.status?.hostIp).toBe("10.0.0.5");
    expect(message.spec?.hostPid).toBe(true);
    expect(message.spec?.terminationGracePeriodSeconds).toBe(0);
    expect(message.spec?.priority).toBe(0);
    expect(message.spec?.activeDeadlineSeconds).toBe(600);
    // YAML 1.1 octal, as Kubernetes reads it.
    expect(message.spec?.volumes[3]?.configMap?.defaultMode).toBe(0o644);
    expect(message.spec?.containers[0]?.readinessProbe?.httpGet?.port?.kind).toEqual({
      case: "stringValue",
      value: "http",
    });
  });
});
