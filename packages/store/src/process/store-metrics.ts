// tug-store's Prometheus metrics: etcd's names, types, help texts and buckets where etcd has
// the metric (so that etcd dashboards and alerts work unchanged), tug_raft_* for the Raft
// state etcd does not export, and a few process_* gauges. Values are read from the server's
// counters at scrape time; the peer round-trip histogram is fed by a sampler.

import { exponentialBuckets, type Histogram, type Labels, type MetricsRegistry } from "@tug/daemon";
import type { HistogramSnapshot, StoreServerMetrics } from "../server/metrics.js";

/** etcd's buckets for etcd_network_peer_round_trip_time_seconds: 0.1 ms doubling, 14 of them. */
export const PEER_RTT_BUCKETS = exponentialBuckets(0.0001, 2, 14);

const ROLES = ["follower", "pre-candidate", "candidate", "leader"] as const;

export interface StoreMetricsOptions {
  /** The server's counters now. */
  readonly read: () => StoreServerMetrics;
  readonly memberId: number;
  readonly name: string;
  readonly startedAtMs: number;
}

export interface StoreMetrics {
  /** Samples each connected peer's last round trip into the histogram (if it changed). */
  samplePeerRoundTrips(): void;
  readonly peerRoundTrip: Histogram;
}

export function registerStoreMetrics(reg: MetricsRegistry, o: StoreMetricsOptions): StoreMetrics {
  const m = o.read;
  const bool = (b: boolean): number => (b ? 1 : 0);

  reg.gauge(
    "etcd_server_has_leader",
    "Whether or not a leader exists. 1 is existence, 0 is not.",
    () => bool(m().hasLeader),
  );
  reg.gauge(
    "etcd_server_is_leader",
    "Whether or not this member is a leader. 1 if is, 0 otherwise.",
    () => bool(m().isLeader),
  );
  reg.counterFunc(
    "etcd_server_leader_changes_seen_total",
    "The number of leader changes seen.",
    () => m().leaderChanges,
  );
  // etcd declares these two as gauges; so does tug, for dashboards that query them as such.
  reg.gauge(
    "etcd_server_proposals_committed_total",
    "The total number of consensus proposals committed.",
    () => m().proposalsCommitted,
  );
  reg.gauge(
    "etcd_server_proposals_applied_total",
    "The total number of consensus proposals applied.",
    () => m().proposalsApplied,
  );
  reg.gauge(
    "etcd_server_proposals_pending",
    "The current number of pending proposals to commit.",
    () => m().proposalsPending,
  );
  reg.counterFunc(
    "etcd_server_proposals_failed_total",
    "The total number of failed proposals seen.",
    () => m().proposalsFailed,
  );
  reg.gauge(
    "etcd_server_id",
    "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.",
    () => [[{ server_id: o.memberId.toString(16) }, 1]],
  );
  reg.histogramFunc(
    "etcd_disk_wal_fsync_duration_seconds",
    "The latency distributions of fsync called by WAL.",
    () => m().walFsync,
  );
  reg.histogramFunc(
    "etcd_debugging_snap_save_total_duration_seconds",
    "The total latency distributions of save called by snapshot.",
    () => m().snapshotSave,
  );
  reg.gauge(
    "etcd_mvcc_db_total_size_in_bytes",
    "Total size of the underlying database physically allocated in bytes.",
    () => m().dbSizeBytes,
  );
  reg.gauge(
    "etcd_debugging_mvcc_current_revision",
    "The current revision of store.",
    () => m().revision,
  );
  reg.gauge(
    "etcd_debugging_mvcc_compact_revision",
    "The revision of the last compaction in store.",
    () => m().compactRevision,
  );
  reg.gauge("tug_leases", "Live leases on this member.", () => m().leases);

  const peerRoundTrip = reg.histogram(
    "etcd_network_peer_round_trip_time_seconds",
    "Round-Trip-Time histogram between peers",
    PEER_RTT_BUCKETS,
  );

  reg.gauge("tug_raft_term", "The Raft term this member is in.", () => m().term);
  reg.gauge(
    "tug_raft_commit_index",
    "The highest log index known committed.",
    () => m().proposalsCommitted,
  );
  reg.gauge(
    "tug_raft_applied_index",
    "The highest log index applied to the store.",
    () => m().proposalsApplied,
  );
  reg.gauge(
    "tug_raft_snapshot_index",
    "The log index of the latest snapshot.",
    () => m().snapshotIndex,
  );
  reg.gauge("tug_raft_role", "This member's Raft role: 1 for the current one.", () => {
    const role = m().role;
    return ROLES.map((r): readonly [Labels, number] => [{ role: r }, bool(role === r)]);
  });
  reg.gauge(
    "tug_raft_reads_pending",
    "Linearizable reads waiting for their read index.",
    () => m().readsPending,
  );
  reg.gauge("tug_peer_connected", "Whether the stream to a peer is up.", () =>
    m().peers.map((p): readonly [Labels, number] => [{ To: p.id.toString(16) }, bool(p.connected)]),
  );
  reg.counterFunc("tug_peer_sent_messages_total", "Raft messages sent to a peer.", () =>
    m().peers.map((p): readonly [Labels, number] => [{ To: p.id.toString(16) }, p.sentMessages]),
  );
  reg.counterFunc(
    "tug_peer_dropped_messages_total",
    "Raft messages to a peer dropped by the transport.",
    () =>
      m().peers.map((p): readonly [Labels, number] => [
        { To: p.id.toString(16) },
        p.droppedMessages,
      ]),
  );
  reg.counterFunc("tug_peer_received_messages_total", "Raft messages received from a peer.", () =>
    m().peers.map((p): readonly [Labels, number] => [
      { From: p.id.toString(16) },
      p.receivedMessages,
    ]),
  );

  reg.gauge(
    "process_start_time_seconds",
    "Start time of the process since unix epoch in seconds.",
    () => Math.floor(o.startedAtMs / 1000),
  );
  reg.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", () =>
    process.memoryUsage.rss(),
  );
  reg.counterFunc(
    "process_cpu_seconds_total",
    "Total user and system CPU time spent in seconds.",
    () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e6;
    },
  );

  const lastSample = new Map<number, number>();
  return {
    peerRoundTrip,
    samplePeerRoundTrips: () => {
      for (const p of m().peers) {
        if (!p.connected || p.roundTripMs === undefined) continue;
        // The transport keeps the last sample only; the same value again is the same sample.
        if (lastSample.get(p.id) === p.roundTripMs) continue;
        lastSample.set(p.id, p.roundTripMs);
        peerRoundTrip.observe(p.roundTripMs / 1000, { To: p.id.toString(16) });
      }
    },
  };
}

export type { HistogramSnapshot };
