// KV, Lease, Cluster and Maintenance spoken directly over gRPC, for what etcdctl does not show:
// headers, nested txn replies, status codes, the keep-alive stream, learners and hashes. Runs
// against tug and a real etcd 3.4.

import { createHash } from "node:crypto";
import { type ServiceError, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LeaseKeepAliveResponse__Output } from "../../src/gen/etcd/etcdserverpb/LeaseKeepAliveResponse.js";
import type { SnapshotResponse__Output } from "../../src/gen/etcd/etcdserverpb/SnapshotResponse.js";
import { type Clients, clients } from "./grpc-client.js";
import { TARGETS, type Target } from "./targets.js";

const enc = (s: string) => Buffer.from(s);

async function failure(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as ServiceError;
    return { code: err.code, details: err.details };
  }
  throw new Error("expected the call to fail");
}

for (const [name, start] of TARGETS) {
  describe(`KV, Lease, Cluster, Maintenance protocol against ${name}`, () => {
    let t: Target;
    let c: Clients;

    beforeAll(async () => {
      t = await start();
      c = clients(t.endpoint);
    });
    afterAll(async () => {
      c?.close();
      await t?.close();
    });

    it("fills every reply's header; writes report their own revision", async () => {
      const put = await c.kv.put({ key: enc("sp/h"), value: enc("1") });
      const range = await c.kv.range({ key: enc("sp/h") });
      expect(range.header?.revision).toBe(put.header?.revision);
      expect(range.header?.clusterId).not.toBe("0");
      expect(range.header?.memberId).not.toBe("0");
      expect(Number(range.header?.raftTerm)).toBeGreaterThanOrEqual(1);
      const status = await c.calls.status();
      expect(status.header?.memberId).toBe(range.header?.memberId);
      expect(status.leader).toBe(range.header?.memberId);
      expect(status.header?.revision).toBe(put.header?.revision);
    });

    it("counts without values, filters by revisions, and refuses unknown sort options", async () => {
      const r1 = Number((await c.kv.put({ key: enc("sp/c/a"), value: enc("1") })).header?.revision);
      await c.kv.put({ key: enc("sp/c/b"), value: enc("2") });
      const counted = await c.kv.range({
        key: enc("sp/c/"),
        rangeEnd: enc("sp/c0"),
        countOnly: true,
      });
      expect(counted.count).toBe("2");
      expect(counted.kvs).toEqual([]);
      const newer = await c.kv.range({
        key: enc("sp/c/"),
        rangeEnd: enc("sp/c0"),
        minModRevision: r1 + 1,
      });
      expect(newer.kvs.map((kv) => kv.key.toString())).toEqual(["sp/c/b"]);
      expect(newer.count).toBe("2");
      // etcd 3.4 sorts by an unknown option as by none; 3.5 refuses it, and so does tug.
      if (name === "tug") {
        const bad = await failure(c.kv.range({ key: enc("sp/c/a"), sortOrder: 7 as 0 }));
        expect(bad).toEqual({
          code: status.INVALID_ARGUMENT,
          details: "etcdserver: invalid sort option",
        });
      }
    });

    it("answers a nested txn with nested replies, each header holding only its revision", async () => {
      await c.kv.put({ key: enc("sp/t/a"), value: enc("1") });
      const txn = await c.kv.txn({
        compare: [{ key: enc("sp/t/a"), target: "VALUE", result: "EQUAL", value: enc("1") }],
        success: [
          { requestPut: { key: enc("sp/t/b"), value: enc("2"), prevKv: true } },
          {
            requestTxn: {
              compare: [{ key: enc("sp/t/zz"), target: "VERSION", result: "GREATER", version: 0 }],
              failure: [{ requestRange: { key: enc("sp/t/a") } }],
            },
          },
          { requestDeleteRange: { key: enc("sp/t/a"), prevKv: true } },
        ],
      });
      const rev = txn.header?.revision;
      expect(txn.succeeded).toBe(true);
      const [put, nested, del] = txn.responses;
      expect(put?.response).toBe("responsePut");
      expect(put?.responsePut?.header).toEqual({
        clusterId: "0",
        memberId: "0",
        revision: rev,
        raftTerm: "0",
      });
      expect(nested?.responseTxn?.succeeded).toBe(false);
      const inner = nested?.responseTxn?.responses[0]?.responseRange;
      expect(inner?.header?.revision).toBe(rev);
      expect(inner?.kvs[0]?.value.toString()).toBe("1");
      expect(del?.responseDeleteRange?.deleted).toBe("1");
      expect(del?.responseDeleteRange?.prevKvs[0]?.value.toString()).toBe("1");
    });

    it("grants a lease with a chosen id, refuses it twice, and reports a gone lease with TTL -1", async () => {
      const id = 4242 + (name === "tug" ? 0 : 1);
      const g = await c.calls.leaseGrant({ ID: id, TTL: 30 });
      expect(g).toMatchObject({ ID: String(id), TTL: "30", error: "" });
      expect(await failure(c.calls.leaseGrant({ ID: id, TTL: 30 }))).toEqual({
        code: status.FAILED_PRECONDITION,
        details: "etcdserver: lease already exists",
      });
      expect(await failure(c.calls.leaseGrant({ TTL: 9_000_000_001 }))).toEqual({
        code: status.OUT_OF_RANGE,
        details: "etcdserver: too large lease TTL",
      });
      const leases = await c.calls.leaseLeases();
      expect(leases.leases.map((l) => l.ID)).toContain(String(id));
      await c.calls.leaseRevoke({ ID: id });
      const ttl = await c.calls.leaseTimeToLive({ ID: id, keys: true });
      expect(ttl).toMatchObject({ ID: String(id), TTL: "-1", grantedTTL: "0", keys: [] });
      expect(await failure(c.calls.leaseRevoke({ ID: id }))).toEqual({
        code: status.NOT_FOUND,
        details: "etcdserver: requested lease not found",
      });
    });

    // tug's own limit: etcd accepts any int64 lease id, tug ids must fit a JS number.
    if (name === "tug")
      it("keeps lease ids exact: refuses to grant one beyond 2^53", async () => {
        const tooBig = "9007199254740993"; // 2^53 + 1: a JS number would round it
        expect(await failure(c.calls.leaseGrant({ ID: tooBig, TTL: 30 }))).toEqual({
          code: status.INVALID_ARGUMENT,
          details:
            "tug-store: lease ID 9007199254740993 is out of range; use 0 (the server chooses) or 1..9007199254740991",
        });
        const ttl = await c.calls.leaseTimeToLive({ ID: tooBig });
        expect(ttl).toMatchObject({ ID: tooBig, TTL: "-1" });
        const max = await c.calls.leaseGrant({ ID: "9007199254740991", TTL: 30 });
        expect(max.ID).toBe("9007199254740991");
        await c.calls.leaseRevoke({ ID: max.ID });
      });

    it("answers keep-alives in order on one stream, with TTL 0 for an unknown lease", async () => {
      const g = await c.calls.leaseGrant({ TTL: 20 });
      const stream = c.lease.LeaseKeepAlive();
      const replies: LeaseKeepAliveResponse__Output[] = [];
      const done = new Promise<void>((resolve, reject) => {
        stream.on("data", (r: LeaseKeepAliveResponse__Output) => {
          replies.push(r);
          if (replies.length === 3) resolve();
        });
        stream.on("error", reject);
      });
      stream.write({ ID: g.ID });
      stream.write({ ID: 999_999 });
      stream.write({ ID: g.ID });
      await done;
      stream.end();
      expect(replies.map((r) => [r.ID, r.TTL])).toEqual([
        [g.ID, "20"],
        ["999999", "0"],
        [g.ID, "20"],
      ]);
      expect(replies[0]?.header?.memberId).not.toBe("0");
    });

    it("adds a learner that cannot be promoted before it runs, and removes it", async () => {
      const added = await c.calls.memberAdd({ peerURLs: ["http://127.0.0.1:1"], isLearner: true });
      expect(added.member).toMatchObject({ name: "", clientURLs: [], isLearner: true });
      expect(added.members).toHaveLength(2);
      expect(added.header?.revision).toBe("0");
      const id = added.member?.ID ?? "0";
      expect(await failure(c.calls.memberPromote(id))).toEqual({
        code: status.FAILED_PRECONDITION,
        details: "etcdserver: can only promote a learner member which is in sync with leader",
      });
      // etcd derives a member's id from its peer URLs and the time in seconds: within the
      // same second the id clashes before the URLs do.
      const again = await failure(c.calls.memberAdd({ peerURLs: ["http://127.0.0.1:1"] }));
      expect(again.code).toBe(status.FAILED_PRECONDITION);
      expect([
        "etcdserver: Peer URLs already exists",
        "etcdserver: member ID already exist",
      ]).toContain(again.details);
      expect(await failure(c.calls.memberAdd({ peerURLs: ["not a url"] }))).toEqual({
        code: status.INVALID_ARGUMENT,
        details: "etcdserver: given member URLs are invalid",
      });
      const left = await c.calls.memberRemove(id);
      expect(left.members).toHaveLength(1);
      expect(await failure(c.calls.memberRemove(id))).toEqual({
        code: status.NOT_FOUND,
        details: "etcdserver: member not found",
      });
      // An id beyond 2^53 names no member either.
      expect(await failure(c.calls.memberRemove("18446744073709551615"))).toEqual({
        code: status.NOT_FOUND,
        details: "etcdserver: member not found",
      });
    });

    it("lists no alarms, hashes, defragments and keeps leadership when asked to move it to itself", async () => {
      const alarms = await c.calls.alarm({ action: "GET" });
      expect(alarms.alarms).toEqual([]);
      const put = await c.kv.put({ key: enc("sp/hash"), value: enc("1") });
      const rev = put.header?.revision ?? "0";
      const h1 = await c.calls.hashKv({ revision: rev });
      await c.kv.put({ key: enc("sp/hash"), value: enc("2") });
      const h2 = await c.calls.hashKv({ revision: rev });
      expect(h2.hash).toBe(h1.hash);
      expect(h2.header?.revision).not.toBe(rev);
      const now = await c.calls.hashKv({ revision: 0 });
      expect(now.hash).not.toBe(h1.hash);
      await c.calls.defragment();
      const self = (await c.kv.range({ key: enc("x") })).header?.memberId ?? "0";
      await c.calls.moveLeader(self);
    });

    it("streams a snapshot whose remaining bytes count down, then its SHA-256", async () => {
      const stream = c.maintenance.Snapshot({});
      const replies: SnapshotResponse__Output[] = [];
      await new Promise<void>((resolve, reject) => {
        stream.on("data", (r: SnapshotResponse__Output) => replies.push(r));
        stream.on("end", resolve);
        stream.on("error", reject);
      });
      const last = replies.at(-1);
      const body = replies.slice(0, -1);
      const image = Buffer.concat(body.map((r) => r.blob));
      expect(last?.remainingBytes).toBe("0");
      expect(last?.blob.equals(createHash("sha256").update(image).digest())).toBe(true);
      expect(body.at(-1)?.remainingBytes).toBe("0");
      let remaining = image.length;
      for (const r of body) {
        remaining -= r.blob.length;
        expect(r.remainingBytes).toBe(String(remaining));
      }
    });
  });
}
