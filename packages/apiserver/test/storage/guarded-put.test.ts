import { etcdServices } from "@tug/store";
import { describe, expect, it } from "vitest";
import { encodeGuardedPut, type GuardedPut } from "../../src/storage/guarded-put.js";

/** etcd's own decoding of the bytes (proto-loader with tug-store's options). */
const decode = (put: GuardedPut) =>
  etcdServices.KV.service.Txn.requestDeserialize(Buffer.from(encodeGuardedPut(put)));

const key = Buffer.from("/registry/pods/default/p");
const value = Buffer.from([1, 2, 3, 0, 255]);

describe("encodeGuardedPut", () => {
  it("create: compare create_revision 0 present (oneof), put with a lease, range on failure", () => {
    const req = decode({
      key,
      value,
      guard: { target: "CREATE", createRevision: 0 },
      lease: "7587",
    });
    expect(req.compare).toEqual([
      expect.objectContaining({
        result: "EQUAL",
        target: "CREATE",
        key,
        createRevision: "0",
        targetUnion: "createRevision",
      }),
    ]);
    expect(req.success).toHaveLength(1);
    expect(req.success[0]?.request).toBe("requestPut");
    expect(req.success[0]?.requestPut).toEqual(
      expect.objectContaining({ key, value, lease: "7587", ignoreLease: false, prevKv: false }),
    );
    expect(req.failure).toHaveLength(1);
    expect(req.failure[0]?.request).toBe("requestRange");
    expect(req.failure[0]?.requestRange).toEqual(
      expect.objectContaining({ key, rangeEnd: Buffer.alloc(0), limit: "0", revision: "0" }),
    );
  });

  it("update: compare mod_revision, ignore_lease when the key keeps its lease", () => {
    const req = decode({
      key,
      value,
      guard: { target: "MOD", modRevision: 123456789012 },
      lease: "keep",
    });
    expect(req.compare[0]).toEqual(
      expect.objectContaining({
        target: "MOD",
        modRevision: "123456789012",
        targetUnion: "modRevision",
      }),
    );
    expect(req.success[0]?.requestPut).toEqual(
      expect.objectContaining({ key, value, lease: "0", ignoreLease: true }),
    );
  });

  it("version guard, no lease, an empty value and a 64-bit lease id round-trip", () => {
    const req = decode({
      key,
      value: new Uint8Array(0),
      guard: { target: "VERSION", version: 3 },
      lease: "0",
    });
    expect(req.compare[0]).toEqual(
      expect.objectContaining({ target: "VERSION", version: "3", targetUnion: "version" }),
    );
    expect(req.success[0]?.requestPut).toEqual(
      expect.objectContaining({ value: Buffer.alloc(0), lease: "0", ignoreLease: false }),
    );
    const big = decode({
      key,
      value,
      guard: { target: "CREATE", createRevision: 0 },
      lease: "9223372036854775807",
    });
    expect(big.success[0]?.requestPut?.lease).toBe("9223372036854775807");
  });
});
