// runTugControllerManager in-process: a health port it cannot listen on is a logged error and
// exit code 1 before any controller starts, not an unhandled rejection.

import { createServer, type Server } from "node:net";
import { afterEach, expect, it } from "vitest";
import { runTugControllerManager } from "../../src/process/main.js";

let busy: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) =>
    busy === undefined ? resolve() : busy.close(() => resolve()),
  );
  busy = undefined;
});

it("exits 1 with a JSON error line naming --secure-port when the health port is in use", async () => {
  const server = createServer();
  busy = server;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  let stderr = "";
  const code = await runTugControllerManager({
    argv: [
      "--master=127.0.0.1:1",
      "--bind-address=127.0.0.1",
      `--secure-port=${address.port}`,
      "--leader-elect=false",
    ],
    env: {},
    stdout: () => {},
    stderr: (s) => {
      stderr += s;
    },
  });
  expect(code).toBe(1);
  const line = stderr
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as { level: string; msg: string; error?: string })
    .find((l) => l.level === "error");
  expect(line?.msg).toBe("cannot serve /healthz, /readyz and /metrics: is --secure-port free?");
  expect(line?.error).toMatch(/port is in use/);
});
