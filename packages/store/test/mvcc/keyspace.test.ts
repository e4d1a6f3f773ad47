// etcd v3 semantics of the keyspace, operation by operation. Expected values follow etcd 3.4
// (server/mvcc, server/etcdserver/apply.go, v3rpc/key.go) as observed with etcdctl.

import { describe, expect, it } from "vitest";
import { StoreError } from "../../src/errors.js";
import {
  CompactedError,
  type Compare,
  checkTxnRequest,
  isReadOnlyTxn,
  isSerializableTxn,
  Keyspace,
  type KeyValue,
  type KvEvent,
  type RequestOp,
} from "../../src/mvcc/index.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const b = (s: string): Uint8Array => enc.encode(s);
const ALL = b("\0");

/** A kv as a readable tuple: key=value@create/mod/version[/lease]. */
function show(kv: KeyValue | undefined): string | undefined {
  if (kv === undefined) return undefined;
  const lease = kv.lease === 0 ? "" : `/L${kv.lease}`;
  return `${dec.decode(kv.key)}=${dec.decode(kv.value)}@${kv.createRevision}/${kv.modRevision}/${kv.version}${lease}`;
}

function showEvent(e: KvEvent): string {
  return `${e.type} ${show(e.kv)}${e.prevKv ? ` prev ${show(e.prevKv)}` : ""}`;
}

function get(ks: Keyspace, key: string, revision?: number): string | undefined {
  const r = ks.range({ key: b(key), revision });
  return show(r.kvs[0]);
}

function keys(ks: Keyspace, key: string, rangeEnd?: string): string[] {
  const r = ks.range({ key: b(key), rangeEnd: rangeEnd === undefined ? undefined : b(rangeEnd) });
  return r.kvs.map((kv) => dec.decode(kv.key));
}

function put(ks: Keyspace, key: string, value: string, lease = 0): number {
  return ks.put({ key: b(key), value: b(value), lease }).revision;
}

function expectEtcdError(f: () => unknown, name: Parameters<typeof StoreError.etcd>[0]): void {
  const want = StoreError.etcd(name);
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(StoreError);
  expect((caught as StoreError).message).toBe(want.message);
  expect((caught as StoreError).code).toBe(want.code);
}

describe("revisions and versions", () => {
  it("starts at revision 1 and the first write commits as 2", () => {
    const ks = new Keyspace();
    expect(ks.revision).toBe(1);
    expect(ks.range({ key: b("a") })).toEqual({ revision: 1, kvs: [], more: false, count: 0 });
    expect(put(ks, "a", "1")).toBe(2);
    expect(get(ks, "a")).toBe("a=1@2/2/1");
  });

  it("counts versions per key, resets them on delete, and resets create_revision on recreate", () => {
    const ks = new Keyspace();
    put(ks, "a", "1"); // 2
    put(ks, "b", "x"); // 3
    put(ks, "a", "2"); // 4
    expect(get(ks, "a")).toBe("a=2@2/4/2");
    expect(ks.deleteRange({ key: b("a") })).toEqual({ revision: 5, deleted: 1, prevKvs: [] });
    expect(get(ks, "a")).toBeUndefined();
    put(ks, "a", "3"); // 6
    expect(get(ks, "a")).toBe("a=3@6/6/1");
    expect(get(ks, "b")).toBe("b=x@3/3/1");
  });

  it("bumps the revision on every put, even of the same value", () => {
    const ks = new Keyspace();
    put(ks, "a", "1");
    expect(put(ks, "a", "1")).toBe(3);
    expect(get(ks, "a")).toBe("a=1@2/3/2");
  });

  it("does not bump the revision for a delete of nothing", () => {
    const ks = new Keyspace();
    put(ks, "a", "1");
    expect(ks.deleteRange({ key: b("zz") })).toEqual({ revision: 2, deleted: 0, prevKvs: [] });
    expect(ks.deleteRange({ key: b("b"), rangeEnd: b("c") }).revision).toBe(2);
    expect(ks.revision).toBe(2);
  });
});

describe("put", () => {
  it("returns prev_kv when asked", () => {
    const ks = new Keyspace();
    expect(ks.put({ key: b("a"), value: b("1"), prevKv: true })).toEqual({ revision: 2 });
    const r = ks.put({ key: b("a"), value: b("2"), prevKv: true });
    expect(r.revision).toBe(3);
    expect(show(r.prevKv)).toBe("a=1@2/2/1");
    expect(ks.put({ key: b("a"), value: b("3") }).prevKv).toBeUndefined();
  });

  it("copies the key and value it is given", () => {
    const ks = new Keyspace();
    const key = b("a");
    const value = b("1");
    ks.put({ key, value });
    key[0] = 0x7a;
    value[0] = 0x39;
    expect(get(ks, "a")).toBe("a=1@2/2/1");
  });

  it("ignore_value keeps the value and ignore_lease keeps the lease", () => {
    const ks = new Keyspace();
    put(ks, "a", "v", 7);
    ks.put({ key: b("a"), ignoreValue: true, lease: 9 });
    expect(get(ks, "a")).toBe("a=v@2/3/2/L9");
    ks.put({ key: b("a"), value: b("w"), ignoreLease: true });
    expect(get(ks, "a")).toBe("a=w@2/4/3/L9");
    ks.put({ key: b("a"), ignoreValue: true, ignoreLease: true });
    expect(get(ks, "a")).toBe("a=w@2/5/4/L9");
  });

  it.each([
    [{ ignoreValue: true }, "keyNotFound"],
    [{ ignoreLease: true }, "keyNotFound"],
    [{ ignoreValue: true, value: b("x") }, "valueProvided"],
    [{ ignoreLease: true, lease: 5 }, "leaseProvided"],
  ] as const)("rejects %o with %s", (extra, error) => {
    const ks = new Keyspace();
    expectEtcdError(() => ks.put({ key: b("a"), ...extra }), error);
    expect(ks.revision).toBe(1);
  });

  it("ignore flags need the key to exist now, not in the past", () => {
    const ks = new Keyspace();
    put(ks, "a", "1");
    ks.deleteRange({ key: b("a") });
    expectEtcdError(() => ks.put({ key: b("a"), ignoreValue: true }), "keyNotFound");
  });

  it("rejects an empty key", () => {
    const ks = new Keyspace();
    expectEtcdError(() => ks.put({ key: b(""), value: b("x") }), "emptyKey");
    expectEtcdError(() => ks.range({ key: b("") }), "emptyKey");
    expectEtcdError(() => ks.deleteRange({ key: b("") }), "emptyKey");
  });

  it("refuses an unknown lease when told which exist", () => {
    const ks = new Keyspace({ leaseExists: (id) => id === 5 });
    expectEtcdError(() => put(ks, "a", "1", 6), "leaseNotFound");
    expect(put(ks, "a", "1", 5)).toBe(2);
  });
});

describe("range", () => {
  const fill = (): Keyspace => {
    const ks = new Keyspace();
    for (const k of ["a", "ab", "b", "c", "c\u0001", "d"]) put(ks, k, k.toUpperCase());
    return ks;
  };

  it.each([
    ["a", undefined, ["a"]],
    ["zz", undefined, []],
    ["a", "c", ["a", "ab", "b"]],
    ["b", "\0", ["b", "c", "c\u0001", "d"]],
    ["\0", "\0", ["a", "ab", "b", "c", "c\u0001", "d"]],
    ["c", "c\u0001", ["c"]],
    ["c", "b", []],
    ["c", "c", []],
    ["a", "", ["a"]],
  ] as const)("key %j range_end %j", (key, end, want) => {
    expect(keys(fill(), key, end)).toEqual(want);
  });

  it("orders keys as bytes, not as UTF-16", () => {
    const ks = new Keyspace();
    ks.put({ key: new Uint8Array([0xff]), value: b("") });
    ks.put({ key: new Uint8Array([0x7f]), value: b("") });
    ks.put({ key: new Uint8Array([0x80, 0x00]), value: b("") });
    ks.put({ key: new Uint8Array([0x80]), value: b("") });
    const r = ks.range({ key: ALL, rangeEnd: ALL });
    expect(r.kvs.map((kv) => [...kv.key])).toEqual([[0x7f], [0x80], [0x80, 0x00], [0xff]]);
  });

  it("reads at a past revision", () => {
    const ks = new Keyspace();
    put(ks, "a", "1"); // 2
    put(ks, "a", "2"); // 3
    put(ks, "b", "1"); // 4
    ks.deleteRange({ key: b("a") }); // 5
    put(ks, "a", "3"); // 6
    expect(get(ks, "a", 1)).toBeUndefined();
    expect(get(ks, "a", 2)).toBe("a=1@2/2/1");
    expect(get(ks, "a", 4)).toBe("a=2@2/3/2");
    expect(get(ks, "a", 5)).toBeUndefined();
    expect(get(ks, "a", 6)).toBe("a=3@6/6/1");
    const past = ks.range({ key: ALL, rangeEnd: ALL, revision: 3 });
    expect(past.kvs.map(show)).toEqual(["a=2@2/3/2"]);
    expect(past.revision).toBe(6); // the header carries the current revision
    expect(past.count).toBe(1);
  });

  it("refuses future and compacted revisions", () => {
    const ks = new Keyspace();
    for (let i = 0; i < 5; i++) put(ks, "a", `${i}`); // revisions 2..6
    expectEtcdError(() => ks.range({ key: b("a"), revision: 7 }), "futureRevision");
    ks.compact(4);
    expectEtcdError(() => ks.range({ key: b("a"), revision: 3 }), "compacted");
    expect(get(ks, "a", 4)).toBe("a=2@2/4/3");
    expect(get(ks, "a", 5)).toBe("a=3@2/5/4");
    try {
      ks.range({ key: b("a"), revision: 2 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(CompactedError);
      expect((e as CompactedError).compactRevision).toBe(4);
    }
  });

  it("limits, reporting more and the whole count", () => {
    const ks = fill();
    const r = ks.range({ key: ALL, rangeEnd: ALL, limit: 2 });
    expect(r.kvs.map((kv) => dec.decode(kv.key))).toEqual(["a", "ab"]);
    expect(r.more).toBe(true);
    expect(r.count).toBe(6);
    const all = ks.range({ key: ALL, rangeEnd: ALL, limit: 6 });
    expect([all.kvs.length, all.more, all.count]).toEqual([6, false, 6]);
  });

  it("count_only and keys_only", () => {
    const ks = fill();
    expect(ks.range({ key: b("a"), rangeEnd: b("c"), countOnly: true })).toEqual({
      revision: 7,
      kvs: [],
      more: false,
      count: 3,
    });
    const r = ks.range({ key: b("a"), rangeEnd: b("b"), keysOnly: true });
    expect(r.kvs.map(show)).toEqual(["a=@2/2/1", "ab=@3/3/1"]);
    expect(get(ks, "a")).toBe("a=A@2/2/1"); // keys_only did not touch the stored kv
  });

  it("sorts by each target, ascending by default when only a target is given", () => {
    const ks = new Keyspace();
    put(ks, "a", "3"); // 2
    put(ks, "b", "1"); // 3
    put(ks, "c", "2"); // 4
    put(ks, "b", "4"); // 5: b has version 2
    put(ks, "a", "0"); // 6: a has version 2
    const order = (
      sortTarget: "KEY" | "VERSION" | "CREATE" | "MOD" | "VALUE",
      sortOrder?: "NONE" | "ASCEND" | "DESCEND",
    ) =>
      ks
        .range({ key: ALL, rangeEnd: ALL, sortTarget, sortOrder })
        .kvs.map((kv) => dec.decode(kv.key))
        .join("");
    expect(order("KEY")).toBe("abc");
    expect(order("KEY", "DESCEND")).toBe("cba");
    expect(order("VALUE")).toBe("acb");
    expect(order("VALUE", "DESCEND")).toBe("bca");
    expect(order("MOD", "ASCEND")).toBe("cba");
    expect(order("MOD", "DESCEND")).toBe("abc");
    expect(order("CREATE", "DESCEND")).toBe("cba");
    expect(order("VERSION")).toBe("cab"); // ties in key order
    expect(order("VERSION", "DESCEND")).toBe("abc");
  });

  it("sorts before limiting", () => {
    const ks = new Keyspace();
    put(ks, "a", "1");
    put(ks, "b", "2");
    put(ks, "c", "3");
    const r = ks.range({ key: ALL, rangeEnd: ALL, sortOrder: "DESCEND", limit: 2 });
    expect(r.kvs.map((kv) => dec.decode(kv.key))).toEqual(["c", "b"]);
    expect([r.more, r.count]).toEqual([true, 3]);
  });

  it("filters by mod and create revision; count stays the range's", () => {
    const ks = new Keyspace();
    put(ks, "a", "1"); // 2
    put(ks, "b", "1"); // 3
    put(ks, "c", "1"); // 4
    put(ks, "a", "2"); // 5
    const q = (extra: object) => {
      const r = ks.range({ key: ALL, rangeEnd: ALL, ...extra });
      return [r.kvs.map((kv) => dec.decode(kv.key)).join(""), r.count, r.more];
    };
    expect(q({ minModRevision: 4 })).toEqual(["ac", 3, false]);
    expect(q({ maxModRevision: 3 })).toEqual(["b", 3, false]);
    expect(q({ minCreateRevision: 3 })).toEqual(["bc", 3, false]);
    expect(q({ maxCreateRevision: 3 })).toEqual(["ab", 3, false]);
    expect(q({ minCreateRevision: 3, limit: 1 })).toEqual(["b", 3, true]);
    expect(q({ minModRevision: 5, limit: 1 })).toEqual(["a", 3, false]);
  });
});

describe("delete range", () => {
  it("deletes a range and returns prev kvs in key order", () => {
    const ks = new Keyspace();
    for (const k of ["a", "b", "c", "d"]) put(ks, k, k);
    const r = ks.deleteRange({ key: b("b"), rangeEnd: b("d"), prevKv: true });
    expect(r.revision).toBe(6);
    expect(r.deleted).toBe(2);
    expect(r.prevKvs.map(show)).toEqual(["b=b@3/3/1", "c=c@4/4/1"]);
    expect(keys(ks, "\0", "\0")).toEqual(["a", "d"]);
    expect(ks.deleteRange({ key: b("\0"), rangeEnd: ALL }).deleted).toBe(2);
    expect(ks.revision).toBe(7);
    expect(keys(ks, "\0", "\0")).toEqual([]);
  });
});

const cmp = (
  c: Partial<Omit<Compare, "key" | "rangeEnd">> & { key: string; rangeEnd?: string },
): Compare => ({
  result: "EQUAL",
  target: "VERSION",
  ...c,
  key: b(c.key),
  rangeEnd: c.rangeEnd === undefined ? undefined : b(c.rangeEnd),
});
const putOp = (key: string, value: string): RequestOp => ({
  requestPut: { key: b(key), value: b(value) },
});
const delOp = (key: string, rangeEnd?: string): RequestOp => ({
  requestDeleteRange: { key: b(key), rangeEnd: rangeEnd === undefined ? undefined : b(rangeEnd) },
});
const getOp = (key: string, rangeEnd?: string): RequestOp => ({
  requestRange: { key: b(key), rangeEnd: rangeEnd === undefined ? undefined : b(rangeEnd) },
});

describe("txn", () => {
  const base = (): Keyspace => {
    const ks = new Keyspace();
    put(ks, "a", "1", 3); // 2
    put(ks, "b", "2"); // 3
    put(ks, "a", "5", 3); // 4: a version 2, create 2, mod 4, lease 3
    return ks;
  };

  it.each([
    [{ key: "a", target: "VERSION", version: 2 }, true],
    [{ key: "a", target: "VERSION", result: "GREATER", version: 1 }, true],
    [{ key: "a", target: "VERSION", result: "LESS", version: 2 }, false],
    [{ key: "a", target: "VERSION", result: "NOT_EQUAL", version: 2 }, false],
    [{ key: "a", target: "CREATE", createRevision: 2 }, true],
    [{ key: "a", target: "MOD", modRevision: 4 }, true],
    [{ key: "a", target: "MOD", result: "LESS", modRevision: 4 }, false],
    [{ key: "a", target: "VALUE", value: b("5") }, true],
    [{ key: "a", target: "VALUE", result: "GREATER", value: b("4") }, true],
    [{ key: "a", target: "VALUE", result: "LESS", value: b("50") }, true],
    [{ key: "a", target: "LEASE", lease: 3 }, true],
    [{ key: "b", target: "LEASE", lease: 0 }, true],
    // An absent key compares as all zero ...
    [{ key: "zz", target: "VERSION", version: 0 }, true],
    [{ key: "zz", target: "CREATE", createRevision: 0 }, true],
    [{ key: "zz", target: "MOD", result: "LESS", modRevision: 1 }, true],
    // ... except that a VALUE compare on it always fails.
    [{ key: "zz", target: "VALUE", value: b("") }, false],
    [{ key: "zz", target: "VALUE", result: "NOT_EQUAL", value: b("x") }, false],
    // Over a range every key must satisfy the compare.
    [{ key: "a", rangeEnd: "c", target: "VERSION", result: "GREATER", version: 0 }, true],
    [{ key: "a", rangeEnd: "c", target: "VERSION", version: 2 }, false],
    [{ key: "a", rangeEnd: "c", target: "MOD", result: "LESS", modRevision: 5 }, true],
    [{ key: "\0", rangeEnd: "\0", target: "CREATE", result: "GREATER", createRevision: 1 }, true],
    [{ key: "x", rangeEnd: "z", target: "VERSION", version: 0 }, true],
    [{ key: "x", rangeEnd: "z", target: "VALUE", value: b("") }, false],
  ] as const)("compare %o holds: %s", (c, want) => {
    const ks = base();
    const r = ks.txn({ compare: [cmp(c)] });
    expect(r.succeeded).toBe(want);
    expect(r.revision).toBe(4);
  });

  it("needs all compares to hold", () => {
    const ks = base();
    const r = ks.txn({
      compare: [cmp({ key: "a", version: 2 }), cmp({ key: "b", version: 2 })],
      success: [putOp("s", "1")],
      failure: [putOp("f", "1")],
    });
    expect(r.succeeded).toBe(false);
    expect(keys(ks, "f")).toEqual(["f"]);
    expect(keys(ks, "s")).toEqual([]);
  });

  it("commits all ops as one revision, with events in op order", () => {
    const ks = base();
    const seen: string[] = [];
    ks.subscribe((events, rev) => {
      for (const e of events) seen.push(`${rev} ${showEvent(e)}`);
    });
    const r = ks.txn({
      compare: [cmp({ key: "a", target: "VALUE", value: b("5") })],
      success: [putOp("z", "1"), delOp("a"), getOp("\0", "\0"), putOp("b", "3")],
    });
    expect(r.succeeded).toBe(true);
    expect(r.revision).toBe(5);
    expect(ks.revision).toBe(5);
    expect(r.responses[0]).toEqual({ responsePut: { revision: 5 } });
    expect(r.responses[1]).toEqual({
      responseDeleteRange: { revision: 5, deleted: 1, prevKvs: [] },
    });
    // A range after writes in the same txn sees them.
    const range = r.responses[2];
    expect(range !== undefined && "responseRange" in range).toBe(true);
    if (range !== undefined && "responseRange" in range) {
      expect(range.responseRange.revision).toBe(5);
      expect(range.responseRange.kvs.map(show)).toEqual(["b=2@3/3/1", "z=1@5/5/1"]);
    }
    expect(seen).toEqual([
      "5 PUT z=1@5/5/1",
      "5 DELETE a=@0/5/0 prev a=5@2/4/2/L3",
      "5 PUT b=3@3/5/2 prev b=2@3/3/1",
    ]);
    expect(ks.keysWithLease(3)).toEqual([]);
  });

  it("a read-only txn does not bump the revision", () => {
    const ks = base();
    const r = ks.txn({ success: [getOp("a"), delOp("nothing")] });
    expect(r.revision).toBe(4);
    expect(ks.revision).toBe(4);
    expect(r.responses[1]).toEqual({
      responseDeleteRange: { revision: 4, deleted: 0, prevKvs: [] },
    });
  });

  it("runs nested txns, their compares evaluated before the txn changed anything", () => {
    const ks = base();
    const r = ks.txn({
      success: [
        putOp("b", "changed"),
        {
          requestTxn: {
            compare: [cmp({ key: "b", target: "VALUE", value: b("2") })],
            success: [putOp("n", "saw-old-b")],
            failure: [putOp("n", "saw-new-b")],
          },
        },
      ],
    });
    expect(r.revision).toBe(5);
    const nested = r.responses[1];
    expect(nested !== undefined && "responseTxn" in nested && nested.responseTxn.succeeded).toBe(
      true,
    );
    expect(get(ks, "n")).toBe("n=saw-old-b@5/5/1");
  });

  it.each([
    ["two puts of a key", [putOp("a", "1"), putOp("a", "2")]],
    ["a put inside a delete", [delOp("a", "c"), putOp("b", "1")]],
    ["a put inside a delete to the end", [delOp("a", "\0"), putOp("zzz", "1")]],
    [
      "a nested put of a key put outside",
      [putOp("a", "1"), { requestTxn: { success: [putOp("a", "2")] } }],
    ],
    [
      "a nested put inside an outer delete",
      [delOp("a"), { requestTxn: { failure: [putOp("a", "2")] } }],
    ],
    [
      "an outer put inside a nested delete",
      [putOp("a", "1"), { requestTxn: { success: [delOp("a")] } }],
    ],
  ] as const)("refuses %s with duplicateKey", (_name, ops) => {
    const ks = base();
    expectEtcdError(() => ks.txn({ success: [...ops] }), "duplicateKey");
    expectEtcdError(() => ks.txn({ failure: [...ops] }), "duplicateKey");
    expect(ks.revision).toBe(4);
  });

  it("allows the then and else of one nested txn to put the same key, and overlapping deletes", () => {
    const ks = base();
    const r = ks.txn({
      success: [
        delOp("a", "c"),
        delOp("b"),
        { requestTxn: { success: [putOp("x", "1")], failure: [putOp("x", "2")] } },
      ],
    });
    expect(r.responses[1]).toEqual({
      responseDeleteRange: { revision: 5, deleted: 0, prevKvs: [] },
    });
    expect(keys(ks, "\0", "\0")).toEqual(["x"]);
  });

  it("lets a later nested txn delete what an earlier one put: two changes, one revision", () => {
    // etcd's checkIntervals only looks back at deletes already seen, so this passes its check
    // and etcd records both (sub-revisions 0 and 1).
    const ks = base();
    const seen: string[] = [];
    ks.subscribe((events) => {
      for (const e of events) seen.push(showEvent(e));
    });
    const r = ks.txn({
      success: [
        { requestTxn: { success: [putOp("k", "1")] } },
        { requestTxn: { success: [delOp("k")] } },
      ],
    });
    expect(r.revision).toBe(5);
    expect(seen).toEqual(["PUT k=1@5/5/1", "DELETE k=@0/5/0 prev k=1@5/5/1"]);
    expect(get(ks, "k")).toBeUndefined();
    expect(ks.eventsSince(5, b("k")).events.map(showEvent)).toEqual(seen);
    ks.compact(5);
    expect(ks.eventsSince(5, b("k")).events.map(showEvent)).toEqual(seen);
    const restored = Keyspace.restore(ks.serialize());
    expect(restored.eventsSince(5, b("k")).events.map(showEvent)).toEqual(seen);
    put(ks, "z", "1");
    ks.compact(6);
    expect(ks.range({ key: b("k"), rangeEnd: b("l") }).count).toBe(0);
  });

  it("applies whole or not at all", () => {
    const ks = base();
    const events: unknown[] = [];
    ks.subscribe((e) => events.push(e));
    expectEtcdError(
      () =>
        ks.txn({
          success: [putOp("new", "1"), { requestPut: { key: b("absent"), ignoreValue: true } }],
        }),
      "keyNotFound",
    );
    expectEtcdError(
      () =>
        ks.txn({ success: [putOp("new", "1"), { requestRange: { key: b("a"), revision: 99 } }] }),
      "futureRevision",
    );
    // The failing op is in the branch not taken: fine.
    const r = ks.txn({
      compare: [cmp({ key: "a", version: 2 })],
      failure: [{ requestPut: { key: b("absent"), ignoreValue: true } }],
      success: [putOp("new", "1")],
    });
    expect(r.succeeded).toBe(true);
    expect(ks.revision).toBe(5);
    expect(events).toHaveLength(1);
  });

  it("refuses request-shape errors in either branch", () => {
    const ks = base();
    expectEtcdError(() => ks.txn({ failure: [putOp("", "x")] }), "emptyKey");
    expectEtcdError(() => ks.txn({ compare: [cmp({ key: "" })] }), "emptyKey");
    expectEtcdError(
      () => ks.txn({ failure: [{ requestPut: { key: b("a"), ignoreLease: true, lease: 2 } }] }),
      "leaseProvided",
    );
  });

  it("checks leases only on the branch taken", () => {
    const ks = new Keyspace({ leaseExists: (id) => id === 1 });
    const bad: RequestOp = { requestPut: { key: b("a"), value: b("x"), lease: 2 } };
    expect(ks.txn({ failure: [bad] }).succeeded).toBe(true);
    expectEtcdError(() => ks.txn({ success: [bad] }), "leaseNotFound");
  });
});

describe("leases", () => {
  it("tracks the keys attached to each lease", () => {
    const ks = new Keyspace();
    put(ks, "b", "1", 7);
    put(ks, "a", "1", 7);
    put(ks, "c", "1", 8);
    expect(ks.keysWithLease(7).map((k) => dec.decode(k))).toEqual(["a", "b"]);
    put(ks, "b", "2", 8); // moves b to lease 8
    expect(ks.keysWithLease(7).map((k) => dec.decode(k))).toEqual(["a"]);
    expect(ks.keysWithLease(8).map((k) => dec.decode(k))).toEqual(["b", "c"]);
    ks.deleteRange({ key: b("c") });
    expect(ks.keysWithLease(8).map((k) => dec.decode(k))).toEqual(["b"]);
    expect(ks.keysWithLease(9)).toEqual([]);
  });

  it("deleteKeys deletes in one revision, in key order, skipping absent keys", () => {
    const ks = new Keyspace();
    put(ks, "b", "1", 7);
    put(ks, "a", "1", 7);
    const seen: string[] = [];
    ks.subscribe((events, rev) => {
      for (const e of events) seen.push(`${rev} ${showEvent(e)}`);
    });
    const r = ks.deleteKeys([...ks.keysWithLease(7), b("gone"), b("a")]);
    expect(r).toEqual({ revision: 4, deleted: 2, prevKvs: [] });
    expect(seen).toEqual([
      "4 DELETE a=@0/4/0 prev a=1@3/3/1/L7",
      "4 DELETE b=@0/4/0 prev b=1@2/2/1/L7",
    ]);
    expect(ks.keysWithLease(7)).toEqual([]);
    expect(ks.deleteKeys([b("a")]).revision).toBe(4);
  });
});

describe("compaction", () => {
  it("keeps each key's state at the compact revision and drops the rest", () => {
    const ks = new Keyspace();
    put(ks, "a", "1"); // 2
    put(ks, "a", "2"); // 3
    put(ks, "b", "1"); // 4
    ks.deleteRange({ key: b("b") }); // 5
    put(ks, "a", "3"); // 6
    put(ks, "c", "1"); // 7
    const before = ks.sizeBytes();
    expect(ks.compact(5)).toEqual({ revision: 7 });
    expect(ks.compactRevision).toBe(5);
    expect(ks.sizeBytes()).toBeLessThan(before);
    expect(get(ks, "a", 5)).toBe("a=2@2/3/2");
    expect(get(ks, "b", 5)).toBeUndefined();
    expect(get(ks, "a")).toBe("a=3@2/6/3");
    expectEtcdError(() => ks.range({ key: b("a"), revision: 4 }), "compacted");
    // The deletion at exactly 5 is kept for watches from 5; the next compaction drops b.
    expect(ks.eventsSince(5, b("b")).events.map(showEvent)).toEqual(["DELETE b=@0/5/0"]);
    ks.compact(6);
    expect(ks.eventsSince(6, ALL, ALL).events.map(showEvent)).toEqual([
      "PUT a=3@2/6/3",
      "PUT c=1@7/7/1",
    ]);
    expect(ks.range({ key: ALL, rangeEnd: ALL, revision: 6 }).kvs.map(show)).toEqual(["a=3@2/6/3"]);
  });

  it("refuses to compact at or below the compact revision, or in the future", () => {
    const ks = new Keyspace();
    put(ks, "a", "1");
    put(ks, "a", "2");
    expectEtcdError(() => ks.compact(4), "futureRevision");
    ks.compact(2);
    expectEtcdError(() => ks.compact(2), "compacted");
    expectEtcdError(() => ks.compact(1), "compacted");
    ks.compact(3);
    expect(ks.compactRevision).toBe(3);
  });

  it("can compact an empty keyspace at revision 1", () => {
    const ks = new Keyspace();
    expect(ks.compact(1)).toEqual({ revision: 1 });
    expect(put(ks, "a", "1")).toBe(2);
  });
});

describe("events", () => {
  it("delivers each write's events synchronously, until unsubscribed", () => {
    const ks = new Keyspace();
    const seen: string[] = [];
    const stop = ks.subscribe((events, rev) => {
      seen.push(`${rev}: ${events.map(showEvent).join(", ")}`);
    });
    put(ks, "a", "1");
    expect(seen).toEqual(["2: PUT a=1@2/2/1"]);
    put(ks, "a", "2");
    ks.deleteRange({ key: b("a"), rangeEnd: b("b") });
    ks.deleteRange({ key: b("a") }); // nothing: no event
    stop();
    put(ks, "a", "3");
    expect(seen).toEqual([
      "2: PUT a=1@2/2/1",
      "3: PUT a=2@2/3/2 prev a=1@2/2/1",
      "4: DELETE a=@0/4/0 prev a=2@2/3/2",
    ]);
  });

  it("replays history from a past revision for a key, a range, or all keys", () => {
    const ks = new Keyspace();
    put(ks, "a", "1"); // 2
    put(ks, "b", "1"); // 3
    ks.txn({ success: [putOp("a", "2"), putOp("c", "1")] }); // 4
    ks.deleteRange({ key: b("a") }); // 5
    const replay = (start: number, key: string, end?: string) =>
      ks.eventsSince(start, b(key), end === undefined ? undefined : b(end)).events.map(showEvent);
    expect(replay(1, "a")).toEqual([
      "PUT a=1@2/2/1",
      "PUT a=2@2/4/2 prev a=1@2/2/1",
      "DELETE a=@0/5/0 prev a=2@2/4/2",
    ]);
    expect(replay(4, "\0", "\0")).toEqual([
      "PUT a=2@2/4/2 prev a=1@2/2/1",
      "PUT c=1@4/4/1",
      "DELETE a=@0/5/0 prev a=2@2/4/2",
    ]);
    expect(replay(3, "b", "c")).toEqual(["PUT b=1@3/3/1"]);
    expect(replay(6, "\0", "\0")).toEqual([]);
    expect(ks.eventsSince(6, ALL, ALL).revision).toBe(5);
  });

  it("stops at a revision boundary when limited", () => {
    const ks = new Keyspace();
    ks.txn({ success: [putOp("a", "1"), putOp("b", "1")] }); // 2
    put(ks, "c", "1"); // 3
    put(ks, "d", "1"); // 4
    const r = ks.eventsSince(2, ALL, ALL, 1);
    expect(r.events.map((e) => dec.decode(e.kv.key))).toEqual(["a", "b"]);
    expect(r.revision).toBe(2);
    const next = ks.eventsSince(r.revision + 1, ALL, ALL, 1);
    expect(next.events.map((e) => dec.decode(e.kv.key))).toEqual(["c"]);
    expect(next.revision).toBe(3);
    expect(ks.eventsSince(4, ALL, ALL, 1).revision).toBe(4);
  });

  it("refuses a start below the compact revision, naming it", () => {
    const ks = new Keyspace();
    for (let i = 0; i < 5; i++) put(ks, "a", `${i}`);
    ks.compact(4);
    expect(() => ks.eventsSince(3, b("a"))).toThrow(CompactedError);
    try {
      ks.eventsSince(3, b("a"));
    } catch (e) {
      expect((e as CompactedError).compactRevision).toBe(4);
      expect((e as CompactedError).message).toBe(
        "etcdserver: mvcc: required revision has been compacted",
      );
    }
    // From the compact revision itself, events are whole (prev_kv of the first is gone).
    expect(ks.eventsSince(4, b("a")).events.map(showEvent)).toEqual([
      "PUT a=2@2/4/3",
      "PUT a=3@2/5/4 prev a=2@2/4/3",
      "PUT a=4@2/6/5 prev a=3@2/5/4",
    ]);
  });
});

describe("request checks for the gRPC layer", () => {
  const nested = (op: RequestOp): RequestOp => ({ requestTxn: { failure: [op] } });

  it("tells read-only txns", () => {
    expect(isReadOnlyTxn({})).toBe(true);
    expect(isReadOnlyTxn({ success: [getOp("a"), nested(getOp("b"))] })).toBe(true);
    expect(isReadOnlyTxn({ failure: [nested(putOp("a", "1"))] })).toBe(false);
    expect(isReadOnlyTxn({ success: [delOp("a")] })).toBe(false);
  });

  it("tells serializable txns", () => {
    const serial: RequestOp = { requestRange: { key: b("a"), serializable: true } };
    expect(isSerializableTxn({ success: [serial, nested(serial)] })).toBe(true);
    expect(isSerializableTxn({ success: [serial, nested(getOp("a"))] })).toBe(false);
  });

  it("bounds the ops per txn level when given a limit", () => {
    const ops = Array.from({ length: 129 }, (_, i) => getOp(`k${i}`));
    expectEtcdError(() => checkTxnRequest({ success: ops }, 128), "tooManyOps");
    expect(() => checkTxnRequest({ success: ops.slice(1) }, 128)).not.toThrow();
    // Nested txns get what the outer level left: 100 outer + 29 nested > 128.
    const inner = { requestTxn: { success: ops.slice(0, 29) } };
    expectEtcdError(
      () => checkTxnRequest({ success: [...ops.slice(0, 99), inner] }, 128),
      "tooManyOps",
    );
    expect(() => checkTxnRequest({ success: ops }, undefined)).not.toThrow();
  });
});
