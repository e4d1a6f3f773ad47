// Watch fan-out: many watchers on pods, a series of writes, and the time from each write's
// send to its delivery at each watcher. A write carries its send time (epoch ms, fractional)
// in an annotation, so that a watcher needs nothing but the event to time it.

import { performance } from "node:perf_hooks";
import { PodSchema } from "@tug/api";
import { ApiClient } from "@tug/client";
import { benchPod, REQUEST_TIMEOUT_MS, WATCH_NAMESPACE } from "./api-workload.js";
import { percentile } from "./open-loop.js";

/** The annotation holding a write's send time. */
export const SENT_AT_ANNOTATION = "bench.tug.io/sent-at";
/** How long the watchers may take to see the warm-up write (1000 streams opening). */
const WARMUP_TIMEOUT_MS = 60_000;
/** How long after the last write the watchers may take to receive everything. */
const DRAIN_TIMEOUT_MS = 30_000;

export interface FanoutOptions {
  /** The apiserver's port; it listens on every address. */
  readonly port: number;
  /** gRPC connections; each dials its own loopback address (127.0.0.1, 127.0.0.2, ...). */
  readonly connections: number;
  readonly watchesPerConnection: number;
  /** Pod creates the watchers must all see. */
  readonly writes: number;
  /** Creates per second. */
  readonly writeRate: number;
  /** The bench's client for the writes. */
  readonly writer: ApiClient;
  /** Registered pod watchers, from the apiserver's /metrics. */
  readonly registeredWatchers: () => Promise<number>;
  readonly log: (line: string) => void;
}

export interface FanoutResult {
  readonly watchers: number;
  readonly connections: number;
  readonly writes: number;
  /** Deliveries expected (watchers × writes) and received. */
  readonly expected: number;
  readonly delivered: number;
  /** Watchers that missed at least one write, and the writes missed in all. */
  readonly watchersMissing: number;
  readonly missing: number;
  /** Watch streams that ended with an error. */
  readonly streamErrors: number;
  readonly firstStreamError?: string;
  /** Write failures (each then expected by no one). */
  readonly writeErrors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Write (create) latency p99, ms. */
  readonly writeP99Ms: number;
}

/** Epoch ms with sub-ms precision (one clock for the writer and the watchers: one process). */
function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export async function measureFanout(options: FanoutOptions): Promise<FanoutResult> {
  const total = options.connections * options.watchesPerConnection;
  const clients = Array.from(
    { length: options.connections },
    (_, c) => new ApiClient({ servers: [`127.0.0.${c + 1}:${options.port}`] }),
  );
  /** Per watcher: the names of the measured writes it has seen. */
  const seen = Array.from({ length: total }, () => new Set<string>());
  const latencies: number[] = [];
  let streamErrors = 0;
  let firstStreamError: string | undefined;
  let warmedUp = 0;
  const listed = await options.writer.list(PodSchema, {
    namespace: WATCH_NAMESPACE,
    timeoutMs: REQUEST_TIMEOUT_MS,
  });
  const streams = Array.from({ length: total }, (_, w) =>
    (clients[w % options.connections] as ApiClient).watch(PodSchema, {
      namespace: WATCH_NAMESPACE,
      resourceVersion: listed.resourceVersion,
    }),
  );
  const readers = streams.map(async (stream, w) => {
    const mine = seen[w] as Set<string>;
    let warm = false;
    try {
      for await (const event of stream) {
        if (event.type !== "ADDED") continue;
        const meta = event.object.metadata;
        const sentAt = Number(meta?.annotations[SENT_AT_ANNOTATION]);
        const name = meta?.name ?? "";
        if (name.startsWith("warmup")) {
          if (!warm) warmedUp++;
          warm = true;
          continue;
        }
        latencies.push(nowMs() - sentAt);
        mine.add(name);
      }
    } catch (e) {
      streamErrors++;
      firstStreamError ??= e instanceof Error ? e.message : String(e);
    }
  });

  const waitFor = async (
    what: string,
    done: () => boolean | Promise<boolean>,
    timeoutMs: number,
  ): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const writeLatencies: number[] = [];
  let writeErrors = 0;
  const written: string[] = [];
  try {
    options.log(
      `  opening ${total} pod watches over ${options.connections} gRPC connections (${options.watchesPerConnection} each)`,
    );
    let registered = 0;
    await waitFor(
      "the apiserver registering every watcher",
      async () => {
        registered = await options.registeredWatchers();
        return registered >= total;
      },
      WARMUP_TIMEOUT_MS,
    ).catch((e: unknown) => {
      throw new Error(`${e instanceof Error ? e.message : String(e)} (${registered} of ${total})`);
    });
    await options.writer.create(
      PodSchema,
      benchPod(WATCH_NAMESPACE, "warmup", { [SENT_AT_ANNOTATION]: String(nowMs()) }),
      { timeoutMs: REQUEST_TIMEOUT_MS },
    );
    await waitFor(
      "every watcher seeing the warm-up write",
      () => warmedUp >= total,
      WARMUP_TIMEOUT_MS,
    );
    options.log(`  ${total} watchers up; writing ${options.writes} pods at ${options.writeRate}/s`);
    const interval = 1000 / options.writeRate;
    const start = performance.now();
    const writes: Promise<void>[] = [];
    for (let i = 0; i < options.writes; i++) {
      const due = start + i * interval - performance.now();
      if (due > 0) await new Promise((r) => setTimeout(r, due));
      const name = `w-${i}`;
      const sent = nowMs();
      writes.push(
        options.writer
          .create(
            PodSchema,
            benchPod(WATCH_NAMESPACE, name, { [SENT_AT_ANNOTATION]: String(sent) }),
            {
              timeoutMs: REQUEST_TIMEOUT_MS,
            },
          )
          .then(
            () => {
              writeLatencies.push(nowMs() - sent);
              written.push(name);
            },
            () => {
              writeErrors++;
            },
          ),
      );
    }
    await Promise.all(writes);
    const expected = written.length * total;
    await waitFor(
      "every watcher receiving every write",
      () => latencies.length >= expected || streamErrors === total,
      DRAIN_TIMEOUT_MS,
    ).catch((e: unknown) => {
      options.log(`  !! ${e instanceof Error ? e.message : String(e)}`);
    });
  } finally {
    for (const s of streams) s.cancel();
    await Promise.all(readers);
    for (const c of clients) c.close();
  }
  let missing = 0;
  let watchersMissing = 0;
  for (const mine of seen) {
    const m = written.filter((n) => !mine.has(n)).length;
    missing += m;
    if (m > 0) watchersMissing++;
  }
  latencies.sort((a, b) => a - b);
  writeLatencies.sort((a, b) => a - b);
  return {
    watchers: total,
    connections: options.connections,
    writes: written.length,
    expected: written.length * total,
    delivered: latencies.length,
    watchersMissing,
    missing,
    streamErrors,
    ...(firstStreamError === undefined ? {} : { firstStreamError }),
    writeErrors,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    maxMs: latencies.length === 0 ? Number.NaN : (latencies[latencies.length - 1] as number),
    writeP99Ms: percentile(writeLatencies, 0.99),
  };
}
