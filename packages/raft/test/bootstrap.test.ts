import { describe, expect, it } from "vitest";
import { decodeConfChange, MemoryStorage, RaftError, RawNode } from "../src/index.js";
import { Network } from "./support/network.js";
import { Rng } from "./support/rng.js";

function fresh(id: number, storage = new MemoryStorage()) {
  const rng = new Rng(id);
  return new RawNode({
    id,
    electionTick: 10,
    heartbeatTick: 1,
    storage,
    random: (n) => rng.intn(n),
  });
}

describe("bootstrap", () => {
  it("writes the initial members as committed conf change entries 1..n of term 1", () => {
    const n = fresh(1);
    n.bootstrap([{ id: 1 }, { id: 2 }, { id: 3 }]);
    const rd = n.ready();
    expect(rd.hardState).toEqual({ term: 1, vote: 0, commit: 3 });
    expect(rd.mustSync).toBe(true);
    expect(rd.entries.map((e) => [e.index, e.term, e.type])).toEqual([
      [1, 1, "EntryConfChange"],
      [2, 1, "EntryConfChange"],
      [3, 1, "EntryConfChange"],
    ]);
    expect(rd.committedEntries.map((e) => decodeConfChange(e.data).nodeId)).toEqual([1, 2, 3]);
    expect(n.status().config).toEqual({ voters: [1, 2, 3], learners: [] });
  });

  it("refuses an empty peer list and a storage that already holds a log", () => {
    expect(() => fresh(1).bootstrap([])).toThrow(RaftError);
    const st = MemoryStorage.withPeers([1]);
    st.append([{ term: 1, index: 1, type: "EntryNormal", data: new Uint8Array(0) }]);
    expect(() => fresh(1, st).bootstrap([{ id: 1 }])).toThrow(/already holds a log/);
  });

  it("lets a member added later learn every member by replaying the log (thesis §4.1)", () => {
    const net = new Network(7);
    for (const id of [1, 2, 3])
      net.add(id, new MemoryStorage()).rawNode.bootstrap([{ id: 1 }, { id: 2 }, { id: 3 }]);
    net.flush();
    net.campaign(1);
    expect(net.leader()).toBe(1);
    net.propose(1, "a");
    // Add node 4 with an empty storage and no bootstrap: it must learn 1, 2, 3 from the log.
    net.raw(1).proposeConfChange({ type: "AddNode", nodeId: 4, context: new Uint8Array(0) });
    net.add(4, new MemoryStorage());
    net.flush();
    net.propose(1, "b");
    expect(net.node(4).applied).toEqual(["a", "b"]);
    expect(net.node(4).confState).toEqual({ voters: [1, 2, 3, 4], learners: [] });
    // With 1 gone, 4 can help elect a leader among 2, 3, 4.
    net.isolate(1);
    net.campaign(4);
    expect(net.leader()).toBe(4);
  });
});
