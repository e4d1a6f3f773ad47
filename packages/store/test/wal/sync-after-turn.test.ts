// syncAfterTurn: a sync that blocks the event loop's thread starts only after the HTTP/2
// frames written in the current turn have reached the socket. The client runs in a worker
// thread, whose loop keeps running while the test's thread is blocked; the blocking "sync"
// spins until the worker reports the response or a generous deadline passes, so the test
// depends on order, not on timing: without the turn's end, the response cannot leave before
// the deadline, however fast the machine.

import type { FileHandle } from "node:fs/promises";
import { createServer, type Http2Server } from "node:http2";
import type { AddressInfo } from "node:net";
import { Worker } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { type SyncFile, syncAfterTurn } from "../../src/wal/index.js";

/** How long the blocked thread waits for the worker before giving up. */
const DEADLINE_MS = 10_000;

const CLIENT = `
const { workerData, parentPort } = require("node:worker_threads");
const http2 = require("node:http2");
const flag = new Int32Array(workerData.flag);
const session = http2.connect("http://127.0.0.1:" + workerData.port);
const req = session.request({ ":path": "/" });
req.on("data", () => {});
req.on("end", () => {
  Atomics.store(flag, 0, 1);
  session.close();
});
req.end();
parentPort.postMessage("requested");
`;

let server: Http2Server | undefined;
let worker: Worker | undefined;

afterEach(async () => {
  await worker?.terminate();
  worker = undefined;
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** Answers the first request, then runs `sync`; resolves with whether the client had the answer. */
async function answerThenSync(
  makeSync: (block: (fd: number) => void) => SyncFile,
): Promise<boolean> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  let sawAnswer = false;
  const block = (): void => {
    const end = Date.now() + DEADLINE_MS;
    while (Atomics.load(flag, 0) === 0 && Date.now() < end) {
      // spin: the thread is blocked, as in fdatasync
    }
    sawAnswer = Atomics.load(flag, 0) === 1;
  };
  const sync = makeSync(block);
  const h2 = createServer();
  server = h2;
  const synced = new Promise<void>((resolve, reject) => {
    h2.on("stream", (stream) => {
      stream.respond({ ":status": 200 });
      stream.end("ok");
      // As the member's Ready does: the WAL's sync is called in the same turn as the reply.
      sync({ fd: -1 } as FileHandle).then(resolve, reject);
    });
  });
  await new Promise<void>((resolve) => h2.listen(0, "127.0.0.1", resolve));
  const { port } = h2.address() as AddressInfo;
  worker = new Worker(CLIENT, { eval: true, workerData: { port, flag: flag.buffer } });
  await synced;
  return sawAnswer;
}

describe("syncAfterTurn", () => {
  it("blocks only after the turn's HTTP/2 response has left", async () => {
    expect(await answerThenSync(syncAfterTurn)).toBe(true);
  });

  it("the control: a sync that blocks in the same turn holds the response back", async () => {
    const sameTurn =
      (block: (fd: number) => void): SyncFile =>
      async (fh) =>
        block(fh.fd);
    expect(await answerThenSync(sameTurn)).toBe(false);
  }, 30_000);
});
