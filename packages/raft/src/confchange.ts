// Single-server membership changes (Raft thesis §4.1). Changing one voter at a time keeps
// every majority of the old configuration overlapping every majority of the new one, so no
// joint consensus is needed. The core applies a change when its entry is applied (as etcd
// does) and allows only one unapplied change at a time.

import { RaftError } from "./errors.js";
import { Progress } from "./progress.js";
import type { ProgressTracker } from "./tracker.js";
import type { ConfChange, ConfState, NodeId } from "./types.js";
import { NONE } from "./types.js";

/**
 * Applies `cc` to `trk` in place. `lastIndex` is the log's last index, where a new member's
 * replication starts. Throws RaftError("invalid-conf-change") and leaves `trk` untouched if the
 * change would leave the group without a voter.
 */
export function applyConfChangeTo(trk: ProgressTracker, cc: ConfChange, lastIndex: number): void {
  if (cc.nodeId === NONE) return; // etcd's convention: a change for node 0 is a no-op.
  const id = cc.nodeId;
  switch (cc.type) {
    case "AddNode": {
      const pr = trk.progress.get(id);
      trk.learners.delete(id);
      trk.voters.add(id);
      if (pr === undefined) addProgress(trk, id, lastIndex, false);
      else pr.isLearner = false; // promotion of a learner (thesis §4.2.1)
      return;
    }
    case "AddLearnerNode": {
      if (trk.voters.has(id) && trk.voters.size === 1) {
        throw new RaftError(
          "invalid-conf-change",
          `cannot demote node ${id.toString(16)} to learner: it is the only voter; add another voter first`,
        );
      }
      const pr = trk.progress.get(id);
      trk.voters.delete(id);
      trk.learners.add(id);
      if (pr === undefined) addProgress(trk, id, lastIndex, true);
      else pr.isLearner = true;
      return;
    }
    case "RemoveNode": {
      if (trk.voters.has(id) && trk.voters.size === 1) {
        throw new RaftError(
          "invalid-conf-change",
          `cannot remove node ${id.toString(16)}: it is the only voter; add another voter first`,
        );
      }
      trk.voters.delete(id);
      trk.learners.delete(id);
      trk.progress.delete(id);
      return;
    }
  }
}

/** Rebuilds the tracker's configuration from a ConfState (on start, or from a snapshot). */
export function restoreConfState(trk: ProgressTracker, cs: ConfState, lastIndex: number): void {
  trk.voters.clear();
  trk.learners.clear();
  trk.progress.clear();
  for (const id of cs.voters) {
    trk.voters.add(id);
    addProgress(trk, id, lastIndex, false);
  }
  for (const id of cs.learners) {
    if (trk.voters.has(id)) {
      throw new RaftError(
        "invalid-conf-change",
        `node ${id.toString(16)} is listed both as a voter and as a learner in the configuration`,
      );
    }
    trk.learners.add(id);
    addProgress(trk, id, lastIndex, true);
  }
}

function addProgress(
  trk: ProgressTracker,
  id: NodeId,
  lastIndex: number,
  isLearner: boolean,
): void {
  const pr = new Progress(Math.max(lastIndex, 1), trk.maxInflight, trk.maxInflightBytes, isLearner);
  // A member just added counts as recently active, or check-quorum could depose the leader
  // before the new member had a chance to answer.
  pr.recentActive = true;
  trk.progress.set(id, pr);
}
