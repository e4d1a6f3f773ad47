import { describe, expect, it } from "vitest";
import { majorityCommittedIndex, majorityVoteResult, type VoteResult } from "../../src/quorum.js";
import type { NodeId } from "../../src/types.js";
import { Rng } from "../support/rng.js";

function ackedFrom(acks: Record<number, number>): (id: NodeId) => number | undefined {
  return (id) => acks[id];
}

function votesFrom(votes: Record<number, boolean>): ReadonlyMap<NodeId, boolean> {
  return new Map(Object.entries(votes).map(([id, v]) => [Number(id), v]));
}

/**
 * Brute force, straight from the definition: the largest index i such that some majority of
 * voters each acknowledged at least i.
 */
function bruteCommitted(
  voters: readonly NodeId[],
  acked: (id: NodeId) => number | undefined,
): number {
  if (voters.length === 0) return Number.MAX_SAFE_INTEGER;
  const candidates = [0, ...voters.map((id) => acked(id) ?? 0)];
  let best = 0;
  for (const i of candidates) {
    const holders = voters.filter((id) => (acked(id) ?? 0) >= i).length;
    if (holders * 2 > voters.length && i > best) best = i;
  }
  return best;
}

/** Brute force: enumerate how the missing votes could fall. */
function bruteVote(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.length === 0) return "won";
  const missing = voters.filter((id) => !votes.has(id));
  let canWin = false;
  let canLose = false;
  for (let mask = 0; mask < 1 << missing.length; mask++) {
    let granted = 0;
    for (const id of voters) {
      const v = votes.get(id);
      if (v === true) granted++;
      else if (v === undefined && mask & (1 << missing.indexOf(id))) granted++;
    }
    if (granted * 2 > voters.length) canWin = true;
    else canLose = true;
  }
  if (canWin && !canLose) return "won";
  if (canLose && !canWin) return "lost";
  return "pending";
}

describe("majorityCommittedIndex", () => {
  const cases: { name: string; voters: NodeId[]; acks: Record<number, number>; want: number }[] = [
    {
      name: "empty configuration commits everything",
      voters: [],
      acks: {},
      want: Number.MAX_SAFE_INTEGER,
    },
    { name: "single voter: its own ack", voters: [1], acks: { 1: 7 }, want: 7 },
    { name: "single voter with no ack", voters: [1], acks: {}, want: 0 },
    { name: "two voters need both", voters: [1, 2], acks: { 1: 10, 2: 5 }, want: 5 },
    { name: "two voters, one missing", voters: [1, 2], acks: { 1: 10 }, want: 0 },
    { name: "three voters: the median", voters: [1, 2, 3], acks: { 1: 10, 2: 5, 3: 1 }, want: 5 },
    { name: "three voters, one missing", voters: [1, 2, 3], acks: { 1: 10, 2: 8 }, want: 8 },
    { name: "three voters, two missing", voters: [1, 2, 3], acks: { 1: 10 }, want: 0 },
    {
      name: "four voters need three",
      voters: [1, 2, 3, 4],
      acks: { 1: 9, 2: 8, 3: 7, 4: 1 },
      want: 7,
    },
    {
      name: "five voters need three",
      voters: [1, 2, 3, 4, 5],
      acks: { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5 },
      want: 3,
    },
    { name: "ties", voters: [1, 2, 3, 4, 5], acks: { 1: 4, 2: 4, 3: 2, 4: 2, 5: 2 }, want: 2 },
    {
      name: "acks from non-voters are ignored",
      voters: [1, 2, 3],
      acks: { 1: 9, 4: 9, 5: 9 },
      want: 0,
    },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.want}`, () => {
      expect(majorityCommittedIndex(c.voters, ackedFrom(c.acks))).toBe(c.want);
    });
  }

  it("does not depend on the order voters are listed in", () => {
    const acks = ackedFrom({ 1: 3, 2: 9, 3: 1, 4: 7, 5: 5 });
    expect(majorityCommittedIndex([5, 3, 1, 4, 2], acks)).toBe(5);
    expect(majorityCommittedIndex(new Set([2, 4, 1, 3, 5]), acks)).toBe(5);
  });

  it("agrees with the brute-force definition on 5000 seeded random configurations", () => {
    const rng = new Rng(20240501);
    for (let trial = 0; trial < 5000; trial++) {
      const n = rng.intn(8);
      const voters = Array.from({ length: n }, (_, i) => i + 1 + rng.intn(3) * 10);
      const unique = [...new Set(voters)];
      const acks: Record<number, number> = {};
      for (const id of unique) if (!rng.chance(0.2)) acks[id] = rng.intn(20);
      const got = majorityCommittedIndex(unique, ackedFrom(acks));
      const want = bruteCommitted(unique, ackedFrom(acks));
      if (got !== want) {
        throw new Error(
          `trial ${trial}: voters ${unique} acks ${JSON.stringify(acks)}: got ${got}, want ${want}`,
        );
      }
    }
  });
});

describe("majorityVoteResult", () => {
  const cases: {
    name: string;
    voters: NodeId[];
    votes: Record<number, boolean>;
    want: VoteResult;
  }[] = [
    { name: "empty configuration wins", voters: [], votes: {}, want: "won" },
    { name: "single voter, no vote yet", voters: [1], votes: {}, want: "pending" },
    { name: "single voter granted", voters: [1], votes: { 1: true }, want: "won" },
    { name: "single voter rejected", voters: [1], votes: { 1: false }, want: "lost" },
    { name: "two voters, one granted", voters: [1, 2], votes: { 1: true }, want: "pending" },
    {
      name: "two voters, one rejected",
      voters: [1, 2],
      votes: { 1: true, 2: false },
      want: "lost",
    },
    { name: "two voters, both granted", voters: [1, 2], votes: { 1: true, 2: true }, want: "won" },
    {
      name: "three voters, two granted",
      voters: [1, 2, 3],
      votes: { 1: true, 2: true },
      want: "won",
    },
    {
      name: "three voters, split pending",
      voters: [1, 2, 3],
      votes: { 1: true, 2: false },
      want: "pending",
    },
    {
      name: "three voters, two rejected",
      voters: [1, 2, 3],
      votes: { 2: false, 3: false },
      want: "lost",
    },
    {
      name: "four voters, two granted is not a majority",
      voters: [1, 2, 3, 4],
      votes: { 1: true, 2: true },
      want: "pending",
    },
    {
      name: "four voters, two rejected loses",
      voters: [1, 2, 3, 4],
      votes: { 1: true, 2: true, 3: false, 4: false },
      want: "lost",
    },
    {
      name: "five voters, three granted",
      voters: [1, 2, 3, 4, 5],
      votes: { 1: true, 3: true, 5: true },
      want: "won",
    },
    {
      name: "votes from non-voters do not count",
      voters: [1, 2, 3],
      votes: { 1: true, 7: true, 8: true },
      want: "pending",
    },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.want}`, () => {
      expect(majorityVoteResult(c.voters, votesFrom(c.votes))).toBe(c.want);
    });
  }

  it("agrees with brute-force enumeration of the missing votes on 5000 seeded random elections", () => {
    const rng = new Rng(77);
    for (let trial = 0; trial < 5000; trial++) {
      const n = rng.intn(8);
      const voters = Array.from({ length: n }, (_, i) => i + 1);
      const votes = new Map<NodeId, boolean>();
      for (const id of voters) {
        const r = rng.intn(3);
        if (r === 1) votes.set(id, true);
        else if (r === 2) votes.set(id, false);
      }
      // Some votes from outsiders, which must not count.
      if (rng.chance(0.3)) votes.set(100 + rng.intn(5), rng.chance(0.5));
      const got = majorityVoteResult(voters, votes);
      const want = bruteVote(voters, votes);
      if (got !== want) {
        throw new Error(
          `trial ${trial}: voters ${voters} votes ${JSON.stringify([...votes])}: got ${got}, want ${want}`,
        );
      }
    }
  });
});
