// What a follower sends while its WAL write is in flight. Its proposals forwarded to the leader
// (MsgProp) carry none of its own state, so they leave before its fsync instead of after it:
// a put made on a follower is not held back by that follower's disk. The follower's
// acknowledgements of appends still leave only after its fsync (Raft §5: stable storage
// before responding to RPCs), which the second test pins down. Members' fsyncs are gated by
// the test; waits poll without a deadline of their own, so a rule broken fails by the test's
// timeout (or, where a wait must end while a gate holds, by a generous polled deadline).

import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { listenPeer } from "../../src/server/index.js";
import { fdatasync, type SyncFile } from "../../src/wal/index.js";
import { startMember, stopAll, type TestMember, tempDir, until, waitLeader } from "./harness.js";

/** Holds a member's fsyncs while closed; each held one goes on when released. */
class SyncGate {
  private closed = false;
  private readonly held: (() => void)[] = [];
  readonly sync: SyncFile = async (fh) => {
    if (this.closed) await new Promise<void>((resolve) => this.held.push(resolve));
    await fdatasync(fh);
  };
  get waiting(): number {
    return this.held.length;
  }
  close(): void {
    this.closed = true;
  }
  /** Lets the oldest held fsync go on; the gate stays closed for the next ones. */
  releaseOne(): void {
    this.held.shift()?.();
  }
  open(): void {
    this.closed = false;
    for (const go of this.held.splice(0)) go();
  }
}

const gates: SyncGate[] = [];

afterEach(async () => {
  for (const g of gates.splice(0)) g.open();
  await stopAll();
});

const NO_TIMEOUT = { requestTimeoutMs: 10 * 60_000 };
const QUIET_ELECTION_MS = 4_000;
/** How long a message that is not held back may take to arrive on a loaded machine. */
const GENEROUS_MS = 20_000;

async function startGatedCluster(electionMs?: number): Promise<{
  members: TestMember[];
  gateOf: Map<TestMember, SyncGate>;
}> {
  const base = await tempDir();
  const peers = await Promise.all([1, 2, 3].map(() => listenPeer("http://127.0.0.1:0")));
  const initialCluster = peers.map((p, i) => ({ name: `m${i + 1}`, peerUrls: [p.url] }));
  const token = `pipeline-${Math.floor(Math.random() * 1e9)}`;
  const gateOf = new Map<TestMember, SyncGate>();
  const members = await Promise.all(
    peers.map(async (p, i) => {
      const gate = new SyncGate();
      gates.push(gate);
      const m = await startMember(`m${i + 1}`, join(base, `m${i + 1}`), p, initialCluster, {
        ...NO_TIMEOUT,
        initialClusterToken: token,
        syncFile: gate.sync,
        ...(electionMs !== undefined ? { electionMs } : {}),
      });
      gateOf.set(m, gate);
      return m;
    }),
  );
  return { members, gateOf };
}

const put = (m: TestMember, key: string) =>
  m.server.put({ key: Buffer.from(key), value: Buffer.from("v") });

async function hasKey(m: TestMember, key: string): Promise<boolean> {
  return (await m.server.range({ key: Buffer.from(key), serializable: true })).kvs.length > 0;
}

/** Polls until `cond` holds or `ms` pass; says which. */
async function within(ms: number, cond: () => boolean | Promise<boolean>): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return cond();
}

describe("a follower's messages while its fsync runs", () => {
  it("a put made on a follower reaches the leader and commits while that follower's fsync is held", async () => {
    const { members, gateOf } = await startGatedCluster();
    const leader = await waitLeader(members);
    const [f] = members.filter((m) => m !== leader) as [TestMember, TestMember];
    const gate = gateOf.get(f)!;
    // f's loop waits on the fsync of an append from the leader.
    gate.close();
    await put(leader, "k0");
    await until(() => gate.waiting >= 1);
    // A put made on f meanwhile, and another append from the leader that f's core takes in
    // while its loop waits: f's next Ready holds both the forwarded proposal and entries.
    const onFollower = put(f, "from-follower");
    onFollower.catch(() => {}); // awaited below; a failure before that must not go unhandled
    await put(leader, "k1");
    const leaderLast = leader.server.raftStatus().lastIndex;
    await until(() => f.server.raftStatus().lastIndex >= leaderLast);
    // The first fsync completes; the next one (that Ready's) is held.
    gate.releaseOne();
    await until(() => gate.waiting >= 1);
    const committed = await within(GENEROUS_MS, () => hasKey(leader, "from-follower"));
    expect(committed, "the forwarded proposal waited for the follower's fsync").toBe(true);
    // f has not applied it: it applies only what its own disk holds, and that fsync is held.
    expect(gate.waiting).toBeGreaterThanOrEqual(1);
    expect(await hasKey(f, "from-follower")).toBe(false);
    gate.open();
    await onFollower;
    expect(await hasKey(f, "from-follower")).toBe(true);
  });

  it("a follower acknowledges an append only after its fsync: with both followers' fsyncs held, nothing commits", async () => {
    // Followers that cannot answer cost the leader its quorum after an election timeout
    // (check-quorum): one long enough for the test to look.
    const { members, gateOf } = await startGatedCluster(QUIET_ELECTION_MS);
    const leader = await waitLeader(members);
    const followers = members.filter((m) => m !== leader);
    for (const m of followers) gateOf.get(m)!.close();
    const held = put(leader, "held");
    let done = false;
    held.then(
      () => {
        done = true;
      },
      () => {},
    );
    await until(() => followers.every((m) => gateOf.get(m)!.waiting >= 1));
    // The leader's own fsync is not held: were an acknowledgement sent before the follower's
    // fsync, the put would commit now.
    expect(await within(1_000, () => done)).toBe(false);
    expect(await hasKey(leader, "held")).toBe(false);
    for (const m of followers) gateOf.get(m)!.open();
    await held;
    expect(await hasKey(leader, "held")).toBe(true);
  });
});
