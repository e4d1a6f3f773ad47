// `pnpm bench:store`: tug-store against real etcd 3.4 on this machine, with the same client
// workload (./workload.ts) and the same Raft timing. Prints figures; asserts nothing.
//
// Progress goes to stderr; stdout gets the table and, as its last line, one JSON object:
//   {"tugPutsPerSec","etcdPutsPerSec","ratio","tugP99Ms","etcdP99Ms","tugCpuMsPerPut",
//    "etcdCpuMsPerPut","cpuRatio","tugFailoverGapMs","etcdFailoverGapMs", ...}
// (puts/s, p99 and member CPU per put at 64 clients). Member CPU per request (user + system
// time of the 3 member processes, from /proc, over a run's requests) is the figure that other
// load on the machine barely moves: optimize against it; throughput and latency follow it on
// an idle machine. A system that could not be measured has nulls, and the run
// exits 1.
//
// Environment:
//   BENCH_SYSTEMS        "etcd,tug" (default), or one of them
//   BENCH_SECONDS        seconds per throughput run (default 5)
//   BENCH_ROUNDS         runs of each workload per system, alternating systems (default 2)
//   BENCH_WARMUP_SECONDS seconds of 64-client puts on each system before the measured runs, not
//                        counted (default 10; 0 for none). tug-store's first seconds under
//                        load cost more per put (V8 still compiling its hot paths; also the
//                        first puts create the keys that later ones overwrite, as every run's
//                        clients start at key 0): without a warm-up its first 64-client round
//                        cost 1.3-1.9x the member CPU per put of its second, after 3 s still
//                        1.5-1.7x, after 10 s 1.2x (docs/store.md, "Measured 2026-12-06
//                        08:17-08:45")
//   BENCH_HEARTBEAT_MS   --heartbeat-interval for both (default 100, etcd's)
//   BENCH_ELECTION_MS    --election-timeout for both (default 1000, etcd's)
//   BENCH_REQUEST_TIMEOUT_MS  each put's deadline during the failover run (default 1000)
//   BENCH_TUG_STORE      "dist": run tug-store as `pnpm build` left it, not through tsx
//   BENCH_KEEP_LOGS      a directory: each member's log (stdout and stderr, e.g. with --trace-gc in
//                        BENCH_TUG_NODE_ARGS) is copied there as <token>-<member>.log before the
//                        temp dirs are removed
//   BENCH_WORKLOADS      which workloads to run, of put1,put64,getLinearizable,getSerializable,
//                        failover (default all); the others print as "—"

import { cpus } from "node:os";
import { LocalCluster, type MemberKind, stopClustersOnSignals } from "./cluster.js";
import {
  combineRuns,
  type FailoverResult,
  measureFailover,
  type RunStats,
  runGets,
  runPuts,
} from "./workload.js";

const HIGH_CONCURRENCY = 64;
/** Connections shared by the 64 clients (etcd's benchmark: --conns). */
const HIGH_CONCURRENCY_CONNS = 8;
const FAILOVER_WRITERS = 4;

function envNumber(name: string, fallback: number, zeroAllowed = false): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !zeroAllowed)) {
    throw new Error(`${name}=${raw} is not a ${zeroAllowed ? "number >= 0" : "positive number"}`);
  }
  return n;
}

const seconds = envNumber("BENCH_SECONDS", 5);
const heartbeatMs = envNumber("BENCH_HEARTBEAT_MS", 100);
const electionMs = envNumber("BENCH_ELECTION_MS", 1000);
const requestTimeoutMs = envNumber("BENCH_REQUEST_TIMEOUT_MS", 1000);
const rounds = envNumber("BENCH_ROUNDS", 2);
const warmupSeconds = envNumber("BENCH_WARMUP_SECONDS", 10, true);
const systems = (process.env.BENCH_SYSTEMS ?? "etcd,tug")
  .split(",")
  .map((s) => s.trim())
  .filter((s): s is MemberKind => {
    if (s === "etcd" || s === "tug") return true;
    throw new Error(`BENCH_SYSTEMS: unknown system "${s}" (use etcd, tug or both)`);
  });

const WORKLOADS = ["put1", "put64", "getLinearizable", "getSerializable", "failover"] as const;
type Workload = (typeof WORKLOADS)[number];
const workloads = new Set(
  (process.env.BENCH_WORKLOADS ?? WORKLOADS.join(","))
    .split(",")
    .map((s) => s.trim())
    .filter((s): s is Workload => {
      if ((WORKLOADS as readonly string[]).includes(s)) return true;
      throw new Error(`BENCH_WORKLOADS: unknown workload "${s}" (use ${WORKLOADS.join(", ")})`);
    }),
);

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** CPU the members spent per successful request of one workload, all its rounds taken together. */
interface CpuCost {
  /** Member CPU ms (user + system, summed over the 3 member processes) per request. */
  readonly memberMsPerOp: number;
  /** The bench client's own CPU ms per request (the same client code for both systems). */
  readonly clientMsPerOp: number;
}

interface SystemResult {
  readonly kind: MemberKind;
  readonly cpu: Readonly<Record<Phase["key"], CpuCost>>;
  readonly put1: RunStats;
  readonly put64: RunStats;
  readonly getLinearizable: RunStats;
  readonly getSerializable: RunStats;
  /** Absent when the failover workload was not run. */
  readonly failover?: FailoverResult;
}

function describe(s: RunStats): string {
  const errs = s.errors > 0 ? `, ${s.errors} errors (first: ${s.firstError})` : "";
  return `${s.perSec.toFixed(0)}/s, p50 ${s.p50Ms.toFixed(2)} ms, p99 ${s.p99Ms.toFixed(2)} ms${errs}`;
}

interface Phase {
  readonly label: string;
  readonly key: "put1" | "put64" | "getLinearizable" | "getSerializable";
  readonly run: (endpoints: readonly string[]) => Promise<RunStats>;
}

async function startSystem(kind: MemberKind): Promise<LocalCluster> {
  log(`== ${kind}: starting 3 members (heartbeat ${heartbeatMs} ms, election ${electionMs} ms)`);
  const cluster = await LocalCluster.create({
    kind,
    heartbeatMs,
    electionMs,
    token: `bench-${kind}`,
  });
  try {
    await cluster.start();
    log(`  up: ${cluster.endpoints.join(" ")}; leader ${await cluster.leader()}`);
    return cluster;
  } catch (err) {
    await dumpLogs(cluster);
    await cluster.stop();
    throw err;
  }
}

async function dumpLogs(cluster: LocalCluster): Promise<void> {
  for (const m of cluster.members) {
    log(`--- ${m.name} log tail ---\n${await cluster.logTail(m.name, 20)}`);
  }
}

/**
 * Both clusters run side by side (an idle one costs only heartbeats); each phase alternates
 * between them for `rounds` rounds, swapping who goes first, so that a change in the machine's
 * background load falls on both alike. The failover runs come last, one system at a time.
 */
async function benchAll(
  clusters: Map<MemberKind, LocalCluster>,
): Promise<Map<MemberKind, SystemResult>> {
  const durationMs = seconds * 1000;
  const many = { clients: HIGH_CONCURRENCY, conns: HIGH_CONCURRENCY_CONNS, durationMs };
  const phases: Phase[] = [
    {
      label: "puts, 1 client",
      key: "put1",
      run: (e) => runPuts(e, { clients: 1, conns: 1, durationMs }),
    },
    { label: `puts, ${HIGH_CONCURRENCY} clients`, key: "put64", run: (e) => runPuts(e, many) },
    {
      label: `linearizable gets, ${HIGH_CONCURRENCY} clients`,
      key: "getLinearizable",
      run: (e) => runGets(e, { ...many, serializable: false }),
    },
    {
      label: `serializable gets, ${HIGH_CONCURRENCY} clients`,
      key: "getSerializable",
      run: (e) => runGets(e, { ...many, serializable: true }),
    },
  ];
  const kinds = [...clusters.keys()];
  if (warmupSeconds > 0 && [...workloads].some((w) => w !== "failover")) {
    // Not counted: the first seconds under load pay for V8's compilation of tug-store's hot
    // paths (and of this client's) and create the keys the measured runs overwrite, which a
    // steady-state comparison leaves out. etcd gets the same warm-up.
    for (const kind of kinds) {
      const cluster = clusters.get(kind) as LocalCluster;
      const memberBefore = await cluster.cpuMs();
      const stats = await runPuts(cluster.endpoints, { ...many, durationMs: warmupSeconds * 1000 });
      const member = (await cluster.cpuMs()) - memberBefore;
      log(
        `  ${kind}: warm-up, ${HIGH_CONCURRENCY} clients, ${warmupSeconds} s (not counted): ` +
          `${describe(stats)}; CPU/op: members ${(member / stats.ops).toFixed(3)} ms`,
      );
    }
  }
  const runs = new Map<string, RunStats[]>();
  /** Per system and phase: member CPU ms, client CPU ms, requests. */
  const cpuSums = new Map<string, { member: number; client: number; ops: number }>();
  for (const phase of phases) {
    if (!workloads.has(phase.key)) continue;
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? kinds : [...kinds].reverse();
      for (const kind of order) {
        const cluster = clusters.get(kind) as LocalCluster;
        const memberBefore = await cluster.cpuMs();
        const clientBefore = process.cpuUsage();
        const stats = await phase.run(cluster.endpoints);
        const client = process.cpuUsage(clientBefore);
        const member = (await cluster.cpuMs()) - memberBefore;
        const clientMs = (client.user + client.system) / 1000;
        log(
          `  ${kind}: ${phase.label} (round ${round + 1}/${rounds}): ${describe(stats)}; ` +
            `CPU/op: members ${(member / stats.ops).toFixed(3)} ms, client ${(clientMs / stats.ops).toFixed(3)} ms`,
        );
        const k = `${kind}/${phase.key}`;
        runs.set(k, [...(runs.get(k) ?? []), stats]);
        const sum = cpuSums.get(k) ?? { member: 0, client: 0, ops: 0 };
        cpuSums.set(k, {
          member: sum.member + member,
          client: sum.client + clientMs,
          ops: sum.ops + stats.ops,
        });
      }
    }
  }
  const results = new Map<MemberKind, SystemResult>();
  for (const kind of kinds) {
    const cluster = clusters.get(kind) as LocalCluster;
    let failover: FailoverResult | undefined;
    if (workloads.has("failover")) {
      log(`  ${kind}: failover`);
      failover = await measureFailover(cluster, {
        writers: FAILOVER_WRITERS,
        warmupMs: 2000,
        afterResumeMs: 3000,
        maxWaitMs: 30_000,
        requestTimeoutMs,
        log,
      });
      log(
        `    longest write gap ${failover.gapMs.toFixed(0)} ms; first write after kill ` +
          `${failover.firstWriteAfterKillMs.toFixed(0)} ms; new leader ${failover.newLeader}; ` +
          `${failover.acked} acked, ${failover.lost} lost`,
      );
    }
    const get = (key: Phase["key"]): RunStats => combineRuns(runs.get(`${kind}/${key}`) ?? []);
    const cost = (key: Phase["key"]): CpuCost => {
      const sum = cpuSums.get(`${kind}/${key}`);
      if (sum === undefined || sum.ops === 0) return { memberMsPerOp: NaN, clientMsPerOp: NaN };
      return { memberMsPerOp: sum.member / sum.ops, clientMsPerOp: sum.client / sum.ops };
    };
    results.set(kind, {
      kind,
      cpu: {
        put1: cost("put1"),
        put64: cost("put64"),
        getLinearizable: cost("getLinearizable"),
        getSerializable: cost("getSerializable"),
      },
      put1: get("put1"),
      put64: get("put64"),
      getLinearizable: get("getLinearizable"),
      getSerializable: get("getSerializable"),
      ...(failover !== undefined ? { failover } : {}),
    });
  }
  return results;
}

function ratio(tug: number | undefined, etcd: number | undefined): number | null {
  if (tug === undefined || etcd === undefined || etcd === 0) return null;
  return Math.round((tug / etcd) * 100) / 100;
}

function round(n: number | undefined, digits = 0): number | null {
  if (n === undefined || !Number.isFinite(n)) return null;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function printTable(results: Map<MemberKind, SystemResult>): void {
  const etcd = results.get("etcd");
  const tug = results.get("tug");
  const rows: [string, (r: SystemResult) => number, number][] = [
    ["puts/s, 1 client", (r) => r.put1.perSec, 0],
    ["put p50 ms, 1 client", (r) => r.put1.p50Ms, 2],
    ["put p99 ms, 1 client", (r) => r.put1.p99Ms, 2],
    [`puts/s, ${HIGH_CONCURRENCY} clients`, (r) => r.put64.perSec, 0],
    [`put p50 ms, ${HIGH_CONCURRENCY} clients`, (r) => r.put64.p50Ms, 2],
    [`put p99 ms, ${HIGH_CONCURRENCY} clients`, (r) => r.put64.p99Ms, 2],
    ["member CPU ms per put, 1 client", (r) => r.cpu.put1.memberMsPerOp, 3],
    [`member CPU ms per put, ${HIGH_CONCURRENCY} clients`, (r) => r.cpu.put64.memberMsPerOp, 3],
    [`client CPU ms per put, ${HIGH_CONCURRENCY} clients`, (r) => r.cpu.put64.clientMsPerOp, 3],
    [`linearizable gets/s, ${HIGH_CONCURRENCY} clients`, (r) => r.getLinearizable.perSec, 0],
    ["linearizable get p99 ms", (r) => r.getLinearizable.p99Ms, 2],
    ["member CPU ms per linearizable get", (r) => r.cpu.getLinearizable.memberMsPerOp, 3],
    [`serializable gets/s, ${HIGH_CONCURRENCY} clients`, (r) => r.getSerializable.perSec, 0],
    ["serializable get p99 ms", (r) => r.getSerializable.p99Ms, 2],
    ["member CPU ms per serializable get", (r) => r.cpu.getSerializable.memberMsPerOp, 3],
    ["longest write gap after leader SIGKILL, ms", (r) => r.failover?.gapMs ?? NaN, 0],
    ["first write after leader SIGKILL, ms", (r) => r.failover?.firstWriteAfterKillMs ?? NaN, 0],
    ["acknowledged writes lost", (r) => r.failover?.lost ?? NaN, 0],
  ];
  const fmt = (n: number | undefined, d: number): string =>
    n === undefined || !Number.isFinite(n) ? "—" : n.toFixed(d);
  const lines = [
    "| | tug-store | etcd 3.4 | tug/etcd |",
    "| --- | ---: | ---: | ---: |",
    ...rows.map(([label, get, d]) => {
      const t = tug === undefined ? undefined : get(tug);
      const e = etcd === undefined ? undefined : get(etcd);
      const r = ratio(t, e);
      return `| ${label} | ${fmt(t, d)} | ${fmt(e, d)} | ${r === null ? "—" : `${r.toFixed(2)}×`} |`;
    }),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

async function main(): Promise<number> {
  const cpu = cpus();
  log(
    `store bench: ${cpu.length} cores (${cpu[0]?.model ?? "unknown"}), node ${process.version}, ` +
      `${rounds} rounds of ${seconds} s per workload, systems ${systems.join(", ")}`,
  );
  const clusters = new Map<MemberKind, LocalCluster>();
  const failures: string[] = [];
  let results = new Map<MemberKind, SystemResult>();
  try {
    for (const kind of systems) {
      try {
        clusters.set(kind, await startSystem(kind));
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        log(`!! ${kind} did not start: ${msg}`);
        failures.push(`${kind}: ${msg.split("\n")[0]}`);
      }
    }
    try {
      results = await benchAll(clusters);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      log(`!! the run failed: ${msg}`);
      failures.push(msg.split("\n")[0] ?? msg);
      for (const c of clusters.values()) await dumpLogs(c);
    }
  } finally {
    await Promise.all([...clusters.values()].map((c) => c.stop()));
  }
  printTable(results);
  const tug = results.get("tug");
  const etcd = results.get("etcd");
  const summary = {
    tugPutsPerSec: round(tug?.put64.perSec),
    etcdPutsPerSec: round(etcd?.put64.perSec),
    ratio: ratio(tug?.put64.perSec, etcd?.put64.perSec),
    tugP99Ms: round(tug?.put64.p99Ms, 2),
    etcdP99Ms: round(etcd?.put64.p99Ms, 2),
    tugCpuMsPerPut: round(tug?.cpu.put64.memberMsPerOp, 3),
    etcdCpuMsPerPut: round(etcd?.cpu.put64.memberMsPerOp, 3),
    cpuRatio: ratio(tug?.cpu.put64.memberMsPerOp, etcd?.cpu.put64.memberMsPerOp),
    tugFailoverGapMs: round(tug?.failover?.gapMs),
    etcdFailoverGapMs: round(etcd?.failover?.gapMs),
    tugCpuMsPerPut1: round(tug?.cpu.put1.memberMsPerOp, 3),
    etcdCpuMsPerPut1: round(etcd?.cpu.put1.memberMsPerOp, 3),
    tugPutsPerSec1: round(tug?.put1.perSec),
    etcdPutsPerSec1: round(etcd?.put1.perSec),
    tugLinearizableGetsPerSec: round(tug?.getLinearizable.perSec),
    etcdLinearizableGetsPerSec: round(etcd?.getLinearizable.perSec),
    tugSerializableGetsPerSec: round(tug?.getSerializable.perSec),
    etcdSerializableGetsPerSec: round(etcd?.getSerializable.perSec),
    tugAckedWritesLost: tug?.failover?.lost ?? null,
    etcdAckedWritesLost: etcd?.failover?.lost ?? null,
    cores: cpu.length,
    rounds,
    secondsPerRun: seconds,
    ...(failures.length > 0 ? { failures } : {}),
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return failures.length > 0 ? 1 : 0;
}

stopClustersOnSignals();
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`store bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
