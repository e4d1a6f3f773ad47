import { describe, expect, it } from "vitest";
import { MemoryStorage, type Message, RawNode } from "../src/index.js";
import { Rng } from "./support/rng.js";

function cluster(n: number, seed = 1) {
  const rng = new Rng(seed);
  const ids = Array.from({ length: n }, (_, i) => i + 1);
  const storages = new Map(ids.map((id) => [id, MemoryStorage.withPeers(ids)]));
  const nodes = new Map(
    ids.map((id) => [
      id,
      new RawNode({
        id,
        electionTick: 10,
        heartbeatTick: 1,
        storage: storages.get(id)!,
        random: (k) => rng.intn(k),
      }),
    ]),
  );
  const applied = new Map<number, string[]>(ids.map((id) => [id, []]));
  const inbox: Message[] = [];
  const drain = () => {
    for (let round = 0; round < 10000; round++) {
      let any = false;
      for (const id of ids) {
        const node = nodes.get(id)!;
        while (node.hasReady()) {
          any = true;
          const rd = node.ready();
          const st = storages.get(id)!;
          if (rd.snapshot) st.applySnapshot(rd.snapshot);
          st.append(rd.entries);
          if (rd.hardState) st.setHardState(rd.hardState);
          inbox.push(...rd.messages);
          for (const e of rd.committedEntries) {
            if (e.type === "EntryNormal" && e.data.length > 0)
              applied.get(id)!.push(new TextDecoder().decode(e.data));
          }
          node.advance(rd);
        }
      }
      const batch = inbox.splice(0);
      for (const m of batch) {
        any = true;
        nodes.get(m.to)?.step(m);
      }
      if (!any) return;
    }
    throw new Error("no quiescence");
  };
  return { ids, nodes, applied, drain };
}

describe("smoke", () => {
  it("elects a leader and replicates", () => {
    const c = cluster(3);
    for (let t = 0; t < 30; t++) {
      for (const id of c.ids) c.nodes.get(id)!.tick();
      c.drain();
    }
    const leaders = c.ids.filter((id) => c.nodes.get(id)!.status().role === "leader");
    expect(leaders.length).toBe(1);
    const leader = c.nodes.get(leaders[0]!)!;
    for (let i = 0; i < 10; i++) leader.propose(new TextEncoder().encode(`v${i}`));
    c.drain();
    for (const id of c.ids)
      expect(c.applied.get(id)).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`));
    // forwarded from a follower
    const follower = c.nodes.get(c.ids.find((id) => id !== leaders[0])!)!;
    follower.propose(new TextEncoder().encode("f"));
    c.drain();
    for (const id of c.ids) expect(c.applied.get(id)?.at(-1)).toBe("f");
  });
});
