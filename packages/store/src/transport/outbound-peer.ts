// The sending side of the peer transport for one peer: a bounded queue of Raft messages, one
// long-lived Stream call that carries them in batches and pings the receiver, reconnection
// with back-off, and SendSnapshot calls for MsgSnap. Nothing here blocks the caller: send()
// queues, and what cannot be delivered is reported (unreachable, snapshot failure), never
// waited for, because Raft retries on its own terms (etcd's rafthttp works the same way).

import { performance } from "node:perf_hooks";
import { crc32 } from "node:zlib";
import { type ChannelOptions, type ClientStream, GrpcChannel, Status } from "@tug/grpc";
import { encodeMessage, type Message, type NodeId } from "@tug/raft";
import type { StoreError } from "../errors.js";
import { coalesceMessages, SentAcks } from "./coalesce.js";
import type { FaultInjector } from "./fault-injector.js";
import {
  asStoreError,
  type ClusterId,
  fromCallError,
  type Hello,
  PEER_SERVICE,
  type SnapshotAck,
  type SnapshotChunk,
  type StreamRequest,
  type StreamResponse,
} from "./peer-wire.js";

/**
 * Most messages waiting for one peer. etcd's stream buffer holds as many (streamBufSize): a
 * few Readies' worth of a busy leader fits; beyond that the peer is not keeping up, and Raft
 * is better told (unreachable → probe) than fed an ever longer backlog.
 */
export const OUTBOUND_QUEUE_LIMIT = 4096;

/**
 * A batch is closed once it holds this many bytes: large enough that thousands of small
 * messages share one gRPC write, small enough that a heartbeat queued behind a batch waits
 * for no more than about a MiB on the wire. (Raft itself caps a MsgApp at 1 MiB by default.)
 */
export const BATCH_TARGET_BYTES = 1 << 20;

/**
 * The largest single encoded Raft message sent on a stream; a larger one is dropped and the
 * peer reported unreachable. Raft caps a MsgApp at maxSizePerMsg plus one entry, and entries
 * are bounded by the store's request size limit, so only a misconfiguration gets near this.
 */
export const MAX_MESSAGE_BYTES = 64 << 20;

/** Protobuf framing of one message in a batch, at most: a tag byte and a 5-byte length. */
const FIELD_OVERHEAD_BYTES = 6;

/**
 * What a receiver accepts in one Stream request: a batch closes once it reaches
 * BATCH_TARGET_BYTES (framing counted), so it holds at most that plus one message.
 */
export const MAX_STREAM_REQUEST_BYTES =
  BATCH_TARGET_BYTES + MAX_MESSAGE_BYTES + FIELD_OVERHEAD_BYTES + 64 * 1024;

/**
 * First wait before reconnecting a broken stream. A restarted member listens again within
 * tens of ms, and a leader's heartbeats come every 100 ms: reconnecting before the next
 * heartbeat or two keeps a follower from timing out needlessly.
 */
export const RECONNECT_BACKOFF_INITIAL_MS = 50;

/**
 * Longest wait between reconnect attempts (the back-off doubles up to it). One election
 * timeout (1000 ms): a member that comes back is reachable again before a new election
 * would be decided without it, and a dead one costs one failed connect a second.
 */
export const RECONNECT_BACKOFF_MAX_MS = 1000;

/**
 * How often an idle stream is pinged; each pong is a round-trip sample. Twice a second is
 * enough for a metric and costs a few bytes.
 */
export const PING_INTERVAL_MS = 500;

/**
 * A stream that carried Raft messages since the last ping interval is pinged only every this
 * many intervals (1.5 s): its traffic already keeps the receiver's idle timer fresh, and each
 * ping is a gRPC message and an answer on both members. A stuck busy stream is still torn
 * down within BUSY_PING_EVERY × PING_INTERVAL_MS + PONG_TIMEOUT_MS.
 */
export const BUSY_PING_EVERY = 3;

/**
 * A stream whose ping (or whose opening hello) goes unanswered this long is torn down and
 * reconnected: the peer's host is gone or the connection is stuck. Six ping intervals, so a
 * GC pause or a busy event loop on a loaded 2-core machine does not cut a healthy stream.
 */
export const PONG_TIMEOUT_MS = 3000;

/** Snapshot data per SendSnapshot chunk: far below gRPC's 4 MiB default message limit. */
export const SNAPSHOT_CHUNK_BYTES = 1 << 20;

/**
 * A snapshot call may take SNAPSHOT_DEADLINE_BASE_MS plus its size at
 * SNAPSHOT_MIN_BYTES_PER_SECOND. The base covers the receiver persisting (fsync) the
 * snapshot before it answers; the rate is far below any LAN, so only a stuck transfer fails.
 */
export const SNAPSHOT_DEADLINE_BASE_MS = 30_000;
export const SNAPSHOT_MIN_BYTES_PER_SECOND = 1 << 20;

/**
 * How long close() waits for the receiver to acknowledge the end of a stream before it cuts
 * the connection: a live receiver answers at once, a dead one must not hold up a shutdown.
 */
export const CLOSE_GRACE_MS = 1000;

const EMPTY = new Uint8Array(0);

/**
 * @tug/grpc channel options for peer connections (GrpcChannel: gRPC straight on node:http2,
 * docs/grpc.md). The channel's own reconnect back-off follows ours: its default starts
 * at 1 s and grows to 120 s, far too slow to notice a restarted member. (It has no retries,
 * which is right here: Raft retries by itself.) No HTTP/2 keepalive: the stream's own pings
 * (PING_INTERVAL_MS, PONG_TIMEOUT_MS) detect a dead peer.
 */
export const PEER_CHANNEL_OPTIONS: ChannelOptions = {
  initialReconnectBackoffMs: RECONNECT_BACKOFF_INITIAL_MS,
  maxReconnectBackoffMs: RECONNECT_BACKOFF_MAX_MS,
};

type PeerStream = ClientStream<StreamRequest, StreamResponse>;

/** What the transport hands an outbound peer. Reports may be called from any callback. */
export interface OutboundContext {
  readonly self: NodeId;
  readonly clusterId: ClusterId;
  readonly queueLimit: number;
  readonly faults: FaultInjector | undefined;
  reportUnreachable(id: NodeId): void;
  reportSnapshot(id: NodeId, status: "finish" | "failure"): void;
  reportError(id: NodeId, error: StoreError): void;
}

/** Counters and state of the sending side to one peer, for metrics and tests. */
export interface OutboundStats {
  readonly url: string;
  /** The stream is up: the receiver answered its hello. */
  readonly connected: boolean;
  /** Last measured ping round trip over the stream, in ms; undefined before the first. */
  readonly roundTripMs: number | undefined;
  /** Pongs received, i.e. round-trip samples taken (the hello's included). */
  readonly roundTrips: number;
  readonly sentMessages: number;
  readonly sentBatches: number;
  /** Bytes of encoded Raft messages written (protobuf framing not counted). */
  readonly sentBytes: number;
  /** Dropped by the transport: queue full, stream down or message too large. */
  readonly droppedMessages: number;
  /** Dropped by the fault injector. */
  readonly faultDroppedMessages: number;
  /** Left out of a batch because a later message of it said the same (coalesce.ts). */
  readonly coalescedMessages: number;
  /** Streams that came up (the first connect counts). */
  readonly streamsEstablished: number;
  readonly snapshotsSent: number;
  readonly snapshotsFailed: number;
  /** Why the last stream or connect attempt failed, if the stream is not up. */
  readonly lastError: string | undefined;
}

type State = "connecting" | "connected" | "backoff" | "closed";

interface Counters {
  roundTrips: number;
  sentMessages: number;
  sentBatches: number;
  sentBytes: number;
  droppedMessages: number;
  faultDroppedMessages: number;
  coalescedMessages: number;
  streamsEstablished: number;
  snapshotsSent: number;
  snapshotsFailed: number;
}

export class OutboundPeer {
  private readonly hello: Hello;
  private readonly channel: GrpcChannel;
  private snapshotChannel: GrpcChannel | undefined;
  private state: State = "connecting";
  private call: PeerStream | undefined;
  private snapshotCall: ClientStream<SnapshotChunk, SnapshotAck> | undefined;
  /** close() waiting for the stream it ended to end (see onStreamEnd). */
  private closing: { call: PeerStream; resolve: () => void } | undefined;

  // Queue: messages [head, queue.length) wait to be written.
  private queue: Message[] = [];
  private head = 0;
  private flushScheduled = false;
  private waitingDrain = false;
  private readonly sentAcks = new SentAcks();

  // Messages held back by the fault injector, in send order; deliverAt never decreases.
  private delayed: { at: number; msg: Message }[] = [];
  private delayTimer: NodeJS.Timeout | undefined;

  private backoffMs = RECONNECT_BACKOFF_INITIAL_MS;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private pingSeq = 0;
  /** Batches written since the last ping interval, and intervals since the last ping. */
  private wroteSinceTick = false;
  private ticksSincePing = 0;
  private pingOutstanding: { seq: number; at: number } | undefined;
  private rttMs: number | undefined;
  private lastError: string | undefined;
  private lastReportedError: string | undefined;
  private readonly counters: Counters = {
    roundTrips: 0,
    sentMessages: 0,
    sentBatches: 0,
    sentBytes: 0,
    droppedMessages: 0,
    faultDroppedMessages: 0,
    coalescedMessages: 0,
    streamsEstablished: 0,
    snapshotsSent: 0,
    snapshotsFailed: 0,
  };

  constructor(
    readonly id: NodeId,
    readonly url: string,
    private readonly target: string,
    private readonly ctx: OutboundContext,
  ) {
    this.hello = { clusterId: ctx.clusterId, from: ctx.self, to: id };
    this.channel = new GrpcChannel(target, PEER_CHANNEL_OPTIONS);
    this.connect();
  }

  /** Queues one message (never blocks); what cannot be delivered is reported, not thrown. */
  send(msg: Message): void {
    if (this.state === "closed") return;
    const faults = this.ctx.faults;
    if (faults) {
      const d = faults.decide(this.ctx.self, this.id);
      if (d.drop) {
        this.counters.faultDroppedMessages++;
        // A snapshot call on a cut link would fail; Raft must hear so, or it waits forever.
        if (msg.type === "MsgSnap") this.failSnapshotLater();
        return;
      }
      if (d.delayMs > 0 || this.delayed.length > 0) {
        this.hold(msg, d.delayMs);
        return;
      }
    }
    this.route(msg);
  }

  stats(): OutboundStats {
    return {
      url: this.url,
      connected: this.state === "connected",
      roundTripMs: this.rttMs,
      lastError: this.state === "connected" ? undefined : this.lastError,
      ...this.counters,
    };
  }

  /** Ends the stream (cleanly, so the receiver does not see a broken connection) and stops. */
  async close(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closed";
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.delayTimer);
    clearInterval(this.pingTimer);
    this.delayed = [];
    this.queue = [];
    this.head = 0;
    this.snapshotCall?.cancel();
    this.snapshotCall = undefined;
    const call = this.call;
    this.call = undefined;
    if (call) {
      if (!call.done) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            this.closing = undefined;
            call.cancel();
            resolve();
          }, CLOSE_GRACE_MS);
          this.closing = {
            call,
            resolve: () => {
              clearTimeout(timer);
              this.closing = undefined;
              resolve();
            },
          };
          call.end();
        });
      }
    }
    this.channel.close();
    this.snapshotChannel?.close();
  }

  // --- delivery ----------------------------------------------------------------------------

  private route(msg: Message): void {
    if (msg.type === "MsgSnap") this.sendSnapshot(msg);
    else this.enqueue(msg);
  }

  private hold(msg: Message, delayMs: number): void {
    if (this.delayed.length >= this.ctx.queueLimit) {
      this.counters.faultDroppedMessages++; // an overfull delay line loses packets, like netem
      if (msg.type === "MsgSnap") this.failSnapshotLater();
      return;
    }
    const last = this.delayed[this.delayed.length - 1];
    const at = Math.max(performance.now() + delayMs, last ? last.at : 0);
    this.delayed.push({ at, msg });
    if (this.delayed.length === 1) this.armDelayTimer();
  }

  private armDelayTimer(): void {
    const first = this.delayed[0];
    if (!first) return;
    this.delayTimer = setTimeout(
      () => {
        const now = performance.now();
        let n = 0;
        for (const d of this.delayed) {
          if (d.at > now) break;
          n++;
        }
        const due = this.delayed.splice(0, n);
        for (const d of due) this.route(d.msg);
        this.armDelayTimer();
      },
      Math.max(0, first.at - performance.now()),
    );
  }

  private enqueue(msg: Message): void {
    // While the stream is down, a message could only go stale in the queue: drop it and let
    // Raft know, so that it probes the peer instead of assuming the message arrived.
    if (this.state !== "connecting" && this.state !== "connected") {
      this.drop(1);
      return;
    }
    if (this.queue.length - this.head >= this.ctx.queueLimit) {
      this.drop(1);
      return;
    }
    this.queue.push(msg);
    if (this.state === "connected" && !this.flushScheduled) {
      this.flushScheduled = true;
      // A microtask: the store hands over all of a Ready's messages in one send(), so they
      // still travel as one batch, and they are handed to gRPC before the store's WAL write
      // and fsync start (the leader's appends overlap its own fsync, Raft thesis §10.2.1)
      // instead of one turn of the event loop later. Each turn saved is one less on every hop
      // of a write's path (client, leader, follower, leader, follower).
      queueMicrotask(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
  }

  private drop(n: number): void {
    this.counters.droppedMessages += n;
    this.ctx.reportUnreachable(this.id);
  }

  private flush(): void {
    const call = this.call;
    if (this.state !== "connected" || this.waitingDrain || !call) return;
    this.counters.coalescedMessages += coalesceMessages(this.queue, this.head);
    while (this.head < this.queue.length) {
      const messages: Uint8Array[] = [];
      let bytes = 0; // framing included, to bound the request
      let payload = 0;
      while (this.head < this.queue.length && bytes < BATCH_TARGET_BYTES) {
        const msg = this.queue[this.head++] as Message;
        if (this.sentAcks.covers(msg)) {
          this.counters.coalescedMessages++;
          continue;
        }
        let encoded: Uint8Array;
        try {
          encoded = encodeMessage(msg);
        } catch (e) {
          // Only a bug upstream gets here (e.g. a term above 2^53); say so, do not crash.
          this.ctx.reportError(this.id, asStoreError(e));
          this.drop(1);
          continue;
        }
        if (encoded.length > MAX_MESSAGE_BYTES) {
          this.drop(1);
          continue;
        }
        messages.push(encoded);
        this.sentAcks.sent(msg);
        bytes += encoded.length + FIELD_OVERHEAD_BYTES;
        payload += encoded.length;
      }
      if (messages.length === 0) break;
      this.counters.sentMessages += messages.length;
      this.counters.sentBatches++;
      this.wroteSinceTick = true;
      this.counters.sentBytes += payload;
      const more = call.write({ messages, ping: 0 });
      if (!more) {
        this.waitingDrain = true; // onStreamDrain resumes
        break;
      }
    }
    // Keep the array from growing without bound while the head advances.
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  // --- the stream ------------------------------------------------------------------------

  private connect(): void {
    this.state = "connecting";
    const call: PeerStream = this.channel.stream(PEER_SERVICE.stream, undefined, {
      onMessage: (r) => this.onPong(call, r.pong),
      onEnd: (e) => this.onStreamEnd(call, e),
      onDrain: () => this.onStreamDrain(call),
    });
    this.call = call;
    this.pingOutstanding = { seq: this.nextPingSeq(), at: performance.now() };
    call.write({ hello: this.hello, messages: [], ping: this.pingOutstanding.seq });
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => this.onPingTimer(), PING_INTERVAL_MS);
  }

  /** The stream ended: with an error, or OK (the receiver ended it: as good as broken). */
  private onStreamEnd(call: PeerStream, error: unknown): void {
    if (this.closing?.call === call) this.closing.resolve();
    this.onCallEnded(
      call,
      fromCallError(
        error ?? { code: Status.UNAVAILABLE, details: "the receiver ended the stream" },
      ),
    );
  }

  private onStreamDrain(call: PeerStream): void {
    if (this.call !== call || !this.waitingDrain) return;
    this.waitingDrain = false;
    this.flush();
  }

  private nextPingSeq(): number {
    this.pingSeq = this.pingSeq >= Number.MAX_SAFE_INTEGER ? 1 : this.pingSeq + 1;
    return this.pingSeq;
  }

  private onPingTimer(): void {
    const call = this.call;
    if (!call) return;
    const outstanding = this.pingOutstanding;
    if (outstanding) {
      const waited = performance.now() - outstanding.at;
      if (waited > PONG_TIMEOUT_MS) {
        const what = this.state === "connected" ? "ping" : "hello";
        this.onCallEnded(
          call,
          fromCallError({
            code: Status.DEADLINE_EXCEEDED,
            details: `no answer to a ${what} in ${Math.round(waited)} ms`,
          }),
        );
        call.cancel();
      }
      return;
    }
    if (this.state !== "connected") return;
    const busy = this.wroteSinceTick;
    this.wroteSinceTick = false;
    if (busy && ++this.ticksSincePing < BUSY_PING_EVERY) return;
    this.ticksSincePing = 0;
    this.pingOutstanding = { seq: this.nextPingSeq(), at: performance.now() };
    call.write({ messages: [], ping: this.pingOutstanding.seq });
  }

  private onPong(call: PeerStream, pong: number): void {
    if (this.call !== call || this.pingOutstanding?.seq !== pong) return;
    this.rttMs = performance.now() - this.pingOutstanding.at;
    this.counters.roundTrips++;
    this.pingOutstanding = undefined;
    if (this.state === "connecting") {
      this.state = "connected";
      this.backoffMs = RECONNECT_BACKOFF_INITIAL_MS;
      this.lastError = undefined;
      this.lastReportedError = undefined;
      this.counters.streamsEstablished++;
      this.flush();
    }
  }

  private onCallEnded(call: PeerStream, error: StoreError): void {
    if (this.call !== call || this.state === "closed") return;
    const wasConnected = this.state === "connected";
    this.call = undefined;
    this.pingOutstanding = undefined;
    this.waitingDrain = false;
    this.sentAcks.reset();
    clearInterval(this.pingTimer);
    this.lastError = error.message;
    if (error.message !== this.lastReportedError) {
      this.lastReportedError = error.message;
      this.ctx.reportError(this.id, error);
    }
    // What was queued will not be sent; what was in flight may be lost. Either way Raft must
    // probe this peer again rather than assume delivery.
    const queued = this.queue.length - this.head;
    this.queue = [];
    this.head = 0;
    if (queued > 0) this.drop(queued);
    else if (wasConnected) this.ctx.reportUnreachable(this.id);
    this.state = "backoff";
    const wait = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, RECONNECT_BACKOFF_MAX_MS);
    // No jitter: each member has one stream per peer, so there is no crowd of clients to
    // spread out.
    this.reconnectTimer = setTimeout(() => {
      if (this.state === "backoff") this.connect();
    }, wait);
  }

  // --- snapshots -------------------------------------------------------------------------

  private failSnapshotLater(): void {
    this.counters.snapshotsFailed++;
    setImmediate(() => {
      if (this.state !== "closed") this.ctx.reportSnapshot(this.id, "failure");
    });
  }

  private sendSnapshot(msg: Message): void {
    const snapshot = msg.snapshot;
    // Raft sends one snapshot to a peer at a time (the peer's progress waits in
    // StateSnapshot); a second while one is in flight can only be stale.
    if (!snapshot || this.snapshotCall) {
      this.failSnapshotLater();
      return;
    }
    // A channel (so an HTTP/2 connection) of its own, so hundreds of MB of snapshot do not
    // hold up heartbeats.
    this.snapshotChannel ??= new GrpcChannel(this.target, PEER_CHANNEL_OPTIONS);
    const data = snapshot.data;
    const deadline =
      Date.now() +
      SNAPSHOT_DEADLINE_BASE_MS +
      Math.ceil((data.length / SNAPSHOT_MIN_BYTES_PER_SECOND) * 1000);
    let done = false;
    let waitingDrain = false;
    // A client-streaming call: chunks out, one SnapshotAck and OK back once the receiver has
    // persisted the snapshot (the ack carries nothing; its status is the answer).
    const call: ClientStream<SnapshotChunk, SnapshotAck> = this.snapshotChannel.stream(
      PEER_SERVICE.sendSnapshot,
      { deadline },
      {
        onMessage: () => {},
        onDrain: () => {
          if (!waitingDrain) return;
          waitingDrain = false;
          pump();
        },
        onEnd: (err) => {
          done = true;
          if (this.snapshotCall === call) this.snapshotCall = undefined;
          if (this.state === "closed") return;
          if (err) {
            this.counters.snapshotsFailed++;
            this.ctx.reportError(this.id, fromCallError(err));
            this.ctx.reportUnreachable(this.id);
            this.ctx.reportSnapshot(this.id, "failure");
          } else {
            this.counters.snapshotsSent++;
            this.ctx.reportSnapshot(this.id, "finish");
          }
        },
      },
    );
    this.snapshotCall = call;
    call.write({
      hello: this.hello,
      message: encodeMessage({ ...msg, snapshot: { ...snapshot, data: EMPTY } }),
      dataSize: data.length,
      dataCrc32: crc32(data),
      data: EMPTY,
    });
    let offset = 0;
    const pump = (): void => {
      while (!done && offset < data.length) {
        const end = Math.min(offset + SNAPSHOT_CHUNK_BYTES, data.length);
        const more = call.write({
          message: EMPTY,
          dataSize: 0,
          dataCrc32: 0,
          data: data.subarray(offset, end),
        });
        offset = end;
        if (!more) {
          waitingDrain = true;
          return;
        }
      }
      if (!done) call.end();
    };
    pump();
  }
}
