// The state machine's lease tracking (StateMachine.trackLeases): the lessor's key sets follow
// every put, delete and txn, and a put that creates a key costs no lessor detach.

import { afterEach, describe, expect, it, vi } from "vitest";
import type { StoreOp } from "../../src/server/request-codec.js";
import { StateMachine } from "../../src/server/state-machine.js";
import { seeded } from "./harness.js";

const b = (s: string) => new Uint8Array(Buffer.from(s));

function newSm(): StateMachine {
  return new StateMachine({ lessor: { minTtl: 1, random: seeded(1) } });
}

function applyAll(sm: StateMachine, ops: readonly StoreOp[]): void {
  for (const op of ops) sm.apply(op);
}

/** A state machine with leases 10 and 20, and a spy on its lessor's detach. */
function withLeases() {
  const sm = newSm();
  applyAll(sm, [
    { type: "leaseGrant", id: 10, ttl: 30 },
    { type: "leaseGrant", id: 20, ttl: 30 },
  ]);
  const detach = vi.spyOn(sm.lessor, "detach");
  return { sm, detach };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("lease tracking", () => {
  it("puts that create keys, with or without a lease, call no detach", () => {
    const { sm, detach } = withLeases();
    applyAll(sm, [
      { type: "put", put: { key: b("a"), value: b("1") } },
      { type: "put", put: { key: b("b"), value: b("1"), lease: 10 } },
      {
        type: "txn",
        txn: {
          success: [
            { requestPut: { key: b("c"), value: b("1") } },
            { requestPut: { key: b("d"), value: b("1"), lease: 20 } },
          ],
        },
      },
    ]);
    expect(detach).not.toHaveBeenCalled();
    expect(sm.lessor.leaseOf(b("a"))).toBe(0);
    expect(sm.lessor.leaseOf(b("b"))).toBe(10);
    expect(sm.lessor.leaseOf(b("c"))).toBe(0);
    expect(sm.lessor.leaseOf(b("d"))).toBe(20);
  });

  it("a key created again after its delete calls no detach", () => {
    const { sm, detach } = withLeases();
    applyAll(sm, [
      { type: "put", put: { key: b("k"), value: b("1"), lease: 10 } },
      { type: "deleteRange", deleteRange: { key: b("k") } },
    ]);
    expect(detach).toHaveBeenCalledTimes(1);
    expect(sm.lessor.lookup(10)?.keys).toEqual([]);
    sm.apply({ type: "put", put: { key: b("k"), value: b("2") } });
    expect(detach).toHaveBeenCalledTimes(1);
    expect(sm.lessor.leaseOf(b("k"))).toBe(0);
  });

  it("a put of an existing key without a lease, that had none, calls no detach", () => {
    const { sm, detach } = withLeases();
    applyAll(sm, [
      { type: "put", put: { key: b("k"), value: b("1") } },
      { type: "put", put: { key: b("k"), value: b("2") } },
    ]);
    expect(detach).not.toHaveBeenCalled();
  });

  it("a put moves a key from one lease to another, and to no lease", () => {
    const { sm, detach } = withLeases();
    sm.apply({ type: "put", put: { key: b("k"), value: b("1"), lease: 10 } });
    sm.apply({ type: "put", put: { key: b("k"), value: b("2"), lease: 20 } });
    expect(sm.lessor.leaseOf(b("k"))).toBe(20);
    expect(sm.lessor.lookup(10)?.keys).toEqual([]);
    expect(sm.lessor.lookup(20)?.keys).toEqual([b("k")]);
    sm.apply({ type: "put", put: { key: b("k"), value: b("3") } });
    expect(detach).toHaveBeenCalledTimes(1);
    expect(sm.lessor.leaseOf(b("k"))).toBe(0);
    expect(sm.lessor.lookup(20)?.keys).toEqual([]);
  });

  it("a put with ignoreLease keeps the key on its lease", () => {
    const { sm } = withLeases();
    applyAll(sm, [
      { type: "put", put: { key: b("k"), value: b("1"), lease: 10 } },
      { type: "put", put: { key: b("k"), value: b("2"), ignoreLease: true } },
    ]);
    expect(sm.lessor.leaseOf(b("k"))).toBe(10);
  });

  it("a delete and a txn's delete detach the key", () => {
    const { sm } = withLeases();
    applyAll(sm, [
      { type: "put", put: { key: b("a"), value: b("1"), lease: 10 } },
      { type: "put", put: { key: b("b"), value: b("1"), lease: 20 } },
      { type: "deleteRange", deleteRange: { key: b("a") } },
      {
        type: "txn",
        txn: {
          success: [
            { requestDeleteRange: { key: b("b") } },
            { requestPut: { key: b("c"), value: b("1"), lease: 10 } },
          ],
        },
      },
    ]);
    expect(sm.lessor.leaseOf(b("a"))).toBe(0);
    expect(sm.lessor.leaseOf(b("b"))).toBe(0);
    expect(sm.lessor.lookup(10)?.keys).toEqual([b("c")]);
    expect(sm.lessor.lookup(20)?.keys).toEqual([]);
  });

  it("after a compaction past the key's lease put, dropping the lease still detaches it", () => {
    const { sm } = withLeases();
    applyAll(sm, [
      { type: "put", put: { key: b("k"), value: b("1"), lease: 10 } },
      { type: "put", put: { key: b("other"), value: b("1") } },
      { type: "put", put: { key: b("other"), value: b("2") } },
    ]);
    sm.apply({ type: "compaction", revision: sm.keyspace.revision, physical: true });
    sm.apply({ type: "put", put: { key: b("k"), value: b("2") } });
    expect(sm.lessor.leaseOf(b("k"))).toBe(0);
    expect(sm.lessor.lookup(10)?.keys).toEqual([]);
  });

  it("revoking a lease deletes its keys and leaves none attached", () => {
    const { sm } = withLeases();
    applyAll(sm, [
      { type: "put", put: { key: b("a"), value: b("1"), lease: 10 } },
      { type: "put", put: { key: b("b"), value: b("1"), lease: 10 } },
      { type: "leaseRevoke", id: 10 },
    ]);
    expect(sm.lessor.leaseOf(b("a"))).toBe(0);
    expect(sm.keyspace.range({ key: b("a") }).kvs).toEqual([]);
    sm.apply({ type: "put", put: { key: b("a"), value: b("2"), lease: 20 } });
    expect(sm.lessor.lookup(20)?.keys).toEqual([b("a")]);
  });
});
