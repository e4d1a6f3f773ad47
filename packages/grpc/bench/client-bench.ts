// Client CPU per unary call: grpc-js's client against @tug/grpc's GrpcChannel, on the same
// grpc-js server (echo-server.ts, another process), 64 calls in flight, 300-byte messages,
// loopback. Rounds alternate between the two clients so that the machine's load drifts over
// both alike. CPU is process.cpuUsage() of this process (user + system) and /proc/<pid>/stat
// of the server, divided by the calls made.
//
//   tsx --conditions=source packages/grpc/bench/client-bench.ts [calls-per-round] [rounds]

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Client, credentials } from "@grpc/grpc-js";
import { GrpcChannel, type MethodDefinition } from "../src/index.js";
import { type Caller, cpuMsOf, echoService, runConcurrently } from "./bench-support.js";

const CALLS = Number(process.argv[2] ?? 20_000);
const ROUNDS = Number(process.argv[3] ?? 4);
const CONCURRENCY = 64;
const MESSAGE_BYTES = 300;
const WARMUP_CALLS = 3_000;

const identity = (b: Buffer) => b;
const Echo: MethodDefinition<Buffer, Buffer> = echoService.Echo;
const REQUEST = Buffer.alloc(MESSAGE_BYTES, 7);

/** Makes `calls` calls, CONCURRENCY at a time; resolves when all are answered. */
const run = (call: Caller, calls: number) => runConcurrently(call, REQUEST, calls, CONCURRENCY);

async function main(): Promise<void> {
  const serverPath = fileURLToPath(new URL("./echo-server.ts", import.meta.url));
  const server = spawn(process.execPath, ["--import", "tsx", serverPath], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
      server.once("exit", (code) => reject(new Error(`echo server exited with ${code}`)));
    });
    const target = `127.0.0.1:${port}`;
    const grpcJs = new Client(target, credentials.createInsecure());
    const tug = new GrpcChannel(target);
    const clients: Record<string, Caller> = {
      "grpc-js": (req, done) =>
        grpcJs.makeUnaryRequest(Echo.path, identity, identity, req, (e) => done(e)),
      "@tug/grpc": (req, done) => tug.unaryCallback(Echo, req, undefined, (e) => done(e)),
    };
    for (const call of Object.values(clients)) await run(call, WARMUP_CALLS);
    const totals: Record<string, { client: number; server: number; wall: number }> = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, call] of Object.entries(clients)) {
        const server0 = await cpuMsOf(server.pid ?? 0);
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        await run(call, CALLS);
        const wall = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        const serverMs = (await cpuMsOf(server.pid ?? 0)) - server0;
        const clientUs = ((cpu.user + cpu.system) / CALLS).toFixed(1);
        const serverUs = ((serverMs * 1000) / CALLS).toFixed(1);
        console.log(
          `round ${round + 1} ${name.padEnd(10)} client ${clientUs} µs/call, server ${serverUs} µs/call, ${Math.round((CALLS * 1000) / wall)} calls/s`,
        );
        totals[name] ??= { client: 0, server: 0, wall: 0 };
        const t = totals[name];
        t.client += cpu.user + cpu.system;
        t.server += serverMs * 1000;
        t.wall += wall;
      }
    }
    const n = CALLS * ROUNDS;
    for (const [name, t] of Object.entries(totals)) {
      console.log(
        `all rounds ${name.padEnd(10)} client ${(t.client / n).toFixed(1)} µs/call, server ${(t.server / n).toFixed(1)} µs/call, ${Math.round((n * 1000) / t.wall)} calls/s`,
      );
    }
    grpcJs.close();
    tug.close();
  } finally {
    server.kill("SIGTERM");
  }
}

await main();
