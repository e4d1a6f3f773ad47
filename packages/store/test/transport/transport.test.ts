// The peer transport on real sockets: delivery in order, batching, reconnects, unreachable
// reports, refusals (cluster id, wrong member), round-trip measurement, clean close.

import { performance } from "node:perf_hooks";
import { afterEach, describe, expect, it } from "vitest";
import { StoreError } from "../../src/errors.js";
import {
  BUSY_PING_EVERY,
  PING_INTERVAL_MS,
  RECONNECT_BACKOFF_INITIAL_MS,
  RECONNECT_BACKOFF_MAX_MS,
} from "../../src/transport/index.js";
import { app, CLUSTER, closeAll, connect, freePort, msg, startMember } from "./harness.js";

afterEach(closeAll);

describe("peer transport", () => {
  it("delivers messages from A to B in the order A sent them", async () => {
    const a = await startMember(1);
    const b = await startMember(2);
    await connect(a, b);
    const n = 2000;
    // Sent across several turns of the event loop and in uneven groups, so that they travel
    // in several batches.
    for (let i = 1; i <= n; ) {
      const group = [];
      for (let k = 0; k < (i % 7) + 1 && i <= n; k++, i++) group.push(app(1, 2, i));
      a.transport.send(group);
      if (i % 100 < 8) await new Promise((r) => setImmediate(r));
    }
    await b.until(() => b.received.length === n);
    expect(b.received.map((m) => m.entries[0]?.index)).toEqual(
      Array.from({ length: n }, (_, i) => i + 1),
    );
    expect(b.received.every((m) => m.from === 1 && m.to === 2 && m.type === "MsgApp")).toBe(true);
    expect(a.unreachable).toEqual([]);
    expect(b.transport.peerStats(1)?.receivedMessages).toBe(n);
    // Both directions work on their own streams.
    b.transport.send([msg({ type: "MsgAppResp", from: 2, to: 1, term: 1, index: n })]);
    await a.until(() => a.received.length === 1);
    expect(a.received[0]).toMatchObject({ type: "MsgAppResp", from: 2, to: 1, index: n });
  });

  it("batches small messages under load (throughput printed)", async () => {
    const a = await startMember(1);
    const b = await startMember(2);
    await connect(a, b);
    const n = 200_000;
    const window = 3000; // below the queue limit: no drops, the sender waits for the receiver
    const group = 500;
    const start = performance.now();
    let sent = 0;
    while (sent < n) {
      await b.until(() => sent - b.received.length <= window - group);
      const batch = [];
      for (let k = 0; k < group; k++) batch.push(app(1, 2, ++sent, 8));
      a.transport.send(batch);
    }
    await b.until(() => b.received.length === n);
    const seconds = (performance.now() - start) / 1000;
    const stats = a.transport.peerStats(2)!;
    console.log(
      `peer transport: ${n} small MsgApp (8-byte entry) A→B in ${seconds.toFixed(2)} s = ` +
        `${Math.round(n / seconds)} messages/s, ${stats.sentBatches} batches ` +
        `(${(stats.sentMessages / stats.sentBatches).toFixed(1)} messages/batch, ` +
        `${Math.round(stats.sentBytes / stats.sentMessages)} bytes/message)`,
    );
    expect(stats.sentMessages).toBe(n);
    expect(stats.droppedMessages).toBe(0);
    // Batching: many messages per gRPC write.
    expect(stats.sentBatches).toBeLessThan(n / 10);
    for (let i = 0; i < n; i++) {
      if (b.received[i]!.entries[0]!.index !== i + 1) throw new Error(`out of order at ${i}`);
    }
  });

  it("measures the round trip to a peer", async () => {
    const a = await startMember(1);
    const b = await startMember(2);
    await connect(a, b);
    // The hello's sample includes the connection setup; wait for two regular pings.
    await a.until(() => (a.transport.peerStats(2)?.roundTrips ?? 0) >= 3);
    const rtt = a.transport.roundTripMs(2);
    console.log(
      `peer transport: round trip on 127.0.0.1 (idle stream, ping) ${rtt?.toFixed(3)} ms`,
    );
    expect(rtt).toBeGreaterThan(0);
    expect(a.transport.roundTripMs(3)).toBeUndefined();
  });

  it("pings a busy stream only every BUSY_PING_EVERY intervals, and an idle one every interval", async () => {
    const a = await startMember(1);
    const b = await startMember(2);
    await connect(a, b);
    const pings = () => a.transport.peerStats(2)?.roundTrips ?? 0;
    // Busy: a message every 20 ms for 8 ping intervals. A late timer on a loaded machine
    // only means fewer pings, so the bound below cannot be met by accident of timing.
    const busyFrom = pings();
    const intervals = 8;
    const until = performance.now() + intervals * PING_INTERVAL_MS;
    for (let i = 1; performance.now() < until; i++) {
      a.transport.send([app(1, 2, i)]);
      await new Promise((r) => setTimeout(r, 20));
    }
    const busy = pings() - busyFrom;
    expect(busy).toBeLessThanOrEqual(Math.ceil(intervals / BUSY_PING_EVERY) + 1);
    // Idle again: pings come every interval (waits for as many as a busy stream would not send).
    const idleFrom = pings();
    await a.until(() => pings() - idleFrom >= BUSY_PING_EVERY + 1);
    expect(b.brokenReasons).toEqual([]);
  });

  it("reconnects after the receiver restarts, and reports unreachable while it is down", async () => {
    const a = await startMember(1);
    let b = await startMember(2);
    await connect(a, b);
    a.transport.send([app(1, 2, 1)]);
    await b.until(() => b.received.length === 1);

    const url = b.url;
    await b.transport.close();
    // While B is down, what A sends is dropped and reported.
    await a.until(() => a.transport.peerStats(2)?.connected === false);
    a.transport.send([app(1, 2, 2)]);
    await a.until(() => a.unreachable.includes(2));

    b = await startMember(2, { url });
    const back = performance.now();
    await a.until(() => a.transport.peerStats(2)?.connected === true);
    const reconnectMs = performance.now() - back;
    a.transport.send([app(1, 2, 3), app(1, 2, 4)]);
    await b.until(() => b.received.length === 2);
    expect(b.received.map((m) => m.entries[0]?.index)).toEqual([3, 4]);
    expect(a.transport.peerStats(2)?.streamsEstablished).toBe(2);
    console.log(
      `peer transport: stream re-established ${reconnectMs.toFixed(0)} ms after the receiver ` +
        `came back (back-off ${RECONNECT_BACKOFF_INITIAL_MS}..${RECONNECT_BACKOFF_MAX_MS} ms)`,
    );
  });

  it("reports a peer that is down as unreachable", async () => {
    const a = await startMember(1);
    const port = await freePort();
    a.transport.addPeer(2, `http://127.0.0.1:${port}`);
    a.transport.send([msg({ type: "MsgHeartbeat", from: 1, to: 2, term: 1 })]);
    await a.until(() => a.unreachable.includes(2));
    await a.until(() => a.transport.peerStats(2)?.lastError !== undefined);
    expect(a.transport.peerStats(2)?.connected).toBe(false);
    expect(a.errors[0]?.error.code).toBe("UNAVAILABLE");
    // Messages to a member that is not a peer at all are reported the same way.
    a.transport.send([msg({ type: "MsgHeartbeat", from: 1, to: 9, term: 1 })]);
    await a.until(() => a.unreachable.includes(9));
  });

  it("reports unreachable when the queue for a peer overflows", async () => {
    const a = await startMember(1, { queueLimit: 10 });
    const b = await startMember(2);
    a.transport.addPeer(2, b.url);
    // All in one turn, before the stream is up: the first ten wait, the rest are dropped.
    a.transport.send(Array.from({ length: 25 }, (_, i) => app(1, 2, i + 1)));
    await a.until(() => a.unreachable.includes(2));
    expect(a.transport.peerStats(2)?.droppedMessages).toBe(15);
    expect(a.unreachable).toEqual([2]); // coalesced: one report for the fifteen
    await b.until(() => b.received.length === 10);
    expect(b.received.map((m) => m.entries[0]?.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it("refuses a member of another cluster with a message that says so", async () => {
    const a = await startMember(1, { clusterId: 0x2an });
    const b = await startMember(2); // cluster 1f
    a.transport.addPeer(2, b.url);
    a.transport.send([msg({ type: "MsgHeartbeat", from: 1, to: 2, term: 1 })]);
    await a.until(() => a.errors.length > 0);
    const error = a.errors[0]!.error;
    expect(error).toBeInstanceOf(StoreError);
    expect(error.code).toBe("FAILED_PRECONDITION");
    expect(error.message).toBe("member 1 belongs to cluster 2a, this is cluster 1f");
    await b.until(() => b.errors.length > 0);
    expect(b.errors[0]?.error.message).toBe("member 1 belongs to cluster 2a, this is cluster 1f");
    expect(b.received).toEqual([]);
    expect(b.active).toEqual([]);
    expect(a.transport.peerStats(2)?.connected).toBe(false);
    expect(a.transport.peerStats(2)?.lastError).toBe(error.message);
  });

  it("refuses a stream meant for another member (a wrong peer URL)", async () => {
    const a = await startMember(1);
    const b = await startMember(2);
    a.transport.addPeer(3, b.url); // A believes member 3 lives at B's URL
    await a.until(() => a.errors.length > 0);
    expect(a.errors[0]?.error.code).toBe("FAILED_PRECONDITION");
    expect(a.errors[0]?.error.message).toBe(
      "member 1 meant to reach member 3, this is member 2: check the peer URL it has for 3",
    );
  });

  it("says when a peer connects, and not that its stream broke when it closes cleanly", async () => {
    const a = await startMember(1);
    const b = await startMember(2);
    await connect(a, b);
    await b.until(() => b.active.includes(1));
    await a.transport.close(); // ends its stream to B cleanly and waits for B's answer
    b.transport.send([msg({ type: "MsgHeartbeat", from: 2, to: 1, term: 1 })]);
    await b.until(() => b.transport.peerStats(1)?.connected === false);
    expect(b.transport.peerStats(1)?.inboundConnected).toBe(false);
    expect(b.broken).toEqual([]);
  });

  it("rejects bad input with errors that name the problem", async () => {
    const a = await startMember(1);
    expect(() => a.transport.addPeer(2, "https://127.0.0.1:2380")).toThrow(
      'peer URL of member 2: "https://127.0.0.1:2380": scheme https is not supported; want http://host:port',
    );
    expect(() => a.transport.addPeer(2, "127.0.0.1:2380")).toThrow(/want http:\/\/host:port/);
    expect(() => a.transport.addPeer(1, "http://127.0.0.1:2380")).toThrow("is this member");
    a.transport.addPeer(2, "http://127.0.0.1:2380");
    expect(() => a.transport.addPeer(2, "http://127.0.0.1:2390")).toThrow(/use updatePeer/);
    expect(() => a.transport.send([msg({ type: "MsgHup", from: 1, to: 2 })])).toThrow(
      "cannot send MsgHup",
    );
    expect(() => a.transport.send([msg({ type: "MsgApp", from: 3, to: 2 })])).toThrow(
      "cannot send MsgApp from 3",
    );
    expect(() => a.transport.updatePeer(5, "http://127.0.0.1:2380")).toThrow(/not a peer/);
    expect(CLUSTER).toBe(0x1fn);
  });

  it("moves a peer to a new URL", async () => {
    const a = await startMember(1);
    const b = await startMember(2);
    const c = await startMember(2); // the same member id, restarted elsewhere
    a.transport.addPeer(2, b.url);
    a.transport.send([app(1, 2, 1)]);
    await b.until(() => b.received.length === 1);
    a.transport.updatePeer(2, c.url);
    await a.until(() => a.transport.peerStats(2)?.connected === true);
    a.transport.send([app(1, 2, 2)]);
    await c.until(() => c.received.length === 1);
    expect(c.received[0]?.entries[0]?.index).toBe(2);
    expect(b.received).toHaveLength(1);
    expect(a.transport.peerStats(2)?.url).toBe(c.url);
  });
});
