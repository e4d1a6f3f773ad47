// Replays one seed of the Raft simulator (packages/raft/test/support/sim.ts) and prints its
// trace: roles, terms, commits, faults, membership changes and the violation, if any.
//   pnpm raft:replay --seed 12345 --nodes 5 [--driver no-fsync] [--params '{"crashRate":0.1}'] [--quiet]

import {
  DRIVER_FLAWS,
  type DriverFlaw,
  type SimParams,
  simulate,
} from "../packages/raft/test/support/sim.js";

function usage(problem: string): never {
  console.error(`raft-replay: ${problem}`);
  console.error(
    "usage: pnpm raft:replay --seed <n> [--nodes 3|5] [--driver <flaw>] [--params '<json>'] [--no-durability-check] [--quiet]",
  );
  process.exit(2);
}

const args = process.argv.slice(2);
let seed: number | undefined;
let nodes: 3 | 5 = 3;
let driver: DriverFlaw = "none";
let quiet = false;
let durabilityCheck = true;
let params: Partial<SimParams> | undefined;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const v = args[i + 1];
  if (a === "--seed") {
    seed = Number(v);
    if (!Number.isSafeInteger(seed)) usage(`--seed ${v} is not an integer`);
    i++;
  } else if (a === "--nodes") {
    if (v !== "3" && v !== "5") usage(`--nodes ${v}: use 3 or 5`);
    nodes = v === "3" ? 3 : 5;
    i++;
  } else if (a === "--driver") {
    const flaw = DRIVER_FLAWS.find((f) => f === v);
    if (flaw === undefined) usage(`--driver ${v}: use one of ${DRIVER_FLAWS.join(", ")}`);
    driver = flaw;
    i++;
  } else if (a === "--params") {
    try {
      params = JSON.parse(v ?? "") as Partial<SimParams>;
    } catch {
      usage(`--params ${v}: not JSON; copy it from the failing test's replay line`);
    }
    i++;
  } else if (a === "--no-durability-check") {
    durabilityCheck = false;
  } else if (a === "--quiet") {
    quiet = true;
  } else if (a !== "--") {
    usage(`unknown argument ${a}`);
  }
}
if (seed === undefined) usage("--seed is required");

const result = simulate({
  seed,
  nodes,
  driver,
  params,
  durabilityCheck,
  trace: quiet ? undefined : (line) => console.log(line),
});
const s = result.stats;
console.log(
  `seed ${seed}, ${nodes} nodes: ${s.ticks} ticks, ${s.steps} steps, ${s.delivered} delivered, ${s.dropped} lost, ` +
    `${s.writes} writes (${s.acked} acknowledged), ${s.reads} reads (${s.readsAnswered} answered), ` +
    `${s.confChanges} conf changes, ${s.crashes} crashes, ${s.partitions} partitions, ` +
    `${s.snapshotsCreated} snapshots made, ${s.snapshotsInstalled} installed, max term ${s.maxTerm}, commit ${s.commitIndex}; ` +
    `leader ${s.leaderAfterHeal} and settled ${s.settledAfterHeal} ticks after the heal`,
);
if (result.violation !== undefined) {
  console.log(`VIOLATION ${result.violation.message}`);
  process.exit(1);
}
console.log("OK: every invariant held");
