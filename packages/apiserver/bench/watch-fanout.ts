// Watch fan-out: many watchers on pods, a series of writes, and the time from each write's
// send to its delivery at each watcher. A write carries its send time (epoch ms, fractional)
// in an annotation, so that a watcher needs nothing but the event to time it.

import { performance } from "node:perf_hooks";
import type { Client } from "@grpc/grpc-js";
import { PodSchema } from "@tug/api";
import { ApiClient } from "@tug/client";
import { benchPod, REQUEST_TIMEOUT_MS, WATCH_NAMESPACE } from "./api-workload.js";
import { percentile } from "./open-loop.js";
import { rawClient, watchAnnotation } from "./raw-watch.js";

/** The annotation holding a write's name and send time: "<name>@<epoch ms>". */
export const SENT_AT_ANNOTATION = "bench.tug.io/sent-at";
/** How long the watchers may take to see the warm-up write (1000 streams opening). */
const WARMUP_TIMEOUT_MS = 60_000;
/** How long after the last write the watchers may take to receive everything. */
const DRAIN_TIMEOUT_MS = 30_000;
/** Deliveries are over when none came for this long. */
const QUIET_MS = 2_000;
/** The list of what was stored, after the writes: generous, the server may still be busy. */
const FINAL_LIST_TIMEOUT_MS = 60_000;

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
  /**
   * "raw": watchers read only the annotation from each event's bytes (raw-watch.ts); "full":
   * each is an ApiClient watch that decodes every pod.
   */
  readonly decode: "raw" | "full";
  /** The bench's client for the writes. */
  readonly writer: ApiClient;
  /** Registered pod watchers, from the apiserver's /metrics. */
  readonly registeredWatchers: () => Promise<number>;
  readonly log: (line: string) => void;
}

export interface FanoutResult {
  readonly watchers: number;
  readonly connections: number;
  readonly decode: "raw" | "full";
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
  /**
   * Writes the client saw fail (a timed-out one may still have been stored: what is expected
   * is what a list of the namespace shows afterwards).
   */
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
  /** Per watcher: the names of the measured writes it has seen. */
  const seen = Array.from({ length: total }, () => new Set<string>());
  const warm = new Set<number>();
  const latencies: number[] = [];
  let streamErrors = 0;
  let firstStreamError: string | undefined;
  const listed = await options.writer.list(PodSchema, {
    namespace: WATCH_NAMESPACE,
    timeoutMs: REQUEST_TIMEOUT_MS,
  });
  /** A watcher saw an event whose annotation says `value` ("<name>@<sent epoch ms>"). */
  const deliver = (w: number, value: string): void => {
    const now = nowMs();
    const sep = value.lastIndexOf("@");
    const name = value.slice(0, sep);
    if (name === "warmup") {
      warm.add(w);
      return;
    }
    latencies.push(now - Number(value.slice(sep + 1)));
    (seen[w] as Set<string>).add(name);
  };
  const failed = (e: unknown): void => {
    streamErrors++;
    firstStreamError ??= e instanceof Error ? e.message : String(e);
  };
  const addresses = Array.from(
    { length: options.connections },
    (_, c) => `127.0.0.${c + 1}:${options.port}`,
  );
  let cancelAll: () => void;
  let readers: Promise<void>[];
  let closeClients: () => void;
  if (options.decode === "raw") {
    const clients = addresses.map(rawClient);
    const watches = Array.from({ length: total }, (_, w) =>
      watchAnnotation(
        clients[w % clients.length] as Client,
        WATCH_NAMESPACE,
        listed.resourceVersion,
        SENT_AT_ANNOTATION,
        (value) => deliver(w, value),
      ),
    );
    cancelAll = () => {
      for (const x of watches) x.cancel();
    };
    readers = watches.map((x) => x.done.catch(failed));
    closeClients = () => {
      for (const c of clients) c.close();
    };
  } else {
    const clients = addresses.map((a) => new ApiClient({ servers: [a] }));
    const streams = Array.from({ length: total }, (_, w) =>
      (clients[w % clients.length] as ApiClient).watch(PodSchema, {
        namespace: WATCH_NAMESPACE,
        resourceVersion: listed.resourceVersion,
      }),
    );
    cancelAll = () => {
      for (const x of streams) x.cancel();
    };
    readers = streams.map(async (stream, w) => {
      try {
        for await (const event of stream) {
          const value = event.object.metadata?.annotations[SENT_AT_ANNOTATION];
          if (value !== undefined) deliver(w, value);
        }
      } catch (e) {
        failed(e);
      }
    });
    closeClients = () => {
      for (const c of clients) c.close();
    };
  }

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
  let written: string[] = [];
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
      benchPod(WATCH_NAMESPACE, "warmup", { [SENT_AT_ANNOTATION]: `warmup@${nowMs()}` }),
      { timeoutMs: REQUEST_TIMEOUT_MS },
    );
    await waitFor(
      "every watcher seeing the warm-up write",
      () => warm.size >= total,
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
            benchPod(WATCH_NAMESPACE, name, { [SENT_AT_ANNOTATION]: `${name}@${sent}` }),
            {
              timeoutMs: REQUEST_TIMEOUT_MS,
            },
          )
          .then(
            () => {
              writeLatencies.push(nowMs() - sent);
            },
            () => {
              writeErrors++;
            },
          ),
      );
    }
    await Promise.all(writes);
    // Wait until deliveries stop coming (or the drain time is up), then learn what was stored.
    const drainDeadline = Date.now() + DRAIN_TIMEOUT_MS;
    for (let last = -1; latencies.length !== last && Date.now() < drainDeadline; ) {
      last = latencies.length;
      await new Promise((r) => setTimeout(r, QUIET_MS));
    }
    const stored = await options.writer.list(PodSchema, {
      namespace: WATCH_NAMESPACE,
      timeoutMs: FINAL_LIST_TIMEOUT_MS,
    });
    written = stored.items.map((p) => p.metadata?.name ?? "").filter((n) => n.startsWith("w-"));
    if (writeErrors > 0) {
      options.log(
        `  ${writeErrors} writes failed at the client; ${written.length} of ${options.writes} are stored`,
      );
    }
    const expected = written.length * total;
    await waitFor(
      "every watcher receiving every write",
      () => latencies.length >= expected || streamErrors === total,
      DRAIN_TIMEOUT_MS,
    ).catch((e: unknown) => {
      options.log(`  !! ${e instanceof Error ? e.message : String(e)}`);
    });
  } finally {
    cancelAll();
    await Promise.all(readers);
    closeClients();
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
    decode: options.decode,
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
