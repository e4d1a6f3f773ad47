import { create, equals, toBinary } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { kindForResource, NamespaceSchema, objectToBinary, PodSchema } from "@tug/api";
import { describe, expect, it } from "vitest";
import type { ApiObject } from "../../src/registry/api-object.js";
import { packObject } from "../../src/server/api-handlers.js";
import { anyFromStored } from "../../src/server/stored-object-any.js";

const podKind = kindForResource("", "pods");
const namespaceKind = kindForResource("", "namespaces");

function pod(resourceVersion: string) {
  return create(PodSchema, {
    metadata: {
      name: "web",
      namespace: "default",
      uid: "u-1",
      resourceVersion,
      labels: { app: "web" },
      generation: 3,
    },
    spec: { nodeName: "n1", containers: [{ name: "c", image: "tug/busybox:latest" }] },
    status: { phase: "Pending" },
  });
}

describe("anyFromStored", () => {
  it("sends what packObject sends: the stored bytes with the resourceVersion merged in", () => {
    if (podKind === undefined) throw new Error("no pods in the scheme");
    const stored = objectToBinary(pod(""));
    const any = anyFromStored(podKind, stored, "1234");
    const expected = packObject(podKind, pod("1234") as unknown as ApiObject);
    expect(any.typeUrl).toBe(expected.typeUrl);
    const decoded = anyUnpack(any, PodSchema);
    const wanted = anyUnpack(expected, PodSchema);
    if (decoded === undefined || wanted === undefined) throw new Error("not a Pod");
    expect(decoded.metadata?.resourceVersion).toBe("1234");
    expect(decoded.metadata?.labels).toEqual({ app: "web" });
    expect(decoded.apiVersion).toBe("v1");
    expect(decoded.kind).toBe("Pod");
    expect(equals(PodSchema, decoded, wanted)).toBe(true);
    // The stored bytes are copied, not shared with the message sent.
    expect(any.value.buffer).not.toBe(stored.buffer);
  });

  it("adds metadata to an object stored without any, and nothing for an empty resourceVersion", () => {
    if (namespaceKind === undefined) throw new Error("no namespaces in the scheme");
    const bare = toBinary(NamespaceSchema, create(NamespaceSchema, { kind: "Namespace" }));
    const withRv = anyUnpack(anyFromStored(namespaceKind, bare, "7"), NamespaceSchema);
    expect(withRv?.metadata?.resourceVersion).toBe("7");
    const empty = anyFromStored(namespaceKind, bare, "");
    expect([...empty.value]).toEqual([...bare]);
  });
});
