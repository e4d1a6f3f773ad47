import { describe, expect, it } from "vitest";
import { applyConfChangeTo, restoreConfState } from "../../src/confchange.js";
import { isRaftError } from "../../src/errors.js";
import { ProgressTracker } from "../../src/tracker.js";
import type { ConfChange, ConfChangeType, NodeId } from "../../src/types.js";

const LAST_INDEX = 10;

function tracker(voters: NodeId[], learners: NodeId[] = []): ProgressTracker {
  const trk = new ProgressTracker(256, 0);
  restoreConfState(trk, { voters, learners }, LAST_INDEX);
  return trk;
}

function cc(type: ConfChangeType, nodeId: NodeId): ConfChange {
  return { type, nodeId, context: new Uint8Array(0) };
}

function expectRaftError(fn: () => void, reason: string): void {
  try {
    fn();
  } catch (e) {
    if (isRaftError(e) && e.reason === reason) return;
    throw e;
  }
  throw new Error(`expected RaftError ${reason}, nothing was thrown`);
}

describe("applyConfChangeTo (single-server changes, thesis §4.1)", () => {
  it("AddNode adds a voter whose replication starts at the last index", () => {
    const trk = tracker([1, 2, 3]);
    applyConfChangeTo(trk, cc("AddNode", 4), LAST_INDEX);
    expect(trk.confState()).toEqual({ voters: [1, 2, 3, 4], learners: [] });
    const pr = trk.progress.get(4);
    expect(pr?.next).toBe(LAST_INDEX);
    expect(pr?.match).toBe(0);
    expect(pr?.isLearner).toBe(false);
    expect(pr?.state).toBe("probe");
    // A newcomer counts as active, or check-quorum could depose the leader at once.
    expect(pr?.recentActive).toBe(true);
  });

  it("AddNode on an empty log starts the new member at index 1", () => {
    const trk = tracker([1]);
    applyConfChangeTo(trk, cc("AddNode", 2), 0);
    expect(trk.progress.get(2)?.next).toBe(1);
  });

  it("AddNode of an existing voter is a no-op that keeps its progress", () => {
    const trk = tracker([1, 2, 3]);
    const pr = trk.progress.get(2);
    if (pr === undefined) throw new Error("missing progress");
    pr.match = 7;
    pr.next = 8;
    applyConfChangeTo(trk, cc("AddNode", 2), 20);
    expect(trk.confState()).toEqual({ voters: [1, 2, 3], learners: [] });
    expect(trk.progress.get(2)).toBe(pr);
    expect(pr.match).toBe(7);
    expect(pr.next).toBe(8);
  });

  it("AddLearnerNode adds a learner that does not vote", () => {
    const trk = tracker([1, 2, 3]);
    applyConfChangeTo(trk, cc("AddLearnerNode", 4), LAST_INDEX);
    expect(trk.confState()).toEqual({ voters: [1, 2, 3], learners: [4] });
    expect(trk.progress.get(4)?.isLearner).toBe(true);
  });

  it("AddNode of a learner promotes it and keeps its replication progress (thesis §4.2.1)", () => {
    const trk = tracker([1, 2, 3], [4]);
    const pr = trk.progress.get(4);
    if (pr === undefined) throw new Error("missing progress");
    pr.match = 9;
    applyConfChangeTo(trk, cc("AddNode", 4), LAST_INDEX);
    expect(trk.confState()).toEqual({ voters: [1, 2, 3, 4], learners: [] });
    expect(trk.progress.get(4)).toBe(pr);
    expect(pr.isLearner).toBe(false);
    expect(pr.match).toBe(9);
  });

  it("AddLearnerNode of a voter demotes it and keeps its progress", () => {
    const trk = tracker([1, 2, 3]);
    const pr = trk.progress.get(3);
    if (pr === undefined) throw new Error("missing progress");
    pr.match = 6;
    applyConfChangeTo(trk, cc("AddLearnerNode", 3), LAST_INDEX);
    expect(trk.confState()).toEqual({ voters: [1, 2], learners: [3] });
    expect(trk.progress.get(3)).toBe(pr);
    expect(pr.isLearner).toBe(true);
    expect(pr.match).toBe(6);
  });

  it("RemoveNode removes a voter and its progress", () => {
    const trk = tracker([1, 2, 3]);
    applyConfChangeTo(trk, cc("RemoveNode", 2), LAST_INDEX);
    expect(trk.confState()).toEqual({ voters: [1, 3], learners: [] });
    expect(trk.progress.has(2)).toBe(false);
  });

  it("RemoveNode removes a learner", () => {
    const trk = tracker([1], [2]);
    applyConfChangeTo(trk, cc("RemoveNode", 2), LAST_INDEX);
    expect(trk.confState()).toEqual({ voters: [1], learners: [] });
    expect(trk.progress.has(2)).toBe(false);
  });

  it("RemoveNode of a non-member changes nothing", () => {
    const trk = tracker([1, 2], [3]);
    applyConfChangeTo(trk, cc("RemoveNode", 9), LAST_INDEX);
    expect(trk.confState()).toEqual({ voters: [1, 2], learners: [3] });
    expect([...trk.progress.keys()].sort()).toEqual([1, 2, 3]);
  });

  it("removing the last voter is refused and leaves the tracker untouched", () => {
    const trk = tracker([1], [2]);
    expectRaftError(
      () => applyConfChangeTo(trk, cc("RemoveNode", 1), LAST_INDEX),
      "invalid-conf-change",
    );
    expect(trk.confState()).toEqual({ voters: [1], learners: [2] });
    expect(trk.progress.has(1)).toBe(true);
  });

  it("the refusal names the node and the fix, with code invalid_argument", () => {
    const trk = tracker([0x1f]);
    try {
      applyConfChangeTo(trk, cc("RemoveNode", 0x1f), LAST_INDEX);
      throw new Error("not refused");
    } catch (e) {
      if (!isRaftError(e)) throw e;
      expect(e.code).toBe("invalid_argument");
      expect(e.message).toContain("1f");
      expect(e.message).toMatch(/add another voter/);
    }
  });

  it("demoting the last voter to learner is refused", () => {
    const trk = tracker([1]);
    expectRaftError(
      () => applyConfChangeTo(trk, cc("AddLearnerNode", 1), LAST_INDEX),
      "invalid-conf-change",
    );
    expect(trk.confState()).toEqual({ voters: [1], learners: [] });
    expect(trk.progress.get(1)?.isLearner).toBe(false);
  });

  for (const type of ["AddNode", "AddLearnerNode", "RemoveNode"] as const) {
    it(`${type} for node 0 is a no-op (etcd's convention)`, () => {
      const trk = tracker([1, 2]);
      applyConfChangeTo(trk, cc(type, 0), LAST_INDEX);
      expect(trk.confState()).toEqual({ voters: [1, 2], learners: [] });
      expect(trk.progress.has(0)).toBe(false);
    });
  }

  it("a learner can join a group with no voters yet (a node that is joining)", () => {
    const trk = tracker([]);
    applyConfChangeTo(trk, cc("AddLearnerNode", 5), LAST_INDEX);
    expect(trk.confState()).toEqual({ voters: [], learners: [5] });
  });
});

describe("restoreConfState", () => {
  it("rebuilds voters, learners and fresh progress at the last index", () => {
    const trk = tracker([1, 2]);
    const pr = trk.progress.get(1);
    if (pr === undefined) throw new Error("missing progress");
    pr.match = 5;
    restoreConfState(trk, { voters: [2, 3], learners: [4] }, 42);
    expect(trk.confState()).toEqual({ voters: [2, 3], learners: [4] });
    expect(trk.progress.has(1)).toBe(false);
    for (const id of [2, 3, 4]) {
      expect(trk.progress.get(id)?.next).toBe(42);
      expect(trk.progress.get(id)?.match).toBe(0);
    }
    expect(trk.progress.get(4)?.isLearner).toBe(true);
  });

  it("refuses a configuration listing a node as both voter and learner", () => {
    const trk = new ProgressTracker(256, 0);
    expectRaftError(
      () => restoreConfState(trk, { voters: [1, 2], learners: [2] }, 1),
      "invalid-conf-change",
    );
  });
});
