// Majority quorums (Raft §5.2, §5.3): the index a majority of voters has acknowledged, and the
// outcome of an election. Pure functions over plain data, so they are tested on their own.

import type { NodeId } from "./types.js";

export type VoteResult = "pending" | "lost" | "won";

/**
 * The largest index that a majority of `voters` has acknowledged. Voters missing from `acked`
 * count as having acknowledged nothing. An empty configuration commits everything (it never
 * stands in the way of another, joint, majority), as in etcd's MajorityConfig.
 */
export function majorityCommittedIndex(
  voters: Iterable<NodeId>,
  acked: (id: NodeId) => number | undefined,
): number {
  const indexes: number[] = [];
  for (const id of voters) indexes.push(acked(id) ?? 0);
  if (indexes.length === 0) return Number.MAX_SAFE_INTEGER;
  indexes.sort((a, b) => b - a);
  // With n voters, the (floor(n/2)+1)-th largest index is held by a majority.
  return indexes[Math.floor(indexes.length / 2)] ?? 0;
}

/**
 * Whether `votes` (true = granted) already decide an election among `voters`: won once a
 * majority granted, lost once a majority can no longer be reached, pending otherwise.
 */
export function majorityVoteResult(
  voters: Iterable<NodeId>,
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  let total = 0;
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    total++;
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  if (total === 0) return "won";
  const q = Math.floor(total / 2) + 1;
  if (granted >= q) return "won";
  if (granted + missing >= q) return "pending";
  return "lost";
}
