// Thesis tests (Ongaro, "Consensus: Bridging Theory and Practice") for read-only queries
// without log entries: ReadIndex (§6.4), reads served by followers, and leases (§6.4.1).

import { describe, expect, it } from "vitest";
import { bytes, Network, text } from "../support/network.js";
import { acceptAppends, elect, electAndCommit, logOfTerms, ofType, Peer } from "./support.js";

const ELECTION_TICK = 10;

describe("Raft thesis §6.4: processing read-only queries more efficiently", () => {
  it("the leader saves its current commit index as the readIndex, then issues a new round of heartbeats and serves the read once a majority of the cluster acknowledges them (§6.4)", () => {
    const p = new Peer(1, { voters: [1, 2, 3, 4, 5] });
    electAndCommit(p);
    p.node.propose(bytes("x"));
    acceptAppends(p, p.drain().messages);
    expect(p.status().commit).toBe(2);

    p.node.readIndex(bytes("read-1"));
    const out = p.drain();
    expect(out.readStates).toEqual([]);
    const beats = ofType(out.messages, "MsgHeartbeat");
    expect(beats.map((m) => [m.to, text(m.context)])).toEqual([
      [2, "read-1"],
      [3, "read-1"],
      [4, "read-1"],
      [5, "read-1"],
    ]);

    // The read index stays the commit index at arrival, even if more commits follow.
    p.node.propose(bytes("y"));
    acceptAppends(p, p.drain().messages);
    expect(p.status().commit).toBe(3);

    p.step({ type: "MsgHeartbeatResp", from: 2, term: 1, context: bytes("read-1") });
    expect(p.drain().readStates).toEqual([]); // two of five
    p.step({ type: "MsgHeartbeatResp", from: 3, term: 1, context: bytes("read-1") });
    expect(p.drain().readStates).toEqual([{ index: 2, requestCtx: bytes("read-1") }]);
  });

  it("if the leader has not yet marked an entry from its current term committed, it waits until it has done so before it serves a read (§6.4)", () => {
    const p = new Peer(1, {
      voters: [1, 2, 3],
      log: logOfTerms(1, 1),
      hardState: { term: 1, commit: 2 },
    });
    const won = elect(p); // term 2, its no-op at index 3 not yet committed
    expect(p.status()).toMatchObject({ role: "leader", commit: 2 });

    p.node.readIndex(bytes("early"));
    let out = p.drain();
    expect(out.readStates).toEqual([]);
    expect(ofType(out.messages, "MsgHeartbeat")).toEqual([]);

    out = acceptAppends(p, won.messages, [2]);
    expect(p.status().commit).toBe(3);
    expect(ofType(out.messages, "MsgHeartbeat").map((m) => [m.to, text(m.context)])).toEqual([
      [2, "early"],
      [3, "early"],
    ]);
    p.step({ type: "MsgHeartbeatResp", from: 3, term: 2, context: bytes("early") });
    // Served at the new commit index, which covers everything committed by earlier leaders.
    expect(p.drain().readStates).toEqual([{ index: 3, requestCtx: bytes("early") }]);
  });

  it("a read forwarded by a follower also waits until the new leader has committed an entry from its current term (§6.4)", () => {
    const p = new Peer(1, { voters: [1, 2, 3] });
    const won = elect(p);
    p.step({ type: "MsgReadIndex", from: 2, context: bytes("forwarded") });
    expect(p.drain().messages).toEqual([]);
    const out = acceptAppends(p, won.messages, [3]);
    expect(ofType(out.messages, "MsgHeartbeat").map((m) => text(m.context))).toEqual([
      "forwarded",
      "forwarded",
    ]);
    p.step({ type: "MsgHeartbeatResp", from: 3, term: 1, context: bytes("forwarded") });
    expect(ofType(p.drain().messages, "MsgReadIndexResp")).toEqual([
      expect.objectContaining({ to: 2, index: 1, context: bytes("forwarded") }),
    ]);
  });

  it("heartbeat acknowledgements from non-voting members do not confirm the leader's authority for a read (§6.4, §4.2.1)", () => {
    const p = new Peer(1, { voters: [1, 2, 3], learners: [4, 5] });
    electAndCommit(p);
    p.node.readIndex(bytes("r"));
    expect(ofType(p.drain().messages, "MsgHeartbeat").map((m) => m.to)).toEqual([2, 3, 4, 5]);
    for (const from of [4, 5])
      p.step({ type: "MsgHeartbeatResp", from, term: 1, context: bytes("r") });
    expect(p.drain().readStates).toEqual([]);
    p.step({ type: "MsgHeartbeatResp", from: 2, term: 1, context: bytes("r") });
    expect(p.drain().readStates).toEqual([{ index: 1, requestCtx: bytes("r") }]);
  });

  it("a leader that is the only voting member is a majority by itself: it serves reads without waiting for non-voting members (§6.4, §4.2.1)", () => {
    const p = new Peer(1, { voters: [1], learners: [2] });
    elect(p);
    p.drain();
    p.node.readIndex(bytes("alone"));
    // The learner never answers (it may be down); the read must not wait for it.
    expect(p.drain().readStates).toEqual([{ index: 1, requestCtx: bytes("alone") }]);
  });

  it("a leader that has been superseded by a newer leader never serves the read, since a majority will not acknowledge its heartbeats (§6.4)", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    net.isolate(1);
    net.raw(1).readIndex(bytes("stale"));
    net.flush();
    net.campaign(2);
    net.propose(2, "newer");
    net.recover();
    net.tickAll(2 * ELECTION_TICK);
    expect(net.node(1).readStates).toEqual([]);
    expect(net.raw(1).status()).toMatchObject({ role: "follower", lead: 2 });
  });

  it("a follower issues a request to the leader asking for a current readIndex, and serves the read once its state machine has advanced at least as far as that index (§6.4)", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    net.propose(1, "a");
    // Follower 2 falls behind: it misses the next write, which 1 and 3 commit.
    net.filter = (m) => !(m.type === "MsgApp" && m.to === 2);
    net.propose(1, "b");
    const commit = net.raw(1).status().commit;
    expect(net.raw(2).status().applied).toBeLessThan(commit);

    const from = net.sent.length;
    net.raw(2).readIndex(bytes("follower-read"));
    net.send(net.processReady(2));
    expect(net.sent.slice(from).map((m) => `${m.type} ${m.from}->${m.to}`)).toEqual(
      expect.arrayContaining(["MsgReadIndex 2->1", "MsgReadIndexResp 1->2"]),
    );
    // The readIndex is the leader's commit index: the follower must wait until it applies it.
    expect(net.node(2).readStates).toEqual([{ index: commit, requestCtx: bytes("follower-read") }]);
    expect(net.raw(2).status().applied).toBeLessThan(commit);

    net.filter = undefined;
    net.tickAll(1);
    expect(net.raw(2).status().applied).toBeGreaterThanOrEqual(commit);
    expect(net.node(2).applied).toEqual(["a", "b"]);
  });
});

describe("Raft thesis §6.4.1: using clocks to reduce messaging for read-only queries", () => {
  it("with a lease, the leader serves read-only queries at its commit index without communicating with other servers (§6.4.1)", () => {
    const p = new Peer(1, { voters: [1, 2, 3], checkQuorum: true, readOnlyOption: "lease-based" });
    electAndCommit(p);
    p.node.readIndex(bytes("leased"));
    const out = p.drain();
    expect(out.messages).toEqual([]);
    expect(out.readStates).toEqual([{ index: 1, requestCtx: bytes("leased") }]);
  });

  it("a leader relying on its lease still waits until it has committed an entry from its current term, since until then it may not know the latest commit index (§6.4.1, §6.4)", () => {
    const p = new Peer(1, { voters: [1, 2, 3], checkQuorum: true, readOnlyOption: "lease-based" });
    const won = elect(p);
    p.node.readIndex(bytes("early"));
    expect(p.drain().readStates).toEqual([]);
    const out = acceptAppends(p, won.messages, [2]);
    expect(out.readStates).toEqual([{ index: 1, requestCtx: bytes("early") }]);
  });
});
