import { clone, create, fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import { PodSchema } from "@tug/api";
import { describe, expect, it } from "vitest";
import {
  DeletedFinalStateUnknown,
  deepFreeze,
  metaNamespaceKeyFunc,
  splitMetaNamespaceKey,
} from "../../src/cache/index.js";
import { pod } from "../informer/support/objects.js";

describe("metaNamespaceKeyFunc", () => {
  it("keys a tombstone by the key it carries", () => {
    const tombstone = new DeletedFinalStateUnknown("ns/gone", pod("ns", "gone"));
    expect(metaNamespaceKeyFunc(tombstone)).toBe("ns/gone");
  });

  it("round-trips through splitMetaNamespaceKey", () => {
    expect(splitMetaNamespaceKey(metaNamespaceKeyFunc(pod("ns", "a")))).toEqual({
      namespace: "ns",
      name: "a",
    });
    expect(splitMetaNamespaceKey("node-1")).toEqual({ namespace: "", name: "node-1" });
    expect(() => splitMetaNamespaceKey("a/b/c")).toThrow(/2 slashes/);
  });
});

describe("deepFreeze", () => {
  it("freezes nested objects and arrays but leaves byte arrays alone", () => {
    const value = { a: { b: [1, { c: 2 }] }, bytes: new Uint8Array([1]) };
    deepFreeze(value);
    expect(Object.isFrozen(value.a.b)).toBe(true);
    expect(Object.isFrozen(value.a.b[1])).toBe(true);
    value.bytes[0] = 7;
    expect(value.bytes[0]).toBe(7);
  });
});

describe("deepFreeze on generated messages", () => {
  it("leaves a frozen Pod encodable and cloneable, and the clone writable", () => {
    const p = create(PodSchema, {
      metadata: { name: "web", namespace: "default", labels: { app: "web" } },
      spec: { nodeName: "n1", containers: [{ name: "c", image: "busybox" }] },
    });
    deepFreeze(p);
    const bytes = toBinary(PodSchema, p);
    expect(fromBinary(PodSchema, bytes).spec?.nodeName).toBe("n1");
    expect(toJson(PodSchema, p)).toMatchObject({ metadata: { name: "web" } });
    const copy = clone(PodSchema, p);
    copy.spec!.nodeName = "n2";
    copy.metadata!.labels.app = "db";
    expect(p.spec?.nodeName).toBe("n1");
    expect(() => {
      p.metadata!.labels.app = "x";
    }).toThrow(TypeError);
  });

  it("freezes every message, list and map of a decoded Pod", () => {
    const p = fromBinary(
      PodSchema,
      toBinary(
        PodSchema,
        create(PodSchema, {
          metadata: {
            name: "web",
            ownerReferences: [{ kind: "ReplicaSet", name: "rs", controller: true }],
          },
          spec: {
            containers: [{ name: "c", resources: { requests: { cpu: "100m" } } }],
            tolerations: [{ key: "k", operator: "Exists" }],
          },
        }),
      ),
    );
    deepFreeze(p);
    const reachable = [
      p,
      p.metadata,
      p.metadata?.ownerReferences,
      p.metadata?.ownerReferences[0],
      p.spec?.containers[0],
      p.spec?.containers[0]?.resources,
      p.spec?.containers[0]?.resources?.requests,
      p.spec?.tolerations[0],
    ];
    for (const obj of reachable) expect(Object.isFrozen(obj)).toBe(true);
    expect(() => {
      p.spec!.containers[0]!.resources!.requests.cpu = "1";
    }).toThrow(TypeError);
  });
});
