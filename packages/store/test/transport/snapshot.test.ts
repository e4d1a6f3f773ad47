// Snapshot transfer over SendSnapshot: chunked, checked, persisted before Raft sees it, and
// reported to the sender's Raft node as finished or failed.

import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { Message } from "@tug/raft";
import { afterEach, describe, expect, it } from "vitest";
import { SNAPSHOT_CHUNK_BYTES } from "../../src/transport/index.js";
import { closeAll, connect, msg, seededBytes, startMember } from "./harness.js";

afterEach(closeAll);

function snap(from: number, to: number, data: Uint8Array, index = 100): Message {
  return msg({
    type: "MsgSnap",
    from,
    to,
    term: 3,
    snapshot: {
      data,
      metadata: { index, term: 2, confState: { voters: [1, 2, 3], learners: [4] } },
    },
  });
}

const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

describe("snapshot transfer", () => {
  it("sends a 50 MB snapshot in chunks; the receiver persists it before Raft sees it", async () => {
    const order: string[] = [];
    const a = await startMember(1);
    const b = await startMember(2, {
      onSnapshot: async (m) => {
        order.push(`persist ${m.snapshot?.metadata.index}`);
        await new Promise((r) => setTimeout(r, 20)); // an fsync
        order.push("persisted");
      },
      onMessage: (m) => order.push(`raft ${m.type}`),
    });
    await connect(a, b);
    const data = seededBytes(50 * 1024 * 1024 + 123, 77);
    const want = sha256(data);
    const start = performance.now();
    a.transport.send([snap(1, 2, data)]);
    await a.until(() => a.snapshotStatus.length === 1);
    const seconds = (performance.now() - start) / 1000;
    console.log(
      `snapshot transfer: 50 MiB in ${Math.ceil(data.length / SNAPSHOT_CHUNK_BYTES)} chunks, ` +
        `${seconds.toFixed(2)} s = ${(data.length / 1048576 / seconds).toFixed(0)} MiB/s ` +
        "(with CRC-32 on both sides and a 20 ms persist)",
    );
    expect(a.snapshotStatus).toEqual([{ id: 2, status: "finish" }]);
    expect(order).toEqual(["persist 100", "persisted", "raft MsgSnap"]);
    expect(b.snapshots).toHaveLength(1);
    expect(sha256(b.snapshots[0]!.data)).toBe(want);
    const got = b.received[0]!;
    expect(got.type).toBe("MsgSnap");
    expect(got.term).toBe(3);
    expect(got.snapshot?.metadata).toEqual({
      index: 100,
      term: 2,
      confState: { voters: [1, 2, 3], learners: [4] },
    });
    expect(sha256(got.snapshot!.data)).toBe(want);
    expect(a.transport.peerStats(2)?.snapshotsSent).toBe(1);
    // The message stream kept working beside it.
    a.transport.send([msg({ type: "MsgHeartbeat", from: 1, to: 2, term: 3 })]);
    await b.until(() => b.received.length === 2);
  });

  it("sends an empty snapshot", async () => {
    const a = await startMember(1);
    const b = await startMember(2);
    await connect(a, b);
    a.transport.send([snap(1, 2, new Uint8Array(0), 7)]);
    await a.until(() => a.snapshotStatus.length === 1);
    expect(a.snapshotStatus).toEqual([{ id: 2, status: "finish" }]);
    expect(b.received[0]?.snapshot?.metadata.index).toBe(7);
    expect(b.received[0]?.snapshot?.data).toHaveLength(0);
  });

  it("reports failure when the receiver cannot persist it, and Raft never sees it", async () => {
    const a = await startMember(1);
    const b = await startMember(2, {
      onSnapshot: () => Promise.reject(new Error("disk full")),
    });
    await connect(a, b);
    a.transport.send([snap(1, 2, seededBytes(3 * SNAPSHOT_CHUNK_BYTES + 5, 3))]);
    await a.until(() => a.snapshotStatus.length === 1);
    expect(a.snapshotStatus).toEqual([{ id: 2, status: "failure" }]);
    await a.until(() => a.unreachable.includes(2)); // reported on the next turn
    expect(b.received).toEqual([]);
    const error = a.errors.find((e) => e.error.message.includes("disk full"));
    expect(error?.error.code).toBe("INTERNAL");
    expect(error?.error.message).toBe("snapshot from member 1: persisting it failed: disk full");
  });

  it("reports failure when the receiver is down or not a peer", async () => {
    const a = await startMember(1);
    const b = await startMember(2);
    a.transport.addPeer(2, b.url);
    await b.transport.close();
    a.transport.send([snap(1, 2, seededBytes(1000, 1))]);
    a.transport.send([snap(1, 3, seededBytes(1000, 1))]);
    await a.until(() => a.snapshotStatus.length === 2);
    expect(a.snapshotStatus).toContainEqual({ id: 2, status: "failure" });
    expect(a.snapshotStatus).toContainEqual({ id: 3, status: "failure" });
  });

  it("refuses a snapshot from another cluster", async () => {
    const a = await startMember(1, { clusterId: 0xabcn });
    const b = await startMember(2);
    a.transport.addPeer(2, b.url);
    a.transport.send([snap(1, 2, seededBytes(1000, 1))]);
    await a.until(() => a.snapshotStatus.length === 1);
    expect(a.snapshotStatus).toEqual([{ id: 2, status: "failure" }]);
    expect(a.errors.map((e) => e.error.message)).toContain(
      "member 1 belongs to cluster abc, this is cluster 1f",
    );
    expect(b.snapshots).toEqual([]);
  });
});
