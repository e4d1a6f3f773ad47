// Open-loop load: requests are issued on a fixed schedule whatever the earlier ones are doing,
// and each latency is measured from the request's scheduled time, not from when it was sent,
// so that a stall shows in the figures instead of hiding behind fewer requests (no coordinated
// omission; Gil Tene, "How NOT to measure latency").

import { performance } from "node:perf_hooks";

/** p in [0, 1] of ascending `sorted` (nearest rank); NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i] as number;
}

export interface LoadStats {
  /** Requests issued. */
  readonly sent: number;
  /** Latencies of the successful requests, ms from their scheduled time, ascending. */
  readonly latencies: readonly number[];
  readonly errors: number;
  /** The first failure's message, for the report. */
  readonly firstError?: string;
  /** Seconds from the first scheduled request to the last completion. */
  readonly seconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU ms the measured process (the apiserver) spent per request, when measured. */
  readonly serverCpuMsPerRequest?: number;
}

export interface OpenLoopOptions {
  /** Requests per second. */
  readonly rate: number;
  readonly seconds: number;
  /** Issues request number `seq` (0, 1, ...); resolves when it has succeeded. */
  readonly request: (seq: number) => Promise<unknown>;
}

/**
 * Issues `rate × seconds` requests, request i at start + i/rate, and waits for all of them.
 * The pacing loop wakes on a timer and issues every request that is due, so a late wake-up
 * issues a burst (as an open system would) rather than skipping or shifting the schedule.
 */
export async function runOpenLoop(options: OpenLoopOptions): Promise<LoadStats> {
  const total = Math.max(1, Math.round(options.rate * options.seconds));
  const intervalMs = 1000 / options.rate;
  const latencies: number[] = [];
  const inFlight: Promise<void>[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  for (let seq = 0; seq < total; ) {
    const now = performance.now();
    while (seq < total && start + seq * intervalMs <= now) {
      const scheduled = start + seq * intervalMs;
      inFlight.push(
        options.request(seq).then(
          () => {
            latencies.push(performance.now() - scheduled);
          },
          (e: unknown) => {
            errors++;
            firstError ??= e instanceof Error ? e.message : String(e);
          },
        ),
      );
      seq++;
    }
    if (seq < total) {
      const wait = start + seq * intervalMs - performance.now();
      await new Promise((r) => setTimeout(r, Math.max(0, wait)));
    }
  }
  await Promise.all(inFlight);
  latencies.sort((a, b) => a - b);
  return {
    sent: total,
    latencies,
    errors,
    ...(firstError === undefined ? {} : { firstError }),
    seconds: (performance.now() - start) / 1000,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  };
}

/** Several runs taken as one: latencies merged, errors and requests summed. */
export function mergeStats(runs: readonly LoadStats[]): LoadStats {
  const latencies = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const firstError = runs.find((r) => r.firstError !== undefined)?.firstError;
  return {
    sent: runs.reduce((n, r) => n + r.sent, 0),
    latencies,
    errors: runs.reduce((n, r) => n + r.errors, 0),
    ...(firstError === undefined ? {} : { firstError }),
    seconds: runs.reduce((n, r) => n + r.seconds, 0),
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  };
}
