// StoreServer with one and three members in this process on real sockets, behind the etcd v3
// gRPC server, driven by the etcd3 client and etcdctl: writes, reads, txns, watches and leases
// across members.

import { Etcd3 } from "etcd3";
import { afterEach, describe, expect, it } from "vitest";
import { etcdctl, startCluster, stopAll, until, waitLeader } from "./harness.js";

afterEach(stopAll);

describe("a single member", () => {
  it("serves put, get, delete and txn through the etcd3 client", async () => {
    const { members } = await startCluster(1);
    const m = members[0]!;
    await waitLeader(members);
    await m.client.put("a").value("1");
    await m.client.put("b").value("2");
    expect(await m.client.get("a").string()).toBe("1");
    expect(await m.client.getAll().prefix("").strings()).toEqual({ a: "1", b: "2" });
    const txn = await m.client
      .if("a", "Value", "==", "1")
      .then(m.client.put("a").value("one"))
      .else(m.client.put("a").value("other"))
      .commit();
    expect(txn.succeeded).toBe(true);
    expect(await m.client.get("a").string()).toBe("one");
    expect(await m.client.delete().key("b")).toMatchObject({ deleted: "1" });
    expect(await m.client.get("b").string()).toBeNull();
    const status = await m.server.status();
    expect(status.leader).toBe(m.server.memberId);
    expect(status.raftAppliedIndex).toBe(status.raftIndex);
  });

  it("answers etcdctl: put, get, endpoint status and member list", async () => {
    const { members } = await startCluster(1);
    const m = members[0]!;
    await waitLeader(members);
    expect((await etcdctl(m.endpoint, ["put", "k", "v"])).stdout.trim()).toBe("OK");
    const get = await etcdctl(m.endpoint, ["get", "k"]);
    expect(get.stdout.split("\n").slice(0, 2)).toEqual(["k", "v"]);
    // The member publishes its name and client URL through the log.
    await until(async () => (await m.server.memberList())[0]?.clientUrls.length === 1);
    const list = await etcdctl(m.endpoint, ["member", "list", "-w", "json"]);
    const parsed = JSON.parse(list.stdout) as { members: { name: string; clientURLs: string[] }[] };
    expect(parsed.members).toEqual([
      expect.objectContaining({ name: "m1", clientURLs: [`http://${m.endpoint}`] }),
    ]);
    const status = await etcdctl(m.endpoint, ["endpoint", "status", "-w", "json"]);
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout) as {
      Status: { leader: number; header: { member_id: number } };
    }[];
    expect(s[0]?.Status.leader).toBe(s[0]?.Status.header.member_id);
  });
});

describe("three members", () => {
  it("a write on one member is seen by a linearizable read on another", async () => {
    const { members } = await startCluster(3);
    const leader = await waitLeader(members);
    const followers = members.filter((m) => m !== leader);
    const f1 = followers[0]!;
    const f2 = followers[1]!;
    // Written through a follower (forwarded to the leader inside Raft), read on the other.
    const put = await f1.client.put("x").value("from-follower").exec();
    expect(await f2.client.get("x").string()).toBe("from-follower");
    expect(await leader.client.get("x").string()).toBe("from-follower");
    // Every member answers with the same cluster id and its own member id.
    const headers = await Promise.all(members.map((m) => m.client.get("x").exec()));
    expect(new Set(headers.map((h) => h.header.cluster_id)).size).toBe(1);
    expect(new Set(headers.map((h) => h.header.member_id)).size).toBe(3);
    expect(headers.map((h) => h.header.revision)).toEqual([
      put.header.revision,
      put.header.revision,
      put.header.revision,
    ]);
  });

  it("linearizable reads right after writes, many at once, on every member", async () => {
    const { members } = await startCluster(3);
    await waitLeader(members);
    for (let round = 0; round < 5; round++) {
      const writer = members[round % 3]!;
      await writer.client.put("counter").value(String(round));
      const reads = await Promise.all(
        members.flatMap((m) => Array.from({ length: 10 }, () => m.client.get("counter").string())),
      );
      expect(new Set(reads)).toEqual(new Set([String(round)]));
    }
  });

  it("txn compares on a follower see the leader's writes", async () => {
    const { members } = await startCluster(3);
    const leader = await waitLeader(members);
    const follower = members.find((m) => m !== leader)!;
    await leader.client.put("lock").value("free");
    const won = await follower.client
      .if("lock", "Value", "==", "free")
      .then(follower.client.put("lock").value("taken"))
      .commit();
    expect(won.succeeded).toBe(true);
    const lost = await leader.client
      .if("lock", "Value", "==", "free")
      .then(leader.client.put("lock").value("taken-again"))
      .commit();
    expect(lost.succeeded).toBe(false);
    expect(await leader.client.get("lock").string()).toBe("taken");
  });

  it("a watch on one member sees writes made on another, in order, with prev_kv", async () => {
    const { members } = await startCluster(3);
    await waitLeader(members);
    const [a, b] = members as [(typeof members)[0], (typeof members)[0]];
    const watcher = await a.client.watch().prefix("w/").withPreviousKV().create();
    const seen: string[] = [];
    watcher.on("put", (kv, prev) => seen.push(`${kv.key}=${kv.value}<${prev?.value ?? ""}`));
    watcher.on("delete", (kv) => seen.push(`-${kv.key}`));
    await b.client.put("w/1").value("a");
    await b.client.put("w/1").value("b");
    await b.client.delete().key("w/1");
    await until(() => seen.length === 3);
    expect(seen).toEqual(["w/1=a<", "w/1=b<a", "-w/1"]);
    await watcher.cancel();
  });

  it("leases: granted on a follower, kept alive through it, revoked with their keys everywhere", async () => {
    const { members } = await startCluster(3);
    const leader = await waitLeader(members);
    const follower = members.find((m) => m !== leader)!;
    const lease = follower.client.lease(5, { autoKeepAlive: false });
    const id = await lease.grant();
    await lease.put("leased").value("v");
    // Keep-alive and time-to-live on a follower are answered by the leader.
    const ka = await lease.keepaliveOnce();
    expect(ka.TTL).toBe("5");
    const ttl = await follower.server.leaseTimeToLive(Number(id), true);
    expect(ttl.grantedTtl).toBe(5);
    expect(ttl.ttl).toBeGreaterThan(0);
    expect(ttl.keys.map((k) => Buffer.from(k).toString())).toEqual(["leased"]);
    for (const m of members) expect(await m.client.get("leased").string()).toBe("v");
    await lease.revoke();
    for (const m of members) expect(await m.client.get("leased").string()).toBeNull();
    await expect(leader.server.leaseTimeToLive(Number(id), false)).rejects.toThrow(
      "etcdserver: requested lease not found",
    );
  });

  it("an expired lease is revoked by the leader and its keys deleted on every member", async () => {
    const { members } = await startCluster(3);
    await waitLeader(members);
    const m = members[2]!;
    // The minimum TTL here is ceil(1.5 × election timeout) = 1 s.
    const lease = m.client.lease(1, { autoKeepAlive: false });
    await lease.grant();
    await lease.put("short-lived").value("v");
    for (const x of members) expect(await x.client.get("short-lived").string()).toBe("v");
    for (const x of members) {
      await until(async () => (await x.client.get("short-lived").string()) === null, 50);
    }
    expect(await members[0]!.server.leaseLeases()).toEqual([]);
  });

  it("the etcd3 lock helper: a lock held through one member is refused to a client of another", async () => {
    const { members } = await startCluster(3);
    await waitLeader(members);
    const [a, b] = members as [(typeof members)[0], (typeof members)[0]];
    const held = await a.client.lock("mutex").ttl(5).acquire();
    // etcd3's lock does not queue: a taken lock fails at once.
    await expect(b.client.lock("mutex").ttl(5).acquire()).rejects.toThrow(
      "Failed to acquire a lock",
    );
    await held.release();
    const mine = await b.client.lock("mutex").ttl(5).acquire();
    expect(await a.client.get("mutex").string()).not.toBeNull();
    await mine.release();
    expect(await a.client.get("mutex").string()).toBeNull();
  });

  it("compaction is replicated: a read below it fails on every member with etcd's text", async () => {
    const { members } = await startCluster(3);
    const leader = await waitLeader(members);
    await leader.client.put("c").value("1");
    const r2 = await leader.client.put("c").value("2").exec();
    await leader.client.put("c").value("3");
    const compactAt = r2.header.revision;
    const c = await etcdctl(members[1]!.endpoint, ["compaction", compactAt]);
    expect(c.stdout.trim()).toBe(`compacted revision ${compactAt}`);
    for (const m of members) {
      await until(() => m.server.watchSource.compactRevision === Number(compactAt));
      const old = await etcdctl(m.endpoint, ["get", "c", `--rev=${Number(compactAt) - 1}`]);
      expect(old.stderr).toContain("etcdserver: mvcc: required revision has been compacted");
      const at = await etcdctl(m.endpoint, [
        "get",
        "c",
        `--rev=${compactAt}`,
        "--print-value-only",
      ]);
      expect(at.stdout.trim()).toBe("2");
    }
  });

  it("etcdctl against all three endpoints: put, get --consistency=s, member list, endpoint health", async () => {
    const { members } = await startCluster(3);
    await waitLeader(members);
    const eps = members.map((m) => m.endpoint);
    expect((await etcdctl(eps, ["put", "e", "1"])).stdout.trim()).toBe("OK");
    for (const ep of eps) {
      const r = await etcdctl(ep, ["get", "e", "--consistency=l"]);
      expect(r.stdout.split("\n").slice(0, 2)).toEqual(["e", "1"]);
    }
    for (const m of members) {
      await until(async () => (await m.server.memberList()).every((x) => x.clientUrls.length > 0));
    }
    const health = await etcdctl(eps, ["endpoint", "health"]);
    expect(health.code).toBe(0);
    const list = await etcdctl(eps[0]!, ["member", "list"]);
    expect(list.stdout.trim().split("\n")).toHaveLength(3);
    const client = new Etcd3({ hosts: eps });
    try {
      expect(await client.get("e").string()).toBe("1");
    } finally {
      client.close();
    }
  });
});
