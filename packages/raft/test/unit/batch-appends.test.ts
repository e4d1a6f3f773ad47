// Config.batchAppends: a leader sends the entries proposed between two Readies in one append
// per follower, made when the Ready is taken, instead of one append per proposal. What it must
// keep: every entry reaches every follower and commits; nothing is sent twice or empty for it;
// a leader that steps down before its Ready sends none of it.

import { describe, expect, it } from "vitest";
import { type Message, message, type NodeId } from "../../src/index.js";
import { bytes, Network, type NodeOptions } from "../support/network.js";

const BATCH: NodeOptions = { batchAppends: true };

/** A group of three led by 1, quiet: every Ready handled and every message delivered. */
function ledGroup(opts: NodeOptions): Network {
  const net = Network.of([1, 2, 3], opts);
  net.campaign(1);
  return net;
}

/** The leader's appends in one Ready, as [recipient, entry count]. */
function appendsOf(msgs: readonly Message[]): [NodeId, number][] {
  return msgs
    .filter((m) => m.type === "MsgApp")
    .map((m): [NodeId, number] => [m.to, m.entries.length])
    .sort((a, b) => a[0] - b[0]);
}

/** Steps three proposals into the leader as a follower forwards them, then takes its Ready. */
function threeForwarded(net: Network): readonly Message[] {
  for (const data of ["a", "b", "c"]) {
    net.raw(1).step(
      message({
        type: "MsgProp",
        from: 2,
        to: 1,
        entries: [{ term: 0, index: 0, type: "EntryNormal", data: bytes(data) }],
      }),
    );
  }
  return net.raw(1).ready().messages;
}

describe("batchAppends", () => {
  it("proposals stepped between two Readies leave as one append per follower carrying them all", () => {
    const net = ledGroup(BATCH);
    expect(appendsOf(threeForwarded(net))).toEqual([
      [2, 3],
      [3, 3],
    ]);
  });

  it("is off by default (etcd-io/raft's behaviour: one append per proposal)", () => {
    const net = ledGroup({});
    expect(appendsOf(threeForwarded(net))).toEqual([
      [2, 1],
      [2, 1],
      [2, 1],
      [3, 1],
      [3, 1],
      [3, 1],
    ]);
  });

  it("local proposals too; every entry commits and is applied on every member", () => {
    const net = ledGroup(BATCH);
    net.raw(1).propose(bytes("a"));
    net.raw(1).propose(bytes("b"));
    const msgs = net.processReady(1);
    expect(appendsOf(msgs)).toEqual([
      [2, 2],
      [3, 2],
    ]);
    net.send(msgs);
    for (const id of [1, 2, 3]) expect(net.node(id).applied).toEqual(["a", "b"]);
  });

  it("entries an acknowledgement already carried to a follower are not sent again, nor an empty append", () => {
    const net = ledGroup(BATCH);
    net.raw(1).propose(bytes("a"));
    net.processReady(1); // "a" persisted and sent (not delivered)
    const a = net.raw(1).status().lastIndex;
    net.raw(1).propose(bytes("b"));
    // Follower 2 acknowledges "a": that commits it, and the commit's broadcast carries "b".
    const term = net.raw(1).status().term;
    net.raw(1).step(message({ type: "MsgAppResp", from: 2, to: 1, term, index: a }));
    expect(appendsOf(net.raw(1).ready().messages)).toEqual([
      [2, 1],
      [3, 1],
    ]);
  });

  it("a leader deposed before its Ready sends none of the pending appends", () => {
    const net = ledGroup(BATCH);
    net.raw(1).propose(bytes("a"));
    const term = net.raw(1).status().term;
    // A higher term from 3 makes 1 a follower before its Ready is taken.
    net.raw(1).step(message({ type: "MsgHeartbeat", from: 3, to: 1, term: term + 1 }));
    expect(net.raw(1).status().role).toBe("follower");
    expect(appendsOf(net.raw(1).ready().messages)).toEqual([]);
  });
});
