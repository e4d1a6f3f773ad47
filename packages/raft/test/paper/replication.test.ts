// Paper tests for Raft §5.3 (log replication, including Figure 7), §5.5 (follower crashes:
// idempotent RPCs) and §8 (the new leader's no-op entry), after etcd-io/raft's
// raft_paper_test.go. Pre-vote and check-quorum are off, as in the paper.

import { describe, expect, it } from "vitest";
import { type Entry, MemoryStorage, message, type NodeId } from "../../src/index.js";
import { bytes, Network, text } from "../support/network.js";
import {
  acceptAppends,
  elect,
  electAndCommit,
  logOfTerms,
  ofType,
  Peer,
  shape,
  storedLog,
} from "./support.js";

const DATA = bytes("some data");
const ELECTION_TICK = 10;

describe("Raft §5.3: log replication", () => {
  it("the leader appends the command to its log as a new entry, then issues AppendEntries RPCs in parallel to each of the other servers to replicate the entry (§5.3)", () => {
    const p = new Peer(1, { voters: [1, 2, 3] });
    electAndCommit(p);
    p.node.propose(DATA);
    const out = p.drain();
    const appended = { term: 1, index: 2, type: "EntryNormal", data: DATA };
    expect(out.entries).toEqual([appended]);
    expect(ofType(out.messages, "MsgApp")).toEqual([
      expect.objectContaining({
        to: 2,
        term: 1,
        index: 1,
        logTerm: 1,
        entries: [appended],
        commit: 1,
      }),
      expect.objectContaining({
        to: 3,
        term: 1,
        index: 1,
        logTerm: 1,
        entries: [appended],
        commit: 1,
      }),
    ]);
    expect(out.committed).toEqual([]);
  });

  it("a log entry is committed once the leader that created the entry has replicated it on a majority of the servers; the leader includes the highest committed index in future AppendEntries RPCs (§5.3)", () => {
    const p = new Peer(1, { voters: [1, 2, 3] });
    electAndCommit(p);
    p.node.propose(DATA);
    const sent = p.drain().messages;
    const out = acceptAppends(p, sent, [2]);
    expect(p.status().commit).toBe(2);
    expect(out.committed).toEqual([expect.objectContaining({ index: 2, term: 1, data: DATA })]);
    // Follower 3 has not acknowledged yet; both followers learn the new commit index.
    expect(ofType(out.messages, "MsgApp").map((m) => [m.to, m.commit])).toEqual([
      [2, 2],
      [3, 2],
    ]);
  });

  const acks: { size: number; acceptors: NodeId[]; committed: boolean }[] = [
    { size: 1, acceptors: [], committed: true },
    { size: 3, acceptors: [], committed: false },
    { size: 3, acceptors: [2], committed: true },
    { size: 3, acceptors: [2, 3], committed: true },
    { size: 5, acceptors: [], committed: false },
    { size: 5, acceptors: [2], committed: false },
    { size: 5, acceptors: [2, 3], committed: true },
    { size: 5, acceptors: [2, 3, 4], committed: true },
    { size: 5, acceptors: [2, 3, 4, 5], committed: true },
  ];

  it.each(acks)(
    "the leader commits an entry once the leader has replicated it on a majority of the servers (§5.3): $size servers, acknowledged by $acceptors → committed $committed",
    ({ size, acceptors, committed }) => {
      const p = new Peer(1, { voters: Array.from({ length: size }, (_, i) => i + 1) });
      electAndCommit(p);
      const before = p.status().commit;
      p.node.propose(DATA);
      acceptAppends(p, p.drain().messages, acceptors);
      expect(p.status().commit > before).toBe(committed);
    },
  );

  it.each([{ terms: [] }, { terms: [1] }, { terms: [1, 1] }, { terms: [1, 2] }])(
    "committing an entry also commits all preceding entries in the leader's log, including entries created by previous leaders (§5.3): earlier log of terms $terms",
    ({ terms }: { terms: number[] }) => {
      const earlier = logOfTerms(...terms);
      const p = new Peer(1, { voters: [1, 2, 3], log: earlier, hardState: { term: 2 } });
      const applied = electAndCommit(p).committed;
      p.node.propose(DATA);
      applied.push(...acceptAppends(p, p.drain().messages).committed);
      const noop = { index: terms.length + 1, term: 3 };
      const proposed = { index: terms.length + 2, term: 3 };
      expect(shape(applied)).toEqual([...shape(earlier), noop, proposed]);
    },
  );

  it("once a follower learns that a log entry is committed, it applies the entry to its local state machine (in log order) (§5.3)", () => {
    const ents = [bytes("a"), bytes("b"), bytes("c")].map(
      (data, i): Entry => ({ term: 1, index: i + 1, type: "EntryNormal", data }),
    );
    for (let commit = 1; commit <= 3; commit++) {
      const p = new Peer(1, { voters: [1, 2, 3], hardState: { term: 1 } });
      p.step({ type: "MsgApp", from: 2, term: 1, index: 0, logTerm: 0, entries: ents, commit });
      const out = p.drain();
      expect(p.status().commit).toBe(commit);
      expect(out.committed.map((e) => text(e.data))).toEqual(["a", "b", "c"].slice(0, commit));
    }
  });

  it("a follower learns the commit index from the leader's heartbeats too (§5.3)", () => {
    const p = new Peer(1, { voters: [1, 2, 3], log: logOfTerms(1, 1), hardState: { term: 1 } });
    p.step({ type: "MsgHeartbeat", from: 2, term: 1, commit: 2 });
    const out = p.drain();
    expect(shape(out.committed)).toEqual([
      { index: 1, term: 1 },
      { index: 2, term: 1 },
    ]);
    expect(out.messages).toEqual([expect.objectContaining({ type: "MsgHeartbeatResp", to: 2 })]);
  });

  // The follower holds [1:1, 2:2], of which entry 1 is committed.
  const checks = [
    { prev: [0, 0], accepted: true, index: 1, why: "matches before the committed entries" },
    { prev: [1, 1], accepted: true, index: 1, why: "matches a committed entry" },
    { prev: [2, 2], accepted: true, index: 2, why: "matches an uncommitted entry" },
    { prev: [2, 1], accepted: false, index: 2, why: "the entry at 2 has another term" },
    { prev: [3, 3], accepted: false, index: 3, why: "there is no entry at 3" },
  ] as const;

  it.each(checks)(
    "when sending an AppendEntries RPC, the leader includes the index and term of the entry in its log that immediately precedes the new entries; if the follower does not find an entry in its log with the same index and term, then it refuses the new entries (§5.3): prev $prev, $why",
    ({ prev, accepted, index }) => {
      const p = new Peer(1, {
        voters: [1, 2, 3],
        log: logOfTerms(1, 2),
        hardState: { term: 2, commit: 1 },
      });
      p.step({ type: "MsgApp", from: 2, term: 2, index: prev[0], logTerm: prev[1], commit: 1 });
      const out = p.drain();
      expect(out.messages).toEqual([
        expect.objectContaining({ type: "MsgAppResp", to: 2, term: 2, index, reject: !accepted }),
      ]);
      expect(p.log().map((e) => e.term)).toEqual([1, 2]);
      if (!accepted) {
        // The hint points the leader at the last entry that might still match.
        const hint = out.messages[0]?.rejectHint ?? -1;
        expect(hint).toBeLessThan(index);
        expect(hint).toBeGreaterThanOrEqual(1);
      }
    },
  );

  const appends = [
    { prev: [2, 2], terms: [3], log: [1, 2, 3], persisted: [3] },
    { prev: [1, 1], terms: [3, 4], log: [1, 3, 4], persisted: [3, 4] },
    { prev: [0, 0], terms: [1], log: [1, 2], persisted: [] },
    { prev: [0, 0], terms: [3], log: [3], persisted: [3] },
  ] as const;

  it.each(appends)(
    "if an existing entry conflicts with a new one (same index but different terms), the follower deletes the existing entry and all that follow it, and appends any new entries not already in the log (§5.3): prev $prev, entries of terms $terms → log $log",
    ({ prev, terms, log, persisted }) => {
      const p = new Peer(1, { voters: [1, 2, 3], log: logOfTerms(1, 2), hardState: { term: 2 } });
      const entries = terms.map(
        (term, i): Entry => ({
          term,
          index: prev[0] + 1 + i,
          type: "EntryNormal",
          data: new Uint8Array(0),
        }),
      );
      p.step({ type: "MsgApp", from: 2, term: 2, index: prev[0], logTerm: prev[1], entries });
      const out = p.drain();
      expect(p.log().map((e) => e.term)).toEqual(log);
      expect(out.entries.map((e) => e.term)).toEqual(persisted);
    },
  );

  it("after a rejection, the leader decrements nextIndex and retries the AppendEntries RPC (§5.3)", () => {
    const p = new Peer(1, { voters: [1, 2, 3], log: logOfTerms(1, 1, 1), hardState: { term: 1 } });
    const first = ofType(elect(p).messages, "MsgApp").find((m) => m.to === 2);
    // nextIndex starts just after the leader's last entry (before its no-op).
    expect(first).toMatchObject({ index: 3, logTerm: 1 });
    // Follower 2 holds only entry 1.
    p.step({
      type: "MsgAppResp",
      from: 2,
      term: 2,
      index: 3,
      reject: true,
      rejectHint: 1,
      logTerm: 1,
    });
    const retry = ofType(p.drain().messages, "MsgApp");
    expect(retry).toEqual([expect.objectContaining({ to: 2, index: 1, logTerm: 1 })]);
    expect(shape(retry[0]?.entries ?? [])).toEqual([
      { index: 2, term: 1 },
      { index: 3, term: 1 },
      { index: 4, term: 2 },
    ]);
  });

  it("if followers crash or run slowly, or if network packets are lost, the leader retries AppendEntries RPCs indefinitely until all followers eventually store all log entries (§5.3)", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    net.filter = (m) => !(m.type === "MsgApp" && m.to === 3);
    for (const data of ["a", "b", "c"]) net.propose(1, data);
    net.tickAll(3 * ELECTION_TICK);
    expect(net.node(3).applied).toEqual([]);
    net.filter = undefined;
    net.tickAll(1);
    expect(shape(storedLog(net.node(3).storage))).toEqual(shape(storedLog(net.node(1).storage)));
    expect(net.node(3).applied).toEqual(["a", "b", "c"]);
  });

  // Figure 7: the leader's log, and the logs (a)–(f) a follower might hold when it comes to power.
  const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
  const figure7 = [
    { name: "(a)", terms: [1, 1, 1, 4, 4, 5, 5, 6, 6], why: "missing an entry" },
    { name: "(b)", terms: [1, 1, 1, 4], why: "missing many entries" },
    { name: "(c)", terms: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6], why: "an extra uncommitted entry" },
    {
      name: "(d)",
      terms: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
      why: "extra entries of a later term",
    },
    { name: "(e)", terms: [1, 1, 1, 4, 4, 4, 4], why: "missing entries and extra ones" },
    { name: "(f)", terms: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3], why: "a leader of terms 2 and 3" },
  ];

  it.each(figure7)(
    "the leader handles inconsistencies by forcing the followers' logs to duplicate its own: a leader at term 8 brings follower log $name of Figure 7 ($why) into agreement (§5.3, Figure 7)",
    ({ terms }) => {
      const net = new Network();
      const withLog = (log: number[]): MemoryStorage => {
        const s = MemoryStorage.withPeers([1, 2, 3]);
        s.append(logOfTerms(...log));
        s.setHardState({ term: 7, vote: 0, commit: 0 });
        return s;
      };
      net.add(1, withLog(leaderLog));
      net.add(2, withLog(terms));
      // Node 3 stands in for the voter that elected the leader; it is not simulated.
      net.campaign(1);
      net.send([message({ type: "MsgVoteResp", from: 3, to: 1, term: 8 })]);
      expect(net.raw(1).status()).toMatchObject({ role: "leader", term: 8 });
      net.propose(1, "after");

      const leader = storedLog(net.node(1).storage);
      expect(leader.map((e) => e.term)).toEqual([...leaderLog, 8, 8]);
      expect(shape(storedLog(net.node(2).storage))).toEqual(shape(leader));
      // With the follower's acknowledgements, every entry up to the new one is committed.
      expect(net.raw(1).status().commit).toBe(12);
      expect(net.node(2).applied).toEqual(["after"]);
    },
  );
});

describe("Raft §5.5: follower and candidate crashes", () => {
  it("Raft RPCs are idempotent: if a follower receives an AppendEntries request that includes log entries already present in its log, it ignores those entries in the new request (§5.5)", () => {
    const p = new Peer(1, { voters: [1, 2, 3], log: logOfTerms(1, 1, 1), hardState: { term: 1 } });
    const repeat = () =>
      p.step({ type: "MsgApp", from: 2, term: 1, index: 0, logTerm: 0, entries: logOfTerms(1, 1) });
    repeat();
    let out = p.drain();
    expect(out.entries).toEqual([]);
    expect(out.messages).toEqual([
      expect.objectContaining({ type: "MsgAppResp", index: 2, reject: false }),
    ]);
    // The entry after the repeated ones is not cut off.
    expect(p.log().map((e) => e.index)).toEqual([1, 2, 3]);
    repeat();
    out = p.drain();
    expect(out.entries).toEqual([]);
    expect(p.log().map((e) => e.index)).toEqual([1, 2, 3]);
  });
});

describe("Raft §8: client interaction", () => {
  it("if the client's first choice is not the leader, that server supplies information about the most recent leader it has heard from (§8)", () => {
    const net = Network.of([1, 2, 3], { disableProposalForwarding: true });
    net.campaign(1);
    expect(net.raw(2).status().lead).toBe(1);
    expect(() => net.raw(2).propose(bytes("to a follower"))).toThrow(
      expect.objectContaining({
        reason: "proposal-dropped",
        message: expect.stringContaining("leader 1"),
      }),
    );
  });

  it("each leader commits a blank no-op entry into the log at the start of its term (§8)", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    net.campaign(2);
    for (const id of net.ids()) {
      expect(net.node(id).appliedEntries).toEqual([
        { term: 1, index: 1, type: "EntryNormal", data: new Uint8Array(0) },
        { term: 2, index: 2, type: "EntryNormal", data: new Uint8Array(0) },
      ]);
      expect(net.node(id).applied).toEqual([]);
    }
  });
});
