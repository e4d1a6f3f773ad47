// Config.skipHeartbeatAfterAppend: a heartbeat round leaves out a streaming follower that was
// sent an append and acknowledged one since the last round (Raft.bcastHeartbeat). What it
// must keep: followers that are silent, probed or paused still get heartbeats, ReadIndex
// rounds still reach everyone, and a group kept busy never elects and never loses its leader
// to check-quorum.

import { describe, expect, it } from "vitest";
import type { Message, NodeId } from "../../src/index.js";
import { Network, type NodeOptions } from "../support/network.js";

const SKIP: NodeOptions = { skipHeartbeatAfterAppend: true, checkQuorum: true, preVote: true };

/** The MsgHeartbeat messages the leader sent during `action`, by recipient. */
function heartbeatsDuring(net: Network, action: () => void): NodeId[] {
  const from = net.sent.length;
  action();
  return net.sent
    .slice(from)
    .filter((m: Message) => m.type === "MsgHeartbeat" && m.from === 1)
    .map((m) => m.to)
    .sort((a, b) => a - b);
}

/** A group of three led by 1, with a first heartbeat round behind it (the flags start clear). */
function ledGroup(opts: NodeOptions): Network {
  const net = Network.of([1, 2, 3], opts);
  net.campaign(1);
  net.tick(1);
  return net;
}

describe("skipHeartbeatAfterAppend", () => {
  it("a follower sent an append that it acknowledged since the last round gets no heartbeat", () => {
    const net = ledGroup(SKIP);
    net.propose(1, "a");
    expect(heartbeatsDuring(net, () => net.tick(1))).toEqual([]);
    // Nothing was appended in the last interval: the next round heartbeats both.
    expect(heartbeatsDuring(net, () => net.tick(1))).toEqual([2, 3]);
  });

  it("is off by default (etcd-io/raft's behaviour: every follower every heartbeatTick)", () => {
    const net = ledGroup({ checkQuorum: true, preVote: true });
    net.propose(1, "a");
    expect(heartbeatsDuring(net, () => net.tick(1))).toEqual([2, 3]);
  });

  it("a follower that did not acknowledge since the last round still gets its heartbeat", () => {
    const net = ledGroup(SKIP);
    net.isolate(3);
    net.propose(1, "a"); // the append to 3 is lost
    expect(heartbeatsDuring(net, () => net.tick(1))).toEqual([3]);
    net.recover();
    // The heartbeat's answer shows 3 behind, and the leader catches it up.
    net.tick(1);
    expect(net.node(3).applied).toEqual(["a"]);
  });

  it("a follower in probe state still gets its heartbeat (its answer is what unpauses it)", () => {
    const net = ledGroup(SKIP);
    net.propose(1, "a");
    net.raw(1).reportUnreachable(2);
    expect(net.raw(1).status().progress.get(2)?.state).toBe("probe");
    expect(heartbeatsDuring(net, () => net.tick(1))).toEqual([2]);
  });

  it("a pending ReadIndex's round reaches every follower", () => {
    const net = ledGroup(SKIP);
    net.propose(1, "a");
    net.isolate(3);
    net.isolate(2);
    net.raw(1).readIndex(new TextEncoder().encode("r1")); // its own round is lost
    net.send(net.processReady(1));
    net.recover();
    const from = net.sent.length;
    net.tick(1);
    const beats = net.sent.slice(from).filter((m) => m.type === "MsgHeartbeat");
    expect(beats.map((m) => m.to).sort()).toEqual([2, 3]);
    expect(beats.every((m) => new TextDecoder().decode(m.context) === "r1")).toBe(true);
    // The no-op of the election is index 1, "a" is 2.
    expect(net.node(1).readStates.map((r) => r.index)).toEqual([2]);
  });

  it("a group kept busy for many election timeouts keeps its leader and exchanges no heartbeats", () => {
    const net = ledGroup(SKIP);
    const from = net.sent.length;
    for (let i = 0; i < 60; i++) {
      net.propose(1, `v${i}`);
      net.tickAll(1);
    }
    const sent = net.sent.slice(from);
    expect(sent.filter((m) => m.type === "MsgHeartbeat")).toEqual([]);
    expect(sent.some((m) => m.type === "MsgPreVote" || m.type === "MsgVote")).toBe(false);
    expect(net.raw(1).status()).toMatchObject({ role: "leader", term: 1 });
    for (const id of [2, 3]) expect(net.node(id).applied).toHaveLength(60);
  });

  it("takes no effect when the election timeout is under three heartbeat intervals", () => {
    const net = ledGroup({ ...SKIP, electionTick: 5, heartbeatTick: 2 });
    net.tick(1, 2);
    net.propose(1, "a");
    expect(heartbeatsDuring(net, () => net.tick(1, 2))).toEqual([2, 3]);
  });
});
