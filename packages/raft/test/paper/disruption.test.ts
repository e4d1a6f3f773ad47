// Thesis tests (Ongaro, "Consensus: Bridging Theory and Practice") for the mechanisms that keep
// servers from disrupting a working cluster: pre-vote (§9.6), check-quorum (§6.2) and the rule
// that servers within a leader's lease ignore vote requests (§4.2.3). Each test turns on the
// options it exercises; the test defaults have them off.

import { describe, expect, it } from "vitest";
import { bytes, Network } from "../support/network.js";
import { logOfTerms, ofType, Peer } from "./support.js";

const ELECTION_TICK = 10;

describe("Raft thesis §9.6: preventing disruptions when a server rejoins the cluster (pre-vote)", () => {
  it("in the Pre-Vote algorithm, a candidate only increments its term if it first learns from a majority of the cluster that they would be willing to grant it their votes (§9.6)", () => {
    const p = new Peer(1, {
      voters: [1, 2, 3],
      preVote: true,
      log: logOfTerms(1),
      hardState: { term: 1 },
    });
    p.node.campaign();
    let out = p.drain();
    expect(p.status()).toMatchObject({ role: "pre-candidate", term: 1, vote: 0 });
    expect(out.messages).toEqual([
      expect.objectContaining({ type: "MsgPreVote", to: 2, term: 2, index: 1, logTerm: 1 }),
      expect.objectContaining({ type: "MsgPreVote", to: 3, term: 2, index: 1, logTerm: 1 }),
    ]);

    p.step({ type: "MsgPreVoteResp", from: 2, term: 2 });
    out = p.drain();
    expect(p.status()).toMatchObject({ role: "candidate", term: 2, vote: 1 });
    expect(ofType(out.messages, "MsgVote").map((m) => [m.to, m.term])).toEqual([
      [2, 2],
      [3, 2],
    ]);
  });

  it("a pre-candidate that a majority would not vote for keeps its term and returns to the follower state (§9.6)", () => {
    const p = new Peer(1, {
      voters: [1, 2, 3],
      preVote: true,
      log: logOfTerms(1),
      hardState: { term: 1 },
    });
    p.node.campaign();
    p.drain();
    p.step({ type: "MsgPreVoteResp", from: 2, term: 1, reject: true });
    p.step({ type: "MsgPreVoteResp", from: 3, term: 1, reject: true });
    const out = p.drain();
    expect(p.status()).toMatchObject({ role: "follower", term: 1 });
    expect(ofType(out.messages, "MsgVote")).toEqual([]);
  });

  it("a server answering a pre-vote request changes neither its term nor its vote (§9.6)", () => {
    const p = new Peer(1, {
      voters: [1, 2, 3],
      preVote: true,
      log: logOfTerms(1),
      hardState: { term: 1, vote: 2 },
    });
    p.step({ type: "MsgPreVote", from: 3, term: 2, index: 1, logTerm: 1 });
    const out = p.drain();
    expect(out.messages).toEqual([
      expect.objectContaining({ type: "MsgPreVoteResp", to: 3, term: 2, reject: false }),
    ]);
    expect(p.status()).toMatchObject({ term: 1, vote: 2 });
  });

  it("a server grants a pre-vote only if the candidate's log is at least as up-to-date as its own (§9.6)", () => {
    const p = new Peer(1, {
      voters: [1, 2, 3],
      preVote: true,
      log: logOfTerms(1, 1),
      hardState: { term: 1 },
    });
    p.step({ type: "MsgPreVote", from: 3, term: 2, index: 1, logTerm: 1 });
    expect(p.drain().messages).toEqual([
      expect.objectContaining({ type: "MsgPreVoteResp", to: 3, term: 1, reject: true }),
    ]);
    expect(p.status()).toMatchObject({ term: 1, vote: 0 });
  });

  /** Partitions follower 3 from a group led by 1 for ten election timeouts, then heals it. */
  function partitionAndRejoin(net: Network): { termWhilePartitioned: number } {
    net.campaign(1);
    net.propose(1, "before");
    net.isolate(3);
    net.tickAll(10 * ELECTION_TICK);
    const termWhilePartitioned = net.raw(3).status().term;
    net.recover();
    net.tickAll(3 * ELECTION_TICK);
    net.propose(net.leader() ?? 1, "after");
    return { termWhilePartitioned };
  }

  it("with pre-vote, a partitioned server cannot increment its term, and when it rejoins it returns to follower on the leader's heartbeat without disrupting the cluster (§9.6)", () => {
    const net = Network.of([1, 2, 3], { preVote: true, checkQuorum: true });
    const { termWhilePartitioned } = partitionAndRejoin(net);
    expect(termWhilePartitioned).toBe(1);
    expect(net.sent.filter((m) => m.type === "MsgVote")).toHaveLength(2); // the first election's
    for (const id of net.ids()) {
      expect(net.raw(id).status()).toMatchObject({ term: 1, lead: 1 });
      expect(net.node(id).applied).toEqual(["before", "after"]);
    }
  });

  it("without pre-vote, a partitioned server keeps incrementing its term, and when it rejoins the cluster the higher term makes the leader step down (§9.6)", () => {
    const net = Network.of([1, 2, 3], { preVote: false, checkQuorum: true });
    const { termWhilePartitioned } = partitionAndRejoin(net);
    expect(termWhilePartitioned).toBeGreaterThan(1);
    expect(net.raw(1).status().term).toBeGreaterThan(1);
    expect(net.node(1).events).toContainEqual(expect.objectContaining({ type: "became-follower" }));
  });
});

describe("Raft thesis §6.2: leaders step down without a quorum (check-quorum)", () => {
  it("a leader steps down if an election timeout elapses without a successful round of heartbeats to a majority of its cluster (§6.2)", () => {
    const net = Network.of([1, 2, 3], { checkQuorum: true });
    net.campaign(1);
    net.isolate(1);
    net.tick(1, 2 * ELECTION_TICK);
    expect(net.raw(1).status()).toMatchObject({ role: "follower", term: 1, lead: 0 });
    expect(net.node(1).events).toContainEqual({ type: "check-quorum-failed", term: 1 });
    // Having stepped down, it no longer accepts proposals it could not commit.
    expect(() => net.raw(1).propose(bytes("lost"))).toThrow(
      expect.objectContaining({ reason: "proposal-dropped" }),
    );
  });

  it("a leader that hears from a majority of its cluster within each election timeout keeps its leadership (§6.2)", () => {
    const net = Network.of([1, 2, 3], { checkQuorum: true });
    net.campaign(1);
    net.isolate(3);
    net.tickAll(10 * ELECTION_TICK);
    expect(net.raw(1).status()).toMatchObject({ role: "leader", term: 1 });
    expect(net.node(1).events).not.toContainEqual(
      expect.objectContaining({ type: "check-quorum-failed" }),
    );
  });

  it("only voting members count toward the majority a leader must hear from; non-voting members do not (§6.2, §4.2.1)", () => {
    const net = Network.of([1, 2, 3], { checkQuorum: true }, [4, 5]);
    net.campaign(1);
    net.isolate(2);
    net.isolate(3);
    net.tickAll(2 * ELECTION_TICK);
    expect(net.raw(1).status().role).toBe("follower");
    expect(net.node(1).events).toContainEqual({ type: "check-quorum-failed", term: 1 });
  });
});

describe("Raft thesis §4.2.3: disruptive servers", () => {
  it("if a server receives a RequestVote request within the minimum election timeout of hearing from a current leader, it does not update its term or grant its vote (§4.2.3)", () => {
    const p = new Peer(1, {
      voters: [1, 2, 3],
      checkQuorum: true,
      log: logOfTerms(1),
      hardState: { term: 1 },
      // The longest randomized election timeout, so that the follower does not campaign itself.
      random: (n) => n - 1,
    });
    p.step({ type: "MsgHeartbeat", from: 2, term: 1 });
    p.drain();
    const ask = { type: "MsgVote", from: 3, term: 2, index: 1, logTerm: 1 } as const;
    p.step(ask);
    expect(p.drain().messages).toEqual([]);
    expect(p.status()).toMatchObject({ term: 1, vote: 0, lead: 2 });

    // Once a minimum election timeout passes without word from the leader, the same request wins.
    p.tick(ELECTION_TICK);
    p.step(ask);
    expect(p.drain().messages).toEqual([
      expect.objectContaining({ type: "MsgVoteResp", to: 3, term: 2, reject: false }),
    ]);
    expect(p.status()).toMatchObject({ term: 2, vote: 3 });
  });

  /** Removes server 3 while it is partitioned, so it never learns of it, then heals the partition. */
  function removeWhilePartitioned(net: Network): number {
    net.campaign(1);
    net.isolate(3);
    net.raw(1).proposeConfChange({ type: "RemoveNode", nodeId: 3, context: new Uint8Array(0) });
    net.send(net.processReady(1));
    expect(net.node(2).confState.voters).toEqual([1, 2]);
    net.recover();
    const from = net.sent.length;
    net.tickAll(5 * ELECTION_TICK);
    expect(net.sent.slice(from).some((m) => m.type === "MsgVote" && m.from === 3)).toBe(true);
    return net.raw(1).status().term;
  }

  it("a removed server that times out and starts new elections does not disrupt the cluster: the servers that hear from the leader ignore its RequestVotes (§4.2.3)", () => {
    const net = Network.of([1, 2, 3], { checkQuorum: true });
    expect(removeWhilePartitioned(net)).toBe(1);
    for (const id of [1, 2]) expect(net.raw(id).status()).toMatchObject({ term: 1, lead: 1 });
  });

  it("without that rule, a removed server's RequestVotes make the cluster adopt its higher terms (§4.2.3)", () => {
    // Check-quorum is what enables the rule in this core, as in etcd-io/raft.
    const net = Network.of([1, 2, 3], { checkQuorum: false });
    expect(removeWhilePartitioned(net)).toBeGreaterThan(1);
  });
});
