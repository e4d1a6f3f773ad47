// What a leader knows about one follower: Raft §5.3's nextIndex and matchIndex, plus the flow
// control state of etcd-io/raft (docs: "Progress" design). In `probe` the leader sends one
// append at a time until it finds where the logs match; in `replicate` it streams appends,
// up to the inflight window; in `snapshot` it waits for a snapshot to be installed.

import { Inflights } from "./inflights.js";
import type { ProgressState, ProgressStatus } from "./types.js";

export class Progress {
  match = 0;
  next = 1;
  state: ProgressState = "probe";
  /** In snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from within the current election timeout (check-quorum, thesis §6.2). */
  recentActive = false;
  /** In probe state: an append is outstanding, so send no other until it is answered. */
  msgAppFlowPaused = false;
  /**
   * Since the leader's last heartbeat round, an append went to this follower, and the
   * follower acknowledged an append: it is alive and in step, and that append did a
   * heartbeat's work (it reset the follower's election timer and carried the commit index),
   * so the next round may leave it out (Raft.bcastHeartbeat).
   */
  appendSinceBeat = false;
  ackSinceBeat = false;
  isLearner = false;
  readonly inflights: Inflights;

  constructor(next: number, maxInflight: number, maxInflightBytes: number, isLearner = false) {
    this.next = next;
    this.inflights = new Inflights(maxInflight, maxInflightBytes);
    this.isLearner = isLearner;
  }

  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === "snapshot") {
      // The snapshot may have been applied: resume right after it, or after match if later.
      const pending = this.pendingSnapshot;
      this.resetState("probe");
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState("probe");
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState("replicate");
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState("snapshot");
    this.pendingSnapshot = snapshotIndex;
  }

  /** Records that an append of `entries` entries (`bytes` of payload) was sent. */
  sentEntries(entries: number, bytes: number): void {
    if (this.state === "replicate") {
      if (entries > 0) {
        // Optimistically assume delivery (pipelining): the next append starts after these.
        this.next += entries;
        this.inflights.add(this.next - 1, bytes);
      }
    } else if (this.state === "probe") {
      // One probe at a time, until answered.
      this.msgAppFlowPaused = true;
    }
  }

  /** A follower acknowledged `n`; returns false if that was stale news. */
  maybeUpdate(n: number): boolean {
    if (n <= this.match) return false;
    this.match = n;
    this.next = Math.max(this.next, n + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /**
   * A follower rejected the append whose previous index was `rejected`; `matchHint` is the
   * highest index at which the logs may match. Returns false if the rejection is stale.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === "replicate") {
      // An append below match was answered out of order: ignore it.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // In probe state only the outstanding probe's answer counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /** Whether sending appends to this follower is on hold (flow control). */
  isPaused(): boolean {
    switch (this.state) {
      case "probe":
        return this.msgAppFlowPaused;
      case "replicate":
        return this.inflights.full();
      case "snapshot":
        return true;
    }
  }

  status(): ProgressStatus {
    return {
      match: this.match,
      next: this.next,
      state: this.state,
      isLearner: this.isLearner,
      inflight: this.inflights.count(),
      paused: this.isPaused(),
      recentActive: this.recentActive,
      pendingSnapshot: this.pendingSnapshot,
    };
  }
}
