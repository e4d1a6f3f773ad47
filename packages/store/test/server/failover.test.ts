// Leader failure: a stopped leader is replaced and writes resume; requests stuck at a leader
// that lost its quorum or was replaced fail at once with etcd's "leader changed" instead of
// waiting out their timeout; acknowledged writes survive. Request timeouts are set far beyond
// the test timeout, so a request that hangs fails the test rather than a timed assertion.

import { afterEach, describe, expect, it } from "vitest";
import { FaultInjector } from "../../src/transport/index.js";
import {
  startCluster,
  stopAll,
  stopMember,
  type TestMember,
  until,
  waitLeader,
} from "./harness.js";

afterEach(stopAll);

const NO_TIMEOUT = { requestTimeoutMs: 10 * 60_000 };

function others(all: readonly TestMember[], m: TestMember): TestMember[] {
  return all.filter((x) => x !== m);
}

describe("leader failure", () => {
  it("a stopped leader is replaced, writes resume, and every acknowledged write is kept", async () => {
    const { members } = await startCluster(3, NO_TIMEOUT);
    const leader = await waitLeader(members);
    const follower = others(members, leader)[0]!;
    const acked: string[] = [];
    for (let i = 0; i < 20; i++) {
      await follower.client.put(`k${i}`).value(String(i));
      acked.push(`k${i}`);
    }
    const oldTerm = (await follower.server.status()).raftTerm;
    await stopMember(leader);
    const rest = others(members, leader);
    const next = await waitLeader(rest);
    expect(next).not.toBe(leader);
    expect((await next.server.status()).raftTerm).toBeGreaterThan(oldTerm);
    for (const m of rest) {
      await m.client.put("after").value("failover");
      for (const k of acked) expect(await m.client.get(k).string()).toBe(k.slice(1));
    }
    const survivor = rest.find((m) => m !== next)!;
    expect(await survivor.client.get("after").string()).toBe("failover");
  });

  it("a proposal forwarded to a leader that cannot commit fails with 'leader changed' once another is elected", async () => {
    const faults = new FaultInjector({ seed: 7 });
    const { members } = await startCluster(3, { ...NO_TIMEOUT, faults });
    const leader = await waitLeader(members);
    const [f1, f2] = others(members, leader) as [TestMember, TestMember];
    // The leader hears the followers but they no longer hear it: the forwarded proposal is
    // appended at the leader and never committed, and the followers elect a new leader.
    faults.setLink(leader.server.memberId, f1.server.memberId, { partitioned: true });
    faults.setLink(leader.server.memberId, f2.server.memberId, { partitioned: true });
    const stuck = f1.server.put({ key: Buffer.from("stuck"), value: Buffer.from("1") });
    await expect(stuck).rejects.toThrow("etcdserver: leader changed");
    const next = await waitLeader([f1, f2]);
    expect(next).not.toBe(leader);
    await f1.client.put("resumed").value("yes");
    expect(await f2.client.get("resumed").string()).toBe("yes");
  });

  it("a leader cut off from its quorum steps down and fails its pending proposals at once", async () => {
    const faults = new FaultInjector({ seed: 11 });
    const { members } = await startCluster(3, { ...NO_TIMEOUT, faults });
    const leader = await waitLeader(members);
    const ids = members.map((m) => m.server.memberId);
    faults.isolate(leader.server.memberId, ids);
    const pending = leader.server.put({ key: Buffer.from("lost"), value: Buffer.from("1") });
    // Check-quorum makes it step down after an election timeout without hearing a quorum.
    await expect(pending).rejects.toThrow("etcdserver: leader changed");
    expect(leader.server.isLeader).toBe(false);
    // While it knows no leader, it refuses at once.
    if (leader.server.leader === 0) {
      await expect(
        leader.server.put({ key: Buffer.from("x"), value: Buffer.from("1") }),
      ).rejects.toThrow("etcdserver: no leader");
    }
    // The majority side elected a leader of its own and takes writes.
    const rest = others(members, leader);
    const next = await waitLeader(rest);
    await next.client.put("majority").value("ok");
    // Healed, the old leader rejoins as a follower and catches up; the lost write is not there.
    for (const id of ids) for (const to of ids) faults.setLink(id, to, undefined);
    await until(() => leader.server.leader === next.server.memberId);
    expect(await leader.client.get("majority").string()).toBe("ok");
    expect(await leader.client.get("lost").string()).toBeNull();
  });

  it("pending linearizable reads at a replaced leader fail rather than hang", async () => {
    const faults = new FaultInjector({ seed: 3 });
    const { members } = await startCluster(3, { ...NO_TIMEOUT, faults });
    const leader = await waitLeader(members);
    faults.isolate(
      leader.server.memberId,
      members.map((m) => m.server.memberId),
    );
    const read = leader.server.range({ key: Buffer.from("k") });
    await expect(read).rejects.toThrow(/etcdserver: (leader changed|no leader)/);
  });

  it("a leader that stops cleanly hands leadership over first", async () => {
    const { members } = await startCluster(3);
    const leader = await waitLeader(members);
    const rest = others(members, leader);
    const before = Math.max(...rest.map((m) => m.server.metrics().leaderChanges));
    await stopMember(leader, true);
    // The transferee was caught up and took over at once: no election timeout, no lost writes.
    const next = await waitLeader(rest);
    expect(next.server.metrics().leaderChanges).toBe(before + 1);
    await next.client.put("k").value("v");
  });
});
