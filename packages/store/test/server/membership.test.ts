// Membership changes with the real etcdctl: a member added with `member add` and started as
// "existing" learns its id from the cluster and catches up (by snapshot when the log was
// compacted); a learner is refused promotion until caught up and promoted after; a removed
// member stops and the rest go on.

import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { InitialMember } from "../../src/server/index.js";
import { listenPeer } from "../../src/server/index.js";
import { FaultInjector } from "../../src/transport/index.js";
import {
  etcdctl,
  restartMember,
  startCluster,
  startMember,
  stopAll,
  stopMember,
  type TestMember,
  tempDir,
  until,
  waitLeader,
} from "./harness.js";

afterEach(stopAll);

/** ETCD_INITIAL_CLUSTER from `etcdctl member add`'s output, as the operator would use it. */
function initialClusterFrom(out: string): InitialMember[] {
  const line = /ETCD_INITIAL_CLUSTER="([^"]*)"/.exec(out)?.[1];
  if (line === undefined) throw new Error(`no ETCD_INITIAL_CLUSTER in: ${out}`);
  const byName = new Map<string, string[]>();
  for (const pair of line.split(",")) {
    const [name, url] = pair.split("=") as [string, string];
    byName.set(name, [...(byName.get(name) ?? []), url]);
  }
  return [...byName].map(([name, peerUrls]) => ({ name, peerUrls }));
}

async function putMany(m: TestMember, prefix: string, n: number): Promise<number> {
  let rev = 0;
  for (let i = 0; i < n; i++)
    rev = Number((await m.client.put(`${prefix}${i}`).value("v").exec()).header.revision);
  return rev;
}

describe("membership", () => {
  it("etcdctl member add, then the new member starts as existing and catches up by snapshot", async () => {
    const options = { snapshotCount: 10, snapshotCatchUpEntries: 2 };
    const cluster = await startCluster(3, options);
    const leader = await waitLeader(cluster.members);
    const rev = await putMany(leader, "k", 40);
    const peer = await listenPeer("http://127.0.0.1:0");
    const add = await etcdctl(leader.endpoint, ["member", "add", "m4", `--peer-urls=${peer.url}`]);
    expect(add.code).toBe(0);
    expect(add.stdout).toContain('ETCD_INITIAL_CLUSTER_STATE="existing"');
    const initialCluster = initialClusterFrom(add.stdout);
    expect(initialCluster.find((m) => m.name === "m4")?.peerUrls).toEqual([peer.url]);

    const logs: string[] = [];
    const m4 = await startMember("m4", join(await tempDir(), "m4"), peer, initialCluster, {
      ...options,
      initialClusterState: "existing",
      initialClusterToken: cluster.token,
      logger: { log: (_level, msg) => logs.push(msg) },
    });
    await until(() => m4.server.watchSource.revision === rev);
    expect(logs).toContain("installed a snapshot from the leader");
    const all = [...cluster.members, m4];
    expect(m4.server.clusterId).toBe(leader.server.clusterId);
    // It publishes its name and client URL; every member lists four started members.
    for (const m of all) {
      await until(async () => {
        const list = await m.server.memberList();
        return list.length === 4 && list.every((x) => x.name !== "" && x.clientUrls.length > 0);
      });
    }
    // A voter now: writes through it, reads on it.
    await m4.client.put("via-m4").value("1");
    for (const m of all) expect(await m.client.get("via-m4").string()).toBe("1");
    expect(m4.server.raftStatus().config.voters).toHaveLength(4);
  });

  it("a learner is added, catches up, and is promoted with etcdctl member promote", async () => {
    const cluster = await startCluster(3);
    const leader = await waitLeader(cluster.members);
    await putMany(leader, "k", 10);
    const peer = await listenPeer("http://127.0.0.1:0");
    const add = await etcdctl(leader.endpoint, [
      "member",
      "add",
      "learner",
      `--peer-urls=${peer.url}`,
      "--learner",
    ]);
    expect(add.code).toBe(0);
    const id = /Member\s+([0-9a-f]+) added/.exec(add.stdout)?.[1];
    expect(id).toBeDefined();
    // Not started yet, hence not in sync: promotion is refused with etcd's text.
    const early = await etcdctl(leader.endpoint, ["member", "promote", id!]);
    expect(early.code).not.toBe(0);
    expect(early.stderr).toContain(
      "can only promote a learner member which is in sync with leader",
    );
    // A second learner is one too many (etcd's default --max-learners 1).
    const second = await etcdctl(leader.endpoint, [
      "member",
      "add",
      "other",
      "--peer-urls=http://127.0.0.1:1",
      "--learner",
    ]);
    expect(second.stderr).toContain("too many learner members in cluster");

    const learner = await startMember(
      "learner",
      join(await tempDir(), "learner"),
      peer,
      initialClusterFrom(add.stdout),
      { initialClusterState: "existing", initialClusterToken: cluster.token },
    );
    expect(learner.server.memberId).toBe(Number.parseInt(id!, 16));
    await until(() => learner.server.watchSource.revision === leader.server.watchSource.revision);
    expect((await learner.server.status()).isLearner).toBe(true);
    // Asked of a follower, the readiness check goes to the leader.
    const follower = cluster.members.find((m) => m !== leader)!;
    await until(
      async () => (await etcdctl(follower.endpoint, ["member", "promote", id!])).code === 0,
      50,
    );
    const list = await leader.server.memberList();
    expect(list.find((m) => m.id === learner.server.memberId)?.isLearner).toBe(false);
    await until(() => learner.server.raftStatus().config.voters.includes(learner.server.memberId));
  });

  it("etcdctl member remove: the removed member stops, the others go on", async () => {
    const cluster = await startCluster(3);
    const leader = await waitLeader(cluster.members);
    const victim = cluster.members.find((m) => m !== leader)!;
    let removed = false;
    victim.server.events.on("removed", () => {
      removed = true;
    });
    const r = await etcdctl(leader.endpoint, [
      "member",
      "remove",
      victim.server.memberId.toString(16),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`Member\\s+${victim.server.memberId.toString(16)} removed`),
    );
    await until(() => removed);
    const rest = cluster.members.filter((m) => m !== victim);
    for (const m of rest) {
      expect((await m.server.memberList()).map((x) => x.id)).not.toContain(victim.server.memberId);
      await m.client.put("after-remove").value("ok");
    }
    expect(leader.server.raftStatus().config.voters).toHaveLength(2);
    // An unknown id is etcd's member not found.
    const again = await etcdctl(leader.endpoint, [
      "member",
      "remove",
      victim.server.memberId.toString(16),
    ]);
    expect(again.stderr).toContain("member not found");
  });

  it("members restarted with their first flags after members were added and removed start as themselves", async () => {
    const cluster = await startCluster(3);
    const leader = await waitLeader(cluster.members);
    const peer = await listenPeer("http://127.0.0.1:0");
    const add = await etcdctl(leader.endpoint, ["member", "add", "m4", `--peer-urls=${peer.url}`]);
    expect(add.code).toBe(0);
    const withM4 = initialClusterFrom(add.stdout);
    const m4 = await startMember("m4", join(await tempDir(), "m4"), peer, withM4, {
      initialClusterState: "existing",
      initialClusterToken: cluster.token,
    });
    const victim = cluster.members.find((m) => m !== leader)!;
    const r = await etcdctl(leader.endpoint, [
      "member",
      "remove",
      victim.server.memberId.toString(16),
    ]);
    expect(r.code).toBe(0);
    await stopMember(victim);
    const survivors = [...cluster.members.filter((m) => m !== victim), m4];
    for (const m of survivors) await until(async () => (await m.server.memberList()).length === 3);
    await leader.client.put("before-restarts").value("1");

    // Each restarts with flags that no longer describe the cluster: an original member with the
    // original three-member --initial-cluster, and m4 as if it were one of a new four-member
    // cluster. The log says who is in the cluster; the flags are ignored, with a warning.
    const restarted = [];
    for (const m of survivors) {
      const ids = { member: m.server.memberId, cluster: m.server.clusterId };
      const warnings: string[] = [];
      await stopMember(m);
      const again = await restartMember(m, m === m4 ? withM4 : cluster.initialCluster, {
        initialClusterState: "new",
        initialClusterToken: cluster.token,
        logger: { log: (level, msg) => level === "warn" && warnings.push(msg) },
      });
      expect({ member: again.server.memberId, cluster: again.server.clusterId }).toEqual(ids);
      if (m === m4)
        expect(warnings.join("\n")).toMatch(
          /--initial-cluster and --initial-cluster-state are ignored/,
        );
      restarted.push(again);
      await waitLeader([...restarted, ...survivors.slice(restarted.length)]);
    }
    await waitLeader(restarted);
    for (const m of restarted) {
      await m.client.put(`after-${m.name}`).value("ok");
    }
    for (const m of restarted) {
      expect((await m.server.memberList()).map((x) => x.name).sort()).toEqual(
        survivors.map((x) => x.name).sort(),
      );
      for (const other of restarted)
        expect(await m.client.get(`after-${other.name}`).string()).toBe("ok");
      expect(await m.client.get("before-restarts").string()).toBe("1");
    }
  });

  it("a removed member that missed the commit of its removal is told by the others", async () => {
    const faults = new FaultInjector({ seed: 5 });
    const cluster = await startCluster(3, { faults });
    const leader = await waitLeader(cluster.members);
    const victim = cluster.members.find((m) => m !== leader)!;
    let removed = false;
    victim.server.events.on("removed", () => {
      removed = true;
    });
    // Nothing from the leader reaches it any more: not the removal, not its commit.
    faults.setLink(leader.server.memberId, victim.server.memberId, { partitioned: true });
    await leader.server.memberRemove(victim.server.memberId);
    await until(() => removed);
    expect(victim.server.raftStatus().config.voters).toContain(victim.server.memberId);
  });

  it("a peer URL already in use is refused", async () => {
    const cluster = await startCluster(1);
    const m = cluster.members[0]!;
    await waitLeader(cluster.members);
    const r = await etcdctl(m.endpoint, ["member", "add", "dup", `--peer-urls=${m.peerUrl}`]);
    expect(r.stderr).toContain("Peer URLs already exists");
  });

  it("etcdctl snapshot save gets an image with a valid checksum", async () => {
    const cluster = await startCluster(3);
    const leader = await waitLeader(cluster.members);
    await putMany(leader, "s", 20);
    const file = join(await tempDir(), "snap.db");
    const r = await etcdctl(cluster.members[1]!.endpoint, ["snapshot", "save", file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Snapshot saved at ${file}`);
  });
});
