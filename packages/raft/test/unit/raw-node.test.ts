// The RawNode API contract, as a caller (the store's driver) relies on it: what a Ready holds,
// what advance() does, what status() reports, which events and errors come out, and how flow
// control shapes the appends a leader sends.

import { describe, expect, it } from "vitest";
import {
  type ConfChange,
  type Config,
  isRaftError,
  MemoryStorage,
  type Message,
  message,
  type NodeId,
  type RaftErrorReason,
  type RaftEvent,
  RawNode,
  type Ready,
} from "../../src/index.js";
import { bytes, encodeSnapshotData, Network, text } from "../support/network.js";
import { Rng } from "../support/rng.js";

/** A node over `storage`, with etcd's test timing; pre-vote and check-quorum are the core's defaults. */
function rawNode(id: NodeId, storage: MemoryStorage, opts: Partial<Config> = {}): RawNode {
  const rng = new Rng(id);
  return new RawNode({
    id,
    electionTick: 10,
    heartbeatTick: 1,
    storage,
    random: (n) => rng.intn(n),
    ...opts,
  });
}

/** What a driver does with a Ready: persist the snapshot, entries and hard state. */
function persist(storage: MemoryStorage, rd: Ready): void {
  if (rd.snapshot !== undefined) storage.applySnapshot(rd.snapshot);
  storage.append(rd.entries);
  if (rd.hardState !== undefined) storage.setHardState(rd.hardState);
}

/** Takes, persists and advances one Ready. */
function handle(node: RawNode, storage: MemoryStorage): Ready {
  const rd = node.ready();
  persist(storage, rd);
  node.advance(rd);
  return rd;
}

/** A single-voter group whose node 1 has become leader, every Ready handled. */
function singleLeader(opts: Partial<Config> = {}): { node: RawNode; storage: MemoryStorage } {
  const storage = MemoryStorage.withPeers([1]);
  const node = rawNode(1, storage, opts);
  node.campaign();
  while (node.hasReady()) handle(node, storage);
  return { node, storage };
}

function errorOf(fn: () => unknown): { reason: RaftErrorReason; code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (isRaftError(e)) return { reason: e.reason, code: e.code, message: e.message };
    throw e;
  }
  throw new Error("expected a RaftError, nothing was thrown");
}

const appsTo = (msgs: readonly Message[], to: NodeId) =>
  msgs.filter((m) => m.type === "MsgApp" && m.to === to);
const payloads = (m: Message) => m.entries.map((e) => text(e.data));

describe("Ready contents", () => {
  it("a fresh node has nothing ready", () => {
    const node = rawNode(1, MemoryStorage.withPeers([1, 2, 3]));
    expect(node.hasReady()).toBe(false);
  });

  it("a single voter that campaigns becomes leader in one Ready: soft and hard state, its no-op entry, committed", () => {
    const storage = MemoryStorage.withPeers([1]);
    const node = rawNode(1, storage);
    node.campaign();
    expect(node.hasReady()).toBe(true);
    const rd = node.ready();
    expect(rd.softState).toEqual({ lead: 1, role: "leader" });
    expect(rd.hardState).toEqual({ term: 1, vote: 1, commit: 1 });
    expect(rd.entries.map((e) => [e.index, e.term, e.data.length])).toEqual([[1, 1, 0]]);
    expect(rd.committedEntries.map((e) => e.index)).toEqual([1]);
    expect(rd.messages).toEqual([]);
    expect(rd.mustSync).toBe(true);
  });

  it("the entries a leader's MsgApp carries are in the same Ready's entries, to persist before sending", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    const leader = net.raw(1);
    leader.propose(bytes("x"));
    const rd = leader.ready();
    expect(rd.entries.map((e) => text(e.data))).toEqual(["x"]);
    const apps = rd.messages.filter((m) => m.type === "MsgApp");
    expect(apps.map((m) => m.to)).toEqual([2, 3]);
    for (const m of apps) {
      for (const e of m.entries)
        expect(rd.entries.some((p) => p.index === e.index && p.term === e.term)).toBe(true);
    }
  });

  it("a follower's ack of an append comes in the same Ready as the entries it must persist first", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    const leader = net.raw(1);
    leader.propose(bytes("y"));
    const app = appsTo(leader.ready().messages, 2)[0];
    if (app === undefined) throw new Error("no MsgApp to 2");
    const follower = net.raw(2);
    follower.step(app);
    const rd = follower.ready();
    const ack = rd.messages.find((m) => m.type === "MsgAppResp");
    expect(ack?.reject).toBe(false);
    expect(rd.entries.map((e) => e.index)).toContain(ack?.index);
    expect(rd.mustSync).toBe(true);
  });

  it("mustSync is true when the term changed, even with no entries (Raft §5.1: persist before answering)", () => {
    const storage = MemoryStorage.withPeers([1, 2, 3]);
    const node = rawNode(1, storage);
    node.step(message({ type: "MsgHeartbeat", from: 2, to: 1, term: 5, commit: 0 }));
    const rd = node.ready();
    expect(rd.entries).toEqual([]);
    expect(rd.hardState?.term).toBe(5);
    expect(rd.mustSync).toBe(true);
  });

  it("mustSync is true when only the vote changed", () => {
    const storage = MemoryStorage.withPeers([1, 2, 3]);
    storage.setHardState({ term: 3, vote: 0, commit: 0 });
    const node = rawNode(1, storage, { preVote: false, checkQuorum: false });
    node.step(message({ type: "MsgVote", from: 2, to: 1, term: 3, index: 0, logTerm: 0 }));
    const rd = node.ready();
    expect(rd.hardState).toEqual({ term: 3, vote: 2, commit: 0 });
    expect(rd.entries).toEqual([]);
    expect(rd.messages.map((m) => [m.type, m.reject])).toEqual([["MsgVoteResp", false]]);
    expect(rd.mustSync).toBe(true);
  });

  it("mustSync is false when only the commit index changed", () => {
    const storage = MemoryStorage.withPeers([1, 2, 3]);
    storage.append(
      [1, 2].map((index) => ({
        index,
        term: 1,
        type: "EntryNormal" as const,
        data: bytes(`e${index}`),
      })),
    );
    storage.setHardState({ term: 1, vote: 2, commit: 0 });
    const node = rawNode(1, storage);
    node.step(message({ type: "MsgHeartbeat", from: 2, to: 1, term: 1, commit: 2 }));
    const rd = node.ready();
    expect(rd.hardState).toEqual({ term: 1, vote: 2, commit: 2 });
    expect(rd.entries).toEqual([]);
    expect(rd.committedEntries.map((e) => text(e.data))).toEqual(["e1", "e2"]);
    expect(rd.mustSync).toBe(false);
  });

  it("hardState is left out when term, vote and commit are unchanged", () => {
    const { node } = singleLeader();
    node.tick();
    expect(node.hasReady()).toBe(false);
    node.propose(bytes("z"));
    const rd = node.ready();
    // The single voter commits at once: commit changed, term and vote did not.
    expect(rd.hardState).toEqual({ term: 1, vote: 1, commit: 2 });
    expect(rd.softState).toBeUndefined();
  });
});

describe("advance", () => {
  it("after advance nothing is ready, and entries and committed entries are not handed out again", () => {
    const { node, storage } = singleLeader();
    node.propose(bytes("a"));
    const rd = handle(node, storage);
    expect(rd.committedEntries.map((e) => text(e.data))).toEqual(["a"]);
    expect(node.hasReady()).toBe(false);
    node.propose(bytes("b"));
    const rd2 = node.ready();
    expect(rd2.entries.map((e) => text(e.data))).toEqual(["b"]);
    expect(rd2.committedEntries.map((e) => text(e.data))).toEqual(["b"]);
  });

  it("advance moves applied to the last committed entry handed out", () => {
    const { node, storage } = singleLeader();
    expect(node.status().applied).toBe(1);
    node.propose(bytes("a"));
    node.propose(bytes("b"));
    handle(node, storage);
    expect(node.status().applied).toBe(3);
    expect(node.status().commit).toBe(3);
  });

  it("without advance, the entries stay unstable and are handed out again", () => {
    const { node } = singleLeader();
    node.propose(bytes("a"));
    const rd = node.ready();
    expect(rd.entries.length).toBe(1);
    const again = node.ready();
    expect(again.entries.map((e) => e.index)).toEqual(rd.entries.map((e) => e.index));
    // Messages and events are handed out once only.
    expect(again.events).toEqual([]);
  });

  it("hasReady is true for pending read states alone", () => {
    const { node } = singleLeader();
    node.readIndex(bytes("r1"));
    expect(node.hasReady()).toBe(true);
    const rd = node.ready();
    expect(rd.readStates.map((r) => [r.index, text(r.requestCtx)])).toEqual([[1, "r1"]]);
    expect(rd.entries).toEqual([]);
  });
});

describe("status()", () => {
  it("reports id, term, vote, role, lead, commit, applied and each member's progress on the leader", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    net.propose(1, "a");
    const st = net.raw(1).status();
    expect(st).toMatchObject({
      id: 1,
      term: 1,
      vote: 1,
      role: "leader",
      lead: 1,
      commit: 2,
      applied: 2,
      lastIndex: 2,
    });
    expect(st.config).toEqual({ voters: [1, 2, 3], learners: [] });
    expect([...st.progress.keys()]).toEqual([1, 2, 3]);
    for (const id of [2, 3]) {
      expect(st.progress.get(id)).toMatchObject({
        match: 2,
        next: 3,
        state: "replicate",
        isLearner: false,
        paused: false,
      });
    }
  });

  it("shows a lagging follower's match and next on the leader", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    net.isolate(3);
    net.propose(1, "a");
    net.propose(1, "b");
    const st = net.raw(1).status();
    expect(st.progress.get(2)).toMatchObject({ match: 3, next: 4 });
    expect(st.progress.get(3)?.match).toBe(1);
    expect(st.commit).toBe(3);
  });

  it("a follower reports its leader and vote but no progress", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    const st = net.raw(2).status();
    expect(st).toMatchObject({
      id: 2,
      term: 1,
      vote: 1,
      role: "follower",
      lead: 1,
      commit: 1,
      applied: 1,
    });
    expect(st.progress.size).toBe(0);
  });
});

describe("events", () => {
  const types = (es: readonly RaftEvent[]) => es.map((e) => e.type);

  it("an election reports term-changed, became-candidate and became-leader on the winner, became-follower on the others", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    const mine = net.node(1).events;
    expect(types(mine)).toEqual(
      expect.arrayContaining(["term-changed", "became-candidate", "became-leader"]),
    );
    expect(mine.find((e) => e.type === "term-changed")).toEqual({
      type: "term-changed",
      from: 0,
      to: 1,
    });
    expect(types(mine).indexOf("became-candidate")).toBeLessThan(
      types(mine).indexOf("became-leader"),
    );
    const theirs = net.node(2).events;
    expect(theirs).toContainEqual({ type: "term-changed", from: 0, to: 1 });
    expect(theirs).toContainEqual({ type: "became-follower", term: 1, lead: 0 });
    expect(theirs).toContainEqual({ type: "leader-changed", term: 1, lead: 1 });
  });

  it("a pre-vote reports became-pre-candidate without changing the term", () => {
    const net = Network.of([1, 2, 3], { preVote: true });
    net.isolate(1);
    net.campaign(1);
    expect(net.node(1).events).toContainEqual({ type: "became-pre-candidate", term: 0 });
    expect(types(net.node(1).events)).not.toContain("term-changed");
  });

  it("a follower that forgets its leader reports leader-lost with the previous leader", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    net.raw(2).forgetLeader();
    net.flush();
    expect(net.node(2).events).toContainEqual({ type: "leader-lost", term: 1, previousLeader: 1 });
    expect(net.raw(2).status().lead).toBe(0);
  });

  it("a deposed leader that hears the new leader reports term-changed, leader-changed and became-follower", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    net.isolate(1);
    net.campaign(2);
    net.recover();
    net.node(1).events.length = 0;
    net.tick(2); // the new leader's heartbeat carries term 2
    const evs = net.node(1).events;
    expect(evs).toEqual([
      { type: "term-changed", from: 1, to: 2 },
      { type: "leader-changed", term: 2, lead: 2 },
      { type: "became-follower", term: 2, lead: 2 },
    ]);
  });

  it("a follower that grants a vote at a higher term reports leader-lost", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    net.isolate(1);
    net.node(2).events.length = 0;
    net.campaign(3);
    expect(net.node(2).events).toContainEqual({ type: "leader-lost", term: 2, previousLeader: 1 });
  });

  it("a leader that lost its quorum reports check-quorum-failed and steps down (thesis §6.2)", () => {
    const net = Network.of([1, 2, 3], { checkQuorum: true });
    net.campaign(1);
    net.isolate(1);
    net.node(1).events.length = 0;
    // The first check after the election still counts the acks of the election's appends.
    for (let i = 0; i < 10; i++) net.tick(1);
    expect(net.raw(1).status().role).toBe("leader");
    for (let i = 0; i < 10; i++) net.tick(1);
    const evs = net.node(1).events;
    expect(evs).toContainEqual({ type: "check-quorum-failed", term: 1 });
    expect(evs).toContainEqual({ type: "leader-lost", term: 1, previousLeader: 1 });
    expect(evs).toContainEqual({ type: "became-follower", term: 1, lead: 0 });
    expect(net.raw(1).status().role).toBe("follower");
  });

  it("a lagging follower past the compacted log gets a snapshot: snapshot-sent on the leader, snapshot-restored on it", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    net.isolate(3);
    for (const v of ["a", "b", "c"]) net.propose(1, v);
    const leader = net.node(1);
    const applied = leader.rawNode.status().applied;
    leader.storage.createSnapshot(applied, leader.confState, encodeSnapshotData(leader.applied));
    leader.storage.compact(applied);
    net.recover();
    net.tick(1); // a heartbeat, whose answer shows 3 alive and behind
    expect(leader.events).toContainEqual({ type: "snapshot-sent", to: 3, index: applied });
    expect(net.node(3).events).toContainEqual({
      type: "snapshot-restored",
      index: applied,
      term: 1,
    });
    expect(net.node(3).applied).toEqual(["a", "b", "c"]);
    expect(leader.rawNode.status().progress.get(3)).toMatchObject({
      match: applied,
      state: "replicate",
    });
  });

  it("applying a conf change reports conf-change-applied with the new configuration", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    const cc: ConfChange = { type: "AddLearnerNode", nodeId: 4, context: new Uint8Array() };
    net.raw(1).proposeConfChange(cc);
    net.flush();
    for (const id of [1, 2, 3]) {
      const ev = net.node(id).events.find((e) => e.type === "conf-change-applied");
      expect(ev).toEqual({
        type: "conf-change-applied",
        change: cc,
        confState: { voters: [1, 2, 3], learners: [4] },
      });
    }
  });

  it("restarting is not an event", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    const before = net.raw(2).status();
    const restarted = rawNode(2, net.node(2).storage, { applied: before.applied });
    expect(restarted.hasReady()).toBe(false);
    expect(restarted.status()).toMatchObject({
      term: before.term,
      vote: before.vote,
      commit: before.commit,
    });
  });
});

describe("errors a caller can act on", () => {
  it("propose with no leader → proposal-dropped, code unavailable", () => {
    const node = rawNode(1, MemoryStorage.withPeers([1, 2, 3]));
    const e = errorOf(() => node.propose(bytes("x")));
    expect(e.reason).toBe("proposal-dropped");
    expect(e.code).toBe("unavailable");
    expect(e.message).toMatch(/no leader/);
    // Nothing was appended.
    expect(node.status().lastIndex).toBe(0);
  });

  it("propose during an election → proposal-dropped", () => {
    const node = rawNode(1, MemoryStorage.withPeers([1, 2, 3]));
    node.campaign();
    expect(node.status().role).toBe("pre-candidate");
    expect(errorOf(() => node.propose(bytes("x"))).reason).toBe("proposal-dropped");
  });

  for (const type of [
    "MsgHup",
    "MsgBeat",
    "MsgUnreachable",
    "MsgSnapStatus",
    "MsgCheckQuorum",
    "MsgForgetLeader",
  ] as const) {
    it(`step of local message ${type} → step-local-message, code invalid_argument`, () => {
      const node = rawNode(1, MemoryStorage.withPeers([1, 2, 3]));
      const e = errorOf(() => node.step(message({ type, from: 2, to: 1, term: 1 })));
      expect(e.reason).toBe("step-local-message");
      expect(e.code).toBe("invalid_argument");
      expect(node.status().role).toBe("follower");
    });
  }

  it("a response from a node that is not a member → step-peer-not-found, code not_found", () => {
    const { node } = singleLeader();
    const e = errorOf(() =>
      node.step(message({ type: "MsgAppResp", from: 9, to: 1, term: 1, index: 1 })),
    );
    expect(e.reason).toBe("step-peer-not-found");
    expect(e.code).toBe("not_found");
    expect(e.message).toContain("9");
  });

  it("a second local conf change while one is pending → conf-change-pending (thesis §4.1)", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    net.isolate(2);
    net.isolate(3);
    const leader = net.raw(1);
    leader.proposeConfChange({ type: "AddNode", nodeId: 4, context: new Uint8Array() });
    net.flush();
    const e = errorOf(() =>
      leader.proposeConfChange({ type: "RemoveNode", nodeId: 3, context: new Uint8Array() }),
    );
    expect(e.reason).toBe("conf-change-pending");
    expect(e.code).toBe("failed_precondition");
    // Once the first is committed and applied, the next is accepted.
    net.recover();
    net.tick(1);
    expect(net.raw(1).status().config.voters).toEqual([1, 2, 3, 4]);
    leader.proposeConfChange({ type: "RemoveNode", nodeId: 3, context: new Uint8Array() });
    net.flush();
    expect(net.raw(1).status().config.voters).toEqual([1, 2, 4]);
  });

  it("a new leader refuses a conf change until the entries of earlier terms are applied (as etcd)", () => {
    // Entries 1..2 from term 1 might hold a conf change; the leader of term 2 cannot tell
    // cheaply, so it waits until it has applied them.
    const storage = MemoryStorage.withPeers([1, 2, 3]);
    storage.append(
      [1, 2].map((index) => ({
        index,
        term: 1,
        type: "EntryNormal" as const,
        data: new Uint8Array(),
      })),
    );
    storage.setHardState({ term: 1, vote: 0, commit: 0 });
    const node = rawNode(1, storage, { preVote: false });
    node.campaign();
    handle(node, storage);
    node.step(message({ type: "MsgVoteResp", from: 2, to: 1, term: 2 }));
    expect(node.status()).toMatchObject({ role: "leader", term: 2, lastIndex: 3 });
    const cc: ConfChange = { type: "AddNode", nodeId: 4, context: new Uint8Array() };
    expect(errorOf(() => node.proposeConfChange(cc)).reason).toBe("conf-change-pending");
    handle(node, storage);
    // Follower 2 acknowledges the leader's no-op: 1..3 commit (Raft §5.4.2) and are applied.
    node.step(message({ type: "MsgAppResp", from: 2, to: 1, term: 2, index: 3 }));
    handle(node, storage);
    expect(node.status()).toMatchObject({ commit: 3, applied: 3 });
    node.proposeConfChange(cc);
    expect(node.ready().entries.map((e) => e.type)).toEqual(["EntryConfChange"]);
  });

  const valid: Config = {
    id: 1,
    electionTick: 10,
    heartbeatTick: 1,
    storage: MemoryStorage.withPeers([1]),
    random: () => 0,
  };
  const invalid: { field: string; patch: Partial<Config> }[] = [
    { field: "id", patch: { id: 0 } },
    { field: "id", patch: { id: -1 } },
    { field: "id", patch: { id: 1.5 } },
    { field: "id", patch: { id: 2 ** 53 } },
    { field: "heartbeatTick", patch: { heartbeatTick: 0 } },
    { field: "heartbeatTick", patch: { heartbeatTick: 1.5 } },
    { field: "electionTick", patch: { electionTick: 1, heartbeatTick: 1 } },
    { field: "electionTick", patch: { electionTick: 5, heartbeatTick: 6 } },
    { field: "electionTick", patch: { electionTick: Number.NaN } },
    { field: "maxInflightMsgs", patch: { maxInflightMsgs: 0 } },
    { field: "maxInflightMsgs", patch: { maxInflightMsgs: Number.NaN } },
    { field: "maxInflightMsgs", patch: { maxInflightMsgs: 2.5 } },
    { field: "readOnlyOption", patch: { readOnlyOption: "lease-based", checkQuorum: false } },
    // Byte limits: a negative one would silently mean "no limit".
    { field: "maxSizePerMsg", patch: { maxSizePerMsg: -1 } },
    { field: "maxInflightBytes", patch: { maxInflightBytes: -1 } },
    { field: "maxUncommittedEntriesSize", patch: { maxUncommittedEntriesSize: -1 } },
    { field: "maxCommittedSizePerReady", patch: { maxCommittedSizePerReady: -1 } },
    { field: "maxSizePerMsg", patch: { maxSizePerMsg: Number.NaN } },
    // etcd-io/raft: "max inflight bytes must be >= max message size", or one append fills the window.
    { field: "maxInflightBytes", patch: { maxInflightBytes: 100, maxSizePerMsg: 1000 } },
  ];
  for (const c of invalid) {
    const shown = Object.entries(c.patch)
      .map(([k, v]) => `${k} ${String(v)}`)
      .join(", ");
    it(`invalid config ${shown} → invalid-config naming ${c.field}`, () => {
      const e = errorOf(() => new RawNode({ ...valid, ...c.patch }));
      expect(e.reason).toBe("invalid-config");
      expect(e.code).toBe("invalid_argument");
      expect(e.message).toContain(c.field);
    });
  }

  it("a valid config with every option set is accepted", () => {
    const node = new RawNode({
      ...valid,
      readOnlyOption: "lease-based",
      checkQuorum: true,
      preVote: true,
      maxSizePerMsg: 1024,
      maxInflightMsgs: 4,
      maxInflightBytes: 4096,
      maxUncommittedEntriesSize: 1 << 20,
      maxCommittedSizePerReady: 1 << 20,
      disableProposalForwarding: true,
    });
    expect(node.status().role).toBe("follower");
  });
});

describe("restart from storage", () => {
  /** Runs a single voter through proposals, returning its storage with commit = last index. */
  function history(n: number): MemoryStorage {
    const { node, storage } = singleLeader();
    for (let i = 1; i <= n; i++) {
      node.propose(bytes(`v${i}`));
      handle(node, storage);
    }
    return storage;
  }

  it("with applied set, committed entries up to it are not handed out again", () => {
    const storage = history(5); // index 1 is the no-op, v1..v5 at 2..6
    const node = rawNode(1, storage, { applied: 4 });
    expect(node.status()).toMatchObject({
      commit: 6,
      applied: 4,
      term: 1,
      vote: 1,
      role: "follower",
    });
    const rd = node.ready();
    expect(rd.committedEntries.map((e) => text(e.data))).toEqual(["v4", "v5"]);
    expect(rd.entries).toEqual([]);
    node.advance(rd);
    expect(node.status().applied).toBe(6);
  });

  it("without applied, every committed entry after the snapshot is handed out again", () => {
    const storage = history(3);
    const node = rawNode(1, storage);
    expect(node.ready().committedEntries.map((e) => e.index)).toEqual([1, 2, 3, 4]);
  });

  it("applied equal to commit hands out nothing", () => {
    const storage = history(3);
    const node = rawNode(1, storage, { applied: 4 });
    expect(node.hasReady()).toBe(false);
  });

  it("after a snapshot, the log resumes after it", () => {
    const storage = history(4);
    storage.createSnapshot(3, undefined, bytes("state"));
    storage.compact(3);
    const node = rawNode(1, storage, { applied: 3 });
    expect(node.ready().committedEntries.map((e) => text(e.data))).toEqual(["v3", "v4"]);
  });

  it("restores term and vote, so it cannot vote twice in a term (Raft §5.1)", () => {
    const storage = MemoryStorage.withPeers([1, 2, 3]);
    const node = rawNode(1, storage, { preVote: false, checkQuorum: false });
    node.step(message({ type: "MsgVote", from: 2, to: 1, term: 4 }));
    handle(node, storage);
    const restarted = rawNode(1, storage, { preVote: false, checkQuorum: false });
    expect(restarted.status()).toMatchObject({ term: 4, vote: 2 });
    restarted.step(message({ type: "MsgVote", from: 3, to: 1, term: 4 }));
    const rd = restarted.ready();
    expect(rd.messages.map((m) => [m.type, m.to, m.reject])).toEqual([["MsgVoteResp", 3, true]]);
  });
});

describe("flow control", () => {
  /** A leader 1 with follower 2 caught up in replicate state; messages held, not delivered. */
  function pipeline(opts: Partial<Config>): Network {
    const net = Network.of([1, 2], opts);
    net.campaign(1);
    expect(net.raw(1).status().progress.get(2)?.state).toBe("replicate");
    net.hold(true);
    return net;
  }

  it("pipelining: the leader sends up to maxInflightMsgs appends without acks, then pauses", () => {
    const net = pipeline({ maxInflightMsgs: 3 });
    for (let i = 0; i < 6; i++) net.propose(1, `p${i}`);
    const apps = appsTo(net.held, 2);
    expect(apps.map(payloads)).toEqual([["p0"], ["p1"], ["p2"]]);
    expect(net.raw(1).status().progress.get(2)).toMatchObject({
      state: "replicate",
      inflight: 3,
      paused: true,
      next: 5,
    });
  });

  it("pipelining: an ack frees the window and the rest is sent", () => {
    const net = pipeline({ maxInflightMsgs: 3 });
    for (let i = 0; i < 6; i++) net.propose(1, `p${i}`);
    net.release();
    expect(net.node(1).applied).toEqual(["p0", "p1", "p2", "p3", "p4", "p5"]);
    expect(net.node(2).applied).toEqual(["p0", "p1", "p2", "p3", "p4", "p5"]);
    expect(net.raw(1).status().progress.get(2)).toMatchObject({
      inflight: 0,
      paused: false,
      match: 7,
    });
  });

  it("batching: proposals queued behind a full window go out together, up to maxSizePerMsg bytes", () => {
    const net = pipeline({ maxInflightMsgs: 1, maxSizePerMsg: 350 });
    const payload = (i: number) => `${i}`.padStart(100, "x");
    for (let i = 0; i < 10; i++) net.propose(1, payload(i));
    // One append in flight; the other nine wait.
    expect(appsTo(net.held, 2).map((m) => m.entries.length)).toEqual([1]);
    net.held.length = 0;
    // Deliver the follower's ack of the first append by hand.
    const first = appsTo(net.sent, 2).at(-1);
    if (first === undefined) throw new Error("no append sent");
    net.raw(2).step(first);
    const ack = net.processReady(2).find((m) => m.type === "MsgAppResp");
    if (ack === undefined) throw new Error("no ack");
    net.raw(1).step(ack);
    const next = appsTo(net.processReady(1), 2);
    expect(next.length).toBe(1);
    // 3 x 100 bytes fit in 350, a fourth would not.
    expect(next[0]?.entries.length).toBe(3);
    net.hold(false);
    net.send(next);
    expect(net.node(2).applied.length).toBe(10);
    for (const m of appsTo(net.sent, 2)) {
      expect(m.entries.reduce((n, e) => n + e.data.length, 0)).toBeLessThanOrEqual(350);
    }
  });

  it("an entry larger than maxSizePerMsg is still sent, alone", () => {
    const net = pipeline({ maxInflightMsgs: 1, maxSizePerMsg: 10 });
    const start = net.sent.length;
    net.propose(1, "a");
    net.propose(1, "b".repeat(50));
    net.propose(1, "c");
    net.release();
    // Network.release() records a held message in `sent` a second time: count each once.
    const sizes = [...new Set(appsTo(net.sent.slice(start), 2))]
      .filter((m) => m.entries.length > 0)
      .map((m) => m.entries.map((e) => e.data.length));
    expect(sizes).toEqual([[1], [50], [1]]);
    expect(net.node(2).applied).toEqual(["a", "b".repeat(50), "c"]);
  });

  it("a follower that rejects an append is probed one append at a time", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    net.isolate(3);
    for (let i = 0; i < 3; i++) net.propose(1, `q${i}`);
    // Follower 3 is still in replicate with optimistic next; unreachable resets it to probe.
    net.raw(1).reportUnreachable(3);
    expect(net.raw(1).status().progress.get(3)?.state).toBe("probe");
    net.recover();
    net.tick(1);
    expect(net.node(3).applied).toEqual(["q0", "q1", "q2"]);
    expect(net.raw(1).status().progress.get(3)?.state).toBe("replicate");
  });
});

describe("proposal forwarding", () => {
  it("a follower forwards a proposal to the leader, which appends it", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    const follower = net.raw(2);
    follower.propose(bytes("fwd"));
    const rd = follower.ready();
    expect(rd.messages.map((m) => [m.type, m.to, m.term])).toEqual([["MsgProp", 1, 0]]);
    expect(rd.entries).toEqual([]);
    follower.advance(rd);
    net.send(rd.messages);
    for (const id of [1, 2, 3]) expect(net.node(id).applied).toEqual(["fwd"]);
  });

  it("with disableProposalForwarding, a follower drops the proposal and names the leader", () => {
    const net = Network.of([1, 2, 3], { disableProposalForwarding: true });
    net.campaign(1);
    const e = errorOf(() => net.raw(2).propose(bytes("x")));
    expect(e.reason).toBe("proposal-dropped");
    expect(e.message).toContain("leader 1");
    expect(net.raw(2).hasReady()).toBe(false);
    // The leader itself still accepts proposals.
    net.propose(1, "ok");
    expect(net.node(2).applied).toEqual(["ok"]);
  });
});

describe("forwarded requests a node cannot take", () => {
  it("step() drops them silently; only the proposer's own call reports the drop", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    net.propose(1, "a");
    // Leader 1 is transferring leadership, so it refuses proposals.
    net.hold(true);
    net.raw(1).transferLeader(3);
    const forwarded = message({
      type: "MsgProp",
      from: 2,
      to: 1,
      entries: [{ term: 0, index: 0, type: "EntryNormal", data: bytes("x") }],
    });
    const lastBefore = net.raw(1).status().lastIndex;
    expect(() => net.raw(1).step(forwarded)).not.toThrow();
    expect(net.raw(1).status().lastIndex).toBe(lastBefore);
    // A local proposal on the same node is refused with an error its caller can act on.
    expect(errorOf(() => net.raw(1).propose(bytes("y"))).reason).toBe("proposal-dropped");
  });
});

describe("maxUncommittedEntriesSize", () => {
  function cutOffLeader(limit: number): Network {
    const net = Network.of([1, 2, 3], { maxUncommittedEntriesSize: limit });
    net.campaign(1);
    net.isolate(2);
    net.isolate(3);
    return net;
  }

  it("the leader drops proposals that would exceed the uncommitted bytes", () => {
    const net = cutOffLeader(100);
    const leader = net.raw(1);
    leader.propose(new Uint8Array(60));
    const e = errorOf(() => leader.propose(new Uint8Array(60)));
    expect(e.reason).toBe("proposal-dropped");
    expect(e.code).toBe("unavailable");
    leader.propose(new Uint8Array(40));
    expect(errorOf(() => leader.propose(new Uint8Array(1))).reason).toBe("proposal-dropped");
    expect(leader.status().lastIndex).toBe(3);
  });

  it("a first proposal larger than the limit is let in, so one big entry cannot wedge the log", () => {
    const net = cutOffLeader(100);
    net.raw(1).propose(new Uint8Array(500));
    expect(net.raw(1).status().lastIndex).toBe(2);
  });

  it("empty proposals are always accepted", () => {
    const net = cutOffLeader(100);
    const leader = net.raw(1);
    leader.propose(new Uint8Array(100));
    leader.propose(new Uint8Array(0));
    expect(leader.status().lastIndex).toBe(3);
  });

  it("once entries commit and are applied, the room comes back", () => {
    const net = cutOffLeader(100);
    const leader = net.raw(1);
    leader.propose(bytes("a".repeat(90)));
    expect(errorOf(() => leader.propose(bytes("b".repeat(20)))).reason).toBe("proposal-dropped");
    net.recover();
    net.flush();
    net.tick(1);
    expect(leader.status().applied).toBe(2);
    leader.propose(bytes("b".repeat(90)));
    net.flush();
    expect(net.node(2).applied).toEqual(["a".repeat(90), "b".repeat(90)]);
  });
});
