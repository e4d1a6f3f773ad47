// The linearizable read loop on its own, with a fake member: batching, answers matched by
// context, serving once applied, failing on a leader change, retry and timeout.

import type { ReadState } from "@tug/raft";
import { describe, expect, it } from "vitest";
import { READ_INDEX_RETRY_MS, ReadIndexLoop } from "../../src/server/read-index-loop.js";

function setup() {
  const host = {
    memberId: 7,
    leader: 1,
    clock: 0,
    appliedIndex: 0,
    asked: [] as Uint8Array[],
    nextSeq: 100,
    lead: () => host.leader,
    readIndex: (ctx: Uint8Array) => {
      if (host.leader === 0) throw new Error("dropped");
      host.asked.push(ctx);
    },
    nextId: () => host.nextSeq++,
    now: () => host.clock,
    timeoutMs: 5000,
    applied: () => host.appliedIndex,
    refused: () => new Error("refused"),
    kick: () => {},
  };
  return { host, loop: new ReadIndexLoop(host) };
}

const turn = () => new Promise((r) => setImmediate(r));
const answer = (ctx: Uint8Array, index: number): ReadState => ({ index, requestCtx: ctx });

describe("ReadIndexLoop", () => {
  it("reads of one turn share a ReadIndex; those after it wait for the next", async () => {
    const { host, loop } = setup();
    const done: string[] = [];
    for (const n of ["a", "b", "c"]) void loop.barrier().then(() => done.push(n));
    await turn();
    expect(host.asked).toHaveLength(1);
    void loop.barrier().then(() => done.push("d"));
    await turn();
    expect(host.asked).toHaveLength(1); // one in flight at a time
    host.appliedIndex = 5;
    loop.onReadState(answer(host.asked[0]!, 5));
    await turn();
    expect(done).toEqual(["a", "b", "c"]);
    expect(host.asked).toHaveLength(2);
    loop.onReadState(answer(host.asked[1]!, 5));
    await turn();
    expect(done).toEqual(["a", "b", "c", "d"]);
  });

  it("a batch waits until its read index is applied; another member's context is ignored", async () => {
    const { host, loop } = setup();
    let served = false;
    void loop.barrier().then(() => {
      served = true;
    });
    await turn();
    const ctx = host.asked[0]!;
    const foreign = new Uint8Array(ctx);
    foreign[0] = (foreign[0] as number) ^ 0xff;
    loop.onReadState(answer(foreign, 3));
    loop.onReadState(answer(ctx, 9));
    host.appliedIndex = 8;
    loop.onApplied();
    await turn();
    expect(served).toBe(false);
    host.appliedIndex = 9;
    loop.onApplied();
    await turn();
    expect(served).toBe(true);
    expect(loop.pending).toBe(0);
  });

  it("a new leader fails the ReadIndex asked of the old one; no leader refuses at once", async () => {
    const { host, loop } = setup();
    const read = loop.barrier();
    await turn();
    loop.failStale((lead) => lead !== 2, new Error("etcdserver: leader changed"));
    await expect(read).rejects.toThrow("etcdserver: leader changed");
    host.leader = 0;
    await expect(loop.barrier()).rejects.toThrow("etcdserver: no leader");
  });

  it("an unanswered ReadIndex is asked again, then times out", async () => {
    const { host, loop } = setup();
    const read = loop.barrier();
    await turn();
    host.clock = READ_INDEX_RETRY_MS;
    loop.onTick();
    expect(host.asked).toHaveLength(2);
    expect(host.asked[1]).toEqual(host.asked[0]);
    host.clock = 5000;
    loop.onTick();
    await expect(read).rejects.toThrow("etcdserver: request timed out");
  });
});
