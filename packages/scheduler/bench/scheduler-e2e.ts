// `pnpm bench:scheduler`: tug-scheduler end to end through the API. A 3-member tug-store, one
// tug-apiserver and tug-scheduler run as real processes on this machine (the scheduler from
// its main, with the flags `tug up` gives it, leader election on); the bench registers
// simulated Nodes (no agents), then creates pods "at once" with bounded concurrency and times
// each one from its create's acknowledgement to the moment a pod watch delivers it with its
// spec.nodeName set. Prints figures; asserts nothing (issue 5: targets are
// checked by benchmarks that print their figures, never by timed assertions in tests).
//
// Workload (bench/workload.ts, shared with scheduler-core.ts): nodes as scheduler_perf's
// (4 cpu, 32Gi, 110 pods; 3 zones; a quarter disk=ssd; Ready); pods of 100m cpu / 128Mi in
// ReplicaSets of 50 (controller owner references), 10% with nodeSelector disk=ssd, 5% with a
// zone spread constraint (DoNotSchedule), 2% with required hostname anti-affinity.
// No node lifecycle controller runs, so nothing marks the nodes NotReady: they hold no Leases.
//
// The bench's own CPU is taken from the 2 cores the processes it measures share, so it does
// little per pod: each pod's Create is encoded before the run (ApiClient.encodeCreate) and sent
// without decoding the reply (createEncoded), and its watch reads only name, resourceVersion
// and spec.nodeName from each pod's bytes (watchUndecoded, pod-binding.ts). The creates still
// go through the API server's Create and the bindings are still seen on a real Watch.
//
// Progress goes to stderr; stdout gets a table and, as its last line, one JSON object:
//   {"nodes","pods","podsPerSec","p99Ms", ...}
// podsPerSec = pods / (last bind observed − first create sent); latency per pod = bind
// observed − create acknowledged. Target: ≥ 500 pods/s.
//
// Environment:
//   BENCH_NODES                  simulated nodes (default 1000)
//   BENCH_PODS                   pods (default 10000)
//   BENCH_CONCURRENCY            creates in flight (default 100)
//   BENCH_LEADER_ELECT           "true": the scheduler elects itself through its Lease as in
//                                `tug up`; default "false", as scheduler_perf runs it: with no
//                                API Priority and Fairness in tug-apiserver, a renewal queues
//                                behind the burst's writes, and on a loaded machine the
//                                scheduler loses its Lease (exit 1) mid-run
//   BENCH_SCHEDULER_NODE_ARGS    node flags for the scheduler, e.g.
//                                "--cpu-prof --cpu-prof-dir=/tmp/prof"
//   BENCH_APISERVER_NODE_ARGS    the same for the apiserver; BENCH_STORE_NODE_ARGS for the store
//   BENCH_SCHEDULER_ROOT         run the tug-scheduler of another checkout (a git worktree of
//                                an older commit, with its node_modules), to compare CPU per
//                                pod of two versions against the same API server and store
//   BENCH_KEEP_LOGS              "1": keep the temp dir with every process's log

import { readFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { NodeConditionSchema, NodeSchema, PodSchema } from "@tug/api";
import { ApiClient, type EncodedCreate, isApiError } from "@tug/client";
import {
  BenchEnvironment,
  BenchProcess,
  freePorts,
  REPO_ROOT,
  stopEverythingOnSignals,
} from "../../apiserver/bench/processes.js";
import { ensureDefaultServiceAccount } from "../../apiserver/test/support/default-service-account.js";
import { type PodBinding, readPodBinding } from "./pod-binding.js";
import { benchNode, benchPod, SCHEDULER_PERF_NODE, SMALL_REQUESTS, seeded } from "./workload.js";

const TARGET_PODS_PER_SEC = 500;
const NAMESPACE = "default";
/** BENCH_SCHEDULER_ROOT: another checkout whose tug-scheduler to run (A/B of two versions). */
const SCHEDULER_BIN = join(
  process.env.BENCH_SCHEDULER_ROOT || REPO_ROOT,
  "packages/scheduler/bin/tug-scheduler.ts",
);
/** Each request's deadline: generous, so that a slow request is slow, not failed. */
const REQUEST_TIMEOUT_MS = 60_000;
/** Starting processes and waiting for the scheduler's cache: minutes on a loaded machine. */
const WAIT_TIMEOUT_MS = 180_000;
/** After the last create, how long bindings may take before the bench gives up. */
const BIND_TIMEOUT_MS = 600_000;
const POLL_MS = 250;

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) {
    throw new Error(`${name}=${raw} is not a positive integer; unset it or give e.g. ${fallback}`);
  }
  return n;
}

const numNodes = envNumber("BENCH_NODES", 1000);
const numPods = envNumber("BENCH_PODS", 10_000);
const concurrency = envNumber("BENCH_CONCURRENCY", 100);
const leaderElect = process.env.BENCH_LEADER_ELECT === "true";

const progress = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const elapsed = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

/** Runs `task(i)` for i in [0, count) with at most `limit` in flight. */
async function boundedAll(
  count: number,
  limit: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

/** `work`, unless `failure` rejects first. */
function raceWith<T>(failure: Promise<never>, work: Promise<T>): Promise<T> {
  return Promise.race([failure, work]);
}

/** Calls `tick` every second until the returned stop function is called. */
function everySecond(tick: () => void): () => void {
  const timer = setInterval(tick, 1000);
  return () => clearInterval(timer);
}

/** The value of the first sample of `metric` (name plus labels, as printed) in a scrape. */
function sample(text: string, metric: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith(`${metric} `)) return Number(line.slice(metric.length + 1));
  }
  return undefined;
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  return await res.text();
}

/** The metrics URL a store member listens on, from its command line (--listen-metrics-urls). */
async function storeMetricsUrl(proc: BenchProcess): Promise<string | undefined> {
  if (proc.pid === undefined) return undefined;
  const args = (await readFile(`/proc/${proc.pid}/cmdline`, "utf8")).split("\0");
  const flag = args.find((a) => a.startsWith("--listen-metrics-urls="));
  return flag === undefined ? undefined : `${flag.slice("--listen-metrics-urls=".length)}/metrics`;
}

/** What the store members did: Raft commits (on the leader), WAL fsyncs (all members). */
interface StoreFigures {
  committed: number;
  fsyncs: number;
  fsyncSeconds: number;
}

async function storeFigures(procs: readonly BenchProcess[]): Promise<StoreFigures> {
  const f: StoreFigures = { committed: 0, fsyncs: 0, fsyncSeconds: 0 };
  for (const p of procs) {
    if (!p.name.startsWith("store")) continue;
    const url = await storeMetricsUrl(p);
    if (url === undefined) continue;
    const text = await scrape(url);
    if (sample(text, "etcd_server_is_leader") === 1) {
      f.committed = sample(text, "etcd_server_proposals_committed_total") ?? Number.NaN;
    }
    f.fsyncs += sample(text, "etcd_disk_wal_fsync_duration_seconds_count") ?? Number.NaN;
    f.fsyncSeconds += sample(text, "etcd_disk_wal_fsync_duration_seconds_sum") ?? Number.NaN;
  }
  return f;
}

/** Polls until `ready()` is true; fails with `what` and the process's log tail after a while. */
async function waitFor(
  what: string,
  proc: BenchProcess,
  ready: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + WAIT_TIMEOUT_MS;
  for (;;) {
    if (!proc.isRunning) {
      throw new Error(
        `${proc.name} exited while waiting for ${what}; its log:\n${await proc.logTail()}`,
      );
    }
    try {
      if (await ready()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      throw new Error(
        `no ${what} within ${WAIT_TIMEOUT_MS} ms; ${proc.name}'s log:\n${await proc.logTail()}`,
      );
    }
    await sleep(POLL_MS);
  }
}

/**
 * Starts tug-scheduler from its main as `tug up` does (leader election as BENCH_LEADER_ELECT
 * says); resolves once it leads with synced caches.
 */
async function startScheduler(
  env: BenchEnvironment,
  apiPort: number,
): Promise<{ proc: BenchProcess; metricsUrl: string }> {
  const [port] = (await freePorts(1)) as [number];
  const nodeArgs = (process.env.BENCH_SCHEDULER_NODE_ARGS ?? "").split(" ").filter((a) => a);
  const proc = new BenchProcess("scheduler", join(env.baseDir, "scheduler.log"), [
    ...nodeArgs,
    "--conditions=source",
    "--import",
    "tsx",
    SCHEDULER_BIN,
    `--master=127.0.0.1:${apiPort}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${port}`,
    `--leader-elect=${leaderElect}`,
  ]);
  env.processes.push(proc);
  const base = `http://127.0.0.1:${port}`;
  // /readyz is 200 on a standby too: ready means leading (the metric) and synced (/readyz).
  await waitFor("leading tug-scheduler", proc, async () => {
    const leading = sample(
      await scrape(`${base}/metrics`),
      'leader_election_master_status{name="kube-scheduler"}',
    );
    if (leading !== 1) return false;
    return (await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5_000) })).status === 200;
  });
  return { proc, metricsUrl: `${base}/metrics` };
}

/** Registers `numNodes` Ready nodes; resolves once the scheduler's cache holds them all. */
async function registerNodes(
  api: ApiClient,
  scheduler: { proc: BenchProcess; metricsUrl: string },
): Promise<void> {
  const started = performance.now();
  let created = 0;
  const stopProgress = everySecond(() =>
    progress(`  nodes: created ${created}/${numNodes} (${elapsed(started)})`),
  );
  try {
    await boundedAll(numNodes, concurrency, async (i) => {
      const node = benchNode(i, SCHEDULER_PERF_NODE);
      const now = timestampFromDate(new Date());
      node.status?.conditions.push(
        create(NodeConditionSchema, {
          type: "Ready",
          status: "True",
          reason: "KubeletReady",
          message: "simulated node of the scheduler benchmark",
          lastHeartbeatTime: now,
          lastTransitionTime: now,
        }),
      );
      await createRetrying(() => api.create(NodeSchema, node, { timeoutMs: REQUEST_TIMEOUT_MS }));
      created++;
    });
  } finally {
    stopProgress();
  }
  progress(`  nodes: created ${created}/${numNodes} in ${elapsed(started)}`);
  await waitFor(`${numNodes} nodes in the scheduler's cache`, scheduler.proc, async () => {
    const n = sample(await scrape(scheduler.metricsUrl), 'scheduler_cache_size{type="nodes"}');
    return n === numNodes;
  });
  progress(`  scheduler cache holds ${numNodes} nodes (${elapsed(started)})`);
}

/** What the run observed, per pod index. */
interface Timings {
  readonly sent: Float64Array;
  readonly acked: Float64Array;
  readonly bound: Float64Array;
  createErrors: number;
  /** Creates sent again after a 429, a store timeout or an unavailable server. */
  createRetries: number;
  bindsObserved: number;
}

/** What a client retries a create on (after 1 s, up to 5 times), as the overload passes. */
const RETRIED_REASONS = new Set(["TooManyRequests", "Timeout", "ServiceUnavailable"]);

/**
 * Runs `create` until it succeeds, retrying on RETRIED_REASONS; resolves with the number of
 * retries. A retried create that finds its object (AlreadyExists) was stored by an earlier
 * attempt after all: that counts as its acknowledgement.
 */
async function createRetrying(create: () => Promise<unknown>): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      await create();
      return attempt - 1;
    } catch (e) {
      if (attempt > 1 && isApiError(e, "AlreadyExists")) return attempt - 1;
      if (!RETRIED_REASONS.has(isApiError(e) ? e.reason : "") || attempt > 5) throw e;
      await sleep(1000);
    }
  }
}

/**
 * Lists the namespace's pods in pages of 500, each page retried on a timeout (as a reflector
 * lists again); returns the list's resourceVersion.
 */
async function relist(api: ApiClient, observe: (pod: PodBinding) => void): Promise<string> {
  let cont = "";
  let rv = "";
  do {
    let page: Awaited<ReturnType<typeof api.list<typeof PodSchema>>>;
    for (let attempt = 1; ; attempt++) {
      try {
        page = await api.list(PodSchema, { namespace: NAMESPACE, limit: 500, continue: cont });
        break;
      } catch (e) {
        if (!isApiError(e, "Timeout") || attempt >= 5) throw e;
      }
    }
    for (const pod of page.items) {
      observe({
        name: pod.metadata?.name ?? "",
        resourceVersion: pod.metadata?.resourceVersion ?? "",
        nodeName: pod.spec?.nodeName ?? "",
      });
    }
    if (rv === "") rv = page.resourceVersion;
    cont = page.continue;
  } while (cont !== "");
  return rv;
}

/**
 * Why the bench's watch was started again: the server ended it (tug-apiserver closes a watch
 * whose client has fallen 100 events behind, see docs/scheduler.md), it stayed silent for
 * WATCH_IDLE_MS, or its resourceVersion had left the server's window (then it relists).
 */
interface WatchRestarts {
  endedByServer: number;
  idle: number;
  expired: number;
}

/** What a pod's google.protobuf.Any says it holds. */
const POD_TYPE_URL = `type.googleapis.com/${PodSchema.typeName}`;

/** A watch that delivered nothing for this long while pods are pending is started again. */
const WATCH_IDLE_MS = 5_000;

/**
 * Watches the bench's pods, as a reflector does, and records when each is first seen with a
 * node (its binding). It dials the API server at 127.0.0.2 so that the watch has a connection of
 * its own (gRPC shares one per address) instead of queuing behind the creates. A watch that
 * ends, or stays silent for WATCH_IDLE_MS while pods are unbound, is started again from the last
 * resourceVersion seen (in runs here, single watches stalled for good mid-burst: see
 * docs/scheduler.md); an Expired one relists. `restarts` counts each, by cause.
 */
function watchBindings(
  apiPort: number,
  resourceVersion: string,
  t: Timings,
): { cancel: () => void; done: Promise<void>; restarts: () => WatchRestarts } {
  const api = new ApiClient({
    servers: [`127.0.0.2:${apiPort}`],
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
  });
  const abort = new AbortController();
  const restarts: WatchRestarts = { endedByServer: 0, idle: 0, expired: 0 };
  let lastRv = resourceVersion;
  const observe = (pod: PodBinding) => {
    if (pod.resourceVersion !== "") lastRv = pod.resourceVersion;
    const name = pod.name;
    if (!name.startsWith("pod-") || pod.nodeName === "") return;
    const i = Number(name.slice(4));
    if (!(i >= 0 && i < numPods) || t.bound[i] !== 0) return;
    t.bound[i] = performance.now();
    t.bindsObserved++;
  };
  const done = (async () => {
    try {
      while (!abort.signal.aborted && t.bindsObserved < numPods) {
        // Each pod's bytes are read only as far as name, resourceVersion and nodeName
        // (pod-binding.ts): the bench's CPU is taken from the processes it measures.
        const stream = api.watchUndecoded(PodSchema, {
          namespace: NAMESPACE,
          resourceVersion: lastRv,
        });
        const onAbort = () => stream.cancel();
        abort.signal.addEventListener("abort", onAbort, { once: true });
        let lastEvent = performance.now();
        let cause: keyof WatchRestarts = "endedByServer";
        const idle = setInterval(() => {
          if (performance.now() - lastEvent > WATCH_IDLE_MS) {
            cause = "idle";
            stream.cancel();
          }
        }, 1000);
        try {
          for await (const ev of stream) {
            lastEvent = performance.now();
            if (ev.type !== "ADDED" && ev.type !== "MODIFIED") continue;
            if (ev.object.typeUrl !== POD_TYPE_URL) {
              throw new Error(`the pod watch sent a ${ev.object.typeUrl}, not a Pod`);
            }
            observe(readPodBinding(ev.object.value));
          }
        } catch (e) {
          if (!isApiError(e, "Expired")) throw e;
          cause = "expired";
          lastRv = await relist(api, observe);
        } finally {
          clearInterval(idle);
          abort.signal.removeEventListener("abort", onAbort);
        }
        if (!abort.signal.aborted && t.bindsObserved < numPods) restarts[cause]++;
      }
    } finally {
      api.close();
    }
  })();
  return { cancel: () => abort.abort(), done, restarts: () => restarts };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)] as number;
}

async function main(): Promise<void> {
  stopEverythingOnSignals();
  const t0 = performance.now();
  progress(
    `bench:scheduler: ${numNodes} nodes, ${numPods} pods, ${concurrency} creates in flight, leader election ${leaderElect ? "on" : "off"}; ${cpus().length} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  const env = await BenchEnvironment.create();
  let api: ApiClient | undefined;
  try {
    progress("starting a 3-member tug-store ...");
    await env.startStore(3);
    progress(`  store up (${elapsed(t0)})`);
    progress("starting tug-apiserver ...");
    const apiserver = await env.startApiserver();
    progress(`  apiserver up on :${apiserver.port} (${elapsed(t0)})`);
    progress("starting tug-scheduler ...");
    const scheduler = await startScheduler(env, apiserver.port);
    progress(`  scheduler leading, caches synced (${elapsed(t0)})`);
    api = new ApiClient({
      servers: [`127.0.0.1:${apiserver.port}`],
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
    });

    progress(`registering ${numNodes} nodes ...`);
    await registerNodes(api, scheduler);

    await ensureDefaultServiceAccount(api, NAMESPACE);

    // Each pod's Create is built and encoded once, before the run: the bench's own CPU is
    // taken from the processes it measures, and a retry sends the same bytes again.
    const random = seeded(42);
    const creates: EncodedCreate[] = Array.from({ length: numPods }, (_, i) =>
      (api as ApiClient).encodeCreate(
        PodSchema,
        benchPod(i, { namespace: NAMESPACE, requests: SMALL_REQUESTS, random }),
      ),
    );
    const t: Timings = {
      sent: new Float64Array(numPods),
      acked: new Float64Array(numPods),
      bound: new Float64Array(numPods),
      createErrors: 0,
      createRetries: 0,
      bindsObserved: 0,
    };
    const listed = await api.list(PodSchema, { namespace: NAMESPACE, limit: 1 });
    const watch = watchBindings(apiserver.port, listed.resourceVersion, t);
    const watchFailed = watch.done.then(
      () => undefined,
      (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
    );

    const cpuProcs = env.processes;
    const cpuBefore = new Map<string, number>();
    for (const p of cpuProcs) cpuBefore.set(p.name, await p.cpuMs());
    const benchCpuBefore = process.cpuUsage();
    const storeBefore = await storeFigures(env.processes);
    const apiMetricsUrl = `${apiserver.healthUrl}/metrics`;
    const droppedBefore = sample(
      await scrape(apiMetricsUrl),
      'apiserver_dropped_requests_total{request_kind="mutating"}',
    );

    // The bench's own event loop lag: while it is long, the watch is not read (see restarts).
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const podWatchesMetric = 'scheduler_informer_watches_total{resource="pods"}';
    const schedulerWatchesBefore = sample(await scrape(scheduler.metricsUrl), podWatchesMetric);
    const createControl = { timeoutMs: REQUEST_TIMEOUT_MS };
    progress(`creating ${numPods} pods ...`);
    const runStart = performance.now();
    let created = 0;
    let lastBound = 0;
    const stopProgress = everySecond(() => {
      const rate = t.bindsObserved - lastBound;
      lastBound = t.bindsObserved;
      progress(
        `  created ${created}/${numPods}, bound ${t.bindsObserved}/${numPods} (+${rate}/s) (${elapsed(runStart)})`,
      );
    });
    let lastError: unknown;
    // The scheduler ends itself when it loses its Lease (a renewal slower than the renew
    // deadline): fail at once, with its log, rather than wait out the bind timeout.
    const schedulerExited = scheduler.proc.exited.then(async () => {
      throw new Error(
        `tug-scheduler exited during the run; its log:\n${await scheduler.proc.logTail()}`,
      );
    });
    schedulerExited.catch(() => undefined);
    try {
      await raceWith(
        schedulerExited,
        boundedAll(numPods, concurrency, async (i) => {
          t.sent[i] = performance.now();
          try {
            t.createRetries += await createRetrying(() =>
              (api as ApiClient).createEncoded(creates[i] as EncodedCreate, createControl),
            );
            t.acked[i] = performance.now();
            created++;
          } catch (e) {
            t.createErrors++;
            lastError = e;
          }
        }),
      );
      if (t.createErrors > 0) {
        throw new Error(
          `${t.createErrors} of ${numPods} creates failed; the last: ${lastError instanceof Error ? lastError.message : String(lastError)}`,
        );
      }
      const deadline = performance.now() + BIND_TIMEOUT_MS;
      while (t.bindsObserved < numPods) {
        const failed = await raceWith(
          schedulerExited,
          Promise.race([watchFailed, sleep(POLL_MS).then(() => undefined)]),
        );
        if (failed !== undefined) throw failed;
        if (performance.now() > deadline) {
          throw new Error(
            `only ${t.bindsObserved}/${numPods} pods bound ${BIND_TIMEOUT_MS / 1000} s after the last create`,
          );
        }
      }
    } finally {
      stopProgress();
      watch.cancel();
    }
    progress(`  all ${numPods} pods bound (${elapsed(runStart)})`);
    loopDelay.disable();
    const benchCpu = process.cpuUsage(benchCpuBefore);
    const cpuByProc = new Map<string, number>();
    for (const p of cpuProcs) {
      cpuByProc.set(p.name, ((await p.cpuMs()) - (cpuBefore.get(p.name) ?? 0)) / 1000);
    }
    const load = loadavg();
    const metrics = await scrape(scheduler.metricsUrl);
    const storeAfter = await storeFigures(env.processes);
    const droppedAfter = sample(
      await scrape(apiMetricsUrl),
      'apiserver_dropped_requests_total{request_kind="mutating"}',
    );
    const commits = storeAfter.committed - storeBefore.committed;
    const fsyncs = storeAfter.fsyncs - storeBefore.fsyncs;
    const fsyncMs = ((storeAfter.fsyncSeconds - storeBefore.fsyncSeconds) * 1000) / fsyncs;
    const shed = (droppedAfter ?? Number.NaN) - (droppedBefore ?? Number.NaN);

    // Figures.
    let firstSent = Number.POSITIVE_INFINITY;
    let lastBind = 0;
    let lastAck = 0;
    const latencies: number[] = [];
    let boundBeforeAck = 0;
    for (let i = 0; i < numPods; i++) {
      firstSent = Math.min(firstSent, t.sent[i] as number);
      lastBind = Math.max(lastBind, t.bound[i] as number);
      lastAck = Math.max(lastAck, t.acked[i] as number);
      const l = (t.bound[i] as number) - (t.acked[i] as number);
      // The watch may deliver the binding before the create's reply reaches the bench.
      if (l < 0) boundBeforeAck++;
      latencies.push(Math.max(0, l));
    }
    latencies.sort((a, b) => a - b);
    const seconds = (lastBind - firstSent) / 1000;
    const podsPerSec = numPods / seconds;
    const createSeconds = (lastAck - firstSent) / 1000;
    const avg = latencies.reduce((s, l) => s + l, 0) / latencies.length;
    const p50 = percentile(latencies, 50);
    const p90 = percentile(latencies, 90);
    const p99 = percentile(latencies, 99);
    const max = latencies[latencies.length - 1] as number;
    const schedulerCpu = cpuByProc.get("scheduler") ?? 0;
    const apiserverCpu = cpuByProc.get("apiserver") ?? 0;
    let storeCpu = 0;
    for (const [name, s] of cpuByProc) if (name.startsWith("store")) storeCpu += s;
    const benchCpuSeconds = (benchCpu.user + benchCpu.system) / 1e6;
    const restarts = watch.restarts();
    const schedulerWatchRestarts =
      (sample(metrics, podWatchesMetric) ?? Number.NaN) - (schedulerWatchesBefore ?? Number.NaN);
    const attempts = (result: string) =>
      sample(metrics, `scheduler_schedule_attempts_total{result="${result}"}`) ?? Number.NaN;

    const rows: [string, string][] = [
      ["nodes / pods", `${numNodes} / ${numPods}`],
      ["creates in flight", `${concurrency} (${t.createRetries} retried after 429/timeout)`],
      ["scheduler leader election", leaderElect ? "on (Lease)" : "off (as scheduler_perf)"],
      [
        "create phase",
        `${createSeconds.toFixed(2)} s (${(numPods / createSeconds).toFixed(0)} creates/s)`,
      ],
      ["first create → last bind", `${seconds.toFixed(2)} s`],
      ["throughput", `${podsPerSec.toFixed(0)} pods/s (target ≥ ${TARGET_PODS_PER_SEC})`],
      [
        "latency create ack → bound",
        `avg ${avg.toFixed(0)} ms, p50 ${p50.toFixed(0)}, p90 ${p90.toFixed(0)}, p99 ${p99.toFixed(0)}, max ${max.toFixed(0)} ms`,
      ],
      ["bound before create ack", `${boundBeforeAck} (counted as 0 ms)`],
      [
        "bench watch restarts",
        `${restarts.endedByServer} ended by the server, ${restarts.idle} idle for ${WATCH_IDLE_MS / 1000} s, ${restarts.expired} expired`,
      ],
      ["scheduler pod watch restarts", `${schedulerWatchRestarts}`],
      [
        "scheduler attempts",
        `scheduled ${attempts("scheduled")}, unschedulable ${attempts("unschedulable")}, error ${attempts("error")}`,
      ],
      [
        "CPU seconds during the run",
        `scheduler ${schedulerCpu.toFixed(1)}, apiserver ${apiserverCpu.toFixed(1)}, store (3) ${storeCpu.toFixed(1)}, bench ${benchCpuSeconds.toFixed(1)}`,
      ],
      ["pods per scheduler CPU second", `${(numPods / schedulerCpu).toFixed(0)}`],
      [
        "bench event loop delay",
        `p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms, max ${(loopDelay.max / 1e6).toFixed(0)} ms`,
      ],
      [
        "store",
        `${commits} Raft entries committed (${(commits / numPods).toFixed(2)} per pod, ${(commits / seconds).toFixed(0)}/s); ${fsyncs} WAL fsyncs on 3 members, mean ${fsyncMs.toFixed(1)} ms`,
      ],
      [
        "API per pod, CPU ms",
        `apiserver ${((apiserverCpu * 1000) / numPods).toFixed(1)}, store (3) ${((storeCpu * 1000) / numPods).toFixed(1)}, scheduler ${((schedulerCpu * 1000) / numPods).toFixed(1)}`,
      ],
      [
        "shed by the apiserver (429)",
        `${shed} mutating requests; scheduler events dropped ${sample(metrics, "scheduler_events_dropped_total")}`,
      ],
      ["load average (1/5/15 min)", load.map((l) => l.toFixed(2)).join(" ")],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    console.log(`\ntug-scheduler end to end (${cpus().length} CPUs)`);
    for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
    console.log(
      JSON.stringify({
        nodes: numNodes,
        pods: numPods,
        podsPerSec: Math.round(podsPerSec),
        p99Ms: Math.round(p99),
        avgMs: Math.round(avg),
        p50Ms: Math.round(p50),
        createsPerSec: Math.round(numPods / createSeconds),
        schedulerCpuSeconds: Number(schedulerCpu.toFixed(1)),
        apiserverCpuSeconds: Number(apiserverCpu.toFixed(1)),
        storeCpuSeconds: Number(storeCpu.toFixed(1)),
        raftEntriesPerPod: Number((commits / numPods).toFixed(2)),
        benchCpuSeconds: Number(benchCpuSeconds.toFixed(1)),
        loadAverage1m: Number((load[0] ?? 0).toFixed(2)),
        watchRestarts: restarts.endedByServer + restarts.idle + restarts.expired,
        watchEndedByServer: restarts.endedByServer,
        watchIdle: restarts.idle,
        schedulerWatchRestarts,
      }),
    );
  } finally {
    api?.close();
    progress("stopping processes ...");
    // The scheduler first, so that it does not log the apiserver going away; SIGTERM lets a
    // --cpu-prof profile be written.
    for (const p of env.processes) if (p.name === "scheduler") await p.stop();
    await env.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(
      `bench:scheduler failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
