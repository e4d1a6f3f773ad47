// `pnpm bench:store`: tug-store against real etcd 3.4 on this machine, with the same client
// workload (./workload.ts) and the same Raft timing. Prints figures; asserts nothing.
//
// Progress goes to stderr; stdout gets the table and, as its last line, one JSON object:
//   {"tugPutsPerSec","etcdPutsPerSec","ratio","tugP99Ms","etcdP99Ms","tugFailoverGapMs",
//    "etcdFailoverGapMs", ...}
// (puts/s and p99 at 64 clients). A system that could not be measured has nulls, and the run
// exits 1.
//
// Environment:
//   BENCH_SYSTEMS        "etcd,tug" (default), or one of them
//   BENCH_SECONDS        seconds per throughput run (default 5)
//   BENCH_HEARTBEAT_MS   --heartbeat-interval for both (default 100, etcd's)
//   BENCH_ELECTION_MS    --election-timeout for both (default 1000, etcd's)
//   BENCH_REQUEST_TIMEOUT_MS  each put's deadline during the failover run (default 1000)

import { cpus } from "node:os";
import { LocalCluster, type MemberKind } from "./cluster.js";
import {
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

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    throw new Error(`${name}=${raw} is not a positive number`);
  }
  return n;
}

const seconds = envNumber("BENCH_SECONDS", 5);
const heartbeatMs = envNumber("BENCH_HEARTBEAT_MS", 100);
const electionMs = envNumber("BENCH_ELECTION_MS", 1000);
const requestTimeoutMs = envNumber("BENCH_REQUEST_TIMEOUT_MS", 1000);
const systems = (process.env.BENCH_SYSTEMS ?? "etcd,tug")
  .split(",")
  .map((s) => s.trim())
  .filter((s): s is MemberKind => {
    if (s === "etcd" || s === "tug") return true;
    throw new Error(`BENCH_SYSTEMS: unknown system "${s}" (use etcd, tug or both)`);
  });

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

interface SystemResult {
  readonly kind: MemberKind;
  readonly put1: RunStats;
  readonly put64: RunStats;
  readonly getLinearizable: RunStats;
  readonly getSerializable: RunStats;
  readonly failover: FailoverResult;
}

function describe(s: RunStats): string {
  const errs = s.errors > 0 ? `, ${s.errors} errors (first: ${s.firstError})` : "";
  return `${s.perSec.toFixed(0)}/s, p50 ${s.p50Ms.toFixed(2)} ms, p99 ${s.p99Ms.toFixed(2)} ms${errs}`;
}

async function benchSystem(kind: MemberKind): Promise<SystemResult> {
  log(`== ${kind}: starting 3 members (heartbeat ${heartbeatMs} ms, election ${electionMs} ms)`);
  const cluster = await LocalCluster.create({
    kind,
    heartbeatMs,
    electionMs,
    token: `bench-${kind}`,
  });
  try {
    await cluster.start();
    const endpoints = cluster.endpoints;
    log(`  up: ${endpoints.join(" ")}; leader ${await cluster.leader()}`);
    const durationMs = seconds * 1000;

    log("  puts, 1 client");
    const put1 = await runPuts(endpoints, { clients: 1, conns: 1, durationMs });
    log(`    ${describe(put1)}`);
    log(`  puts, ${HIGH_CONCURRENCY} clients`);
    const put64 = await runPuts(endpoints, {
      clients: HIGH_CONCURRENCY,
      conns: HIGH_CONCURRENCY_CONNS,
      durationMs,
    });
    log(`    ${describe(put64)}`);
    log(`  linearizable gets, ${HIGH_CONCURRENCY} clients`);
    const getLinearizable = await runGets(endpoints, {
      clients: HIGH_CONCURRENCY,
      conns: HIGH_CONCURRENCY_CONNS,
      durationMs,
      serializable: false,
    });
    log(`    ${describe(getLinearizable)}`);
    log(`  serializable gets, ${HIGH_CONCURRENCY} clients`);
    const getSerializable = await runGets(endpoints, {
      clients: HIGH_CONCURRENCY,
      conns: HIGH_CONCURRENCY_CONNS,
      durationMs,
      serializable: true,
    });
    log(`    ${describe(getSerializable)}`);

    log("  failover");
    const failover = await measureFailover(cluster, {
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
    return { kind, put1, put64, getLinearizable, getSerializable, failover };
  } catch (err) {
    for (const m of cluster.members) {
      log(`--- ${m.name} log tail ---\n${await cluster.logTail(m.name, 20)}`);
    }
    throw err;
  } finally {
    await cluster.stop();
  }
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
    [`linearizable gets/s, ${HIGH_CONCURRENCY} clients`, (r) => r.getLinearizable.perSec, 0],
    ["linearizable get p99 ms", (r) => r.getLinearizable.p99Ms, 2],
    [`serializable gets/s, ${HIGH_CONCURRENCY} clients`, (r) => r.getSerializable.perSec, 0],
    ["serializable get p99 ms", (r) => r.getSerializable.p99Ms, 2],
    ["longest write gap after leader SIGKILL, ms", (r) => r.failover.gapMs, 0],
    ["first write after leader SIGKILL, ms", (r) => r.failover.firstWriteAfterKillMs, 0],
    ["acknowledged writes lost", (r) => r.failover.lost, 0],
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
      `${seconds} s per run, systems ${systems.join(", ")}`,
  );
  const results = new Map<MemberKind, SystemResult>();
  const failures: string[] = [];
  for (const kind of systems) {
    try {
      results.set(kind, await benchSystem(kind));
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      log(`!! ${kind} failed: ${msg}`);
      failures.push(`${kind}: ${msg.split("\n")[0]}`);
    }
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
    tugFailoverGapMs: round(tug?.failover.gapMs),
    etcdFailoverGapMs: round(etcd?.failover.gapMs),
    tugPutsPerSec1: round(tug?.put1.perSec),
    etcdPutsPerSec1: round(etcd?.put1.perSec),
    tugLinearizableGetsPerSec: round(tug?.getLinearizable.perSec),
    etcdLinearizableGetsPerSec: round(etcd?.getLinearizable.perSec),
    tugSerializableGetsPerSec: round(tug?.getSerializable.perSec),
    etcdSerializableGetsPerSec: round(etcd?.getSerializable.perSec),
    tugAckedWritesLost: tug?.failover.lost ?? null,
    etcdAckedWritesLost: etcd?.failover.lost ?? null,
    cores: cpu.length,
    ...(failures.length > 0 ? { failures } : {}),
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`store bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
