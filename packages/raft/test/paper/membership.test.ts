// Thesis tests (Ongaro, "Consensus: Bridging Theory and Practice") for cluster membership
// changes: single-server changes (§4.1), new servers catching up as non-voting learners
// (§4.2.1) and removing the current leader (§4.2.2). The core applies a configuration when its
// entry is applied, as etcd-io/raft does, rather than when it is appended.

import { describe, expect, it } from "vitest";
import {
  type ConfChangeType,
  type Entry,
  encodeConfChange,
  MemoryStorage,
  type NodeId,
} from "../../src/index.js";
import { bytes, Network } from "../support/network.js";
import {
  acceptAppends,
  elect,
  electAndCommit,
  logOfTerms,
  ofType,
  Peer,
  storedLog,
} from "./support.js";

const ELECTION_TICK = 10;

function change(type: ConfChangeType, nodeId: NodeId) {
  return { type, nodeId, context: new Uint8Array(0) };
}

/** Proposes a membership change on `leader` and delivers everything it causes. */
function proposeChange(net: Network, leader: NodeId, type: ConfChangeType, nodeId: NodeId): void {
  net.raw(leader).proposeConfChange(change(type, nodeId));
  net.send(net.processReady(leader));
}

describe("Raft thesis §4.1: safety of single-server membership changes", () => {
  it("when a server is added, the leader replicates the log to it, and from then on a majority of the new configuration is needed to commit an entry (§4.1)", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    net.propose(1, "a");
    // The new server starts empty, knowing the configuration it is joining.
    net.add(4, MemoryStorage.withPeers([1, 2, 3]));
    proposeChange(net, 1, "AddNode", 4);
    for (const id of net.ids()) expect(net.node(id).confState.voters).toEqual([1, 2, 3, 4]);
    expect(net.node(4).applied).toEqual(["a"]);

    // Servers 1 and 2 were a majority of three, but are not one of four.
    net.isolate(3);
    net.isolate(4);
    net.propose(1, "b");
    expect(net.node(1).applied).toEqual(["a"]);
    net.recover();
    net.isolate(3);
    net.tickAll(1);
    expect(net.node(1).applied).toEqual(["a", "b"]);
    expect(net.node(4).applied).toEqual(["a", "b"]);
  });

  it("when a server is removed, the remaining servers' majority no longer needs it (§4.1)", () => {
    const net = Network.of([1, 2, 3, 4]);
    net.campaign(1);
    proposeChange(net, 1, "RemoveNode", 4);
    expect(net.node(1).confState.voters).toEqual([1, 2, 3]);
    // Servers 1 and 2 are a majority of three, where they were not one of four.
    net.isolate(3);
    net.isolate(4);
    net.propose(1, "after removal");
    expect(net.node(1).applied).toEqual(["after removal"]);
    expect(net.node(2).applied).toEqual(["after removal"]);
  });

  it("only one membership change may be pending at a time: the leader refuses a new change until the previous one has been committed and applied (§4.1)", () => {
    const p = new Peer(1, { voters: [1, 2, 3] });
    electAndCommit(p);
    p.node.proposeConfChange(change("AddNode", 4));
    const sent = p.drain().messages;
    expect(() => p.node.proposeConfChange(change("AddNode", 5))).toThrow(
      expect.objectContaining({ reason: "conf-change-pending" }),
    );
    const out = acceptAppends(p, sent);
    expect(out.committed.map((e) => e.type)).toEqual(["EntryConfChange"]);
    expect(p.status().config.voters).toEqual([1, 2, 3, 4]);
    p.node.proposeConfChange(change("AddNode", 5));
    expect(p.drain().entries.map((e) => e.type)).toEqual(["EntryConfChange"]);
  });

  it("a new leader counts an uncommitted membership change it finds in its log as pending, and refuses another until it has applied it (§4.1)", () => {
    const inherited: Entry = {
      term: 1,
      index: 2,
      type: "EntryConfChange",
      data: encodeConfChange(change("AddNode", 4)),
    };
    const p = new Peer(1, {
      voters: [1, 2, 3],
      log: [...logOfTerms(1), inherited],
      hardState: { term: 1, commit: 1 },
    });
    p.drain();
    const won = elect(p);
    expect(() => p.node.proposeConfChange(change("AddNode", 5))).toThrow(
      expect.objectContaining({ reason: "conf-change-pending" }),
    );
    // Committing the new term's no-op commits the inherited change too; once it is applied,
    // the next change is accepted.
    const out = acceptAppends(p, won.messages);
    expect(out.committed.map((e) => e.type)).toEqual(["EntryConfChange", "EntryNormal"]);
    expect(p.status().config.voters).toEqual([1, 2, 3, 4]);
    p.node.proposeConfChange(change("AddNode", 5));
    expect(p.drain().entries.map((e) => e.type)).toEqual(["EntryConfChange"]);
  });
});

describe("Raft thesis §4.2.1: catching up new servers", () => {
  it("non-voting members receive log entries from the leader but are not considered for majorities (§4.2.1)", () => {
    const net = Network.of([1, 2, 3], {}, [4]);
    net.campaign(1);
    net.isolate(2);
    net.isolate(3);
    net.propose(1, "x");
    // The learner holds the entry and acknowledged it, but one voter and a learner commit nothing.
    expect(storedLog(net.node(4).storage).some((e) => e.data.length > 0)).toBe(true);
    expect(net.raw(1).status().progress.get(4)?.match).toBe(2);
    expect(net.node(1).applied).toEqual([]);
    net.recover();
    net.tickAll(1);
    for (const id of net.ids()) expect(net.node(id).applied).toEqual(["x"]);
  });

  it("a non-voting member never starts an election (§4.2.1)", () => {
    const net = Network.of([1, 2, 3], {}, [4]);
    net.campaign(1);
    net.isolate(4);
    net.tick(4, 20 * ELECTION_TICK);
    expect(net.raw(4).status()).toMatchObject({ role: "follower", term: 1 });
    expect(
      net.sent.filter((m) => m.from === 4 && (m.type === "MsgVote" || m.type === "MsgPreVote")),
    ).toEqual([]);
  });

  it("a candidate neither asks non-voting members for votes nor counts theirs (§4.2.1)", () => {
    const p = new Peer(1, { voters: [1, 2, 3], learners: [4, 5] });
    p.node.campaign();
    expect(ofType(p.drain().messages, "MsgVote").map((m) => m.to)).toEqual([2, 3]);
    p.step({ type: "MsgVoteResp", from: 4, term: 1 });
    p.step({ type: "MsgVoteResp", from: 5, term: 1 });
    p.drain();
    expect(p.status().role).toBe("candidate");
    p.step({ type: "MsgVoteResp", from: 2, term: 1 });
    p.drain();
    expect(p.status().role).toBe("leader");
  });

  it("a new server joins as a non-voting member, catches up with the leader's log, and is then promoted to a voting member that counts toward majorities (§4.2.1)", () => {
    const net = Network.of([1, 2]);
    net.campaign(1);
    net.propose(1, "a");
    net.propose(1, "b");
    net.add(3, MemoryStorage.withPeers([1, 2]));
    proposeChange(net, 1, "AddLearnerNode", 3);
    expect(net.node(3).confState).toEqual({ voters: [1, 2], learners: [3] });
    expect(net.node(3).applied).toEqual(["a", "b"]);
    expect(net.raw(1).status().progress.get(3)).toMatchObject({
      isLearner: true,
      match: net.raw(1).status().lastIndex,
    });

    // As a learner, 3 does not make up a majority with 1.
    net.isolate(2);
    net.propose(1, "c");
    expect(net.node(1).applied).toEqual(["a", "b"]);
    net.recover();
    net.tickAll(1);
    expect(net.node(1).applied).toEqual(["a", "b", "c"]);

    proposeChange(net, 1, "AddNode", 3);
    for (const id of net.ids())
      expect(net.node(id).confState).toEqual({ voters: [1, 2, 3], learners: [] });
    // As a voter, it does.
    net.isolate(2);
    net.propose(1, "d");
    expect(net.node(1).applied).toEqual(["a", "b", "c", "d"]);
    expect(net.node(3).applied).toEqual(["a", "b", "c", "d"]);
  });
});

describe("Raft thesis §4.2.2: removing the current leader", () => {
  it("a leader that is removed from the configuration steps down once the change is committed, and the remaining servers elect a new leader among themselves (§4.2.2)", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    net.propose(1, "before");
    proposeChange(net, 1, "RemoveNode", 1);
    expect(net.raw(1).status().role).toBe("follower");
    const removedAt = net.sent.length;
    for (const id of [2, 3]) expect(net.node(id).confState.voters).toEqual([2, 3]);

    net.tickAll(3 * ELECTION_TICK);
    const leader = net.leader();
    expect(leader === 2 || leader === 3).toBe(true);
    expect(net.sent.slice(removedAt).filter((m) => m.from === 1 && m.type === "MsgVote")).toEqual(
      [],
    );
    expect(() => net.raw(1).propose(bytes("to the removed server"))).toThrow();
    net.propose(leader ?? 2, "after");
    for (const id of [2, 3]) expect(net.node(id).applied).toEqual(["before", "after"]);
  });
});
