// The receiving side of the peer transport (a GrpcServer) against senders that are not tug's
// own GrpcChannel: a grpc-js client, as an older member's sending side was, speaks the same
// tug.peer.Peer wire and is served the same way. Also: a receiver that shuts down while it
// persists a snapshot fails the transfer, and its Raft node never sees the snapshot.

import { crc32 } from "node:zlib";
import * as grpc from "@grpc/grpc-js";
import { encodeMessage, type Message } from "@tug/raft";
import { afterEach, describe, expect, it } from "vitest";
import {
  decodeSnapshotAck,
  decodeStreamResponse,
  encodeSnapshotChunk,
  encodeStreamRequest,
  SEND_SNAPSHOT_PATH,
  STREAM_PATH,
  type StreamRequest,
  type StreamResponse,
} from "../../src/transport/peer-wire.js";
import { app, CLUSTER, closeAll, connect, msg, seededBytes, startMember } from "./harness.js";

const clients: grpc.Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await closeAll();
});

function grpcJsClient(url: string): grpc.Client {
  const client = new grpc.Client(new URL(url).host, grpc.credentials.createInsecure());
  clients.push(client);
  return client;
}

/** A Stream call from a grpc-js client; collects pongs and the final status. */
function openStream(client: grpc.Client) {
  const call = client.makeBidiStreamRequest<StreamRequest, StreamResponse>(
    STREAM_PATH,
    encodeStreamRequest,
    decodeStreamResponse,
  );
  const pongs: number[] = [];
  call.on("data", (r: StreamResponse) => pongs.push(r.pong));
  call.on("error", () => {}); // the status below says it
  const status = new Promise<grpc.StatusObject>((resolve) => call.on("status", resolve));
  return { call, pongs, status };
}

function snap(from: number, to: number, data: Uint8Array): Message {
  return msg({
    type: "MsgSnap",
    from,
    to,
    term: 3,
    snapshot: {
      data,
      metadata: { index: 40, term: 2, confState: { voters: [1, 2], learners: [] } },
    },
  });
}

describe("peer receiver and a grpc-js sender", () => {
  it("takes a grpc-js client's Stream: messages in order, pings answered, a clean end is no break", async () => {
    const b = await startMember(2);
    const { call, pongs, status } = openStream(grpcJsClient(b.url));
    call.write({
      hello: { clusterId: CLUSTER, from: 1, to: 2 },
      messages: [encodeMessage(app(1, 2, 1))],
      ping: 0,
    });
    call.write({ messages: [encodeMessage(app(1, 2, 2)), encodeMessage(app(1, 2, 3))], ping: 7 });
    await b.until(() => b.received.length === 3);
    expect(b.received.map((m) => m.entries[0]?.index)).toEqual([1, 2, 3]);
    expect(b.active).toEqual([1]);
    expect(b.transport.peerStats(1)).toBeUndefined(); // not a peer of B's: inbound only
    await b.until(() => pongs.length === 1);
    expect(pongs).toEqual([7]);
    call.end();
    expect((await status).code).toBe(grpc.status.OK);
    expect(b.broken).toEqual([]);
    expect(b.errors).toEqual([]);
  });

  it("refuses a grpc-js client of another cluster with FAILED_PRECONDITION and etcd-style text", async () => {
    const b = await startMember(2);
    const { call, status } = openStream(grpcJsClient(b.url));
    call.write({ hello: { clusterId: 0x2an, from: 1, to: 2 }, messages: [], ping: 1 });
    const s = await status;
    expect(s.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(s.details).toBe("member 1 belongs to cluster 2a, this is cluster 1f");
    expect(b.received).toEqual([]);
    expect(b.active).toEqual([]);
  });

  it("ends a grpc-js client's stream with INVALID_ARGUMENT when it sends an undecodable message", async () => {
    const a = await startMember(1);
    const b = await startMember(2);
    await connect(a, b); // A is B's peer: a broken current stream from 1 must be reported
    const { call, status } = openStream(grpcJsClient(b.url));
    call.write({
      hello: { clusterId: CLUSTER, from: 1, to: 2 },
      messages: [Uint8Array.of(0xff, 0xff, 0xff)],
      ping: 0,
    });
    const s = await status;
    expect(s.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(s.details).toMatch(/^peer stream from member 1: /);
    await b.until(() => b.broken.length === 1);
    expect(b.broken).toEqual([1]);
    expect(b.brokenReasons).toEqual(["bad-stream"]);
  });

  it("takes a snapshot from a grpc-js client's SendSnapshot, persisted before Raft sees it", async () => {
    const b = await startMember(2);
    const data = seededBytes(300_000, 5);
    const ack = new Promise<grpc.ServiceError | null>((resolve) => {
      const call = grpcJsClient(b.url).makeClientStreamRequest(
        SEND_SNAPSHOT_PATH,
        encodeSnapshotChunk,
        decodeSnapshotAck,
        (err) => resolve(err),
      );
      call.write({
        hello: { clusterId: CLUSTER, from: 1, to: 2 },
        message: encodeMessage(snap(1, 2, new Uint8Array(0))),
        dataSize: data.length,
        dataCrc32: crc32(data),
        data: new Uint8Array(0),
      });
      for (let at = 0; at < data.length; at += 100_000) {
        call.write({
          message: new Uint8Array(0),
          dataSize: 0,
          dataCrc32: 0,
          data: data.subarray(at, at + 100_000),
        });
      }
      call.end();
    });
    expect(await ack).toBeNull();
    expect(b.snapshots).toHaveLength(1);
    expect(Buffer.from(b.snapshots[0]!.data).equals(Buffer.from(data))).toBe(true);
    expect(b.received.map((m) => m.type)).toEqual(["MsgSnap"]);
    expect(b.received[0]?.snapshot?.metadata.index).toBe(40);
  });
});

describe("peer receiver shutting down", () => {
  it("fails a snapshot it is still persisting; the sender reports failure, Raft never sees it", async () => {
    let persisting = false;
    let release: () => void = () => {};
    const a = await startMember(1);
    const b = await startMember(2, {
      onSnapshot: () =>
        new Promise<void>((resolve) => {
          persisting = true;
          release = resolve;
        }),
    });
    await connect(a, b);
    a.transport.send([snap(1, 2, seededBytes(10_000, 9))]);
    await b.until(() => persisting);
    await b.transport.close();
    await a.until(() => a.snapshotStatus.length === 1);
    expect(a.snapshotStatus).toEqual([{ id: 2, status: "failure" }]);
    release();
    await new Promise((r) => setImmediate(r));
    expect(b.received).toEqual([]);
  });
});
