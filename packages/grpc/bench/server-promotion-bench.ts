// What a unary call leaves for V8's old generation on the server: bytes allocated, bytes
// promoted by scavenges, and bytes promoted and then collected by a major GC, per call, for a
// Put-shaped method (server-promotion-target.ts, in its own process so that its heap is the
// server's alone) driven from this process by @tug/grpc clients: CONCURRENCY calls in flight
// over CONNECTIONS connections, a fixed number of calls after a warm-up. These figures do not
// move with the machine's load, unlike latency, so they can be compared on a busy machine.
//
//   tsx --conditions=source packages/grpc/bench/server-promotion-bench.ts [calls] [rounds] [checkouts]
//
// With PROMOTION_PROFILE_DIR set, each target writes its sampling heap profile there, as
// <round>-<checkout index>-<mode>.heapprofile.
//
// `checkouts`: comma-separated repository roots whose server-promotion-target.ts runs (default
// this one); rounds alternate between them, for an A/B of two versions of GrpcServer.
//
// Method. allocated: the growth of V8's used heap between consecutive GCs, summed
// (v8.GCProfiler, main isolate). promoted: the growth of old space + code space + large-object
// space across each scavenge, summed (what scavenges moved out of the young generation).
// majorCollected: a sampling heap profile (HeapProfiler.startSampling, one sample per 4 KiB) of
// the same workload taken twice, once including objects collected by major GCs and once
// leaving them out; a full GC ends each window, so the difference is what was promoted and
// then died in old space. Pauses: GCProfiler's cost of each Scavenge and MarkSweepCompact.

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface, type Interface } from "node:readline";
import { fileURLToPath } from "node:url";
import { GrpcChannel } from "../src/index.js";

const CALLS = Number(process.argv[2] ?? 60_000);
const ROUNDS = Number(process.argv[3] ?? 2);
const CHECKOUTS = (process.argv[4] ?? "").split(",").filter((c) => c !== "");
const CONNECTIONS = 4;
const CONCURRENCY = 64;
const PROFILE_DIR = process.env.PROMOTION_PROFILE_DIR;
const WARMUP_CALLS = 20_000;
/** Like the store bench's puts: a short key and a 256-byte value, ~300 bytes encoded. */
const KEY_BYTES = 20;
const REQUEST_BYTES = 300;

const method = {
  path: "/bench.KV/Put",
  requestSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
};
const request = Buffer.alloc(REQUEST_BYTES, 7);
request[0] = KEY_BYTES;

interface Figures {
  mode: "all" | "minor";
  sampled: number;
  allocated: number;
  promoted: number;
  pauses: { scavenge: { count: number; ms: number }; markCompact: { count: number; ms: number } };
}

/** Makes `calls` calls, CONCURRENCY in flight spread over the channels; rejects on an error. */
function run(channels: readonly GrpcChannel[], calls: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let started = 0;
    let finished = 0;
    const next = (channel: GrpcChannel) => {
      if (started === calls) return;
      started++;
      channel.unaryCallback(method, request, undefined, (e) => {
        if (e !== null) {
          reject(e);
          return;
        }
        if (++finished === calls) resolve();
        else next(channel);
      });
    };
    for (let i = 0; i < CONCURRENCY; i++) next(channels[i % channels.length] as GrpcChannel);
  });
}

/** One measured run of a target in one sampling mode. */
async function measure(
  checkout: string | undefined,
  mode: "all" | "minor",
  profileName: string,
): Promise<Figures> {
  const script =
    checkout === undefined
      ? fileURLToPath(new URL("./server-promotion-target.ts", import.meta.url))
      : `${checkout}/packages/grpc/bench/server-promotion-target.ts`;
  const child: ChildProcess = spawn(
    process.execPath,
    [
      "--conditions=source",
      "--import",
      "tsx",
      script,
      mode,
      ...(PROFILE_DIR === undefined ? [] : [`${PROFILE_DIR}/${profileName}-${mode}.heapprofile`]),
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const channels: GrpcChannel[] = [];
  try {
    const lines: Interface = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const iterator = lines[Symbol.asyncIterator]();
    const nextLine = async () => {
      const { value, done } = await iterator.next();
      if (done) throw new Error("the target exited early (see its stderr above)");
      return value as string;
    };
    const port = Number(await nextLine());
    for (let i = 0; i < CONNECTIONS; i++) channels.push(new GrpcChannel(`127.0.0.1:${port}`));
    await run(channels, WARMUP_CALLS);
    child.stdin?.write("start\n");
    await nextLine();
    await run(channels, CALLS);
    child.stdin?.write("stop\n");
    return JSON.parse(await nextLine()) as Figures;
  } finally {
    for (const channel of channels) channel.close();
    child.kill();
    if (child.exitCode === null) await once(child, "exit");
  }
}

const kinds = CHECKOUTS.length === 0 ? [undefined] : CHECKOUTS;
const rows: Record<string, unknown>[] = [];
for (let round = 0; round < ROUNDS; round++) {
  for (const [index, checkout] of kinds.entries()) {
    const all = await measure(checkout, "all", `${round + 1}-${index}`);
    const minor = await measure(checkout, "minor", `${round + 1}-${index}`);
    const perCall = (n: number) => Math.round(n / CALLS);
    const row = {
      checkout: checkout ?? ".",
      allocatedPerCall: perCall((all.allocated + minor.allocated) / 2),
      promotedPerCall: perCall((all.promoted + minor.promoted) / 2),
      majorCollectedPerCall: perCall(all.sampled - minor.sampled),
      scavenges: all.pauses.scavenge.count,
      scavengeMs: Number(all.pauses.scavenge.ms.toFixed(1)),
      markCompacts: all.pauses.markCompact.count,
      markCompactMs: Number(all.pauses.markCompact.ms.toFixed(1)),
    };
    process.stderr.write(`round ${round + 1} ${JSON.stringify(row)}\n`);
    rows.push(row);
  }
}
console.log(
  JSON.stringify({ calls: CALLS, connections: CONNECTIONS, concurrency: CONCURRENCY, rows }),
);
