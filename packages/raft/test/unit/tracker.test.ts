import { describe, expect, it } from "vitest";
import { restoreConfState } from "../../src/confchange.js";
import { ProgressTracker, sortedIds } from "../../src/tracker.js";
import type { NodeId } from "../../src/types.js";

function tracker(voters: NodeId[], learners: NodeId[] = [], lastIndex = 10): ProgressTracker {
  const trk = new ProgressTracker(256, 0);
  restoreConfState(trk, { voters, learners }, lastIndex);
  return trk;
}

function match(trk: ProgressTracker, m: Record<number, number>): void {
  for (const [id, idx] of Object.entries(m)) {
    const pr = trk.progress.get(Number(id));
    if (pr === undefined) throw new Error(`no progress for ${id}`);
    pr.match = idx;
  }
}

describe("ProgressTracker", () => {
  it("confState lists voters and learners sorted by id", () => {
    const trk = tracker([3, 1, 2], [9, 5]);
    expect(trk.confState()).toEqual({ voters: [1, 2, 3], learners: [5, 9] });
  });

  it("committed is the index a majority of voters matched (Raft §5.3)", () => {
    const trk = tracker([1, 2, 3]);
    match(trk, { 1: 7, 2: 5, 3: 2 });
    expect(trk.committed()).toBe(5);
  });

  it("committed ignores learners, however far ahead they are", () => {
    const trk = tracker([1, 2, 3], [4, 5]);
    match(trk, { 1: 7, 2: 1, 3: 1, 4: 9, 5: 9 });
    expect(trk.committed()).toBe(1);
  });

  it("visit walks voters and learners in increasing id order", () => {
    const trk = tracker([30, 10], [20, 5]);
    const seen: NodeId[] = [];
    trk.visit((id, pr) => {
      seen.push(id);
      expect(pr.isLearner).toBe(id === 20 || id === 5);
    });
    expect(seen).toEqual([5, 10, 20, 30]);
  });

  it("quorumActive: true when a majority of voters was recently active", () => {
    const trk = tracker([1, 2, 3]);
    trk.visit((_, pr) => {
      pr.recentActive = false;
    });
    expect(trk.quorumActive()).toBe(false);
    const p1 = trk.progress.get(1);
    const p2 = trk.progress.get(2);
    if (p1 === undefined || p2 === undefined) throw new Error("missing progress");
    p1.recentActive = true;
    expect(trk.quorumActive()).toBe(false);
    p2.recentActive = true;
    expect(trk.quorumActive()).toBe(true);
  });

  it("quorumActive: active learners do not make a quorum", () => {
    const trk = tracker([1, 2, 3], [4, 5, 6]);
    trk.visit((id, pr) => {
      pr.recentActive = id === 1 || id >= 4;
    });
    expect(trk.quorumActive()).toBe(false);
  });

  it("recordVote keeps a member's first vote of an election", () => {
    const trk = tracker([1, 2, 3]);
    trk.recordVote(1, true);
    trk.recordVote(2, false);
    trk.recordVote(2, true);
    expect(trk.tallyVotes()).toEqual({ granted: 1, rejected: 1, result: "pending" });
    trk.recordVote(3, true);
    expect(trk.tallyVotes()).toEqual({ granted: 2, rejected: 1, result: "won" });
  });

  it("tallyVotes counts voters only; learners' votes do not decide", () => {
    const trk = tracker([1, 2, 3], [4, 5]);
    trk.recordVote(1, true);
    trk.recordVote(4, true);
    trk.recordVote(5, true);
    expect(trk.tallyVotes()).toEqual({ granted: 1, rejected: 0, result: "pending" });
  });

  it("tallyVotes reports a lost election once a majority rejected", () => {
    const trk = tracker([1, 2, 3]);
    trk.recordVote(1, true);
    trk.recordVote(2, false);
    trk.recordVote(3, false);
    expect(trk.tallyVotes().result).toBe("lost");
  });

  it("resetVotes starts a new election", () => {
    const trk = tracker([1, 2, 3]);
    trk.recordVote(2, false);
    trk.resetVotes();
    trk.recordVote(2, true);
    expect(trk.tallyVotes()).toEqual({ granted: 1, rejected: 0, result: "pending" });
  });

  it("voteResultOf judges an arbitrary ack set under the current voters", () => {
    const trk = tracker([1, 2, 3, 4, 5]);
    expect(
      trk.voteResultOf(
        new Map([
          [1, true],
          [2, true],
        ]),
      ),
    ).toBe("pending");
    expect(
      trk.voteResultOf(
        new Map([
          [1, true],
          [2, true],
          [5, true],
        ]),
      ),
    ).toBe("won");
  });

  it("voterIds and sortedIds sort numerically, not as strings", () => {
    expect(tracker([10, 9, 100]).voterIds()).toEqual([9, 10, 100]);
    expect(sortedIds([0x20, 3, 0x100])).toEqual([3, 0x20, 0x100]);
  });
});
