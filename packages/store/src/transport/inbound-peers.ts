// The receiving side of the peer transport: the handlers of tug.peer.Peer. A Stream call is
// checked (hello), then its Raft messages are handed over one by one in order; its pings are
// answered. A SendSnapshot call is collected into one buffer, checked (size, CRC-32), handed to
// the snapshot handler to persist, and only then is the MsgSnap handed to Raft and the sender
// answered: a member never acknowledges a snapshot it could lose in a crash.
//
// The receiver also watches the connection: when the established stream from a peer ends with
// an error (the peer's process died, the connection dropped, or nothing came for too long), it
// says so at once; the store uses that to start a pre-vote without waiting out the election
// timeout when that peer was the leader.

import { constants as bufferConstants } from "node:buffer";
import { crc32 } from "node:zlib";
import type { SendUnaryData, ServerDuplexCall, ServerReadableCall } from "@tug/grpc";
import {
  decodeMessage,
  isLocalMessage,
  type Message,
  type NodeId,
  type SnapshotMetadata,
} from "@tug/raft";
import { StoreError } from "../errors.js";
import { PONG_TIMEOUT_MS } from "./outbound-peer.js";
import {
  asStoreError,
  type ClusterId,
  checkHello,
  formatId,
  type PeerServiceHandlers,
  type SnapshotAck,
  type SnapshotChunk,
  type StreamRequest,
  type StreamResponse,
  toStatus,
} from "./peer-wire.js";

/**
 * An established stream on which nothing (not even a ping, sent every PING_INTERVAL_MS)
 * arrives for this long counts as broken: the sender is frozen or its host is gone without
 * closing the connection. As long as the sender's own pong timeout, for the same reasons.
 */
export const INBOUND_IDLE_TIMEOUT_MS = PONG_TIMEOUT_MS;

/** The largest snapshot accepted: the largest Buffer Node can allocate. */
export const MAX_SNAPSHOT_BYTES = bufferConstants.MAX_LENGTH;

/**
 * Why an established stream from a peer counts as broken:
 * - "connection-lost": the call was cancelled or the connection dropped (the peer's process
 *   died, its host rebooted, or the network reset the connection);
 * - "silent": nothing arrived for INBOUND_IDLE_TIMEOUT_MS (the process is frozen, or its host
 *   vanished without closing the connection);
 * - "bad-stream": the peer sent something this member refuses (see onPeerError).
 */
export type StreamBrokenReason = "connection-lost" | "silent" | "bad-stream";

/** What the transport hands the receiving side. */
export interface InboundContext {
  readonly self: NodeId;
  readonly clusterId: ClusterId;
  deliver(msg: Message): void;
  persistSnapshot(msg: Message, data: Uint8Array): Promise<void>;
  peerActive(id: NodeId): void;
  peerStreamBroken(id: NodeId, reason: StreamBrokenReason): void;
  reportError(id: NodeId | undefined, error: StoreError): void;
}

interface InboundStream {
  readonly call: ServerDuplexCall<StreamRequest, StreamResponse>;
  from: NodeId | undefined;
  done: boolean;
  idleTimer: NodeJS.Timeout | undefined;
}

export class InboundPeers {
  /** The current stream from each peer; an older one from the same peer is ended. */
  private readonly streams = new Map<NodeId, InboundStream>();
  private readonly received = new Map<NodeId, number>();
  /** Each SendSnapshot call in progress, with what ends it when this member shuts down. */
  private readonly snapshotCalls = new Map<ServerReadableCall<SnapshotChunk>, () => void>();
  private closed = false;

  constructor(private readonly ctx: InboundContext) {}

  readonly handlers: PeerServiceHandlers = {
    stream: (call) => this.onStream(call),
    sendSnapshot: (call, callback) => this.onSnapshot(call, callback),
  };

  /** Messages received from `id` so far. */
  receivedMessages(id: NodeId): number {
    return this.received.get(id) ?? 0;
  }

  /** Is a stream from `id` established now? */
  hasStream(id: NodeId): boolean {
    return this.streams.has(id);
  }

  /** Ends every inbound call without reporting anything: this member is shutting down. */
  close(): void {
    this.closed = true;
    const streams = [...this.streams.values()];
    for (const s of streams) {
      this.finish(s);
      s.call.end();
    }
    const snapshots = [...this.snapshotCalls.values()];
    this.snapshotCalls.clear();
    for (const abort of snapshots) abort();
  }

  // --- Stream ------------------------------------------------------------------------------

  private onStream(call: ServerDuplexCall<StreamRequest, StreamResponse>): void {
    const s: InboundStream = { call, from: undefined, done: false, idleTimer: undefined };
    if (this.closed) {
      call.emit("error", toStatus(new StoreError("UNAVAILABLE", "member is shutting down")));
      return;
    }
    const fail = (error: StoreError, reason: StreamBrokenReason = "bad-stream"): void => {
      if (s.done) return;
      const from = s.from;
      const wasCurrent = from !== undefined && this.streams.get(from) === s;
      this.finish(s);
      this.ctx.reportError(from, error);
      call.emit("error", toStatus(error));
      // A stream that went silent, or one that is unusable (a leader sending garbage must not
      // keep followers from electing another), is as good as broken.
      if (wasCurrent && from !== undefined) this.ctx.peerStreamBroken(from, reason);
    };
    const broken = (): void => {
      if (s.done) return;
      const from = s.from;
      const wasCurrent = from !== undefined && this.streams.get(from) === s;
      this.finish(s);
      if (wasCurrent && from !== undefined && !this.closed) {
        this.ctx.peerStreamBroken(from, "connection-lost");
      }
    };

    call.on("data", (req: StreamRequest) => {
      if (s.done) return;
      s.idleTimer?.refresh();
      let from = s.from;
      if (from === undefined) {
        const refused = checkHello(req.hello, { id: this.ctx.self, clusterId: this.ctx.clusterId });
        if (refused || !req.hello) {
          fail(refused ?? new StoreError("INVALID_ARGUMENT", "peer stream: no hello"));
          return;
        }
        from = req.hello.from;
        s.from = from;
        const previous = this.streams.get(from);
        this.streams.set(from, s);
        if (previous) {
          // The sender reconnected before this side noticed the old stream die: end the
          // old one quietly, the peer is evidently alive.
          this.finish(previous);
          previous.call.end();
        }
        s.idleTimer = setTimeout(() => {
          fail(
            new StoreError(
              "UNAVAILABLE",
              `no request from member ${formatId(s.from ?? 0)} in ${INBOUND_IDLE_TIMEOUT_MS} ms`,
            ),
            "silent",
          );
        }, INBOUND_IDLE_TIMEOUT_MS);
        this.ctx.peerActive(from);
      } else if (req.hello) {
        fail(new StoreError("INVALID_ARGUMENT", "peer stream: a second hello on one stream"));
        return;
      }
      for (const bytes of req.messages) {
        let msg: Message;
        try {
          msg = decodeMessage(bytes);
        } catch (e) {
          fail(
            new StoreError(
              "INVALID_ARGUMENT",
              `peer stream from member ${formatId(from)}: ${asStoreError(e).message}`,
              { cause: e },
            ),
          );
          return;
        }
        const wrong = this.wrongMessage(msg, from);
        if (wrong) {
          fail(
            new StoreError(
              "INVALID_ARGUMENT",
              `peer stream from member ${formatId(from)}: ${wrong}`,
            ),
          );
          return;
        }
        this.received.set(from, (this.received.get(from) ?? 0) + 1);
        try {
          this.ctx.deliver(msg);
        } catch (e) {
          // The Raft node refused one message (e.g. it is stopping); the stream is fine.
          this.ctx.reportError(from, asStoreError(e));
        }
        if (s.done) return; // the handler closed the transport
      }
      if (req.ping !== 0) call.write({ pong: req.ping });
    });
    // The request side ended. Either the sender ended the stream itself (it is closing its
    // transport or dropped us as a peer: not a broken connection), or the connection died,
    // which gRPC also reports as an end, followed by "cancelled". Answer the end, and let
    // what comes next decide.
    let halfClosed = false;
    call.on("end", () => {
      if (s.done || halfClosed) return;
      halfClosed = true;
      clearTimeout(s.idleTimer);
      call.end();
    });
    call.on("cancelled", broken);
    call.on("error", broken);
    call.on("close", () => {
      if (halfClosed) this.finish(s);
      else broken();
    });
  }

  /** Why a message may not arrive on a stream from `from`, or undefined. */
  private wrongMessage(msg: Message, from: NodeId): string | undefined {
    if (msg.from !== from) return `a message from ${formatId(msg.from)} on its stream`;
    if (msg.to !== this.ctx.self) {
      return `a message for member ${formatId(msg.to)}, this is member ${formatId(this.ctx.self)}`;
    }
    if (isLocalMessage(msg.type)) return `${msg.type} is local to a member, never sent`;
    if (msg.type === "MsgSnap") return "MsgSnap must come by SendSnapshot";
    return undefined;
  }

  private finish(s: InboundStream): void {
    s.done = true;
    clearTimeout(s.idleTimer);
    if (s.from !== undefined && this.streams.get(s.from) === s) this.streams.delete(s.from);
  }

  // --- SendSnapshot ------------------------------------------------------------------------

  private onSnapshot(
    call: ServerReadableCall<SnapshotChunk>,
    callback: SendUnaryData<SnapshotAck>,
  ): void {
    let head:
      | {
          msg: Message;
          metadata: SnapshotMetadata;
          from: NodeId;
          size: number;
          crc: number;
          data: Buffer;
        }
      | undefined;
    let received = 0;
    let done = false;
    const fail = (error: StoreError): void => {
      if (done) return;
      done = true;
      this.snapshotCalls.delete(call);
      this.ctx.reportError(head?.from, error);
      callback(toStatus(error));
    };
    // Shutting down: the sender is told so (and reports failure to its Raft node); nothing is
    // reported here, and a snapshot already being persisted is no longer handed to Raft.
    this.snapshotCalls.set(call, () => {
      if (done) return;
      done = true;
      callback(toStatus(new StoreError("UNAVAILABLE", "member is shutting down")));
    });
    if (this.closed) {
      fail(new StoreError("UNAVAILABLE", "member is shutting down"));
      return;
    }

    call.on("data", (c: SnapshotChunk) => {
      if (done) return;
      if (!head) {
        const refused = checkHello(c.hello, { id: this.ctx.self, clusterId: this.ctx.clusterId });
        if (refused || !c.hello) {
          fail(refused ?? new StoreError("INVALID_ARGUMENT", "snapshot: no hello"));
          return;
        }
        const from = c.hello.from;
        let msg: Message;
        try {
          msg = decodeMessage(c.message);
        } catch (e) {
          fail(
            new StoreError(
              "INVALID_ARGUMENT",
              `snapshot from member ${formatId(from)}: ${asStoreError(e).message}`,
            ),
          );
          return;
        }
        if (
          msg.type !== "MsgSnap" ||
          !msg.snapshot ||
          msg.from !== from ||
          msg.to !== this.ctx.self
        ) {
          fail(
            new StoreError(
              "INVALID_ARGUMENT",
              `snapshot from member ${formatId(from)}: the first chunk must carry a MsgSnap ` +
                `from ${formatId(from)} to ${formatId(this.ctx.self)}, got ${msg.type} ` +
                `from ${formatId(msg.from)} to ${formatId(msg.to)}`,
            ),
          );
          return;
        }
        if (c.dataSize > MAX_SNAPSHOT_BYTES) {
          fail(
            new StoreError(
              "RESOURCE_EXHAUSTED",
              `snapshot from member ${formatId(from)}: ${c.dataSize} bytes is more than the ` +
                `${MAX_SNAPSHOT_BYTES} this member can hold`,
            ),
          );
          return;
        }
        head = {
          msg,
          metadata: msg.snapshot.metadata,
          from,
          size: c.dataSize,
          crc: c.dataCrc32,
          data: Buffer.allocUnsafe(c.dataSize),
        };
        return;
      }
      if (received + c.data.length > head.size) {
        fail(
          new StoreError(
            "INVALID_ARGUMENT",
            `snapshot from member ${formatId(head.from)}: more data than the ${head.size} bytes announced`,
          ),
        );
        return;
      }
      head.data.set(c.data, received);
      received += c.data.length;
    });

    call.on("end", () => {
      if (done) return;
      if (!head) {
        fail(new StoreError("INVALID_ARGUMENT", "snapshot: the call ended before its first chunk"));
        return;
      }
      const { msg, metadata, from, size, crc, data } = head;
      if (received !== size) {
        fail(
          new StoreError(
            "DATA_LOSS",
            `snapshot from member ${formatId(from)}: got ${received} of ${size} bytes`,
          ),
        );
        return;
      }
      if (crc32(data) !== crc) {
        fail(
          new StoreError(
            "DATA_LOSS",
            `snapshot from member ${formatId(from)}: CRC-32 of the data does not match`,
          ),
        );
        return;
      }
      const full: Message = { ...msg, snapshot: { metadata, data } };
      // Persist first, then hand to Raft, then answer: in that order, or a crash between them
      // could leave Raft (or the leader) believing in a snapshot this member no longer has.
      this.ctx.persistSnapshot(full, data).then(
        () => {
          if (done || this.closed) return;
          try {
            this.ctx.deliver(full);
          } catch (e) {
            fail(asStoreError(e));
            return;
          }
          done = true;
          this.snapshotCalls.delete(call);
          callback(null, {});
        },
        (e: unknown) => {
          const cause = asStoreError(e);
          fail(
            new StoreError(
              cause.code,
              `snapshot from member ${formatId(from)}: persisting it failed: ${cause.message}`,
              { cause: e },
            ),
          );
        },
      );
    });
    call.on("cancelled", () => {
      // The sender gave up; a snapshot already being persisted is still handed to Raft.
      if (!head || received !== head.size) {
        done = true;
        this.snapshotCalls.delete(call);
      }
    });
  }
}
