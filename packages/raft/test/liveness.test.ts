// Liveness after the faults heal: every simulation ends with a fault phase, then everything
// heals (partitions lifted, crashed nodes restarted, no loss, in-order links) and the group
// must, within LIVENESS_BOUND_TICKS (derived in support/sim.ts), elect a leader that every
// member follows and apply every outstanding write on every member. Here the faults are
// turned up to their heaviest, with and without pre-vote, and the time to settle is reported.

import { describe, expect, it } from "vitest";
import { LIVENESS_BOUND_TICKS, type SimParams, simulate } from "./support/sim.js";

const BASE_SEED = 30_140_000;
const SEEDS = 150;

const HEAVY: Partial<SimParams> = {
  crashRate: 0.06,
  maxDowntime: 60,
  partitionRate: 0.03,
  cutRate: 0.03,
  dropRate: 0.2,
  maxDelay: 4,
  reorderRate: 0.1,
  confChangeRate: 0.04,
  transferRate: 0.02,
};

function percentile(xs: readonly number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function settleTimes(
  nodes: 3 | 5,
  params: Partial<SimParams>,
): { leader: number[]; settled: number[] } {
  const leader: number[] = [];
  const settled: number[] = [];
  const failures: string[] = [];
  for (let seed = BASE_SEED; seed < BASE_SEED + SEEDS; seed++) {
    const r = simulate({ seed, nodes, params });
    if (r.violation !== undefined) failures.push(r.violation.message);
    else {
      leader.push(r.stats.leaderAfterHeal);
      settled.push(r.stats.settledAfterHeal);
    }
  }
  if (failures.length > 0)
    expect.fail(`${failures.length} seed(s) failed:\n${failures.join("\n")}`);
  return { leader, settled };
}

describe("liveness after the faults heal", () => {
  for (const nodes of [3, 5] as const) {
    for (const preVote of [true, false]) {
      it(`${nodes} nodes, pre-vote ${preVote ? "on" : "off"}, heavy faults: a leader emerges and every write applies everywhere within ${LIVENESS_BOUND_TICKS} ticks of the heal`, () => {
        const { leader, settled } = settleTimes(nodes, { ...HEAVY, preVote });
        expect(settled.length).toBe(SEEDS);
        expect(Math.max(...settled)).toBeLessThanOrEqual(LIVENESS_BOUND_TICKS);
        console.log(
          `liveness, ${nodes} nodes, pre-vote ${preVote ? "on" : "off"}: ${SEEDS} seeds; ticks after the heal ` +
            `to a leader p50 ${percentile(leader, 50)} p99 ${percentile(leader, 99)} max ${Math.max(...leader)}, ` +
            `to settled p50 ${percentile(settled, 50)} p99 ${percentile(settled, 99)} max ${Math.max(...settled)} ` +
            `(bound ${LIVENESS_BOUND_TICKS})`,
        );
      });
    }
  }

  it("the liveness check fails for a driver that never sends MsgApp (nothing can commit)", () => {
    const r = simulate({ seed: BASE_SEED, nodes: 3, driver: "drop-appends" });
    expect(r.violation?.kind).toBe("liveness");
    expect(r.violation?.message).toContain(
      `not settled ${LIVENESS_BOUND_TICKS} ticks after the heal`,
    );
    expect(r.violation?.message).toMatch(/writes outstanding/);
    expect(r.violation?.message).toMatch(
      /replay: pnpm exec tsx scripts\/raft-replay\.ts --seed \d+ --nodes 3 --driver drop-appends/,
    );
  });
});
