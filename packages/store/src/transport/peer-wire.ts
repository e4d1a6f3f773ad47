// The wire of the peer transport (proto/tug/peer.proto): the gRPC service definition with its
// protobuf (de)serializers, the hello check both sides share, peer URL parsing, and the
// mapping between StoreError and gRPC status.

import type {
  BidiStreamingHandler,
  ClientStreamingHandler,
  MethodDefinition,
  ServerMethodDefinition,
} from "@tug/grpc";
import type { NodeId } from "@tug/raft";
import protobuf from "protobufjs/minimal.js";
import { GRPC_CODE_NUMBER, type GrpcCode, StoreError } from "../errors.js";
import { tug } from "../gen/peerpb.js";

const pb = tug.peer;

/** A cluster id: a uint64, as etcd's. */
export type ClusterId = bigint;

/** Who is calling whom; the first request of every call carries one. */
export interface Hello {
  readonly clusterId: ClusterId;
  readonly from: NodeId;
  readonly to: NodeId;
}

/** One request on a Stream call; see peer.proto. */
export interface StreamRequest {
  readonly hello?: Hello | undefined;
  readonly messages: readonly Uint8Array[];
  /** Zero: no ping. */
  readonly ping: number;
}

export interface StreamResponse {
  readonly pong: number;
}

/** One chunk of a SendSnapshot call; see peer.proto. */
export interface SnapshotChunk {
  readonly hello?: Hello | undefined;
  readonly message: Uint8Array;
  readonly dataSize: number;
  readonly dataCrc32: number;
  readonly data: Uint8Array;
}

/** Ids in messages the way etcd prints them: lower-case hex. */
export function formatId(id: NodeId | ClusterId): string {
  return id.toString(16);
}

// --- uint64 fields ------------------------------------------------------------------------

type Long = protobuf.Long;

function bigintOf(v: number | Long | null | undefined): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === "number") return BigInt(v);
  return (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
}

function longOf(v: bigint): Long {
  return new protobuf.util.LongBits(
    Number(v & 0xffff_ffffn),
    Number((v >> 32n) & 0xffff_ffffn),
  ).toLong(true);
}

/** The largest high word of a uint64 that fits in 53 bits. */
const SAFE_HIGH_WORD = 2 ** 21 - 1;

/** A uint64 that must fit in a JavaScript number (member ids, ping values, sizes). */
function safeOf(v: number | Long | null | undefined, field: string): number {
  // Read without BigInt: every Stream request carries a ping field.
  if (v === null || v === undefined) return 0;
  if (typeof v === "number") {
    if (Number.isSafeInteger(v)) return v;
  } else if (v.high >>> 0 <= SAFE_HIGH_WORD) {
    return (v.high >>> 0) * 2 ** 32 + (v.low >>> 0);
  }
  throw new StoreError(
    "INVALID_ARGUMENT",
    `peer wire: ${field} ${bigintOf(v)} does not fit in 53 bits`,
  );
}

function helloIn(h: tug.peer.IHello | null | undefined, at: string): Hello | undefined {
  if (!h) return undefined;
  return {
    clusterId: bigintOf(h.clusterId),
    from: safeOf(h.from, `${at}.hello.from`),
    to: safeOf(h.to, `${at}.hello.to`),
  };
}

function helloOut(h: Hello | undefined): tug.peer.IHello | undefined {
  if (!h) return undefined;
  return { clusterId: longOf(BigInt.asUintN(64, h.clusterId)), from: h.from, to: h.to };
}

// --- (de)serializers ----------------------------------------------------------------------

/** protobufjs's writer output as a Buffer, without a copy (gRPC wants Buffers). */
function toBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Decodes with protobufjs, turning its errors into INVALID_ARGUMENT. */
function parse<T>(type: string, decode: (b: Uint8Array) => T, b: Uint8Array): T {
  try {
    return decode(b);
  } catch (e) {
    throw new StoreError("INVALID_ARGUMENT", `peer wire: malformed ${type}: ${String(e)}`, {
      cause: e,
    });
  }
}

export function encodeStreamRequest(r: StreamRequest): Buffer {
  return toBuffer(
    pb.StreamRequest.encode({
      hello: helloOut(r.hello),
      messages: r.messages as Uint8Array[],
      ping: r.ping,
    }).finish(),
  );
}

export function decodeStreamRequest(b: Buffer): StreamRequest {
  const r = parse("StreamRequest", (x) => pb.StreamRequest.decode(x), b);
  return {
    hello: helloIn(r.hello, "StreamRequest"),
    messages: r.messages,
    ping: safeOf(r.ping, "StreamRequest.ping"),
  };
}

export function encodeStreamResponse(r: StreamResponse): Buffer {
  return toBuffer(pb.StreamResponse.encode({ pong: r.pong }).finish());
}

export function decodeStreamResponse(b: Buffer): StreamResponse {
  const r = parse("StreamResponse", (x) => pb.StreamResponse.decode(x), b);
  return { pong: safeOf(r.pong, "StreamResponse.pong") };
}

export function encodeSnapshotChunk(c: SnapshotChunk): Buffer {
  return toBuffer(
    pb.SnapshotChunk.encode({
      hello: helloOut(c.hello),
      message: c.message,
      dataSize: c.dataSize,
      dataCrc32: c.dataCrc32,
      data: c.data,
    }).finish(),
  );
}

export function decodeSnapshotChunk(b: Buffer): SnapshotChunk {
  const c = parse("SnapshotChunk", (x) => pb.SnapshotChunk.decode(x), b);
  return {
    hello: helloIn(c.hello, "SnapshotChunk"),
    message: c.message,
    dataSize: safeOf(c.dataSize, "SnapshotChunk.dataSize"),
    dataCrc32: c.dataCrc32 >>> 0,
    data: c.data,
  };
}

export const encodeSnapshotAck = (): Buffer => Buffer.alloc(0);
export const decodeSnapshotAck = (): Record<string, never> => ({});

// --- the service --------------------------------------------------------------------------

export type SnapshotAck = Record<string, never>;

export type PeerServiceHandlers = {
  stream: BidiStreamingHandler<StreamRequest, StreamResponse>;
  sendSnapshot: ClientStreamingHandler<SnapshotChunk, SnapshotAck>;
};

/** One method of tug.peer.Peer: what a GrpcServer serves and a GrpcChannel calls. */
interface PeerMethod<Req, Res>
  extends ServerMethodDefinition<Req, Res>,
    MethodDefinition<Req, Res> {
  readonly originalName: string;
}

export const STREAM_PATH = "/tug.peer.Peer/Stream";
export const SEND_SNAPSHOT_PATH = "/tug.peer.Peer/SendSnapshot";

/** tug.peer.Peer, for GrpcServer.addService and GrpcChannel's calls. */
export const PEER_SERVICE: {
  readonly stream: PeerMethod<StreamRequest, StreamResponse>;
  readonly sendSnapshot: PeerMethod<SnapshotChunk, SnapshotAck>;
} = {
  stream: {
    path: STREAM_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: encodeStreamRequest,
    requestDeserialize: decodeStreamRequest,
    responseSerialize: encodeStreamResponse,
    responseDeserialize: decodeStreamResponse,
    originalName: "Stream",
  },
  sendSnapshot: {
    path: SEND_SNAPSHOT_PATH,
    requestStream: true,
    responseStream: false,
    requestSerialize: encodeSnapshotChunk,
    requestDeserialize: decodeSnapshotChunk,
    responseSerialize: encodeSnapshotAck,
    responseDeserialize: decodeSnapshotAck,
    originalName: "SendSnapshot",
  },
};

// --- hello ------------------------------------------------------------------------------

/** Why the receiver `self` refuses a call that opened with `hello`, or undefined if it accepts. */
export function checkHello(
  hello: Hello | undefined,
  self: { readonly id: NodeId; readonly clusterId: ClusterId },
): StoreError | undefined {
  if (!hello) {
    return new StoreError(
      "INVALID_ARGUMENT",
      "peer call: the first request must carry a hello (cluster id, sender, receiver)",
    );
  }
  if (BigInt.asUintN(64, hello.clusterId) !== BigInt.asUintN(64, self.clusterId)) {
    return new StoreError(
      "FAILED_PRECONDITION",
      `member ${formatId(hello.from)} belongs to cluster ${formatId(hello.clusterId)}, ` +
        `this is cluster ${formatId(self.clusterId)}`,
    );
  }
  if (hello.to !== self.id) {
    return new StoreError(
      "FAILED_PRECONDITION",
      `member ${formatId(hello.from)} meant to reach member ${formatId(hello.to)}, ` +
        `this is member ${formatId(self.id)}: check the peer URL it has for ${formatId(hello.to)}`,
    );
  }
  return undefined;
}

// --- status <-> StoreError ------------------------------------------------------------------

const CODE_NAME = new Map<number, GrpcCode>(
  Object.entries(GRPC_CODE_NUMBER).map(([name, n]) => [n, name as GrpcCode]),
);

/** A gRPC status: what a handler answers with, and what a failed call carries. */
export interface CallStatusLike {
  readonly code: number;
  readonly details: string;
}

/** A StoreError as a gRPC status for a handler to answer with. */
export function toStatus(e: StoreError): CallStatusLike {
  return { code: GRPC_CODE_NUMBER[e.code], details: e.message };
}

/** An error from a gRPC call (grpc-js's or @tug/grpc's) as a StoreError, keeping the server's text. */
export function fromCallError(e: unknown): StoreError {
  if (e instanceof StoreError) return e;
  const err = e as Partial<CallStatusLike> | undefined;
  const code = (err?.code !== undefined && CODE_NAME.get(err.code)) || "UNKNOWN";
  const details = err?.details ?? (e instanceof Error ? e.message : String(e));
  return new StoreError(code, details, { cause: e });
}

/** Anything thrown, as a StoreError (INTERNAL unless it already is one). */
export function asStoreError(e: unknown): StoreError {
  if (e instanceof StoreError) return e;
  return new StoreError("INTERNAL", e instanceof Error ? e.message : String(e), { cause: e });
}

// --- peer URLs --------------------------------------------------------------------------

/** "http://host:port" → "host:port" for gRPC; `what` names the URL in errors. */
export function peerTarget(url: string, what: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new StoreError(
      "INVALID_ARGUMENT",
      `${what}: "${url}" is not a URL; want http://host:port`,
    );
  }
  if (u.protocol !== "http:") {
    throw new StoreError(
      "INVALID_ARGUMENT",
      `${what}: "${url}": scheme ${u.protocol.replace(/:$/, "")} is not supported; want http://host:port`,
    );
  }
  if ((u.pathname !== "/" && u.pathname !== "") || u.search || u.hash || u.username) {
    throw new StoreError("INVALID_ARGUMENT", `${what}: "${url}": want http://host:port`);
  }
  // URL leaves out a default port; gRPC would take 443 for a target without one.
  return `${u.hostname}:${u.port || "80"}`;
}
