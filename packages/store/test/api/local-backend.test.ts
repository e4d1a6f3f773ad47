// The single-node local backend and its in-memory lessor, on a clock the test moves.

import { describe, expect, it } from "vitest";
import { InMemoryLessor, LocalBackend } from "../../src/api/index.js";
import { StoreError } from "../../src/errors.js";
import { Keyspace, type KvEvent } from "../../src/mvcc/index.js";

const b = (s: string) => new TextEncoder().encode(s);

class Clock {
  ms = 1_000_000;
  readonly now = () => this.ms;
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

async function rejection(p: Promise<unknown>): Promise<StoreError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof StoreError) return e;
    throw e;
  }
  throw new Error("expected a StoreError");
}

function throwsEtcd(f: () => unknown, message: string): void {
  expect(f).toThrowError(new StoreError("NOT_FOUND", message));
}

describe("InMemoryLessor", () => {
  it("grants at least the minimum TTL, picking ids from firstId and refusing taken ones", () => {
    const lessor = new InMemoryLessor({ now: new Clock().now, firstId: 100, minTtl: 2 });
    expect(lessor.grant(0, 1)).toEqual({ id: 100, ttl: 2 });
    expect(lessor.grant(101, 60)).toEqual({ id: 101, ttl: 60 });
    expect(lessor.grant(0, 5)).toEqual({ id: 102, ttl: 5 });
    expect(() => lessor.grant(101, 5)).toThrowError("etcdserver: lease already exists");
    expect(lessor.ids().sort()).toEqual([100, 101, 102]);
    lessor.close();
  });

  it("reports whole seconds left, renews, and expires through the handler", () => {
    const clock = new Clock();
    const lessor = new InMemoryLessor({ now: clock.now, firstId: 1 });
    const expired: number[] = [];
    lessor.onExpired((id) => {
      expired.push(id);
      lessor.revoke(id);
    });
    lessor.grant(0, 10);
    clock.advance(0.5);
    expect(lessor.info(1)).toEqual({ id: 1, remaining: 9, grantedTtl: 10 });
    clock.advance(9);
    expect(lessor.renew(1)).toBe(10);
    clock.advance(9.9);
    expect(lessor.has(1)).toBe(true);
    clock.advance(0.1);
    expect(lessor.has(1)).toBe(false);
    throwsEtcd(() => lessor.renew(1), "etcdserver: requested lease not found");
    expect(expired).toEqual([1]);
    throwsEtcd(() => lessor.info(1), "etcdserver: requested lease not found");
    expect(lessor.ids()).toEqual([]);
    lessor.close();
  });
});

describe("LocalBackend", () => {
  function backend(clock = new Clock()) {
    return new LocalBackend({
      name: "n1",
      peerUrls: ["http://10.0.0.1:2380"],
      lessor: new InMemoryLessor({ now: clock.now, firstId: 7 }),
      wallClock: () => 1234,
    });
  }

  it("keeps its own copy of what a put or a txn's put writes, not views into the request", async () => {
    const be = backend();
    // Decoded requests are views into the received message (codec.ts); that buffer is reused.
    const message = Buffer.from("k1v1k2v2");
    await be.put({ key: message.subarray(0, 2), value: message.subarray(2, 4) });
    await be.txn({
      success: [{ requestPut: { key: message.subarray(4, 6), value: message.subarray(6, 8) } }],
    });
    message.fill(0);
    const kvs = (await be.range({ key: b("k"), rangeEnd: b("l") })).kvs;
    expect(
      kvs.map((kv) => [Buffer.from(kv.key).toString(), Buffer.from(kv.value).toString()]),
    ).toEqual([
      ["k1", "v1"],
      ["k2", "v2"],
    ]);
    be.close();
  });

  it("deletes a revoked or expired lease's keys in one revision", async () => {
    const clock = new Clock();
    const be = backend(clock);
    const events: [number, string[]][] = [];
    be.watchSource.subscribe((evs: readonly KvEvent[], rev) =>
      events.push([rev, evs.map((e) => `${e.type} ${new TextDecoder().decode(e.kv.key)}`)]),
    );
    const { id } = await be.leaseGrant(60, 0);
    expect(id).toBe(7);
    await be.put({ key: b("x"), value: b("1"), lease: id });
    await be.put({ key: b("y"), value: b("2"), lease: id });
    expect(
      (await be.leaseTimeToLive(id, true)).keys.map((k) => new TextDecoder().decode(k)),
    ).toEqual(["x", "y"]);
    await be.leaseRevoke(id);
    expect(events.at(-1)).toEqual([4, ["DELETE x", "DELETE y"]]);
    expect((await rejection(be.leaseRevoke(id))).message).toBe(
      "etcdserver: requested lease not found",
    );

    const short = await be.leaseGrant(2, 0);
    await be.put({ key: b("z"), value: b("3"), lease: short.id });
    clock.advance(2);
    expect((await rejection(be.leaseKeepAlive(short.id))).message).toBe(
      "etcdserver: requested lease not found",
    );
    expect(events.at(-1)).toEqual([6, ["DELETE z"]]);
    expect((await be.range({ key: b("z") })).kvs).toEqual([]);
    expect((await rejection(be.put({ key: b("w"), lease: short.id }))).message).toBe(
      "etcdserver: requested lease not found",
    );
    be.close();
  });

  it("keeps one started member, records added ones, and refuses what etcd refuses", async () => {
    const be = backend();
    const [self] = await be.memberList();
    expect(self).toMatchObject({
      name: "n1",
      peerUrls: ["http://10.0.0.1:2380"],
      isLearner: false,
    });
    expect(be.header().memberId).toBe(self?.id);
    const added = await be.memberAdd(["http://10.0.0.2:2380"], true);
    expect(added.member).toMatchObject({ name: "", clientUrls: [], isLearner: true });
    expect(added.members).toHaveLength(2);
    const err = async (p: Promise<unknown>) => (await rejection(p)).message;
    expect(await err(be.memberAdd(["http://10.0.0.3:2380"], true))).toBe(
      "etcdserver: too many learner members in cluster",
    );
    expect(await err(be.memberAdd(["http://10.0.0.2:2380"], false))).toBe(
      "etcdserver: Peer URLs already exists",
    );
    expect(await err(be.memberPromote(added.member.id))).toBe(
      "etcdserver: can only promote a learner member which is in sync with leader",
    );
    expect(await err(be.memberPromote(self?.id ?? 0))).toBe(
      "etcdserver: can only promote a learner member",
    );
    expect(await err(be.memberRemove(12345))).toBe("etcdserver: member not found");
    expect(await be.memberRemove(added.member.id)).toEqual([self]);
    be.close();
  });

  it("counts writes as Raft entries in its status", async () => {
    const be = backend();
    const before = await be.status();
    await be.put({ key: b("k"), value: b("v") });
    await be.range({ key: b("k") });
    const after = await be.status();
    expect(after.raftIndex).toBe(before.raftIndex + 1);
    expect(after.raftAppliedIndex).toBe(after.raftIndex);
    expect(after.leader).toBe(be.header().memberId);
    expect(after.version).toMatch(/^3\.4\./);
    be.close();
  });

  it("snapshots to a 512-byte aligned image that holds the keyspace and the leases", async () => {
    const be = backend();
    await be.put({ key: b("k"), value: b("v") });
    await be.leaseGrant(30, 0);
    const image = await be.snapshot();
    const parts: Uint8Array[] = [];
    for await (const c of image.chunks) parts.push(c);
    const bytes = Buffer.concat(parts);
    expect(bytes.length).toBe(image.size);
    expect(image.size % 512).toBe(0);
    expect(image.revision).toBe(2);
    expect(bytes.subarray(0, 8).toString("latin1")).toBe("TUGSNAP1");
    const ksLen = bytes.readUInt32BE(8);
    const ks = Keyspace.restore(bytes.subarray(12, 12 + ksLen));
    expect(new TextDecoder().decode(ks.range({ key: b("k") }).kvs[0]?.value)).toBe("v");
    const leases = 12 + ksLen;
    expect(bytes.readUInt32BE(leases)).toBe(1);
    expect(bytes.readDoubleBE(leases + 4)).toBe(7);
    expect(bytes.readDoubleBE(leases + 12)).toBe(30);
    be.close();
  });
});
