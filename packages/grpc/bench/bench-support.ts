// What the @tug/grpc benches share: the echo service they call, a driver that keeps N unary
// calls in flight, and a process's CPU time from /proc.

import { readFile } from "node:fs/promises";

/** Linux USER_HZ: /proc/<pid>/stat counts CPU in 1/100 s. */
const TICKS_PER_SECOND = 100;

const identity = (b: Buffer) => b;

/** One unary method that answers with the request's bytes (grpc-js's definition shape). */
export const echoService = {
  Echo: {
    path: "/bench.Bench/Echo",
    requestStream: false,
    responseStream: false,
    originalName: "Echo",
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

/** The echo handler, in grpc-js's unary shape. */
export const echo = (call: { request: Buffer }, cb: (e: null, r: Buffer) => void) =>
  cb(null, call.request);

/** User + system CPU the process has used, ms. */
export async function cpuMsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/** Starts one call with this request; done(error) when it is answered. */
export type Caller = (request: Buffer, done: (e: unknown) => void) => void;

/** Makes `calls` calls of `request`, `concurrency` at a time; rejects on the first error. */
export function runConcurrently(
  call: Caller,
  request: Buffer,
  calls: number,
  concurrency: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let started = 0;
    let finished = 0;
    const next = () => {
      if (started === calls) return;
      started++;
      call(request, (e) => {
        if (e !== null && e !== undefined) {
          reject(e);
          return;
        }
        if (++finished === calls) resolve();
        else next();
      });
    };
    for (let i = 0; i < concurrency; i++) next();
  });
}

/**
 * One server-streaming method: the request is a 4-byte big-endian count and a 4-byte message
 * size, and the server answers with that many messages of that size, honouring backpressure.
 */
export const streamService = {
  Stream: {
    path: "/bench.Bench/Stream",
    requestStream: false,
    responseStream: true,
    originalName: "Stream",
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

/** A writable call as both grpc-js and @tug/grpc give it. */
interface StreamCall {
  readonly request: Buffer;
  write(message: Buffer): boolean;
  once(event: "drain", listener: () => void): unknown;
  end(): void;
}

/** The stream handler, in grpc-js's server-streaming shape. */
export function streamMessages(call: StreamCall): void {
  const count = call.request.readUInt32BE(0);
  const message = Buffer.alloc(call.request.readUInt32BE(4), 7);
  let sent = 0;
  const more = () => {
    while (sent < count) {
      sent++;
      if (!call.write(message)) {
        call.once("drain", more);
        return;
      }
    }
    call.end();
  };
  more();
}
