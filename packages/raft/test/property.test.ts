// Property tests: thousands of seeded simulations of 3- and 5-node groups under crashes,
// partitions, loss, duplication, reordering, membership changes, leader transfers and
// snapshots, each checked after every step for the safety invariants of Raft §5 (election
// safety, log matching, leader completeness, state machine safety), for lost acknowledged
// writes and linearizable ReadIndex, and for liveness after the faults heal.
//
//   RAFT_SEED=1234 pnpm exec vitest run packages/raft/test/property.test.ts   # one seed
//   RAFT_SEEDS=10000 pnpm exec vitest run packages/raft/test/property.test.ts # more seeds
// A failure prints the seed and the command that replays it with a trace.

import { afterAll, describe, expect, it } from "vitest";
import {
  LIVENESS_BOUND_TICKS,
  type SimOptions,
  type SimParams,
  type SimResult,
  simulate,
  type ViolationKind,
} from "./support/sim.js";

const BASE_SEED = 20_140_000;
/** Seeds per node count by default: about a minute alone, two beside the other tests, on 2 cores. */
const DEFAULT_SEEDS: Readonly<Record<3 | 5, number>> = { 3: 3500, 5: 2500 };
const CHUNK = 100;

const SAFETY: readonly ViolationKind[] = [
  "election-safety",
  "log-matching",
  "leader-completeness",
  "state-machine-safety",
  "lost-ack",
  "read-linearizability",
];

function envInt(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`${name}=${v} is not a non-negative integer`);
  return n;
}

/** The seeds to run for each node count: RAFT_SEED runs one, RAFT_SEEDS sets the total. */
function seedsFor(nodes: 3 | 5): number[] {
  const one = envInt("RAFT_SEED");
  if (one !== undefined) return [one];
  const total = envInt("RAFT_SEEDS");
  const count =
    total === undefined
      ? DEFAULT_SEEDS[nodes]
      : nodes === 3
        ? Math.ceil(total * 0.6)
        : Math.floor(total * 0.4);
  return Array.from({ length: count }, (_, i) => BASE_SEED + i);
}

const totals = {
  seeds: 0,
  steps: 0,
  ms: 0,
  maxLeader: 0,
  maxSettled: 0,
  crashes: 0,
  partitions: 0,
  confChanges: 0,
};
const started = Date.now();

afterAll(() => {
  if (totals.seeds === 0) return;
  console.log(
    `raft property tests: ${totals.seeds} seeds, ${(totals.steps / 1e6).toFixed(1)}M checked steps, ` +
      `${totals.crashes} crashes, ${totals.partitions} partitions, ${totals.confChanges} membership changes, ` +
      `${((Date.now() - started) / 1000).toFixed(1)} s; after the heal the slowest run had a leader in ` +
      `${totals.maxLeader} ticks and settled in ${totals.maxSettled} (bound ${LIVENESS_BOUND_TICKS})`,
  );
});

function runChunk(nodes: 3 | 5, seeds: readonly number[]): void {
  const failures: string[] = [];
  for (const seed of seeds) {
    const r = simulate({ seed, nodes });
    totals.seeds++;
    totals.steps += r.stats.steps;
    totals.crashes += r.stats.crashes;
    totals.partitions += r.stats.partitions;
    totals.confChanges += r.stats.confChanges;
    totals.maxLeader = Math.max(totals.maxLeader, r.stats.leaderAfterHeal);
    totals.maxSettled = Math.max(totals.maxSettled, r.stats.settledAfterHeal);
    if (r.violation !== undefined) failures.push(r.violation.message);
  }
  if (failures.length > 0)
    expect.fail(`${failures.length} seed(s) failed:\n${failures.join("\n")}`);
}

for (const nodes of [3, 5] as const) {
  describe(`${nodes}-node groups under random faults`, () => {
    const seeds = seedsFor(nodes);
    for (let i = 0; i < seeds.length; i += CHUNK) {
      const chunk = seeds.slice(i, i + CHUNK);
      it(`seeds ${chunk[0]}..${chunk[chunk.length - 1]}: every safety invariant holds at every step, and the group settles after the heal`, () => {
        runChunk(nodes, chunk);
      });
    }
  });
}

/** The first seed, from BASE_SEED on, on which the checker reports one of `kinds`. */
function firstCaught(
  opts: Omit<SimOptions, "seed">,
  kinds: readonly ViolationKind[],
  maxSeeds: number,
): SimResult | undefined {
  for (let seed = BASE_SEED; seed < BASE_SEED + maxSeeds; seed++) {
    const r = simulate({ ...opts, seed });
    if (r.violation !== undefined && kinds.includes(r.violation.kind)) return r;
  }
  return undefined;
}

describe("the checker catches broken drivers", () => {
  it("reports a driver that fsyncs only new entries (a wrong mustSync) at the first vote it sends before its term and vote are durable", () => {
    const r = simulate({ seed: BASE_SEED, nodes: 3, driver: "sync-entries-only" });
    expect(r.violation?.kind).toBe("durability");
    expect(r.violation?.message).toMatch(/sent MsgVote.* on disk/);
    expect(r.violation?.message).toContain(
      `replay: pnpm exec tsx scripts/raft-replay.ts --seed ${BASE_SEED} --nodes 3 --driver sync-entries-only`,
    );
  });

  it("reports a driver that never fsyncs, so it acknowledges entries before they are durable", () => {
    const caught = firstCaught(
      { nodes: 3, driver: "no-fsync", params: { preVote: false } },
      ["durability"],
      20,
    );
    expect(caught?.violation?.message).toMatch(
      /durability: node \d+ (acknowledged entry|sent Msg)/,
    );
  });

  it("without the durability check, still catches a driver that never fsyncs: a crash loses acknowledged entries", () => {
    const caught = firstCaught(
      { nodes: 3, driver: "no-fsync", durabilityCheck: false },
      SAFETY,
      100,
    );
    expect(caught?.violation?.message).toContain("--driver no-fsync --no-durability-check");
    console.log(`no-fsync driver caught: ${caught?.violation?.message.split("\n")[0]}`);
  });

  it("without the durability check, still catches a driver that fsyncs only new entries: a crash forgets a vote and a term gets two leaders", () => {
    // Votes are lost only by a crash between voting and the next fsync; crash often, campaign
    // often, and turn pre-vote off so that lost votes can elect a second leader in a term.
    const crashy: Partial<SimParams> = {
      crashRate: 0.2,
      maxDowntime: 3,
      preVote: false,
      checkQuorum: false,
      campaignRate: 0.05,
      dupRate: 0.05,
      reorderRate: 0.1,
      maxDelay: 2,
      writeRate: 0.1,
    };
    const opts = {
      nodes: 3,
      driver: "sync-entries-only",
      params: crashy,
      durabilityCheck: false,
    } as const;
    const caught = firstCaught(opts, SAFETY, 300);
    expect(caught?.violation?.message).toContain("--driver sync-entries-only --params");
    console.log(`sync-entries-only driver caught: ${caught?.violation?.message.split("\n")[0]}`);
    // The same run with the honest driver holds every invariant.
    if (caught !== undefined) {
      const honest = simulate({ seed: caught.seed, nodes: 3, params: crashy });
      expect(honest.violation?.message).toBeUndefined();
    }
  });
});
