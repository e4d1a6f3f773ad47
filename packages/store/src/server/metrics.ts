// What a StoreServer counts, for the process to export as Prometheus metrics (etcd's names in
// the comments), and a small cumulative histogram.

import type { NodeId, Role } from "@tug/raft";

/** A Prometheus-style histogram: cumulative counts per upper bound, in seconds. */
export class Histogram {
  private readonly counts: number[];
  private total = 0;
  private sumSeconds = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = bounds.map(() => 0);
  }

  /** etcd's buckets for disk latencies: 1 ms doubling to about 8 s. */
  static diskLatency(): Histogram {
    return new Histogram(Array.from({ length: 14 }, (_, i) => 0.001 * 2 ** i));
  }

  observe(seconds: number): void {
    this.total++;
    this.sumSeconds += seconds;
    for (let i = 0; i < this.bounds.length; i++) {
      if (seconds <= (this.bounds[i] as number)) this.counts[i] = (this.counts[i] as number) + 1;
    }
  }

  snapshot(): HistogramSnapshot {
    return {
      bounds: this.bounds,
      cumulativeCounts: [...this.counts],
      count: this.total,
      sumSeconds: this.sumSeconds,
    };
  }
}

export interface HistogramSnapshot {
  /** Upper bounds in seconds (the +Inf bucket is `count`). */
  readonly bounds: readonly number[];
  /** Observations <= each bound. */
  readonly cumulativeCounts: readonly number[];
  readonly count: number;
  readonly sumSeconds: number;
}

export interface PeerMetrics {
  readonly id: NodeId;
  readonly url: string;
  readonly connected: boolean;
  /** etcd_network_peer_round_trip_time_seconds, as the last sample (ms). */
  readonly roundTripMs: number | undefined;
  readonly sentMessages: number;
  readonly droppedMessages: number;
  readonly receivedMessages: number;
}

export interface StoreServerMetrics {
  /** etcd_server_has_leader. */
  readonly hasLeader: boolean;
  /** etcd_server_is_leader. */
  readonly isLeader: boolean;
  readonly role: Role;
  readonly term: number;
  /** etcd_server_leader_changes_seen_total. */
  readonly leaderChanges: number;
  /** etcd_server_proposals_committed_total (the commit index). */
  readonly proposalsCommitted: number;
  /** etcd_server_proposals_applied_total (the applied index). */
  readonly proposalsApplied: number;
  /** etcd_server_proposals_pending. */
  readonly proposalsPending: number;
  /** etcd_server_proposals_failed_total. */
  readonly proposalsFailed: number;
  /** Linearizable reads waiting for their read index. */
  readonly readsPending: number;
  /** etcd_disk_wal_fsync_duration_seconds. */
  readonly walFsync: HistogramSnapshot;
  /** etcd_disk_backend_snapshot_duration_seconds, for the Raft snapshots taken here. */
  readonly snapshotSave: HistogramSnapshot;
  /** etcd_mvcc_db_total_size_in_bytes (approximate: the keyspace with its history). */
  readonly dbSizeBytes: number;
  readonly revision: number;
  readonly compactRevision: number;
  readonly leases: number;
  readonly snapshotIndex: number;
  readonly peers: readonly PeerMetrics[];
}
