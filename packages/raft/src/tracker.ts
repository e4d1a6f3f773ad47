// The leader's view of the group: the configuration (voters and learners), each member's
// Progress, and the votes of the election in course. Iteration is always in id order so that
// the messages the core emits are deterministic.

import type { Progress } from "./progress.js";
import { majorityCommittedIndex, majorityVoteResult, type VoteResult } from "./quorum.js";
import type { ConfState, NodeId } from "./types.js";

export interface TallyResult {
  readonly granted: number;
  readonly rejected: number;
  readonly result: VoteResult;
}

export class ProgressTracker {
  readonly voters = new Set<NodeId>();
  readonly learners = new Set<NodeId>();
  readonly progress = new Map<NodeId, Progress>();
  private readonly votes = new Map<NodeId, boolean>();

  constructor(
    readonly maxInflight: number,
    readonly maxInflightBytes: number,
  ) {}

  confState(): ConfState {
    return { voters: sortedIds(this.voters), learners: sortedIds(this.learners) };
  }

  /** The largest index acknowledged by a majority of voters (Raft §5.3, §5.4.2). */
  committed(): number {
    return majorityCommittedIndex(this.voters, (id) => this.progress.get(id)?.match);
  }

  /** Visits every member, voters and learners, in increasing id order. */
  visit(fn: (id: NodeId, pr: Progress) => void): void {
    for (const id of this.memberIds()) {
      const pr = this.progress.get(id);
      if (pr !== undefined) fn(id, pr);
    }
  }

  // visit() runs on every proposal; re-sorting the ids each time showed in profiles.
  private sortedMembers: NodeId[] = [];

  /** Member ids in increasing order. The array is shared: callers must not mutate it. */
  memberIds(): readonly NodeId[] {
    const cached = this.sortedMembers;
    let valid = cached.length === this.progress.size;
    for (let i = 0; valid && i < cached.length; i++) valid = this.progress.has(cached[i] ?? 0);
    if (!valid) this.sortedMembers = sortedIds(this.progress.keys());
    return this.sortedMembers;
  }

  /** Whether a majority of voters was heard from recently (check-quorum, thesis §6.2). */
  quorumActive(): boolean {
    const active = new Map<NodeId, boolean>();
    this.visit((id, pr) => {
      if (!pr.isLearner) active.set(id, pr.recentActive);
    });
    return majorityVoteResult(this.voters, active) === "won";
  }

  voterIds(): NodeId[] {
    return sortedIds(this.voters);
  }

  resetVotes(): void {
    this.votes.clear();
  }

  /** Records a vote; a second vote from the same member in one election is ignored. */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  /** The outcome of `votes` under the current voters (used for ReadIndex heartbeat acks). */
  voteResultOf(votes: ReadonlyMap<NodeId, boolean>): VoteResult {
    return majorityVoteResult(this.voters, votes);
  }

  tallyVotes(): TallyResult {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voters) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    return { granted, rejected, result: majorityVoteResult(this.voters, this.votes) };
  }
}

export function sortedIds(ids: Iterable<NodeId>): NodeId[] {
  return [...ids].sort((a, b) => a - b);
}
