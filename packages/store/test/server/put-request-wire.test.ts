// The hand-written put encoding against protobufjs's: each reads what the other writes, and the
// reader steps aside (undefined) for anything but plain puts.

import { describe, expect, it } from "vitest";
import { tug } from "../../src/gen/storepb.js";
import type { PutRequest } from "../../src/mvcc/index.js";
import {
  decodePutBatch,
  encodePutRequest,
  encodeRequestBatch,
} from "../../src/server/put-request-wire.js";
import { decodeBatch, decodeRequest, encodeRequest } from "../../src/server/request-codec.js";
import { plain } from "./plain-data.js";

const b = (s: string) => new Uint8Array(Buffer.from(s));

/** Puts covering every field, empty and absent ones, and lengths past one varint byte. */
const PUTS: PutRequest[] = [
  { key: b("k") },
  { key: b("k"), value: b("v") },
  { key: new Uint8Array(0), value: b("value of a key that is empty") },
  { key: b("a".repeat(200)), value: new Uint8Array(70_000).fill(7) },
  { key: b("leased"), value: b("v"), lease: 2 ** 53 - 1 },
  { key: b("k"), lease: 127 },
  { key: b("k"), lease: 128 },
  { key: b("k"), prevKv: true },
  { key: b("k"), ignoreValue: true },
  { key: b("k"), ignoreLease: true },
  { key: b("k"), value: b("v"), lease: 7, prevKv: true, ignoreValue: true, ignoreLease: true },
];

describe("the hand-written put encoding", () => {
  it("protobufjs reads every put it writes", () => {
    for (const [i, put] of PUTS.entries()) {
      const req = {
        proposer: 2 ** 53 - 2,
        id: 1_700_000_000_000 * 1024 + i,
        op: { type: "put", put },
      };
      const encoded = encodePutRequest(req.proposer, req.id, put);
      expect(encoded).toBeDefined();
      expect(plain(decodeRequest(encoded as Uint8Array))).toEqual(plain(req));
    }
  });

  it("reads batches of puts as protobufjs wrote them, default fields included", () => {
    const requests = PUTS.map((put, i) =>
      tug.store.Request.encode({
        proposer: 3,
        id: i + 1,
        put: {
          key: put.key,
          value: put.value ?? new Uint8Array(0),
          lease: put.lease ?? 0,
          prevKv: put.prevKv ?? false,
          ignoreValue: put.ignoreValue ?? false,
          ignoreLease: put.ignoreLease ?? false,
        },
      }).finish(),
    );
    const fast = decodePutBatch(encodeRequestBatch(requests));
    expect(fast).toBeDefined();
    expect(plain(fast)).toEqual(plain(requests.map((r) => decodeRequest(r))));
  });

  it("a batch round-trips through encodeRequest and decodeBatch, the same as each request alone", () => {
    const reqs = PUTS.map((put, i) => ({
      proposer: 1,
      id: i + 1,
      op: { type: "put" as const, put },
    }));
    const encoded = reqs.map(encodeRequest);
    expect(plain(decodeBatch(encodeRequestBatch(encoded)))).toEqual(plain(reqs));
  });

  it("steps aside for anything but plain puts", () => {
    const put = encodeRequest({ proposer: 1, id: 1, op: { type: "put", put: { key: b("k") } } });
    const revoke = encodeRequest({ proposer: 1, id: 2, op: { type: "leaseRevoke", id: 5 } });
    expect(decodePutBatch(encodeRequestBatch([put, revoke]))).toBeUndefined();
    // A field this reader does not know (PutRequest field 7, varint).
    const unknown = Buffer.concat([put.subarray(0, put.length), Buffer.from([0x38, 1])]);
    unknown[5] = (unknown[5] as number) + 2; // the put's length now covers it
    expect(decodePutBatch(encodeRequestBatch([unknown]))).toBeUndefined();
    // Truncated bytes: undefined here; decodeBatch then reports DATA_LOSS.
    expect(decodePutBatch(encodeRequestBatch([put]).subarray(0, 5))).toBeUndefined();
    // A lease protobufjs must encode (negative int64): the generic encoder takes it.
    expect(encodePutRequest(1, 1, { key: b("k"), lease: -1 })).toBeUndefined();
    const negative = encodeRequest({
      proposer: 1,
      id: 3,
      op: { type: "put", put: { key: b("k"), lease: -1 } },
    });
    expect(plain(decodeRequest(negative).op)).toEqual(
      plain({ type: "put", put: { key: b("k"), lease: -1 } }),
    );
  });
});
