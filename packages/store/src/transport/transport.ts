// The peer transport of tug-store: how the members of one Raft group exchange messages and
// snapshots over gRPC (proto/tug/peer.proto). One Transport per member: it sends the messages
// of each Ready to their peers (queued, batched, never blocking the Raft loop), receives its
// peers' messages and snapshots, and tells the Raft driver what it must know: a peer could not
// be reached (→ RawNode.reportUnreachable), a snapshot send finished or failed
// (→ RawNode.reportSnapshot), the stream from a peer broke (→ if it was the leader, pre-vote at
// once), and a received snapshot must be persisted before Raft sees it.
//
// Every callback is called from the event loop, never from within send().

import { GrpcServer, type GrpcServerOptions } from "@tug/grpc";
import { isLocalMessage, type Message, type NodeId } from "@tug/raft";
import { StoreError } from "../errors.js";
import type { FaultInjector } from "./fault-injector.js";
import { InboundPeers, type StreamBrokenReason } from "./inbound-peers.js";
import {
  MAX_STREAM_REQUEST_BYTES,
  OUTBOUND_QUEUE_LIMIT,
  OutboundPeer,
  type OutboundStats,
} from "./outbound-peer.js";
import { asStoreError, type ClusterId, formatId, PEER_SERVICE, peerTarget } from "./peer-wire.js";

export type SnapshotStatus = "finish" | "failure";

export interface TransportOptions {
  /** This member's Raft id (non-zero). */
  readonly id: NodeId;
  /** The cluster's id; calls from members of another cluster are refused. */
  readonly clusterId: ClusterId | number;
  /**
   * A Raft message from a peer, to step into the Raft node. Called in the order the peer sent
   * them (per peer). A MsgSnap comes here only after onSnapshot has persisted it.
   */
  readonly onMessage: (msg: Message) => void;
  /**
   * A snapshot from a peer (msg is its MsgSnap, data is msg.snapshot.data). Persist it, then
   * resolve: only after that does the transport hand msg to onMessage and acknowledge the
   * sender. A rejection fails the transfer (the sender reports failure to its Raft node).
   */
  readonly onSnapshot: (msg: Message, data: Uint8Array) => Promise<void>;
  /** Messages to `id` were dropped: call RawNode.reportUnreachable(id). Coalesced per turn. */
  readonly onUnreachable?: (id: NodeId) => void;
  /** A MsgSnap to `id` was delivered and persisted, or not: call RawNode.reportSnapshot. */
  readonly onSnapshotStatus?: (id: NodeId, status: SnapshotStatus) => void;
  /** A stream from `id` came up (the peer connected, or reconnected). */
  readonly onPeerActive?: (id: NodeId) => void;
  /**
   * The established stream from `id` ended with an error: its process died, the connection
   * dropped, it went silent or sent garbage (see StreamBrokenReason). If `id` was the leader,
   * start a pre-vote now. Not called when the peer ends its stream cleanly (it closed its
   * transport) or reconnects first.
   */
  readonly onPeerStreamBroken?: (id: NodeId, reason: StreamBrokenReason) => void;
  /**
   * Something went wrong with a peer that the operator may need to see, e.g. "member 2
   * belongs to cluster 1f, this is cluster 2a". `id` is undefined for a caller that never
   * said who it was. Repeats of the same outbound error are reported once.
   */
  readonly onPeerError?: (id: NodeId | undefined, error: StoreError) => void;
  /** Faults to inject into outgoing messages (the local chaos mode). */
  readonly faults?: FaultInjector;
  /** Most messages queued for one peer before it is reported unreachable. */
  readonly queueLimit?: number;
}

/** One peer as the transport sees it, for metrics ("peer round-trip") and status. */
export interface PeerStats extends OutboundStats {
  readonly id: NodeId;
  /** Raft messages received from this peer. */
  readonly receivedMessages: number;
  /** A stream from this peer to us is up. */
  readonly inboundConnected: boolean;
}

/** Options for the GrpcServer that serves the peer service (see attach). */
export const PEER_SERVER_OPTIONS: GrpcServerOptions = {
  maxReceiveMessageBytes: MAX_STREAM_REQUEST_BYTES,
};

export class Transport {
  readonly id: NodeId;
  readonly clusterId: ClusterId;
  private readonly options: TransportOptions;
  private readonly peers = new Map<NodeId, OutboundPeer>();
  private readonly inbound: InboundPeers;
  private readonly unreachable = new Set<NodeId>();
  private unreachableScheduled = false;
  private server: GrpcServer | undefined;
  private closed = false;

  constructor(options: TransportOptions) {
    if (!Number.isSafeInteger(options.id) || options.id <= 0) {
      throw new StoreError(
        "INVALID_ARGUMENT",
        `transport: id ${options.id} is not a member id; want an integer in [1, 2^53-1]`,
      );
    }
    this.id = options.id;
    this.clusterId = BigInt(options.clusterId);
    this.options = options;
    this.inbound = new InboundPeers({
      self: this.id,
      clusterId: this.clusterId,
      deliver: (msg) => this.options.onMessage(msg),
      persistSnapshot: (msg, data) => this.options.onSnapshot(msg, data),
      peerActive: (id) => this.options.onPeerActive?.(id),
      peerStreamBroken: (id, reason) => this.options.onPeerStreamBroken?.(id, reason),
      reportError: (id, error) => this.options.onPeerError?.(id, error),
    });
  }

  /** Starts sending to member `id` at `url` (http://host:port). */
  addPeer(id: NodeId, url: string): void {
    this.checkOpen();
    if (id === this.id) {
      throw new StoreError("INVALID_ARGUMENT", `transport: member ${formatId(id)} is this member`);
    }
    const existing = this.peers.get(id);
    if (existing) {
      if (existing.url === url) return;
      throw new StoreError(
        "ALREADY_EXISTS",
        `transport: member ${formatId(id)} is already a peer at ${existing.url}; use updatePeer to move it to ${url}`,
      );
    }
    const target = peerTarget(url, `peer URL of member ${formatId(id)}`);
    this.peers.set(id, new OutboundPeer(id, url, target, this.outboundContext()));
  }

  /** Stops sending to `id`; its stream is ended cleanly. Unknown ids are ignored. */
  removePeer(id: NodeId): void {
    const peer = this.peers.get(id);
    if (!peer) return;
    this.peers.delete(id);
    void peer.close();
  }

  /** Moves peer `id` to a new URL: its stream is reopened there. */
  updatePeer(id: NodeId, url: string): void {
    this.checkOpen();
    const peer = this.peers.get(id);
    if (!peer) {
      throw new StoreError(
        "NOT_FOUND",
        `transport: member ${formatId(id)} is not a peer; use addPeer`,
      );
    }
    if (peer.url === url) return;
    const target = peerTarget(url, `peer URL of member ${formatId(id)}`);
    this.peers.set(id, new OutboundPeer(id, url, target, this.outboundContext()));
    void peer.close();
  }

  hasPeer(id: NodeId): boolean {
    return this.peers.has(id);
  }

  /**
   * Sends the messages of a Ready (each to its `to`). Never blocks and never waits: messages
   * are queued per peer, and what cannot be delivered is reported through onUnreachable and
   * onSnapshotStatus. MsgSnap goes by a chunked SendSnapshot call of its own. Throws only for
   * a message no Raft node would send (a local type, or not from this member).
   */
  send(msgs: readonly Message[]): void {
    if (this.closed) return;
    for (const msg of msgs) {
      if (isLocalMessage(msg.type) || msg.from !== this.id) {
        throw new StoreError(
          "INVALID_ARGUMENT",
          `transport of member ${formatId(this.id)}: cannot send ${msg.type} from ` +
            `${formatId(msg.from)}; only this member's own wire messages go to peers`,
        );
      }
      const peer = this.peers.get(msg.to);
      if (peer) {
        peer.send(msg);
        continue;
      }
      // Not (yet) a peer, e.g. a member whose addition is not applied here yet.
      this.reportUnreachable(msg.to);
      if (msg.type === "MsgSnap") {
        const to = msg.to;
        setImmediate(() => {
          if (!this.closed) this.options.onSnapshotStatus?.(to, "failure");
        });
      }
    }
  }

  /** Serves the peer service on `server` (which should be built with PEER_SERVER_OPTIONS). */
  attach(server: GrpcServer): void {
    server.addService(PEER_SERVICE, this.inbound.handlers);
  }

  /**
   * Starts a server of its own for the peer service on `url` (http://host:port; port 0 picks
   * a free one) and returns the URL it listens on.
   */
  async listen(url: string): Promise<string> {
    this.checkOpen();
    if (this.server) {
      throw new StoreError("FAILED_PRECONDITION", "transport: already listening");
    }
    const target = peerTarget(url, "peer listen URL");
    const server = new GrpcServer(PEER_SERVER_OPTIONS);
    this.attach(server);
    let port: number;
    try {
      port = await server.listen(target);
    } catch (e) {
      server.forceShutdown();
      throw new StoreError("UNAVAILABLE", `peer listener on ${url}: ${asStoreError(e).message}`, {
        cause: e,
      });
    }
    this.server = server;
    return `http://${new URL(url).hostname}:${port}`;
  }

  /** The last measured round trip to `id` over its stream, in ms ("peer round-trip"). */
  roundTripMs(id: NodeId): number | undefined {
    return this.peers.get(id)?.stats().roundTripMs;
  }

  peerStats(id: NodeId): PeerStats | undefined {
    const peer = this.peers.get(id);
    if (!peer) return undefined;
    return {
      id,
      ...peer.stats(),
      receivedMessages: this.inbound.receivedMessages(id),
      inboundConnected: this.inbound.hasStream(id),
    };
  }

  /** The ids of the current peers. */
  peerIds(): NodeId[] {
    return [...this.peers.keys()];
  }

  /** Ends every stream (cleanly), stops the server if it has one; calls no callback after. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.inbound.close();
    const peers = [...this.peers.values()];
    this.peers.clear();
    await Promise.all(peers.map((p) => p.close()));
    this.server?.forceShutdown();
    this.server = undefined;
  }

  private checkOpen(): void {
    if (this.closed) throw new StoreError("FAILED_PRECONDITION", "transport: closed");
  }

  private outboundContext() {
    return {
      self: this.id,
      clusterId: this.clusterId,
      queueLimit: this.options.queueLimit ?? OUTBOUND_QUEUE_LIMIT,
      faults: this.options.faults,
      reportUnreachable: (id: NodeId) => this.reportUnreachable(id),
      reportSnapshot: (id: NodeId, status: SnapshotStatus) => {
        if (!this.closed) this.options.onSnapshotStatus?.(id, status);
      },
      reportError: (id: NodeId, error: StoreError) => {
        if (!this.closed) this.options.onPeerError?.(id, error);
      },
    };
  }

  /** Coalesces unreachable reports: one call per peer per turn of the event loop. */
  private reportUnreachable(id: NodeId): void {
    this.unreachable.add(id);
    if (this.unreachableScheduled) return;
    this.unreachableScheduled = true;
    setImmediate(() => {
      this.unreachableScheduled = false;
      const ids = [...this.unreachable];
      this.unreachable.clear();
      if (this.closed) return;
      for (const id of ids) this.options.onUnreachable?.(id);
    });
  }
}
