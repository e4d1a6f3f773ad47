// Thesis tests (Ongaro, "Consensus: Bridging Theory and Practice") for leadership transfer,
// §3.10, and its interplay with the lease rule of §4.2.3 and pre-vote (§9.6).

import { describe, expect, it } from "vitest";
import type { NodeId } from "../../src/index.js";
import { bytes, Network, text } from "../support/network.js";

const ELECTION_TICK = 10;

function transfer(net: Network, leader: NodeId, to: NodeId): void {
  net.raw(leader).transferLeader(to);
  net.send(net.processReady(leader));
}

describe("Raft thesis §3.10: leadership transfer extension", () => {
  it("the prior leader sends a TimeoutNow request to the target server, which has the same effect as its election timer firing: it starts a new election at once, and its next message to the prior leader, with the new term, makes the prior leader step down (§3.10)", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    const from = net.sent.length;
    transfer(net, 1, 2);
    const sent = net.sent.slice(from);
    expect(sent[0]).toMatchObject({ type: "MsgTimeoutNow", from: 1, to: 2, term: 1 });
    expect(sent[1]).toMatchObject({ type: "MsgVote", from: 2, term: 2 });
    expect(net.raw(2).status()).toMatchObject({ role: "leader", term: 2 });
    expect(net.raw(1).status()).toMatchObject({ role: "follower", term: 2, lead: 2 });
    net.propose(1, "via the new leader");
    expect(net.node(3).applied).toEqual(["via the new leader"]);
  });

  it("the prior leader fully updates the target server's log to match its own, using the normal log replication mechanism, before it sends TimeoutNow (§3.10)", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    net.isolate(3);
    net.propose(1, "a");
    net.propose(1, "b");
    net.recover();
    const from = net.sent.length;
    transfer(net, 1, 3);
    const sent = net.sent.slice(from);
    const timeoutNow = sent.findIndex((m) => m.type === "MsgTimeoutNow");
    const caughtUp = sent.findIndex(
      (m) => m.type === "MsgAppResp" && m.from === 3 && !m.reject && m.index === 3,
    );
    const carried = sent
      .slice(0, timeoutNow)
      .filter((m) => m.type === "MsgApp" && m.to === 3)
      .flatMap((m) => m.entries.map((e) => text(e.data)));
    expect(carried).toEqual(["a", "b"]);
    expect(caughtUp).toBeGreaterThanOrEqual(0);
    expect(timeoutNow).toBeGreaterThan(caughtUp);
    expect(net.raw(3).status()).toMatchObject({ role: "leader", term: 2 });
    expect(net.node(3).applied).toEqual(["a", "b"]);
  });

  it("during a transfer the prior leader stops accepting new client requests (§3.10)", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    net.isolate(3);
    transfer(net, 1, 3);
    expect(net.raw(1).status()).toMatchObject({ role: "leader", leadTransferee: 3 });
    expect(() => net.raw(1).propose(bytes("during"))).toThrow(
      expect.objectContaining({ reason: "proposal-dropped" }),
    );
  });

  it("if the transfer does not complete within about an election timeout, the prior leader aborts the transfer and resumes accepting client requests (§3.10)", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    net.isolate(3);
    transfer(net, 1, 3);
    net.tick(1, ELECTION_TICK - 1);
    expect(net.raw(1).status().leadTransferee).toBe(3);
    net.tick(1, 1);
    expect(net.raw(1).status()).toMatchObject({ role: "leader", term: 1, leadTransferee: 0 });
    expect(net.node(1).events).toContainEqual(
      expect.objectContaining({ type: "leader-transfer-aborted", to: 3 }),
    );
    net.propose(1, "after");
    expect(net.node(2).applied).toEqual(["after"]);
  });

  it("a RequestVote sent because of a leadership transfer is processed by the other servers even though they believe a current leader exists (§3.10, §4.2.3)", () => {
    const net = Network.of([1, 2, 3], { checkQuorum: true });
    net.campaign(1);
    net.tickAll(1); // every follower has just heard from the leader: all are within its lease
    transfer(net, 1, 2);
    expect(net.raw(2).status()).toMatchObject({ role: "leader", term: 2 });
    for (const id of [1, 3]) expect(net.raw(id).status()).toMatchObject({ term: 2, lead: 2 });
  });

  it("the target of a transfer starts the real election at once, skipping pre-vote, since the leader asked it to (§3.10, §9.6)", () => {
    const net = Network.of([1, 2, 3], { preVote: true, checkQuorum: true });
    net.campaign(1);
    const from = net.sent.length;
    transfer(net, 1, 2);
    const sent = net.sent.slice(from);
    expect(sent.filter((m) => m.type === "MsgPreVote")).toEqual([]);
    expect(sent.filter((m) => m.type === "MsgVote").map((m) => [m.from, m.to, m.term])).toEqual([
      [2, 1, 2],
      [2, 3, 2],
    ]);
    expect(net.raw(2).status()).toMatchObject({ role: "leader", term: 2 });
  });
});
