// The peer transport of tug-store: Raft messages and snapshots between members over gRPC
// (proto/tug/peer.proto), with a fault layer for chaos experiments in the local mode.

export {
  type FaultDecision,
  FaultInjector,
  type FaultInjectorOptions,
  type LinkFaults,
} from "./fault-injector.js";
export {
  INBOUND_IDLE_TIMEOUT_MS,
  MAX_SNAPSHOT_BYTES,
  type StreamBrokenReason,
} from "./inbound-peers.js";
export {
  BATCH_TARGET_BYTES,
  BUSY_PING_EVERY,
  MAX_MESSAGE_BYTES,
  OUTBOUND_QUEUE_LIMIT,
  type OutboundStats,
  PING_INTERVAL_MS,
  PONG_TIMEOUT_MS,
  RECONNECT_BACKOFF_INITIAL_MS,
  RECONNECT_BACKOFF_MAX_MS,
  SNAPSHOT_CHUNK_BYTES,
} from "./outbound-peer.js";
export { type ClusterId, formatId } from "./peer-wire.js";
export {
  PEER_SERVER_OPTIONS,
  type PeerStats,
  type SnapshotStatus,
  Transport,
  type TransportOptions,
} from "./transport.js";
