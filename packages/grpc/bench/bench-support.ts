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
