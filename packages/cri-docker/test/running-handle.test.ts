// runTugCriDocker's onStarted: the handle it is given once the process serves names the CRI
// socket, the streaming and metrics URLs actually bound, and stops the process. Needs the
// Docker engine (scripts/setup-docker.sh); fails, never skips, without it.

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CriClient } from "../src/index.js";
import { type RunningCriDocker, runTugCriDocker } from "../src/main.js";
import { PAUSE, requireDocker } from "./harness.js";

let dir: string;
beforeAll(async () => {
  await requireDocker();
  dir = mkdtempSync(join(tmpdir(), "tug-cri-handle-test-"));
});
afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe("tug-cri-docker's running handle", () => {
  it("is handed to onStarted once it serves, and its stop() ends the process with 0", async () => {
    const socket = join(dir, "cri.sock");
    let logs = "";
    const abort = new AbortController();
    let resolveRunning: (r: RunningCriDocker) => void = () => undefined;
    const running = new Promise<RunningCriDocker>((resolve) => {
      resolveRunning = resolve;
    });
    let calls = 0;
    const exited = runTugCriDocker({
      argv: [
        "--listen",
        socket,
        "--pause-image",
        PAUSE,
        "--instance",
        `handle-${process.pid}`,
        "--metrics-address",
        "127.0.0.1:0",
      ],
      env: {},
      stderr: (line) => {
        logs += line;
      },
      signal: abort.signal,
      onStarted: (r) => {
        calls++;
        resolveRunning(r);
      },
    });
    let client: CriClient | undefined;
    try {
      // Without onStarted the process would serve until aborted: bound the wait, generously.
      const first = await Promise.race([
        running,
        exited.then((code) => new Error(`runTugCriDocker exited ${code} before onStarted`)),
        new Promise<Error>((resolve) =>
          setTimeout(() => resolve(new Error("onStarted not called within 60 s")), 60_000),
        ),
      ]);
      if (first instanceof Error) throw first;
      const r = first;
      expect(r.socketPath).toBe(socket);
      expect(r.settings.listen).toBe(socket);
      expect(r.server.socketPath).toBe(socket);
      expect(r.streamingUrl).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
      expect(r.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
      // It already serves: no waiting for readiness.
      client = new CriClient(r.socketPath);
      expect((await client.runtime.version({})).runtimeName).toBe("docker");
      expect(await (await fetch(`${r.metricsUrl}/healthz`)).text()).toBe("ok");
      client.close();
      client = undefined;
      r.stop("test done");
      expect(await exited).toBe(0);
      expect(calls).toBe(1);
      expect(existsSync(socket)).toBe(false);
      expect(logs).toContain('"msg":"stopping"');
      expect(logs).toContain('"reason":"test done"');
    } finally {
      client?.close();
      abort.abort();
      await exited;
    }
  }, 90_000);
});
