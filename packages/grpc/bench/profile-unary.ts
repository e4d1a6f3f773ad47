// CPU profiles of @tug/grpc's two sides on one workload: a GrpcServer (echo-target, its own
// process) answering a GrpcChannel (this process), 64 unary calls in flight, 300-byte
// messages, loopback. Both processes run with --cpu-prof; the profiles land in `dir`, to be
// read with packages/apiserver/bench/cpu-profile-summary.ts. Also prints the CPU per call of
// each side (process.cpuUsage here, /proc/<pid>/stat there), without the warm-up; with `dir`
// "none" nothing is profiled, for a quick A/B of CPU per call.
//
//   node --cpu-prof --cpu-prof-dir=<dir> --conditions=source --import tsx \
//     packages/grpc/bench/profile-unary.ts <dir> [calls]

import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { GrpcChannel, type MethodDefinition } from "../src/index.js";
import { cpuMsOf, echoService, runConcurrently } from "./bench-support.js";

const dir = process.argv[2];
if (dir === undefined) throw new Error("usage: profile-unary.ts <profile-dir> [calls]");
const CALLS = Number(process.argv[3] ?? 30_000);
const CONCURRENCY = 64;
const WARMUP_CALLS = 3_000;
const REQUEST = Buffer.alloc(300, 7);
const Echo: MethodDefinition<Buffer, Buffer> = echoService.Echo;

const script = fileURLToPath(new URL("./server-bench-target.ts", import.meta.url));
const profile = dir === "none" ? [] : ["--cpu-prof", `--cpu-prof-dir=${dir}`];
const child = spawn(
  process.execPath,
  [...profile, "--conditions=source", "--import", "tsx", script, "tug", "exit-on-stdin-end"],
  { stdio: ["pipe", "pipe", "inherit"] },
);
try {
  const [line] = (await once(child.stdout as NodeJS.ReadableStream, "data")) as [Buffer];
  const channel = new GrpcChannel(`127.0.0.1:${Number(line.toString().trim())}`);
  const call = (req: Buffer, done: (e: unknown) => void) =>
    channel.unaryCallback(Echo, req, undefined, (e) => done(e));
  await runConcurrently(call, REQUEST, WARMUP_CALLS, CONCURRENCY);
  const server0 = await cpuMsOf(child.pid as number);
  const cpu0 = process.cpuUsage();
  await runConcurrently(call, REQUEST, CALLS, CONCURRENCY);
  const cpu = process.cpuUsage(cpu0);
  const serverUs = (((await cpuMsOf(child.pid as number)) - server0) * 1000) / CALLS;
  console.log(
    `client ${((cpu.user + cpu.system) / CALLS).toFixed(1)} µs/call, server ${serverUs.toFixed(1)} µs/call`,
  );
  channel.close();
} finally {
  child.stdin?.end();
  await once(child, "exit");
}
