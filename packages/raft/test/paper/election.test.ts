// Paper tests for Raft §5.1 (terms) and §5.2 (leader election), after etcd-io/raft's
// raft_paper_test.go. The core's preVote and checkQuorum are left off (the test defaults):
// these tests encode the paper's basic algorithm.

import { describe, expect, it } from "vitest";
import { NONE, type NodeId, type Role } from "../../src/index.js";
import { Network } from "../support/network.js";
import { Rng } from "../support/rng.js";
import { elect, logOfTerms, ofType, Peer } from "./support.js";

const ELECTION_TICK = 10;

/** A node of group [1, 2, 3] at term 1 in the given role. */
function peerIn(role: Role): Peer {
  const p = new Peer(1, { voters: [1, 2, 3], hardState: { term: role === "follower" ? 1 : 0 } });
  if (role === "candidate") p.node.campaign();
  if (role === "leader") elect(p);
  p.drain();
  expect(p.status()).toMatchObject({ role, term: 1 });
  return p;
}

describe("Raft §5.1: terms", () => {
  const roles: Role[] = ["follower", "candidate", "leader"];
  const cases = roles.flatMap((role) =>
    (["MsgApp", "MsgHeartbeat", "MsgVote"] as const).map((type) => ({ role, type })),
  );

  it.each(cases)(
    "if a server's current term is smaller than the other's, it updates its current term to the larger value; a $role that learns of it from $type reverts to follower state (§5.1)",
    ({ role, type }) => {
      const p = peerIn(role);
      p.step({ type, from: 2, term: 2 });
      p.drain();
      const st = p.status();
      expect(st.term).toBe(2);
      expect(st.role).toBe("follower");
      // An AppendEntries names the sender as the leader of the new term; a vote request does not.
      expect(st.lead).toBe(type === "MsgVote" ? NONE : 2);
    },
  );

  it("if a server receives a request with a stale term number, it rejects the request (§5.1)", () => {
    const p = new Peer(1, {
      voters: [1, 2, 3],
      log: logOfTerms(1, 2),
      hardState: { term: 2 },
    });
    p.drain();
    // A stale leader's AppendEntries that would overwrite entry 2.
    p.step({
      type: "MsgApp",
      from: 2,
      term: 1,
      index: 1,
      logTerm: 1,
      entries: logOfTerms(1, 1).slice(1),
      commit: 2,
    });
    // A stale candidate's RequestVote with a longer log.
    p.step({ type: "MsgVote", from: 3, term: 1, index: 5, logTerm: 2 });
    const out = p.drain();
    expect(out.entries).toEqual([]);
    expect(out.messages).toEqual([]);
    expect(p.status()).toMatchObject({ term: 2, vote: NONE, commit: 0, lead: NONE });
    expect(p.log().map((e) => e.term)).toEqual([1, 2]);
  });
});

describe("Raft §5.2: leader election", () => {
  it("when servers start up, they begin as followers (§5.2)", () => {
    const fresh = new Peer(1, { voters: [1, 2, 3] });
    expect(fresh.status()).toMatchObject({ role: "follower", term: 0, lead: NONE });
    const restarted = new Peer(1, {
      voters: [1, 2, 3],
      log: logOfTerms(1, 2),
      hardState: { term: 2, vote: 1, commit: 1 },
    });
    expect(restarted.status()).toMatchObject({ role: "follower", term: 2, vote: 1, lead: NONE });
  });

  it("a leader sends periodic heartbeats (AppendEntries RPCs that carry no log entries) to all followers in order to maintain its authority (§5.2)", () => {
    const p = new Peer(1, { voters: [1, 2, 3] });
    elect(p);
    p.node.propose(new TextEncoder().encode("unacknowledged"));
    p.drain();
    p.tick(1); // heartbeatTick is 1
    const out = p.drain();
    expect(out.messages).toEqual([
      expect.objectContaining({ type: "MsgHeartbeat", from: 1, to: 2, term: 1, entries: [] }),
      expect.objectContaining({ type: "MsgHeartbeat", from: 1, to: 3, term: 1, entries: [] }),
    ]);
    // Nothing is known to be on a follower yet, so the heartbeats announce no commit.
    for (const m of out.messages) expect(m.commit).toBe(0);
  });

  it("a follower remains in follower state as long as it receives valid RPCs from a leader (§5.2)", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    net.tickAll(20 * ELECTION_TICK);
    for (const id of net.ids()) {
      expect(net.raw(id).status()).toMatchObject({ term: 1, lead: 1 });
    }
    expect(net.sent.filter((m) => m.type === "MsgVote" && m.from !== 1)).toEqual([]);
  });

  it("if a follower receives no communication over the election timeout, it increments its current term, transitions to candidate state, votes for itself and issues RequestVote RPCs in parallel to each of the other servers (§5.2)", () => {
    const p = new Peer(1, { voters: [1, 2, 3], log: logOfTerms(1), hardState: { term: 1 } });
    p.tick(2 * ELECTION_TICK);
    const out = p.drain();
    expect(p.status()).toMatchObject({ role: "candidate", term: 2, vote: 1 });
    expect(out.messages).toEqual([
      expect.objectContaining({ type: "MsgVote", from: 1, to: 2, term: 2, index: 1, logTerm: 1 }),
      expect.objectContaining({ type: "MsgVote", from: 1, to: 3, term: 2, index: 1, logTerm: 1 }),
    ]);
  });

  it("if a candidate neither wins nor loses the election, it times out and starts a new election by incrementing its term and initiating another round of RequestVote RPCs (§5.2)", () => {
    const p = new Peer(1, { voters: [1, 2, 3], hardState: { term: 1 } });
    p.node.campaign();
    p.drain();
    expect(p.status()).toMatchObject({ role: "candidate", term: 2 });
    p.tick(2 * ELECTION_TICK);
    const out = p.drain();
    expect(p.status()).toMatchObject({ role: "candidate", term: 3, vote: 1 });
    expect(ofType(out.messages, "MsgVote").map((m) => [m.to, m.term])).toEqual([
      [2, 3],
      [3, 3],
    ]);
  });

  const rounds: { size: number; votes: Record<number, boolean>; role: Role }[] = [
    { size: 1, votes: {}, role: "leader" },
    { size: 3, votes: { 2: true, 3: true }, role: "leader" },
    { size: 3, votes: { 2: true }, role: "leader" },
    { size: 5, votes: { 2: true, 3: true, 4: true, 5: true }, role: "leader" },
    { size: 5, votes: { 2: true, 3: true, 4: true }, role: "leader" },
    { size: 5, votes: { 2: true, 3: true }, role: "leader" },
    { size: 5, votes: { 2: true, 3: false, 4: false }, role: "candidate" },
    { size: 3, votes: {}, role: "candidate" },
    { size: 5, votes: { 2: true }, role: "candidate" },
    { size: 5, votes: { 2: true, 3: false }, role: "candidate" },
  ];

  it.each(rounds)(
    "a candidate wins an election if it receives votes from a majority of the servers in the full cluster for the same term (§5.2): $size servers, votes $votes → $role",
    ({ size, votes, role }) => {
      const voters = Array.from({ length: size }, (_, i) => i + 1);
      const p = new Peer(1, { voters });
      p.node.campaign();
      p.drain();
      for (const [from, granted] of Object.entries(votes)) {
        p.step({ type: "MsgVoteResp", from: Number(from), term: 1, reject: !granted });
      }
      p.drain();
      expect(p.status()).toMatchObject({ role, term: 1 });
    },
  );

  it("once a candidate wins an election, it becomes leader and sends AppendEntries to all of the other servers to establish its authority (§5.2)", () => {
    const p = new Peer(1, { voters: [1, 2, 3, 4, 5] });
    const out = elect(p);
    expect(p.status()).toMatchObject({ role: "leader", lead: 1, term: 1 });
    expect(ofType(out.messages, "MsgApp").map((m) => m.to)).toEqual([2, 3, 4, 5]);
  });

  const votes: { vote: NodeId; candidate: NodeId; granted: boolean }[] = [
    { vote: NONE, candidate: 2, granted: true },
    { vote: NONE, candidate: 3, granted: true },
    { vote: 2, candidate: 2, granted: true },
    { vote: 3, candidate: 3, granted: true },
    { vote: 2, candidate: 3, granted: false },
    { vote: 3, candidate: 2, granted: false },
  ];

  it.each(votes)(
    "each server will vote for at most one candidate in a given term, on a first-come-first-served basis (§5.2): voted for $vote, asked by $candidate → granted $granted",
    ({ vote, candidate, granted }) => {
      const p = new Peer(1, { voters: [1, 2, 3], hardState: { term: 1, vote } });
      p.step({ type: "MsgVote", from: candidate, term: 1 });
      const out = p.drain();
      expect(out.messages).toEqual([
        expect.objectContaining({ type: "MsgVoteResp", to: candidate, term: 1, reject: !granted }),
      ]);
      expect(p.status().vote).toBe(granted ? candidate : vote);
    },
  );

  it.each([1, 2])(
    "if the leader's term (included in its RPC) is at least as large as the candidate's current term, then the candidate recognizes the leader as legitimate and returns to follower state (§5.2): leader term %i",
    (term) => {
      const p = new Peer(1, { voters: [1, 2, 3] });
      p.node.campaign();
      p.drain();
      expect(p.status()).toMatchObject({ role: "candidate", term: 1 });
      p.step({ type: "MsgApp", from: 2, term, index: 0, logTerm: 0 });
      p.drain();
      expect(p.status()).toMatchObject({ role: "follower", term, lead: 2 });
    },
  );

  it("when votes are split so that no candidate obtains a majority, each candidate times out and starts a new election, and randomized election timeouts soon resolve it (§5.2)", () => {
    const net = Network.of([1, 2, 3, 4]);
    net.hold(true);
    net.campaign(1);
    net.campaign(2);
    // Server 3 hears from candidate 1 first, server 4 from candidate 2.
    net.release((m) => (m.from === 1 && m.to === 3) || (m.from === 2 && m.to === 4));
    net.release();
    net.hold(false);
    for (const id of [1, 2]) expect(net.raw(id).status().role).not.toBe("leader");
    expect(net.leader()).toBeUndefined();

    net.tickAll(4 * ELECTION_TICK);
    const leader = net.leader();
    expect(leader).toBeDefined();
    expect(net.raw(leader ?? 0).status().term).toBeGreaterThan(1);
    for (const id of net.ids()) expect(net.raw(id).status().lead).toBe(leader);
  });

  it("currentTerm and votedFor are persistent state, updated on stable storage before responding to RPCs, so a server that restarts does not vote twice in a term (§5.2, Figure 2)", () => {
    const p = new Peer(1, { voters: [1, 2, 3], log: logOfTerms(1), hardState: { term: 1 } });
    p.step({ type: "MsgVote", from: 2, term: 2, index: 1, logTerm: 1 });
    const rd = p.node.ready();
    // The vote is handed out for persisting, with a sync, in the Ready that carries the answer.
    expect(rd.hardState).toMatchObject({ term: 2, vote: 2 });
    expect(rd.mustSync).toBe(true);
    expect(rd.messages).toEqual([
      expect.objectContaining({ type: "MsgVoteResp", to: 2, reject: false }),
    ]);
    if (rd.hardState !== undefined) p.storage.setHardState(rd.hardState);

    // The server crashes right after answering, and restarts from what it persisted.
    const restarted = new Peer(1, { voters: [1, 2, 3], storage: p.storage });
    expect(restarted.status()).toMatchObject({ term: 2, vote: 2 });
    restarted.step({ type: "MsgVote", from: 3, term: 2, index: 1, logTerm: 1 });
    expect(restarted.drain().messages).toEqual([
      expect.objectContaining({ type: "MsgVoteResp", to: 3, term: 2, reject: true }),
    ]);
  });

  it("if the term in the RPC is smaller than the candidate's current term, then the candidate rejects the RPC and continues in candidate state (§5.2)", () => {
    const p = new Peer(1, { voters: [1, 2, 3], hardState: { term: 1 } });
    p.node.campaign();
    p.drain();
    p.step({ type: "MsgApp", from: 2, term: 1, index: 0, logTerm: 0, entries: logOfTerms(1) });
    const out = p.drain();
    expect(out.entries).toEqual([]);
    expect(ofType(out.messages, "MsgAppResp").filter((m) => !m.reject)).toEqual([]);
    expect(p.status()).toMatchObject({ role: "candidate", term: 2, lead: NONE });
  });

  /** The ticks a node waits before campaigning, for `rounds` fresh starts from one seed. */
  function observedTimeouts(rounds: number, fromCandidate: boolean): Set<number> {
    const rng = new Rng(7);
    const seen = new Set<number>();
    for (let i = 0; i < rounds; i++) {
      const p = new Peer(1, {
        voters: [1, 2, 3],
        hardState: { term: 1 },
        random: (n) => rng.intn(n),
      });
      if (fromCandidate) p.node.campaign();
      const term = p.status().term;
      let ticks = 0;
      while (p.status().term === term) {
        p.tick();
        ticks++;
        if (ticks > 10 * ELECTION_TICK) throw new Error("never timed out");
      }
      seen.add(ticks);
    }
    return seen;
  }

  const range = Array.from({ length: ELECTION_TICK }, (_, i) => ELECTION_TICK + i);

  it("Raft uses randomized election timeouts: a follower's election timeout is chosen randomly from a fixed interval (§5.2)", () => {
    const seen = observedTimeouts(50 * ELECTION_TICK, false);
    // Every value in [electionTimeout, 2 * electionTimeout) occurs, and no other.
    expect([...seen].sort((a, b) => a - b)).toEqual(range);
  });

  it("each candidate restarts its randomized election timeout at the start of an election, and it waits for that timeout to elapse before starting the next election (§5.2)", () => {
    const seen = observedTimeouts(50 * ELECTION_TICK, true);
    expect([...seen].sort((a, b) => a - b)).toEqual(range);
  });

  it("randomized election timeouts spread out the servers so that in most cases only a single server will time out (§5.2)", () => {
    const rng = new Rng(11);
    const ids = [1, 2, 3, 4, 5];
    const rounds = 1000;
    let conflicts = 0;
    for (let i = 0; i < rounds; i++) {
      const peers = ids.map(
        (id) => new Peer(id, { voters: ids, hardState: { term: 1 }, random: (n) => rng.intn(n) }),
      );
      let timedOut = 0;
      while (timedOut === 0) {
        for (const p of peers) p.tick();
        timedOut = peers.filter((p) => p.status().role === "candidate").length;
      }
      if (timedOut > 1) conflicts++;
    }
    // With timeouts in [10, 20) the chance that two of five tie for first is 1 - 0.5 * Σj⁴/10⁴ ≈ 0.23.
    expect(conflicts / rounds).toBeLessThan(0.3);
  });
});
