// The fault layer: its decisions (statistics over a seeded generator, generous bounds) and its
// effect on a real A → B stream (drops, delays that keep the order, partitions, snapshots).

import { performance } from "node:perf_hooks";
import { afterEach, describe, expect, it } from "vitest";
import { FaultInjector } from "../../src/transport/index.js";
import { app, closeAll, connect, msg, seededBytes, startMember } from "./harness.js";

afterEach(closeAll);

describe("FaultInjector decisions", () => {
  it("drops the configured share of messages, the same ones for the same seed", () => {
    const run = (seed: number): boolean[] => {
      const f = new FaultInjector({ seed });
      f.setLink(1, 2, { dropProbability: 0.3 });
      return Array.from({ length: 20_000 }, () => f.decide(1, 2).drop);
    };
    const a = run(42);
    const share = a.filter(Boolean).length / a.length;
    console.log(
      `fault injector: dropProbability 0.3 → dropped ${(share * 100).toFixed(2)}% of 20000`,
    );
    expect(share).toBeGreaterThan(0.27);
    expect(share).toBeLessThan(0.33);
    expect(run(42)).toEqual(a);
    expect(run(43)).not.toEqual(a);
  });

  it("adds delay plus jitter drawn from [delay, delay + jitter)", () => {
    const f = new FaultInjector({ seed: 7 });
    f.setLink(1, 2, { delayMs: 20, jitterMs: 10 });
    const delays = Array.from({ length: 10_000 }, () => {
      const d = f.decide(1, 2);
      if (d.drop) throw new Error("dropped without a drop probability");
      return d.delayMs;
    });
    const mean = delays.reduce((s, d) => s + d, 0) / delays.length;
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(20);
    expect(Math.max(...delays)).toBeLessThan(30);
    expect(mean).toBeGreaterThan(24);
    expect(mean).toBeLessThan(26);
    // Other links, and the reverse direction, are untouched.
    expect(f.decide(2, 1)).toEqual({ drop: false, delayMs: 0 });
    expect(f.decide(1, 3)).toEqual({ drop: false, delayMs: 0 });
  });

  it("partitions both ways, keeps other faults, and heals", () => {
    const f = new FaultInjector({ seed: 1 });
    f.setLink(1, 2, { delayMs: 5 });
    f.partition([1], [2, 3]);
    expect(f.decide(1, 2)).toEqual({ drop: true, reason: "partition" });
    expect(f.decide(2, 1)).toEqual({ drop: true, reason: "partition" });
    expect(f.decide(3, 1)).toEqual({ drop: true, reason: "partition" });
    expect(f.decide(2, 3)).toEqual({ drop: false, delayMs: 0 });
    f.heal();
    expect(f.decide(1, 2)).toEqual({ drop: false, delayMs: 5 });
    expect(f.decide(3, 1)).toEqual({ drop: false, delayMs: 0 });
    f.isolate(2, [1, 2, 3]);
    expect(f.decide(2, 3).drop).toBe(true);
    expect(f.decide(1, 2).drop).toBe(true);
    expect(f.decide(1, 3).drop).toBe(false);
    f.reset();
    expect(f.decide(1, 2)).toEqual({ drop: false, delayMs: 0 });
  });

  it("applies the default to links without their own faults", () => {
    const f = new FaultInjector({ seed: 1 });
    f.setDefault({ partitioned: true });
    f.setLink(1, 2, {});
    expect(f.decide(1, 2).drop).toBe(false);
    expect(f.decide(2, 1).drop).toBe(true);
    f.setLink(1, 2, undefined);
    expect(f.decide(1, 2).drop).toBe(true);
  });

  it("rejects settings that make no sense, naming the field", () => {
    const f = new FaultInjector({ seed: 1 });
    expect(() => f.setLink(1, 2, { dropProbability: 1.5 })).toThrow(
      "fault injector: link 1->2: dropProbability 1.5 is not in [0, 1]",
    );
    expect(() => f.setDefault({ delayMs: -1 })).toThrow("delayMs -1 is not a finite number");
    expect(() => f.setDefault({ jitterMs: Number.NaN })).toThrow("jitterMs NaN");
    expect(() => new FaultInjector({ seed: 0.5 })).toThrow("seed 0.5 is not an integer");
  });
});

describe("fault layer in the transport", () => {
  /** Sends `n` heartbeats numbered by commit, then (faults cleared) a marker with commit 0. */
  async function sendThenMark(
    a: Awaited<ReturnType<typeof startMember>>,
    b: Awaited<ReturnType<typeof startMember>>,
    faults: FaultInjector,
    n: number,
  ): Promise<number[]> {
    for (let i = 1; i <= n; i++) {
      a.transport.send([msg({ type: "MsgHeartbeat", from: 1, to: 2, term: 1, commit: i })]);
      if (i % 200 === 0) await new Promise((r) => setImmediate(r));
    }
    faults.reset();
    a.transport.send([msg({ type: "MsgHeartbeat", from: 1, to: 2, term: 2, commit: 0 })]);
    await b.until(() => b.received.some((m) => m.term === 2));
    return b.received.filter((m) => m.term === 1).map((m) => m.commit);
  }

  it("drops about the configured share of messages on the link, silently", async () => {
    const faults = new FaultInjector({ seed: 2024 });
    const a = await startMember(1, { faults });
    const b = await startMember(2);
    await connect(a, b);
    faults.setLink(1, 2, { dropProbability: 0.25 });
    const got = await sendThenMark(a, b, faults, 4000);
    console.log(`fault layer: dropProbability 0.25 → ${4000 - got.length} of 4000 dropped`);
    expect(got.length).toBeGreaterThan(4000 * 0.7);
    expect(got.length).toBeLessThan(4000 * 0.8);
    expect([...got].sort((x, y) => x - y)).toEqual(got); // what arrives keeps its order
    expect(a.transport.peerStats(2)?.faultDroppedMessages).toBe(4000 - got.length);
    expect(a.unreachable).toEqual([]); // a lossy network does not tell the sender
  });

  it("holds messages back by the delay and keeps their order despite jitter", async () => {
    const faults = new FaultInjector({ seed: 5 });
    const sentAt = new Map<number, number>();
    const delays: number[] = [];
    const a = await startMember(1, { faults });
    const b = await startMember(2, {
      onMessage: (m) => {
        const t = sentAt.get(m.commit);
        if (t !== undefined) delays.push(performance.now() - t);
      },
    });
    await connect(a, b);
    faults.setLink(1, 2, { delayMs: 40, jitterMs: 30 });
    for (let i = 1; i <= 100; i++) {
      sentAt.set(i, performance.now());
      a.transport.send([msg({ type: "MsgHeartbeat", from: 1, to: 2, term: 1, commit: i })]);
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    await b.until(() => b.received.length === 100);
    expect(b.received.map((m) => m.commit)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const sorted = [...delays].sort((x, y) => x - y);
    console.log(
      `fault layer: delay 40 ms + jitter 30 ms → observed min ${sorted[0]?.toFixed(1)} ms, ` +
        `median ${sorted[50]?.toFixed(1)} ms, max ${sorted[99]?.toFixed(1)} ms`,
    );
    // A lower bound only: a timer never fires before its delay (1 ms slack for the timer
    // clock's granularity); how late a delivery comes depends on the machine.
    expect(sorted[0]).toBeGreaterThanOrEqual(39);
  });

  it("partitions a link: nothing crosses until it heals; a snapshot fails at once", async () => {
    const faults = new FaultInjector({ seed: 9 });
    const a = await startMember(1, { faults });
    const b = await startMember(2);
    await connect(a, b);
    faults.partition([1], [2]);
    a.transport.send([
      msg({
        type: "MsgSnap",
        from: 1,
        to: 2,
        term: 1,
        snapshot: {
          data: seededBytes(1000, 1),
          metadata: { index: 5, term: 1, confState: { voters: [1, 2], learners: [] } },
        },
      }),
    ]);
    await a.until(() => a.snapshotStatus.length === 1);
    expect(a.snapshotStatus).toEqual([{ id: 2, status: "failure" }]);
    const got = await sendThenMark(a, b, faults, 500);
    expect(got).toEqual([]);
    expect(b.snapshots).toEqual([]);
    // The stream itself stayed up: a partition looks like silence, not like a crash.
    expect(a.transport.peerStats(2)?.connected).toBe(true);
    expect(b.broken).toEqual([]);
    a.transport.send([app(1, 2, 7)]);
    await b.until(() => b.received.some((m) => m.type === "MsgApp"));
  });
});
