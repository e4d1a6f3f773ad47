// The benchmark's workload, the same for etcd and tug-store: the `etcd3` npm client with every
// member as an endpoint (it picks a member at random per call; followers forward writes to the
// leader), puts of 256-byte values, linearizable and serializable gets, and a steady write load
// across a SIGKILL of the leader.

import { performance } from "node:perf_hooks";
import { Etcd3 } from "etcd3";
import { type LocalCluster, singleShotOptions, sleep } from "./cluster.js";

/**
 * Every request's deadline in the throughput runs: generous, so that a slow request counts as
 * slow rather than failed.
 */
const THROUGHPUT_REQUEST_TIMEOUT_MS = 5_000;

export interface RunStats {
  /** Requests that succeeded. */
  readonly ops: number;
  readonly errors: number;
  readonly seconds: number;
  /** Successful requests per second. */
  readonly perSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The first error seen, for the report. */
  readonly firstError?: string;
  /** Every successful request's latency, ms, ascending (for merging runs). */
  readonly latencies: readonly number[];
}

/** Runs of the same workload taken as one: throughput over their summed time, latencies merged. */
export function combineRuns(runs: readonly RunStats[]): RunStats {
  const latencies = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const seconds = runs.reduce((n, r) => n + r.seconds, 0);
  const firstError = runs.find((r) => r.firstError !== undefined)?.firstError;
  return {
    ops: latencies.length,
    errors: runs.reduce((n, r) => n + r.errors, 0),
    seconds,
    perSec: latencies.length / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    ...(firstError !== undefined ? { firstError } : {}),
    latencies,
  };
}

export interface RunOptions {
  /** Concurrent requests in flight (each a loop: one request, then the next). */
  readonly clients: number;
  /** Client connections (Etcd3 instances) shared by the clients, as etcd's benchmark --conns. */
  readonly conns: number;
  readonly durationMs: number;
}

/** p in [0, 1] of sorted `xs` (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i] as number;
}

function makeClients(endpoints: readonly string[], conns: number, timeoutMs: number): Etcd3[] {
  return Array.from(
    { length: conns },
    () => new Etcd3({ hosts: [...endpoints], ...singleShotOptions(timeoutMs) }),
  );
}

/** Runs `clients` loops of `op` for `durationMs`; latencies of the successful ones. */
async function drive(
  endpoints: readonly string[],
  options: RunOptions,
  op: (client: Etcd3, worker: number, seq: number) => Promise<unknown>,
): Promise<RunStats> {
  const clients = makeClients(endpoints, options.conns, THROUGHPUT_REQUEST_TIMEOUT_MS);
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const end = start + options.durationMs;
  try {
    await Promise.all(
      Array.from({ length: options.clients }, async (_, w) => {
        const client = clients[w % clients.length] as Etcd3;
        for (let seq = 0; performance.now() < end; seq++) {
          const t0 = performance.now();
          try {
            await op(client, w, seq);
            latencies.push(performance.now() - t0);
          } catch (err) {
            errors++;
            firstError ??= err instanceof Error ? err.message : String(err);
            await sleep(5);
          }
        }
      }),
    );
  } finally {
    for (const c of clients) c.close();
  }
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    ops: latencies.length,
    errors,
    seconds,
    perSec: latencies.length / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    ...(firstError !== undefined ? { firstError } : {}),
    latencies,
  };
}

export const VALUE_BYTES = 256;
/** Keys cycle through this many per client, so the keyspace stays small and the same per run. */
const KEYS_PER_CLIENT = 1000;

export function runPuts(endpoints: readonly string[], options: RunOptions): Promise<RunStats> {
  const value = Buffer.alloc(VALUE_BYTES, "v");
  return drive(endpoints, options, (c, w, seq) =>
    c
      .put(`bench/put/${w}/${seq % KEYS_PER_CLIENT}`)
      .value(value)
      .exec(),
  );
}

export async function runGets(
  endpoints: readonly string[],
  options: RunOptions & { readonly serializable: boolean },
): Promise<RunStats> {
  const setup = new Etcd3({
    hosts: [...endpoints],
    ...singleShotOptions(THROUGHPUT_REQUEST_TIMEOUT_MS),
  });
  try {
    await setup.put("bench/get").value(Buffer.alloc(VALUE_BYTES, "g")).exec();
  } finally {
    setup.close();
  }
  return drive(endpoints, options, (c) =>
    c.get("bench/get").serializable(options.serializable).exec(),
  );
}

export interface FailoverOptions {
  /** Concurrent writers. */
  readonly writers: number;
  /** Steady writing before the kill. */
  readonly warmupMs: number;
  /** Keep writing this long after writes resume. */
  readonly afterResumeMs: number;
  /** Give up waiting for writes to resume after this long. */
  readonly maxWaitMs: number;
  /**
   * Each put's deadline. A write that reached a follower whose leader died waits at that
   * follower until this deadline (etcd 3.4) or fails fast with "leader changed" (tug).
   */
  readonly requestTimeoutMs: number;
  readonly log: (line: string) => void;
}

export interface FailoverResult {
  readonly killed: string;
  readonly newLeader: string;
  /** The longest time between two successful writes, from the last before the kill on. */
  readonly gapMs: number;
  /** From the kill to the first write that was sent after it and succeeded. */
  readonly firstWriteAfterKillMs: number;
  readonly acked: number;
  readonly failed: number;
  /** Acknowledged writes missing afterwards, read linearizably once the member is back. */
  readonly lost: number;
}

/**
 * Writes steadily, SIGKILLs the leader, keeps writing until writes have resumed for a while,
 * restarts the killed member, and checks that every acknowledged write is there.
 */
export async function measureFailover(
  cluster: LocalCluster,
  options: FailoverOptions,
): Promise<FailoverResult> {
  const clients = makeClients(cluster.endpoints, options.writers, options.requestTimeoutMs);
  const value = Buffer.alloc(VALUE_BYTES, "f");
  /** Completion times of successful writes, and when each was sent. */
  const done: { sent: number; at: number }[] = [];
  const acked: string[] = [];
  let failed = 0;
  let stop = false;
  const writers = Array.from({ length: options.writers }, async (_, w) => {
    const client = clients[w] as Etcd3;
    for (let seq = 0; !stop; seq++) {
      const key = `bench/failover/${w}/${seq}`;
      const sent = performance.now();
      try {
        await client.put(key).value(value).exec();
        done.push({ sent, at: performance.now() });
        acked.push(key);
      } catch {
        failed++;
        await sleep(5);
      }
    }
  });

  let killAt = 0;
  let killed = "";
  try {
    await sleep(options.warmupMs);
    killed = await cluster.leader();
    options.log(`  SIGKILL leader ${killed} under ${options.writers} writers`);
    killAt = performance.now();
    await cluster.kill(killed, "SIGKILL");
    const giveUp = killAt + options.maxWaitMs;
    for (;;) {
      const firstAfter = done.find((d) => d.sent > killAt);
      if (firstAfter !== undefined && performance.now() - firstAfter.at > options.afterResumeMs)
        break;
      if (performance.now() > giveUp) break;
      await sleep(50);
    }
  } finally {
    stop = true;
    await Promise.all(writers);
    for (const c of clients) c.close();
  }

  const times = done.map((d) => d.at).sort((a, b) => a - b);
  let gapMs = 0;
  for (let i = 1; i < times.length; i++) {
    const a = times[i - 1] as number;
    const b = times[i] as number;
    if (b > killAt) gapMs = Math.max(gapMs, b - a);
  }
  const firstAfter = done.filter((d) => d.sent > killAt).sort((a, b) => a.at - b.at)[0];
  if (firstAfter === undefined) {
    throw new Error(`no write succeeded within ${options.maxWaitMs} ms of killing ${killed}`);
  }

  options.log(`  restarting ${killed}`);
  await cluster.startMember(killed);
  const newLeader = await cluster.leader();
  const lost = await countMissing(cluster.endpoints, "bench/failover/", acked);
  return {
    killed,
    newLeader,
    gapMs,
    firstWriteAfterKillMs: firstAfter.at - killAt,
    acked: acked.length,
    failed,
    lost,
  };
}

/** How many of `keys` a linearizable read of `prefix` does not return. */
export async function countMissing(
  endpoints: readonly string[],
  prefix: string,
  keys: readonly string[],
): Promise<number> {
  const client = new Etcd3({
    hosts: [...endpoints],
    ...singleShotOptions(THROUGHPUT_REQUEST_TIMEOUT_MS),
  });
  try {
    const present = new Set(await client.getAll().prefix(prefix).keys());
    return keys.filter((k) => !present.has(k)).length;
  } finally {
    client.close();
  }
}
