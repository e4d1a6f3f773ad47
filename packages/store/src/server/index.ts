// tug-store's member: the Raft-backed EtcdBackend, its configuration, and what it exports for
// the process around it (metrics, Raft status, events).

export {
  DEFAULT_CLUSTER_TOKEN,
  DEFAULT_ELECTION_MS,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_SNAPSHOT_COUNT,
  type InitialMember,
  type StoreLogger,
  type StoreServerConfig,
} from "./config.js";
export { computeClusterId, computeMemberId } from "./ids.js";
export type { HistogramSnapshot, PeerMetrics, StoreServerMetrics } from "./metrics.js";
export { listenPeer, type PeerListener } from "./peer-listener.js";
export { STATE_SNAPSHOT_VERSION } from "./state-machine.js";
export { type RaftStatus, StoreServer, type StoreServerEvents } from "./store-server.js";
