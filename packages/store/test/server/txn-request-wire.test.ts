// The hand-written txn encoding against protobufjs's: each reads what the other writes, a batch
// mixing puts and txns is read by hand, and the reader steps aside (undefined) for what it does
// not expect.

import { describe, expect, it } from "vitest";
import { type etcdserverpb, tug } from "../../src/gen/storepb.js";
import type { TxnRequest } from "../../src/mvcc/index.js";
import { decodeWireBatch, encodeRequestBatch } from "../../src/server/put-request-wire.js";
import { decodeBatch, decodeRequest, encodeRequest } from "../../src/server/request-codec.js";
import { encodeTxnRequest, readTxn } from "../../src/server/txn-request-wire.js";
import { plain } from "./plain-data.js";

const b = (s: string) => new Uint8Array(Buffer.from(s));

/** The API server's guarded writes, and txns covering every compare target and op field. */
const TXNS: TxnRequest[] = [
  {
    compare: [{ result: "EQUAL", target: "CREATE", key: b("/registry/pods/a"), createRevision: 0 }],
    success: [{ requestPut: { key: b("/registry/pods/a"), value: new Uint8Array(1000).fill(3) } }],
    failure: [{ requestRange: { key: b("/registry/pods/a") } }],
  },
  {
    compare: [{ result: "EQUAL", target: "MOD", key: b("k"), modRevision: 2 ** 40 }],
    success: [{ requestPut: { key: b("k"), value: b("v"), ignoreLease: true } }],
    failure: [{ requestRange: { key: b("k") } }],
  },
  {
    compare: [
      { result: "NOT_EQUAL", target: "VERSION", key: b("k"), version: 3, rangeEnd: b("l") },
      { result: "GREATER", target: "VALUE", key: b("k"), value: b("x".repeat(300)) },
      { result: "LESS", target: "VALUE", key: b("k"), value: new Uint8Array(0) },
      { result: "EQUAL", target: "LEASE", key: b("k"), lease: 2 ** 53 - 1 },
      { result: "EQUAL", target: "CREATE", key: new Uint8Array(0), createRevision: 127 },
    ],
    success: [
      { requestDeleteRange: { key: b("a"), rangeEnd: b("b"), prevKv: true } },
      { requestDeleteRange: { key: b("c") } },
      {
        requestRange: {
          key: b("a"),
          rangeEnd: new Uint8Array([0]),
          limit: 10,
          revision: 128,
          sortOrder: "DESCEND",
          sortTarget: "VALUE",
          serializable: true,
          keysOnly: true,
          countOnly: true,
          minModRevision: 1,
          maxModRevision: 2,
          minCreateRevision: 3,
          maxCreateRevision: 4,
        },
      },
      { requestPut: { key: b("p"), value: b("v"), lease: 9, prevKv: true, ignoreValue: true } },
    ],
    failure: [],
  },
  { compare: [], success: [], failure: [] },
];

/** The Request as protobufjs alone writes it (what encodeRequest wrote before this path). */
function protobufjsTxn(proposer: number, id: number, txn: TxnRequest): Uint8Array {
  const fallback = encodeRequest({
    proposer,
    id,
    // A nested txn is not written by hand: encodeRequest falls back to protobufjs, and the
    // outer txn's first op is then the only difference, removed below.
    op: { type: "txn", txn: { ...txn, failure: [...(txn.failure ?? []), { requestTxn: {} }] } },
  });
  const m = tug.store.Request.decode(fallback);
  m.txn?.failure?.pop();
  return tug.store.Request.encode(m).finish();
}

describe("the hand-written txn encoding", () => {
  it("protobufjs reads every txn it writes, as request-codec shapes it", () => {
    for (const [i, txn] of TXNS.entries()) {
      const req = {
        proposer: 2 ** 53 - 2,
        id: 1_700_000_000_000 * 1024 + i,
        op: { type: "txn", txn },
      };
      const encoded = encodeTxnRequest(req.proposer, req.id, txn);
      expect(encoded).toBeDefined();
      const viaProtobufjs = decodeRequest(encoded as Uint8Array);
      const byHand = decodeWireBatch(encodeRequestBatch([encoded as Uint8Array]), readTxn);
      expect(byHand).toBeDefined();
      expect(plain(byHand)).toEqual(plain([viaProtobufjs]));
      // What was encoded comes back, up to the fields the decoder leaves absent (none here).
      expect(plain(viaProtobufjs.op)).toEqual(plain(req.op));
    }
  });

  it("reads txns as protobufjs wrote them, in a batch with puts", () => {
    const requests = [
      ...TXNS.map((txn, i) => protobufjsTxn(3, i + 1, txn)),
      encodeRequest({ proposer: 3, id: 99, op: { type: "put", put: { key: b("k") } } }),
    ];
    const fast = decodeWireBatch(encodeRequestBatch(requests), readTxn);
    expect(fast).toBeDefined();
    expect(plain(fast)).toEqual(plain(requests.map((r) => decodeRequest(r))));
    expect(plain(decodeBatch(encodeRequestBatch(requests)))).toEqual(plain(fast));
  });

  it("steps aside for what it does not write or expect", () => {
    // A nested txn, and a negative revision (a ten-byte int64): protobufjs writes them.
    const nested: TxnRequest = { success: [{ requestTxn: TXNS[0] as TxnRequest }] };
    expect(encodeTxnRequest(1, 1, nested)).toBeUndefined();
    const negative: TxnRequest = {
      compare: [{ result: "EQUAL", target: "MOD", key: b("k"), modRevision: -1 }],
    };
    expect(encodeTxnRequest(1, 1, negative)).toBeUndefined();
    for (const txn of [nested, negative]) {
      const encoded = encodeRequest({ proposer: 1, id: 2, op: { type: "txn", txn } });
      expect(decodeWireBatch(encodeRequestBatch([encoded]), readTxn)).toBeUndefined();
      const [decoded] = decodeBatch(encodeRequestBatch([encoded]));
      expect(plain(decoded)).toEqual(
        plain({
          proposer: 1,
          id: 2,
          op: { type: "txn", txn: { compare: [], success: [], failure: [], ...txn } },
        }),
      );
    }
    // An enum number past the known ones: undefined here, DATA_LOSS from decodeBatch.
    const badResult = tug.store.Request.encode({
      proposer: 1,
      id: 3,
      txn: {
        compare: [
          {
            result: 9 as etcdserverpb.Compare.CompareResult,
            target: 1,
            key: b("k"),
            createRevision: 0,
          },
        ],
      },
    }).finish();
    expect(decodeWireBatch(encodeRequestBatch([badResult]), readTxn)).toBeUndefined();
    expect(decodeBatch(encodeRequestBatch([badResult]))[0]).toMatchObject({ code: "DATA_LOSS" });
    // Truncated bytes.
    const good = encodeTxnRequest(1, 4, TXNS[0] as TxnRequest) as Uint8Array;
    const batch = encodeRequestBatch([good]);
    expect(decodeWireBatch(batch.subarray(0, batch.length - 3), readTxn)).toBeUndefined();
  });
});
