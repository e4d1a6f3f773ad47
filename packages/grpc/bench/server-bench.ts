// Server CPU per unary call: @tug/grpc's GrpcServer against grpc-js's Server and a bare
// node:http2 handler (server-bench-target.ts, each in its own process), driven by the same
// grpc-js client from this process: 64 calls in flight, 300-byte messages, loopback. Rounds
// alternate between the servers so that the machine's load drifts over all alike. CPU is the
// server process's user + system time from /proc/<pid>/stat, divided by the calls made.
//
//   tsx --conditions=source packages/grpc/bench/server-bench.ts [calls-per-round] [rounds] [kinds]
//
// `kinds`: a comma-separated subset of tug, grpc-js and http2 (default all three). A kind may
// name another checkout of the repository, `tug:/tmp/wt-base`, whose target then runs from
// there: an A/B of two versions of GrpcServer with rounds alternating in one run.

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Client, credentials } from "@grpc/grpc-js";
import { type Caller, cpuMsOf, echoService, runConcurrently } from "./bench-support.js";

const CALLS = Number(process.argv[2] ?? 20_000);
const ROUNDS = Number(process.argv[3] ?? 4);
const CONCURRENCY = 64;
const MESSAGE_BYTES = 300;
const WARMUP_CALLS = 3_000;
const KINDS = (process.argv[4] ?? "tug,grpc-js,http2").split(",");

const identity = (b: Buffer) => b;
const request = Buffer.alloc(MESSAGE_BYTES, 7);

/** Makes `calls` echo calls on the grpc-js client, CONCURRENCY at a time. */
function run(client: Client, calls: number): Promise<void> {
  const call: Caller = (req, done) =>
    client.makeUnaryRequest(echoService.Echo.path, identity, identity, req, (e) => done(e));
  return runConcurrently(call, request, calls, CONCURRENCY);
}

interface Target {
  readonly child: ChildProcess;
  readonly client: Client;
}

async function startTarget(kind: string): Promise<Target> {
  const [name, checkout] = kind.split(":") as [string, string | undefined];
  const script =
    checkout === undefined
      ? fileURLToPath(new URL("./server-bench-target.ts", import.meta.url))
      : `${checkout}/packages/grpc/bench/server-bench-target.ts`;
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", script, name], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [line] = (await once(child.stdout as NodeJS.ReadableStream, "data")) as [Buffer];
  const port = Number(line.toString().trim());
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  await run(client, WARMUP_CALLS);
  return { child, client };
}

const targets = new Map<string, Target>();
try {
  for (const kind of KINDS) targets.set(kind, await startTarget(kind));
  const perCall = new Map<string, number[]>(KINDS.map((k) => [k, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of KINDS) {
      const t = targets.get(kind) as Target;
      const pid = t.child.pid as number;
      const before = await cpuMsOf(pid);
      await run(t.client, CALLS);
      const us = (((await cpuMsOf(pid)) - before) * 1000) / CALLS;
      perCall.get(kind)?.push(us);
      process.stderr.write(`round ${round + 1} ${kind}: ${us.toFixed(1)} µs/call\n`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const result = Object.fromEntries(
    KINDS.map((k) => [k, Number(median(perCall.get(k) ?? []).toFixed(1))]),
  );
  console.log(JSON.stringify({ serverCpuUsPerCall: result, calls: CALLS, rounds: ROUNDS }));
} finally {
  for (const t of targets.values()) {
    t.client.close();
    t.child.kill();
  }
}
