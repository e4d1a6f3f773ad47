// Coalescing a peer's queued Raft messages: only what a later message of the batch repeats is
// dropped, order is kept, and rejections, heartbeats and other types pass untouched.

import { type Message, message } from "@tug/raft";
import { describe, expect, it } from "vitest";
import { coalesceMessages, SentAcks } from "../../src/transport/coalesce.js";

const ack = (term: number, index: number, reject = false): Message =>
  message({ type: "MsgAppResp", from: 2, to: 1, term, index, reject });

const append = (term: number, index: number, commit: number, entries = 0): Message =>
  message({
    type: "MsgApp",
    from: 1,
    to: 2,
    term,
    index,
    logTerm: term,
    commit,
    entries: Array.from({ length: entries }, (_, i) => ({
      term,
      index: index + 1 + i,
      type: "EntryNormal" as const,
      data: new Uint8Array([i]),
    })),
  });

function run(queue: Message[], from = 0): { kept: Message[]; dropped: number } {
  const q = [...queue];
  const dropped = coalesceMessages(q, from);
  return { kept: q, dropped };
}

describe("coalesceMessages", () => {
  it("keeps only the highest acknowledgement of a term", () => {
    const { kept, dropped } = run([ack(3, 10), ack(3, 12), ack(3, 11), ack(3, 15)]);
    expect(dropped).toBe(3);
    expect(kept).toEqual([ack(3, 15)]);
  });

  it("keeps an acknowledgement higher than the later ones, and those of another term", () => {
    const { kept, dropped } = run([ack(3, 20), ack(3, 12), ack(4, 12)]);
    expect(dropped).toBe(0);
    expect(kept).toEqual([ack(3, 20), ack(3, 12), ack(4, 12)]);
  });

  it("never drops a rejection, nor an acknowledgement because of a later rejection", () => {
    const q = [ack(3, 10), ack(3, 9, true), ack(3, 8, true)];
    const { kept, dropped } = run(q);
    expect(dropped).toBe(0);
    expect(kept).toEqual(q);
  });

  it("drops an empty append (a commit broadcast) when a later append of the term follows", () => {
    const withEntries = append(2, 7, 6, 3);
    const { kept, dropped } = run([append(2, 7, 5), withEntries, append(2, 10, 6)]);
    // The first is covered by the append with entries; the last empty one has nothing after it.
    expect(dropped).toBe(1);
    expect(kept).toEqual([withEntries, append(2, 10, 6)]);
  });

  it("keeps an empty append whose commit index no later append carries", () => {
    const q = [append(2, 7, 9), append(2, 7, 8, 1)];
    const { kept, dropped } = run(q);
    expect(dropped).toBe(0);
    expect(kept).toEqual(q);
  });

  it("keeps an append with entries however many follow, and an empty one of an older term", () => {
    const q = [append(2, 7, 5), append(3, 7, 6, 1), append(3, 8, 6, 1)];
    const { kept, dropped } = run(q);
    expect(dropped).toBe(0);
    expect(kept).toEqual(q);
  });

  it("works on the range from `from` only and keeps other messages in order", () => {
    const hb = message({ type: "MsgHeartbeat", from: 1, to: 2, term: 3, commit: 4 });
    const sent = ack(3, 30);
    const q = [sent, ack(3, 10), hb, ack(3, 11), append(3, 11, 11)];
    const { kept, dropped } = run(q, 1);
    expect(dropped).toBe(1);
    expect(kept).toEqual([sent, hb, ack(3, 11), append(3, 11, 11)]);
  });
});

describe("SentAcks", () => {
  it("covers an acknowledgement of the term no higher than one sent, never a rejection", () => {
    const sent = new SentAcks();
    expect(sent.covers(ack(3, 10))).toBe(false);
    sent.sent(ack(3, 10));
    expect(sent.covers(ack(3, 10))).toBe(true);
    expect(sent.covers(ack(3, 9))).toBe(true);
    expect(sent.covers(ack(3, 11))).toBe(false);
    expect(sent.covers(ack(4, 10))).toBe(false);
    expect(sent.covers(ack(3, 5, true))).toBe(false);
    // A rejection or another type sent changes nothing.
    sent.sent(ack(3, 20, true));
    sent.sent(message({ type: "MsgHeartbeatResp", from: 2, to: 1, term: 3 }));
    expect(sent.covers(ack(3, 11))).toBe(false);
    // A new term starts over, lower index or not.
    sent.sent(ack(4, 2));
    expect(sent.covers(ack(4, 2))).toBe(true);
    expect(sent.covers(ack(3, 1))).toBe(false);
  });

  it("forgets what was sent on reset (the stream broke)", () => {
    const sent = new SentAcks();
    sent.sent(ack(3, 10));
    sent.reset();
    expect(sent.covers(ack(3, 10))).toBe(false);
  });
});
