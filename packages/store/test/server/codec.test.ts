// The pieces of the server that need no sockets: ids as etcd derives them, the replicated
// request format, and the state machine (deterministic apply, snapshots, lease tracking).

import type { ConfChange } from "@tug/raft";
import { describe, expect, it } from "vitest";
import { StoreError } from "../../src/errors.js";
import type { KvEvent } from "../../src/mvcc/index.js";
import { computeClusterId, computeMemberId, RequestIds } from "../../src/server/ids.js";
import { decodeConfChangeContext, encodeConfChangeContext } from "../../src/server/membership.js";
import {
  decodeBatch,
  decodeRequest,
  encodeBatch,
  encodeRequest,
  type StoreOp,
  type StoreRequest,
} from "../../src/server/request-codec.js";
import { StateMachine } from "../../src/server/state-machine.js";
import { seeded } from "./harness.js";
import { plain } from "./plain-data.js";

const b = (s: string) => new Uint8Array(Buffer.from(s));

describe("ids", () => {
  it("a member id is the low 53 bits of etcd's (checked against etcd 3.4: 4627081221937520288)", () => {
    expect(computeMemberId(["http://127.0.0.1:23801"], "tok")).toBe(
      Number(4627081221937520288n & (2n ** 53n - 1n)),
    );
  });

  it("peer URL order does not matter; the addition time does", () => {
    const urls = ["http://10.0.0.2:2380", "http://10.0.0.1:2380"];
    expect(computeMemberId(urls, "tok", 1700000000)).toBe(7803429539956578);
    expect(computeMemberId([...urls].reverse(), "tok", 1700000000)).toBe(7803429539956578);
    expect(computeMemberId(urls, "tok", 1700000001)).not.toBe(7803429539956578);
  });

  it("a cluster id hashes the sorted member ids as etcd's genID does", () => {
    expect(computeClusterId([2 ** 53 - 1, 12345, 6388004255391392])).toBe(4807195930715112);
    expect(computeClusterId([6388004255391392, 2 ** 53 - 1, 12345])).toBe(4807195930715112);
  });

  it("request ids of a restarted member start past those it used before", () => {
    const before = new RequestIds(1_700_000_000_000);
    let last = 0;
    for (let i = 0; i < 1000; i++) last = before.take();
    expect(new RequestIds(1_700_000_000_001).take()).toBeGreaterThan(last);
    expect(Number.isSafeInteger(last)).toBe(true);
  });
});

const OPS: StoreOp[] = [
  {
    type: "put",
    put: { key: b("k"), value: b("v"), lease: 2 ** 52 + 3, prevKv: true },
  },
  { type: "put", put: { key: b("k"), ignoreValue: true, ignoreLease: true } },
  { type: "deleteRange", deleteRange: { key: b("a"), rangeEnd: b("\0"), prevKv: true } },
  {
    type: "txn",
    txn: {
      compare: [
        { result: "EQUAL", target: "VALUE", key: b("k"), value: b("v") },
        { result: "GREATER", target: "MOD", key: b("a"), rangeEnd: b("b"), modRevision: 7 },
        { result: "LESS", target: "VERSION", key: b("x"), version: 3 },
        { result: "NOT_EQUAL", target: "CREATE", key: b("x"), createRevision: 0 },
        { result: "EQUAL", target: "LEASE", key: b("x"), lease: 99 },
      ],
      success: [
        { requestPut: { key: b("k"), value: b("w") } },
        {
          requestRange: {
            key: b("a"),
            rangeEnd: b("z"),
            limit: 5,
            revision: 3,
            sortOrder: "DESCEND",
            sortTarget: "MOD",
            keysOnly: true,
            minModRevision: 2,
          },
        },
      ],
      failure: [
        { requestDeleteRange: { key: b("k") } },
        { requestTxn: { compare: [], success: [{ requestPut: { key: b("n") } }], failure: [] } },
      ],
    },
  },
  { type: "compaction", revision: 42, physical: true },
  { type: "leaseGrant", id: 2 ** 53 - 1, ttl: 60 },
  { type: "leaseRevoke", id: 5 },
  { type: "leaseCheckpoint", checkpoints: [{ id: 5, remainingTtl: 10 }] },
  { type: "memberAttributes", memberId: 77, name: "m1", clientUrls: ["http://127.0.0.1:2379"] },
];

describe("the replicated request format", () => {
  it("every operation survives encode and decode", () => {
    for (const [i, op] of OPS.entries()) {
      const req: StoreRequest = { proposer: 2 ** 53 - 2, id: 1_700_000_000_000 * 1024 + i, op };
      expect(plain(decodeRequest(encodeRequest(req)))).toEqual(plain(req));
    }
  });

  it("a batch holds its requests in order", () => {
    const reqs = OPS.map((op, i) => ({ proposer: 1, id: i + 1, op }));
    const decoded = decodeBatch(encodeBatch(reqs.map(encodeRequest)));
    expect(plain(decoded)).toEqual(plain(reqs));
  });

  it("bytes that are not a batch fail with DATA_LOSS; an unknown operation fails alone", () => {
    expect(() => decodeBatch(new Uint8Array([0x0a, 0x05, 1]))).toThrow(StoreError);
    const empty = encodeRequest({ proposer: 1, id: 1, op: OPS[0] as StoreOp }).subarray(0, 4);
    const batch = encodeBatch([
      empty,
      encodeRequest({ proposer: 1, id: 2, op: OPS[5] as StoreOp }),
    ]);
    const [first, second] = decodeBatch(batch);
    expect(first).toBeInstanceOf(StoreError);
    expect((second as StoreRequest).id).toBe(2);
  });

  it("a conf change context names the member and who waits", () => {
    const ctx = {
      member: {
        id: 9,
        name: "",
        peerUrls: ["http://a:1", "http://b:2"],
        clientUrls: [],
        isLearner: true,
      },
      proposer: 3,
      id: 12,
    };
    expect(decodeConfChangeContext(encodeConfChangeContext(ctx))).toEqual(ctx);
  });
});

function newSm(seed = 1): StateMachine {
  return new StateMachine({ lessor: { minTtl: 1, random: seeded(seed) } });
}

function member(id: number, url: string) {
  return { id, name: `n${id}`, peerUrls: [url], clientUrls: [], isLearner: false };
}

function addNode(sm: StateMachine, id: number, url: string, type: ConfChange["type"] = "AddNode") {
  const m = member(id, url);
  const cc: ConfChange = { type, nodeId: id, context: new Uint8Array() };
  return sm.applyConfChange(cc, { member: m, proposer: 0, id: 0 });
}

describe("the state machine", () => {
  it("two members applying the same log reach the same state", () => {
    const a = newSm(1);
    const b2 = newSm(2);
    const log: StoreOp[] = [
      { type: "leaseGrant", id: 10, ttl: 30 },
      { type: "put", put: { key: b("x"), value: b("1"), lease: 10 } },
      { type: "put", put: { key: b("y"), value: b("2") } },
      { type: "put", put: { key: b("x"), value: b("3") } },
      { type: "put", put: { key: b("z"), value: b("4"), lease: 10 } },
      { type: "compaction", revision: 3, physical: false },
    ];
    for (const op of log) {
      a.apply(op);
      b2.apply(op);
    }
    expect(a.keyspace.hash()).toBe(b2.keyspace.hash());
    expect(a.serialize(6)).toEqual(b2.serialize(6));
    // The put of x without a lease detached it; z stays attached.
    expect(a.lessor.lookup(10)?.keys.map((k) => Buffer.from(k).toString())).toEqual(["z"]);
  });

  it("a refused request changes nothing", () => {
    const sm = newSm();
    sm.apply({ type: "put", put: { key: b("x"), value: b("1") } });
    const before = sm.serialize(1);
    expect(() => sm.apply({ type: "put", put: { key: b("y"), lease: 99 } })).toThrow(
      "etcdserver: requested lease not found",
    );
    expect(() => sm.apply({ type: "compaction", revision: 99, physical: false })).toThrow(
      "etcdserver: mvcc: required revision is a future revision",
    );
    expect(() => sm.apply({ type: "leaseRevoke", id: 4 })).toThrow(
      "etcdserver: requested lease not found",
    );
    expect(sm.serialize(1)).toEqual(before);
  });

  it("a revoke deletes the lease's keys in one revision", () => {
    const sm = newSm();
    const seen: number[] = [];
    sm.events.subscribe((events, rev) => {
      for (const _ of events) seen.push(rev);
    });
    sm.apply({ type: "leaseGrant", id: 7, ttl: 10 });
    sm.apply({ type: "put", put: { key: b("a"), lease: 7 } });
    sm.apply({ type: "put", put: { key: b("b"), lease: 7 } });
    sm.apply({ type: "leaseRevoke", id: 7 });
    expect(seen).toEqual([2, 3, 4, 4]);
    expect(sm.keyspace.range({ key: b("a"), rangeEnd: b("\0") }).count).toBe(0);
    expect(sm.lessor.size).toBe(0);
  });

  it("membership: checked at apply, identically everywhere", () => {
    const sm = newSm();
    addNode(sm, 1, "http://a:1");
    expect(() => addNode(sm, 1, "http://a:9")).toThrow("etcdserver: member ID already exist");
    expect(() => addNode(sm, 2, "http://a:1")).toThrow("etcdserver: Peer URLs already exists");
    addNode(sm, 3, "http://c:1", "AddLearnerNode");
    expect(() => addNode(sm, 4, "http://d:1", "AddLearnerNode")).toThrow(
      "etcdserver: too many learner members in cluster",
    );
    expect(addNode(sm, 3, "http://c:1").find((m) => m.id === 3)?.isLearner).toBe(false);
    const remove: ConfChange = { type: "RemoveNode", nodeId: 3, context: new Uint8Array() };
    sm.applyConfChange(remove, { member: member(3, "http://c:1"), proposer: 0, id: 0 });
    expect(sm.membership.isRemoved(3)).toBe(true);
    expect(() => addNode(sm, 3, "http://c:2")).toThrow("ID removed");
    sm.apply({ type: "memberAttributes", memberId: 1, name: "one", clientUrls: ["http://a:2"] });
    expect(sm.membership.get(1)).toMatchObject({ name: "one", clientUrls: ["http://a:2"] });
  });

  it("a restore brings back keys, history, leases and members, and tells watchers where to catch up", () => {
    const src = newSm();
    addNode(src, 1, "http://a:1");
    src.apply({ type: "leaseGrant", id: 8, ttl: 20 });
    src.apply({ type: "put", put: { key: b("k1"), value: b("a"), lease: 8 } });
    const dst = newSm();
    const heard: { rev: number; keys: string[] }[] = [];
    dst.events.subscribe((events: readonly KvEvent[], rev) =>
      heard.push({ rev, keys: events.map((e) => Buffer.from(e.kv.key).toString()) }),
    );
    const restoredFrom: number[] = [];
    dst.events.onRestore((from) => restoredFrom.push(from));
    dst.apply({ type: "put", put: { key: b("k1"), value: b("a") } }); // same revision 2
    src.apply({ type: "put", put: { key: b("k2"), value: b("b") } });
    src.apply({ type: "deleteRange", deleteRange: { key: b("k1") } });
    const snap = src.serialize(40);
    expect(dst.restore(snap)).toBe(40);
    expect(dst.keyspace.hash()).toBe(src.keyspace.hash());
    expect(dst.lessor.lookup(8)?.keys).toEqual([]);
    expect(dst.membership.list().map((m) => m.id)).toEqual([1]);
    // Revisions 3 and 4 came in the snapshot: not emitted, but readable from its history.
    expect(heard).toEqual([{ rev: 2, keys: ["k1"] }]);
    expect(restoredFrom).toEqual([3]);
    const skipped = dst.events.eventsSince(3, b("\0"), b("\0")).events;
    expect(skipped.map((e) => `${e.type} ${Buffer.from(e.kv.key)}@${e.kv.modRevision}`)).toEqual([
      "PUT k2@3",
      "DELETE k1@4",
    ]);
    // Writes after the restore reach the same listeners.
    dst.apply({ type: "put", put: { key: b("k3") } });
    expect(heard.at(-1)).toEqual({ rev: 5, keys: ["k3"] });
    expect(() => dst.restore(new Uint8Array([1, 2, 3]))).toThrow(StoreError);
    expect(dst.keyspace.revision).toBe(5);
  });
});
