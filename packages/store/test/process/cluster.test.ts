// tug-store as real processes: a 3-member cluster on free loopback ports in temp dirs, checked
// with the real etcdctl and the etcd3 client; the leader SIGKILLed under a write load and
// restarted, after which every acknowledged write must be on every member and the members
// must agree. TUG_PROCESS_TEST_KIND=etcd runs the same checks against real etcd 3.4, to show
// that the tests themselves ask only what etcd answers.

import { Etcd3 } from "etcd3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, type MemberKind, singleShotOptions } from "../../bench/cluster.js";
import { etcdctl, etcdctlJson, sleep } from "./support.js";

const KIND: MemberKind = process.env.TUG_PROCESS_TEST_KIND === "etcd" ? "etcd" : "tug";
const HEALTH_PATH = KIND === "etcd" ? "/health" : "/healthz";

/** Writers in the SIGKILL test, and how long they write before and after the kill. */
const WRITERS = 4;
const WRITE_BEFORE_KILL_MS = 1500;
/** Successful writes sent after the kill before the writers stop. */
const WRITES_AFTER_KILL = 50;
const MAX_WAIT_FOR_WRITES_MS = 30_000;
/** Each put's deadline: long enough to ride out an election. */
const PUT_TIMEOUT_MS = 3000;
const CONVERGE_TIMEOUT_MS = 30_000;
const RTT_SAMPLE_TIMEOUT_MS = 20_000;

interface StatusJson {
  Endpoint: string;
  Status: {
    header: { cluster_id: number; member_id: number; revision: number; raft_term: number };
    leader: number;
    raftIndex: number;
    raftTerm: number;
  };
}

interface MemberListJson {
  header: { cluster_id: number };
  members: {
    ID: number;
    name: string;
    peerURLs: string[];
    clientURLs: string[];
    isLearner?: boolean;
  }[];
}

interface GetJson {
  header: { revision: number };
  kvs?: {
    key: string;
    value: string;
    create_revision: number;
    mod_revision: number;
    version: number;
  }[];
  count?: number;
}

interface HashKvJson {
  Endpoint: string;
  HashKV: { header: { revision: number }; hash: number; compact_revision: number };
}

/**
 * Endpoints without "http://", for the etcdctl commands that dial each endpoint on its own
 * (endpoint status, hashkv): etcdctl 3.4 then sends the URL, scheme and all, as the HTTP/2
 * :authority, which etcd (Go) accepts and Node's HTTP/2 server (nghttp2) rejects with
 * RST_STREAM PROTOCOL_ERROR. See docs/store.md, "etcdctl".
 */
function hostPorts(endpoints: readonly string[]): string[] {
  return endpoints.map((e) => e.replace(/^http:\/\//, ""));
}

describe(`a 3-member ${KIND} cluster as real processes`, () => {
  let cluster: LocalCluster;

  beforeAll(async () => {
    cluster = await LocalCluster.create({ kind: KIND, token: `process-test-${KIND}` });
    try {
      await cluster.start();
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  it("etcdctl endpoint health and endpoint status answer on every member", async () => {
    const health = await etcdctlJson<{ endpoint: string; health: boolean; error?: string }[]>(
      cluster.endpoints,
      ["endpoint", "health"],
    );
    expect(health.map((h) => [h.endpoint, h.health, h.error]).sort()).toEqual(
      [...cluster.endpoints].sort().map((e) => [e, true, undefined]),
    );

    const status = await etcdctlJson<StatusJson[]>(hostPorts(cluster.endpoints), [
      "endpoint",
      "status",
    ]);
    expect(status.map((s) => s.Endpoint).sort()).toEqual(hostPorts(cluster.endpoints).sort());
    const leaders = new Set(status.map((s) => s.Status.leader));
    expect(leaders.size).toBe(1);
    const clusterIds = new Set(status.map((s) => s.Status.header.cluster_id));
    expect(clusterIds.size).toBe(1);
    const memberIds = new Set(status.map((s) => s.Status.header.member_id));
    expect(memberIds.size).toBe(3);
    expect(memberIds.has([...leaders][0] as number)).toBe(true);
  });

  it("etcdctl member list shows all three with names and URLs", async () => {
    const list = await etcdctlJson<MemberListJson>(cluster.endpoints, ["member", "list"]);
    const members = list.members
      .map((m) => ({
        name: m.name,
        peerURLs: m.peerURLs,
        clientURLs: m.clientURLs,
        learner: m.isLearner ?? false,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(members).toEqual(
      cluster.members.map((m) => ({
        name: m.name,
        peerURLs: [m.peerUrl],
        clientURLs: [m.clientUrl],
        learner: false,
      })),
    );
    // The table etcdctl prints by default names them too.
    const table = await etcdctl(cluster.endpoints, ["member", "list"]);
    for (const m of cluster.members)
      expect(table).toContain(`, ${m.name}, ${m.peerUrl}, ${m.clientUrl}`);
  });

  it("the metrics URL answers health, Prometheus metrics and (tug) /raft", {
    timeout: 60_000,
  }, async () => {
    const leader = await cluster.leader();
    for (const m of cluster.members) {
      const h = await fetch(`${m.metricsUrl}${HEALTH_PATH}`);
      expect(h.status).toBe(200);
      expect(await h.json()).toEqual({ health: "true" });

      const metrics = await (await fetch(`${m.metricsUrl}/metrics`)).text();
      for (const name of [
        "etcd_server_has_leader 1",
        "# TYPE etcd_server_leader_changes_seen_total counter",
        "etcd_server_proposals_committed_total ",
        "etcd_server_proposals_applied_total ",
        "etcd_server_proposals_pending ",
        "etcd_server_proposals_failed_total ",
        "etcd_disk_wal_fsync_duration_seconds_bucket{",
        "etcd_mvcc_db_total_size_in_bytes ",
      ]) {
        expect(metrics, `${m.name} /metrics lacks ${name}`).toContain(name);
      }
      if (KIND === "tug") {
        expect(metrics).toMatch(/^tug_raft_term [1-9]/m);
        expect(metrics).toMatch(/^tug_raft_commit_index [1-9]/m);
        expect(metrics).toMatch(/^tug_raft_applied_index [1-9]/m);
        // Ready once it has applied what was committed when it first heard of a leader.
        let ready = await fetch(`${m.metricsUrl}/readyz`);
        const readyDeadline = Date.now() + CONVERGE_TIMEOUT_MS;
        while (ready.status !== 200 && Date.now() < readyDeadline) {
          await sleep(100);
          ready = await fetch(`${m.metricsUrl}/readyz`);
        }
        expect(await ready.json()).toEqual({ ready: "true" });
        const raft = (await (await fetch(`${m.metricsUrl}/raft`)).json()) as {
          name: string;
          role: string;
          progress: Record<string, { match: number; state: string }>;
          events: { type: string }[];
        };
        expect(raft.name).toBe(m.name);
        if (m.name === leader) {
          expect(raft.role).toBe("leader");
          expect(Object.keys(raft.progress)).toHaveLength(3);
          expect(raft.events.some((e) => e.type === "became-leader")).toBe(true);
        } else {
          expect(raft.role).toBe("follower");
        }
      }
    }
    // Peer round trips are sampled every few seconds (etcd probes every 4 s): wait for some.
    const lm = cluster.member(leader);
    const rtt = /^etcd_network_peer_round_trip_time_seconds_count\{To="[0-9a-f]+"\} [1-9]/m;
    const deadline = Date.now() + RTT_SAMPLE_TIMEOUT_MS;
    let metrics = "";
    while (Date.now() < deadline) {
      metrics = await (await fetch(`${lm.metricsUrl}/metrics`)).text();
      if (rtt.test(metrics)) break;
      await sleep(250);
    }
    expect(metrics).toMatch(rtt);
  });

  it("SIGKILL of the leader under writes: every acknowledged write survives on every member", async () => {
    const client = new Etcd3({ hosts: cluster.endpoints, ...singleShotOptions(PUT_TIMEOUT_MS) });
    const acked = new Map<string, string>();
    let maxRevision = 0;
    let afterKill = 0;
    let killed = false;
    let stop = false;
    const writers = Array.from({ length: WRITERS }, async (_, w) => {
      for (let seq = 0; !stop; seq++) {
        const key = `process-test/${w}/${seq}`;
        const value = `v${w}.${seq}`;
        try {
          const r = await client.put(key).value(value).exec();
          acked.set(key, value);
          maxRevision = Math.max(maxRevision, Number(r.header.revision));
          if (killed) afterKill++;
        } catch {
          await sleep(10);
        }
      }
    });
    let victim = "";
    try {
      await sleep(WRITE_BEFORE_KILL_MS);
      victim = await cluster.leader();
      killed = true;
      await cluster.kill(victim, "SIGKILL");
      const deadline = Date.now() + MAX_WAIT_FOR_WRITES_MS;
      while (afterKill < WRITES_AFTER_KILL && Date.now() < deadline) await sleep(50);
    } finally {
      stop = true;
      await Promise.all(writers);
      client.close();
    }
    expect(afterKill, "writes succeeded after the leader was killed").toBeGreaterThanOrEqual(
      WRITES_AFTER_KILL,
    );

    await cluster.startMember(victim);

    // Converged: every member has applied up to the last acknowledged revision, and they agree.
    const deadline = Date.now() + CONVERGE_TIMEOUT_MS;
    let views: GetJson[] = [];
    for (;;) {
      views = await Promise.all(
        cluster.endpoints.map((e) =>
          etcdctlJson<GetJson>([e], ["get", "process-test/", "--prefix", "--consistency=s"]),
        ),
      );
      const revisions = views.map((v) => v.header.revision);
      if (revisions.every((r) => r === revisions[0] && r >= maxRevision)) break;
      if (Date.now() > deadline)
        throw new Error(
          `members did not converge: revisions ${revisions.join(", ")}, want ${maxRevision}`,
        );
      await sleep(200);
    }
    const [first, ...rest] = views as [GetJson, ...GetJson[]];
    for (const v of rest) expect(v.kvs).toEqual(first.kvs);
    const present = new Map(
      (first.kvs ?? []).map((kv) => [
        Buffer.from(kv.key, "base64").toString(),
        Buffer.from(kv.value, "base64").toString(),
      ]),
    );
    const missing = [...acked].filter(([k, v]) => present.get(k) !== v);
    expect(missing, `acknowledged writes missing after restarting ${victim}`).toEqual([]);
    expect(acked.size).toBeGreaterThan(WRITES_AFTER_KILL);

    const hashes = await etcdctlJson<HashKvJson[]>(hostPorts(cluster.endpoints), [
      "endpoint",
      "hashkv",
    ]);
    expect(hashes).toHaveLength(3);
    expect(new Set(hashes.map((h) => h.HashKV.header.revision)).size).toBe(1);
    expect(new Set(hashes.map((h) => h.HashKV.hash)).size).toBe(1);
  }, 120_000);

  it("etcdctl member add, a 4th process joins with --initial-cluster-state=existing; member remove stops it", async () => {
    const added = await cluster.addMemberSpec();
    // etcd refuses a member add until every member has been connected for a while ("unhealthy
    // cluster"), as after the restart above: retry until it is taken.
    let addOut = "";
    const addDeadline = Date.now() + CONVERGE_TIMEOUT_MS;
    for (;;) {
      try {
        addOut = await etcdctl(cluster.endpoints.slice(0, 3), [
          "member",
          "add",
          added.name,
          `--peer-urls=${added.peerUrl}`,
        ]);
        break;
      } catch (e) {
        if (!String(e).includes("unhealthy cluster") || Date.now() > addDeadline) throw e;
        await sleep(500);
      }
    }
    expect(addOut).toContain(`Member `);
    expect(addOut).toContain(`ETCD_INITIAL_CLUSTER_STATE="existing"`);
    await cluster.startMember(added.name, "existing");

    // It learns the data from the others and serves it.
    const deadline = Date.now() + CONVERGE_TIMEOUT_MS;
    for (;;) {
      const got = await etcdctlJson<GetJson>(
        [added.clientUrl],
        ["get", "process-test/", "--prefix", "--keys-only", "--limit=1", "--consistency=s"],
      );
      if ((got.count ?? 0) > 0) break;
      if (Date.now() > deadline) throw new Error(`${added.name} never caught up`);
      await sleep(200);
    }
    // A member publishes its name and client URLs through Raft once it runs: wait for them.
    let list: MemberListJson;
    for (;;) {
      list = await etcdctlJson<MemberListJson>(cluster.endpoints, ["member", "list"]);
      if (list.members.some((m) => m.name === added.name) || Date.now() > deadline) break;
      await sleep(200);
    }
    const joined = list.members.find((m) => m.name === added.name);
    expect(joined).toMatchObject({ peerURLs: [added.peerUrl], clientURLs: [added.clientUrl] });
    expect(list.members).toHaveLength(4);

    // Removed, the member stops by itself.
    const others = cluster.members.filter((m) => m.name !== added.name).map((m) => m.clientUrl);
    // The id from the table, in hex: JSON numbers lose etcd's 64-bit ids.
    const row = (await etcdctl(others, ["member", "list"]))
      .split("\n")
      .find((l) => l.split(", ")[2] === added.name);
    const hexId = row?.split(", ")[0] as string;
    expect(Number.parseInt(hexId, 16)).toBeGreaterThan(0);
    await etcdctl(others, ["member", "remove", hexId]);
    const exitDeadline = Date.now() + CONVERGE_TIMEOUT_MS;
    while (cluster.isRunning(added.name) && Date.now() < exitDeadline) await sleep(100);
    expect(cluster.isRunning(added.name), `${added.name} still runs after its removal`).toBe(false);
    if (KIND === "tug") expect(cluster.exitOf(added.name)).toEqual({ code: 0, signal: null });
    cluster.dropMemberSpec(added.name);
    const after = await etcdctlJson<MemberListJson>(cluster.endpoints, ["member", "list"]);
    expect(after.members.map((m) => m.name).sort()).toEqual(
      cluster.members.map((m) => m.name).sort(),
    );
  }, 120_000);
});
