// Restarts: a member restarted from its data directory has every write it acknowledged, with
// the same revisions; the state comes back from the latest snapshot plus the log after it; a
// member that was down catches up, by snapshot when the log it missed was compacted away.

import { afterEach, describe, expect, it } from "vitest";
import { listenPeer, StoreServer } from "../../src/server/index.js";
import {
  HEARTBEAT_MS,
  restartMember,
  startCluster,
  stopAll,
  stopMember,
  type TestMember,
  until,
  waitLeader,
} from "./harness.js";

afterEach(stopAll);

async function putMany(m: TestMember, prefix: string, n: number): Promise<number> {
  let rev = 0;
  for (let i = 0; i < n; i++) {
    const r = await m.client.put(`${prefix}${i}`).value(`v${i}`).exec();
    rev = Number(r.header.revision);
  }
  return rev;
}

async function snapshotOf(m: TestMember): Promise<Record<string, string>> {
  return m.client.getAll().prefix("").strings();
}

describe("restart", () => {
  it("a single member restarted from its data dir has every acknowledged write", async () => {
    const cluster = await startCluster(1, { snapshotCount: 25 });
    const m = cluster.members[0]!;
    await waitLeader(cluster.members);
    // 60 writes: two snapshots and a log tail after the last one.
    const rev = await putMany(m, "k", 60);
    await m.client.delete().key("k0");
    const lease = m.client.lease(100, { autoKeepAlive: false });
    const leaseId = await lease.grant();
    await lease.put("leased").value("x");
    const before = await snapshotOf(m);
    const hashBefore = await m.server.hashKv(0);
    expect(m.server.metrics().snapshotIndex).toBeGreaterThan(0);
    await stopMember(m);

    const again = await restartMember(m, cluster.initialCluster, {
      snapshotCount: 25,
      initialClusterToken: cluster.token,
    });
    // Served locally before any election: what the WAL and snapshot held.
    const local = await again.server.range({
      key: Buffer.from("\0"),
      rangeEnd: Buffer.from("\0"),
      serializable: true,
    });
    expect(local.revision).toBe(rev + 2);
    await waitLeader([again]);
    expect(await snapshotOf(again)).toEqual(before);
    expect(await again.server.hashKv(0)).toEqual(hashBefore);
    expect(await again.server.leaseLeases()).toEqual([Number(leaseId)]);
    const ttl = await again.server.leaseTimeToLive(Number(leaseId), true);
    expect(ttl.keys.map((k) => Buffer.from(k).toString())).toEqual(["leased"]);
    // And it goes on from there.
    const r = await again.client.put("after").value("restart").exec();
    expect(Number(r.header.revision)).toBe(rev + 3);
  });

  it("a data dir of another cluster is refused, with what to do, and left as it was", async () => {
    const cluster = await startCluster(1);
    const m = cluster.members[0]!;
    await waitLeader(cluster.members);
    await m.client.put("k").value("v");
    await stopMember(m);
    const peer = await listenPeer(m.peerUrl);
    try {
      await expect(
        StoreServer.start({
          name: m.name,
          dataDir: m.dataDir,
          peer,
          initialCluster: cluster.initialCluster,
          initialClusterToken: "another-cluster",
          heartbeatMs: HEARTBEAT_MS,
          electionMs: 10 * HEARTBEAT_MS,
        }),
      ).rejects.toThrow(
        /holds member [0-9a-f]+ of cluster [0-9a-f]+.*start it with the flags its data directory was created with/,
      );
    } finally {
      peer.close();
    }
    const again = await restartMember(m, cluster.initialCluster, {
      initialClusterToken: cluster.token,
    });
    await waitLeader([again]);
    expect(await again.client.get("k").string()).toBe("v");
  });

  it("a whole cluster stopped and restarted agrees on every acknowledged write", async () => {
    const cluster = await startCluster(3, { snapshotCount: 30 });
    await waitLeader(cluster.members);
    const writers = cluster.members.map((m, i) => putMany(m, `w${i}-`, 40));
    await Promise.all(writers);
    const before = await snapshotOf(cluster.members[0]!);
    expect(Object.keys(before)).toHaveLength(120);
    await Promise.all(cluster.members.map((m) => stopMember(m)));

    const again = await Promise.all(
      cluster.members.map((m) =>
        restartMember(m, cluster.initialCluster, {
          snapshotCount: 30,
          initialClusterToken: cluster.token,
        }),
      ),
    );
    await waitLeader(again);
    for (const m of again) expect(await snapshotOf(m)).toEqual(before);
    const hashes = await Promise.all(again.map((m) => m.server.hashKv(0)));
    expect(new Set(hashes.map((h) => h.hash)).size).toBe(1);
  });

  it("a follower that was down catches up from the log", async () => {
    const cluster = await startCluster(3);
    const leader = await waitLeader(cluster.members);
    const down = cluster.members.find((m) => m !== leader)!;
    await putMany(leader, "a", 10);
    await stopMember(down);
    const rev = await putMany(leader, "b", 30);
    const back = await restartMember(down, cluster.initialCluster, {
      initialClusterToken: cluster.token,
    });
    await until(() => back.server.watchSource.revision === rev);
    expect(await snapshotOf(back)).toEqual(await snapshotOf(leader));
  });

  it("a follower whose missed log was compacted catches up by snapshot transfer", async () => {
    const options = { snapshotCount: 10, snapshotCatchUpEntries: 2 };
    const cluster = await startCluster(3, options);
    const leader = await waitLeader(cluster.members);
    const down = cluster.members.find((m) => m !== leader)!;
    await putMany(leader, "a", 5);
    await stopMember(down);
    const rev = await putMany(leader, "b", 60);
    await leader.client.put("watched").value("1");
    const logs: string[] = [];
    const back = await restartMember(down, cluster.initialCluster, {
      ...options,
      initialClusterToken: cluster.token,
      logger: { log: (_level, msg) => logs.push(msg) },
    });
    await until(() => back.server.watchSource.revision === rev + 1);
    expect(logs).toContain("installed a snapshot from the leader");
    expect(await snapshotOf(back)).toEqual(await snapshotOf(leader));
    // It is a full member again: it takes writes and serves linearizable reads.
    await back.client.put("back").value("yes");
    expect(await leader.client.get("back").string()).toBe("yes");
    // A watch from before the snapshot on the restored member replays history it holds.
    const events: string[] = [];
    const w = await back.client
      .watch()
      .key("watched")
      .startRevision(String(rev + 1))
      .create();
    w.on("put", (kv) => events.push(kv.value.toString()));
    await until(() => events.length === 1);
    expect(events).toEqual(["1"]);
    await w.cancel();
  });
});
