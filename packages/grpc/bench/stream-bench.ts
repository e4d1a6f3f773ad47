// CPU per streamed message on both sides: a GrpcServer (server-bench-target.ts "tug", its
// own process) answers server-streaming calls of `messages` 300-byte messages each, which a
// GrpcChannel in this process reads with push handlers (`streams` calls, 8 at a time),
// loopback. CPU is process.cpuUsage() here and /proc/<pid>/stat there, after a warm-up,
// divided by the messages received. For an A/B of two versions, alternate runs of this
// script in two checkouts.
//
//   tsx --conditions=source packages/grpc/bench/stream-bench.ts [streams] [messages]

import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { GrpcChannel, type MethodDefinition } from "../src/index.js";
import { cpuMsOf, runConcurrently, streamService } from "./bench-support.js";

const STREAMS = Number(process.argv[2] ?? 40);
const MESSAGES = Number(process.argv[3] ?? 5_000);
const MESSAGE_BYTES = 300;
const CONCURRENCY = 8;
const Stream: MethodDefinition<Buffer, Buffer> = streamService.Stream;

const request = Buffer.alloc(8);
request.writeUInt32BE(MESSAGES, 0);
request.writeUInt32BE(MESSAGE_BYTES, 4);

const script = fileURLToPath(new URL("./server-bench-target.ts", import.meta.url));
const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", script, "tug"], {
  stdio: ["ignore", "pipe", "inherit"],
});
try {
  const [line] = (await once(child.stdout as NodeJS.ReadableStream, "data")) as [Buffer];
  const channel = new GrpcChannel(`127.0.0.1:${Number(line.toString().trim())}`);
  let received = 0;
  const call = (req: Buffer, done: (e: unknown) => void) => {
    let n = 0;
    channel.serverStream(Stream, req, undefined, {
      onMessage: () => {
        n++;
      },
      onEnd: (e) => {
        received += n;
        done(e ?? (n === MESSAGES ? null : new Error(`got ${n} of ${MESSAGES} messages`)));
      },
    });
  };
  await runConcurrently(call, request, Math.max(2, STREAMS / 10), CONCURRENCY);
  received = 0;
  const server0 = await cpuMsOf(child.pid as number);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await runConcurrently(call, request, STREAMS, CONCURRENCY);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const serverUs = (((await cpuMsOf(child.pid as number)) - server0) * 1000) / received;
  console.log(
    `client ${((cpu.user + cpu.system) / received).toFixed(2)} µs/message, server ${serverUs.toFixed(2)} µs/message, ${Math.round((received * 1000) / wall)} messages/s`,
  );
  channel.close();
} finally {
  child.kill();
}
