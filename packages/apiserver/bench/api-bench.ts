// `pnpm bench:api`: tug-apiserver's request latency and watch fan-out, against a 3-member
// tug-store, all real processes on this machine. Prints figures; asserts nothing.
//
// 1. Open-loop load, one verb at a time, at each rate of BENCH_RATES: creates of a small pod,
//    updates (a label changes, with the resourceVersion last read), gets (quorum reads, as
//    kubectl's), and lists of a namespace of 100 pods (limit 500). Latency is measured from
//    each request's scheduled time (no coordinated omission).
// 2. Watch fan-out: BENCH_WATCH_CONNECTIONS × BENCH_WATCHES_PER_CONNECTION watches on pods,
//    then BENCH_WATCH_WRITES pod creates at BENCH_WATCH_WRITE_RATE/s; each watcher times each
//    event from the write's send time (carried in an annotation).
//
// Progress goes to stderr; stdout gets a table and, as its last line, one JSON object:
//   {"mutatingP99Ms","readP99Ms","watchDeliveryP99Ms", ...}
// mutating = creates and updates, read = gets and lists, both at the first rate (100/s).
// Targets: mutating p99 ≤ 50 ms at 100 req/s (Kubernetes' SLO for mutating calls is 1 s),
// watch delivery p99 ≤ 100 ms with 1000 watchers.
//
// Environment:
//   BENCH_SECONDS                  seconds per verb and rate (default 10)
//   BENCH_WARMUP_SECONDS           each verb at the first rate first, not counted (default 2)
//   BENCH_RATES                    requests/s, comma-separated (default "100,500")
//   BENCH_WATCH_CONNECTIONS        gRPC connections of the watchers (default 10)
//   BENCH_WATCHES_PER_CONNECTION   watches on each (default 100)
//   BENCH_WATCH_WRITES             writes the watchers must see (default 40)
//   BENCH_WATCH_WRITE_RATE         of those, per second (default 2: 2000 deliveries/s)
//   BENCH_WATCH_DECODE             "raw" (default): watchers read only the annotation from the
//                                  event bytes; "full": ApiClient watches decoding every pod
//   BENCH_APISERVER_NODE_ARGS      node flags for the apiserver, e.g.
//                                  "--cpu-prof --cpu-prof-dir=/tmp/prof"
//   BENCH_STORE_NODE_ARGS          node flags for the store members
//   BENCH_KEEP_LOGS                "1": keep the temp dir with every process's log
//   BENCH_PHASES                   "load,watch" (default), or one of them

import { cpus } from "node:os";
import { performance } from "node:perf_hooks";
import { type Pod, PodSchema } from "@tug/api";
import { ApiClient } from "@tug/client";
import {
  createNamespaces,
  createReadPods,
  LIST_LIMIT,
  LIST_NAMESPACE_PODS,
  READ_NAMESPACE,
  REQUEST_TIMEOUT_MS,
  verbRequests,
} from "./api-workload.js";
import { type LoadStats, mergeStats, runOpenLoop } from "./open-loop.js";
import { BenchEnvironment, stopEverythingOnSignals } from "./processes.js";
import { type FanoutResult, measureFanout } from "./watch-fanout.js";

const TARGET_MUTATING_P99_MS = 50;
const TARGET_WATCH_P99_MS = 100;
/** Between runs, wait until a get takes less than this... */
const SETTLED_GET_MS = 50;
/** ...but no longer than this. */
const SETTLE_MAX_MS = 30_000;

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    throw new Error(`${name}=${raw} is not a positive number; unset it or give e.g. ${fallback}`);
  }
  return n;
}

const seconds = envNumber("BENCH_SECONDS", 10);
const warmupSeconds = envNumber("BENCH_WARMUP_SECONDS", 2);
const rates = (process.env.BENCH_RATES ?? "100,500").split(",").map((r) => {
  const n = Number(r.trim());
  if (!Number.isFinite(n) || n <= 0) {
    throw new Error(`BENCH_RATES: "${r}" is not a positive number; give e.g. "100,500"`);
  }
  return n;
});
const watchConnections = envNumber("BENCH_WATCH_CONNECTIONS", 10);
const watchesPerConnection = envNumber("BENCH_WATCHES_PER_CONNECTION", 100);
const watchWrites = envNumber("BENCH_WATCH_WRITES", 40);
const watchWriteRate = envNumber("BENCH_WATCH_WRITE_RATE", 2);
const watchDecode = ((): "raw" | "full" => {
  const d = process.env.BENCH_WATCH_DECODE ?? "raw";
  if (d !== "raw" && d !== "full") {
    throw new Error(`BENCH_WATCH_DECODE=${d}: give "raw" (default) or "full"`);
  }
  return d;
})();
const phases = new Set(
  (process.env.BENCH_PHASES ?? "load,watch").split(",").map((p) => {
    const phase = p.trim();
    if (phase !== "load" && phase !== "watch") {
      throw new Error(`BENCH_PHASES: unknown phase "${phase}"; give "load", "watch" or both`);
    }
    return phase;
  }),
);

const VERBS = ["create", "update", "get", "list"] as const;

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function describe(s: LoadStats): string {
  const errs = s.errors > 0 ? `, ${s.errors} errors (first: ${s.firstError})` : "";
  const cpu =
    s.serverCpuMsPerRequest === undefined
      ? ""
      : `, apiserver CPU ${s.serverCpuMsPerRequest.toFixed(2)} ms/req`;
  return `${s.sent} sent, p50 ${s.p50Ms.toFixed(1)} ms, p99 ${s.p99Ms.toFixed(1)} ms${cpu}${errs}`;
}

/** Registered pod watchers, from the apiserver's /metrics. */
async function podWatchers(healthUrl: string): Promise<number> {
  const text = await (await fetch(`${healthUrl}/metrics`)).text();
  const m = /^apiserver_registered_watchers\{resource="pods"\} (\d+)$/m.exec(text);
  return m === null ? 0 : Number(m[1]);
}

/** CPU ms used so far by the apiserver, the store members (summed) and this process. */
interface CpuSnapshot {
  readonly apiserver: number;
  readonly store: number;
  readonly client: number;
}

async function cpuSnapshot(env: BenchEnvironment): Promise<CpuSnapshot> {
  let apiserver = 0;
  let store = 0;
  for (const p of env.processes) {
    if (p.name === "apiserver") apiserver += await p.cpuMs();
    else store += await p.cpuMs();
  }
  const self = process.cpuUsage();
  return { apiserver, store, client: (self.user + self.system) / 1000 };
}

function cpuDelta(a: CpuSnapshot, b: CpuSnapshot): CpuSnapshot {
  return {
    apiserver: b.apiserver - a.apiserver,
    store: b.store - a.store,
    client: b.client - a.client,
  };
}

/** A run starts once a get is quick again (or after SETTLE_MAX_MS): no backlog carried over. */
async function settle(client: ApiClient): Promise<void> {
  const deadline = Date.now() + SETTLE_MAX_MS;
  while (Date.now() < deadline) {
    const t0 = performance.now();
    try {
      await client.get(PodSchema, "read-0", { namespace: READ_NAMESPACE, timeoutMs: 5_000 });
      if (performance.now() - t0 < SETTLED_GET_MS) return;
    } catch {
      // still busy
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  log(`  (the server was still slow after ${SETTLE_MAX_MS} ms; going on)`);
}

/** A cold process (tsx, no JIT yet) is slow for its first thousand requests: not counted. */
async function warmUp(client: ApiClient, pods: Pod[]): Promise<void> {
  const warmup = verbRequests(client, "warmup", pods);
  for (const verb of VERBS) {
    await runOpenLoop({ rate: rates[0] ?? 100, seconds: warmupSeconds, request: warmup[verb] });
  }
  log(`  warmed up: ${warmupSeconds} s of each verb at ${rates[0]}/s`);
}

/** Runs every verb at each of `rateList` into `results` ("create@100"). */
async function runLoad(
  client: ApiClient,
  env: BenchEnvironment,
  pods: Pod[],
  rateList: readonly number[],
  results: Map<string, LoadStats>,
): Promise<void> {
  for (const rate of rateList) {
    const requests = verbRequests(client, `r${rate}`, pods);
    for (const verb of VERBS) {
      await settle(client);
      const cpuBefore = await cpuSnapshot(env);
      const stats = await runOpenLoop({ rate, seconds, request: requests[verb] });
      const cpu = cpuDelta(cpuBefore, await cpuSnapshot(env));
      const withCpu = { ...stats, serverCpuMsPerRequest: cpu.apiserver / stats.sent };
      log(
        `  ${verb} at ${rate}/s: ${describe(withCpu)}, store CPU ${(cpu.store / stats.sent).toFixed(2)} ms/req, ` +
          `bench client CPU ${(cpu.client / stats.sent).toFixed(2)} ms/req`,
      );
      results.set(`${verb}@${rate}`, withCpu);
    }
  }
}

function fmt(n: number | undefined, digits = 1): string {
  return n === undefined || !Number.isFinite(n) ? "—" : n.toFixed(digits);
}

function round(n: number | undefined, digits = 1): number | null {
  if (n === undefined || !Number.isFinite(n)) return null;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function printTable(load: Map<string, LoadStats>, fanout: FanoutResult | undefined): void {
  const header = rates.flatMap((r) => [`p50 ms @${r}/s`, `p99 ms @${r}/s`, `errors @${r}/s`]);
  const lines = [
    `| verb | ${header.join(" | ")} | apiserver CPU ms/req @${rates[0]}/s |`,
    `| --- | ${header.map(() => "---:").join(" | ")} | ---: |`,
  ];
  for (const verb of VERBS) {
    const cells = rates.flatMap((r) => {
      const s = load.get(`${verb}@${r}`);
      return [fmt(s?.p50Ms), fmt(s?.p99Ms), s === undefined ? "—" : `${s.errors}/${s.sent}`];
    });
    const cpu = load.get(`${verb}@${rates[0]}`)?.serverCpuMsPerRequest;
    lines.push(`| ${verb} | ${cells.join(" | ")} | ${fmt(cpu, 2)} |`);
  }
  process.stdout.write(`${lines.join("\n")}\n\n`);
  if (fanout !== undefined) {
    const rows: [string, string][] = [
      [
        "watchers",
        `${fanout.watchers} (${fanout.connections} gRPC connections × ${fanout.watchers / fanout.connections} watches, decode ${fanout.decode})`,
      ],
      ["writes (pod creates)", `${fanout.writes} at ${watchWriteRate}/s`],
      ["delivery p50 ms", fmt(fanout.p50Ms)],
      ["delivery p99 ms", fmt(fanout.p99Ms)],
      ["delivery max ms", fmt(fanout.maxMs)],
      ["deliveries received / expected", `${fanout.delivered} / ${fanout.expected}`],
      [
        "missing deliveries (watchers missing any)",
        `${fanout.missing} (${fanout.watchersMissing})`,
      ],
      ["watch streams failed", String(fanout.streamErrors)],
      ["write p99 ms during fan-out", fmt(fanout.writeP99Ms)],
      ["writes failed at the client", String(fanout.writeErrors)],
    ];
    process.stdout.write(
      `${["| watch fan-out | |", "| --- | ---: |", ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join("\n")}\n`,
    );
  }
}

async function main(): Promise<number> {
  const cpu = cpus();
  log(
    `api bench: ${cpu.length} cores (${cpu[0]?.model ?? "unknown"}), node ${process.version}; ` +
      `${seconds} s per verb at ${rates.join(", ")} req/s; ` +
      `${watchConnections * watchesPerConnection} watchers, ${watchWrites} writes at ${watchWriteRate}/s`,
  );
  const failures: string[] = [];
  const env = await BenchEnvironment.create();
  const load = new Map<string, LoadStats>();
  let fanout: FanoutResult | undefined;
  let client: ApiClient | undefined;
  try {
    log("== starting a 3-member tug-store");
    const endpoints = await env.startStore(3);
    log(`  up: ${endpoints.join(" ")}`);
    log("== starting tug-apiserver");
    const apiserver = await env.startApiserver();
    log(`  up: 127.0.0.1:${apiserver.port} (health ${apiserver.healthUrl})`);
    client = new ApiClient({
      servers: [`127.0.0.1:${apiserver.port}`],
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
    });
    await createNamespaces(client);
    log(`== load: ${LIST_NAMESPACE_PODS} pods to read and update; lists with limit ${LIST_LIMIT}`);
    const pods = phases.has("load") ? await createReadPods(client) : [];
    // The first rate, then the fan-out, then the higher rates: a rate the machine cannot keep
    // up with leaves the store behind for a while, which must not fall on the fan-out.
    try {
      if (phases.has("load")) {
        await warmUp(client, pods);
        await runLoad(client, env, pods, rates.slice(0, 1), load);
      }
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      log(`!! the load runs failed: ${msg}`);
      failures.push(`load: ${msg.split("\n")[0]}`);
    }
    if (phases.has("watch")) log("== watch fan-out");
    try {
      if (phases.has("watch") && pods.length > 0) await settle(client);
      const cpuBefore = await cpuSnapshot(env);
      fanout = !phases.has("watch")
        ? undefined
        : await measureFanout({
            port: apiserver.port,
            connections: watchConnections,
            watchesPerConnection,
            writes: watchWrites,
            writeRate: watchWriteRate,
            decode: watchDecode,
            writer: client,
            registeredWatchers: () => podWatchers(apiserver.healthUrl),
            log,
          });
      const cpu = cpuDelta(cpuBefore, await cpuSnapshot(env));
      if (fanout !== undefined)
        log(
          `  CPU ms per delivery: apiserver ${(cpu.apiserver / fanout.delivered).toFixed(3)}, ` +
            `bench client ${(cpu.client / fanout.delivered).toFixed(3)}, store ${(cpu.store / fanout.delivered).toFixed(3)}`,
        );
      if (fanout !== undefined)
        log(
          `  delivery p50 ${fmt(fanout.p50Ms)} ms, p99 ${fmt(fanout.p99Ms)} ms, max ${fmt(fanout.maxMs)} ms; ` +
            `${fanout.delivered}/${fanout.expected} delivered, ${fanout.missing} missing, ` +
            `${fanout.streamErrors} streams failed${fanout.firstStreamError === undefined ? "" : ` (first: ${fanout.firstStreamError})`}`,
        );
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      log(`!! the watch fan-out failed: ${msg}`);
      failures.push(`watch: ${msg.split("\n")[0]}`);
    }
    try {
      if (phases.has("load") && rates.length > 1) {
        log("== load at the higher rates");
        await runLoad(client, env, pods, rates.slice(1), load);
      }
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      log(`!! the load runs failed: ${msg}`);
      failures.push(`load: ${msg.split("\n")[0]}`);
    }
    if (!apiserver.proc.isRunning) {
      failures.push("the apiserver exited during the run");
      log(await apiserver.proc.logTail());
    }
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    log(`!! ${msg}`);
    failures.push(msg.split("\n")[0] ?? msg);
  } finally {
    client?.close();
    await env.stop();
    if (process.env.BENCH_KEEP_LOGS === "1") log(`logs kept in ${env.baseDir}`);
  }
  printTable(load, fanout);
  const first = rates[0];
  const mutating = mergeStats(
    (["create", "update"] as const).flatMap((v) => load.get(`${v}@${first}`) ?? []),
  );
  const read = mergeStats(
    (["get", "list"] as const).flatMap((v) => load.get(`${v}@${first}`) ?? []),
  );
  const summary = {
    mutatingP99Ms: round(mutating.p99Ms),
    readP99Ms: round(read.p99Ms),
    watchDeliveryP99Ms: round(fanout?.p99Ms),
    mutatingP99MsTarget: TARGET_MUTATING_P99_MS,
    watchDeliveryP99MsTarget: TARGET_WATCH_P99_MS,
    targetsMet:
      mutating.p99Ms <= TARGET_MUTATING_P99_MS &&
      fanout !== undefined &&
      fanout.p99Ms <= TARGET_WATCH_P99_MS &&
      fanout.missing === 0,
    ratePerSec: first,
    ...Object.fromEntries(
      rates.flatMap((r) =>
        VERBS.map((v) => [`${v}P99MsAt${r}`, round(load.get(`${v}@${r}`)?.p99Ms)]),
      ),
    ),
    requestErrors: [...load.values()].reduce((n, s) => n + s.errors, 0),
    watchers: fanout?.watchers ?? null,
    watchMissing: fanout?.missing ?? null,
    cores: cpu.length,
    secondsPerRun: seconds,
    ...(failures.length > 0 ? { failures } : {}),
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return failures.length > 0 ? 1 : 0;
}

stopEverythingOnSignals();
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`api bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
