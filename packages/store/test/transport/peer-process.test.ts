// The failure the store's fast failover reacts to: the process of a peer dies (SIGKILL) and
// the stream from it breaks. The receiver must say so at once (onPeerStreamBroken), not after
// a timeout.

import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import {
  INBOUND_IDLE_TIMEOUT_MS,
  PING_INTERVAL_MS,
  PONG_TIMEOUT_MS,
} from "../../src/transport/index.js";
import { closeAll, startMember } from "./harness.js";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, "../../../..");
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  }
  await closeAll();
});

/**
 * Starts peer-child.ts as member `id` streaming to `peer` at `url`; resolves once its stream
 * is up, with the child's own peer URL.
 */
function startChild(
  id: number,
  peer: number,
  url: string,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      "--conditions=source",
      "--import",
      "tsx",
      join(here, "peer-child.ts"),
      String(id),
      String(peer),
      url,
    ],
    { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (b: Buffer) => {
      out += b.toString();
      const ready = /ready (\S+)\n/.exec(out);
      if (ready?.[1]) resolve({ child, url: ready[1] });
    });
    child.once("exit", (code, signal) =>
      reject(new Error(`peer-child exited (code ${code}, signal ${signal}) before it was ready`)),
    );
  });
}

describe("a peer process that dies", () => {
  it("breaks its stream, and the receiver says so at once", async () => {
    const b = await startMember(2);
    const { child } = await startChild(1, 2, b.url);
    await b.until(() => b.active.includes(1) && b.received.length > 0);
    expect(b.broken).toEqual([]);

    const killedAt = performance.now();
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await b.until(() => b.broken.length > 0);
    const detectMs = performance.now() - killedAt;
    await exited;
    console.log(
      `peer transport: stream from a SIGKILLed peer reported broken after ${detectMs.toFixed(1)} ms ` +
        `(idle timeout would be ${INBOUND_IDLE_TIMEOUT_MS} ms)`,
    );
    expect(b.broken).toEqual([1]);
    // The connection's end, not the idle timeout, is what told B.
    expect(b.brokenReasons).toEqual(["connection-lost"]);
    expect(b.transport.peerStats(1)).toBeUndefined(); // B never added 1 as a peer
  });

  it("that is frozen (SIGSTOP) goes silent: both directions notice without a connection error", async () => {
    const b = await startMember(2);
    const { child, url } = await startChild(1, 2, b.url);
    b.transport.addPeer(1, url);
    await b.until(() => b.transport.peerStats(1)?.connected === true && b.active.includes(1));
    const stoppedAt = performance.now();
    child.kill("SIGSTOP");
    try {
      // Inbound: no pings arrive, so the stream counts as broken, for silence.
      await b.until(() => b.broken.length > 0);
      const silentMs = performance.now() - stoppedAt;
      expect(b.broken).toEqual([1]);
      expect(b.brokenReasons).toEqual(["silent"]);
      // Outbound: the child answers no ping, so B tears its stream down.
      await b.until(() => b.transport.peerStats(1)?.connected === false);
      const pongMs = performance.now() - stoppedAt;
      expect(b.transport.peerStats(1)?.lastError).toMatch(/^no answer to a ping in \d+ ms$/);
      console.log(
        `peer transport: a frozen peer: inbound stream silent after ${silentMs.toFixed(0)} ms ` +
          `(INBOUND_IDLE_TIMEOUT_MS ${INBOUND_IDLE_TIMEOUT_MS}), outbound torn down after ` +
          `${pongMs.toFixed(0)} ms (PONG_TIMEOUT_MS ${PONG_TIMEOUT_MS}, checked every ${PING_INTERVAL_MS} ms)`,
      );
    } finally {
      child.kill("SIGKILL");
      child.kill("SIGCONT");
    }
  });
});
