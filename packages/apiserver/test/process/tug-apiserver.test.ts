// The tug-apiserver binary as a real process against tug-store: health endpoints, a create
// through the client, metrics, a graceful stop on SIGTERM; and bad flags exiting 2.

import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { ConfigMapSchema } from "@tug/api";
import { ApiClient } from "@tug/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTugStore, type TestStore } from "../support/stores.js";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../../..");
const BIN = join(REPO_ROOT, "packages/apiserver/bin/tug-apiserver.ts");
/** A cold tsx start of the process takes a few seconds on a busy 2-core machine. */
const START_TIMEOUT_MS = 60_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function startBinary(
  args: readonly string[],
  env: Record<string, string> = {},
): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", BIN, ...args], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let out = "";
  child.stdout?.on("data", (b: Buffer) => {
    out += b.toString();
  });
  child.stderr?.on("data", (b: Buffer) => {
    out += b.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => out, exit };
}

async function waitReady(url: string, proc: { output: () => string }): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`not ready in time; output:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("the tug-apiserver process", () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await startTugStore();
  });
  afterAll(async () => {
    await store?.stop();
  });

  it("serves health, the API and metrics, and stops on SIGTERM", async () => {
    const [apiPort, healthPort] = [await freePort(), await freePort()];
    const proc = startBinary(
      ["--bind-address=127.0.0.1", `--secure-port=${apiPort}`, "--etcd-compaction-interval=0"],
      {
        TUG_APISERVER_ETCD_SERVERS: store.endpoints.join(","),
        TUG_APISERVER_HEALTH_PORT: String(healthPort),
      },
    );
    const client = new ApiClient({ servers: [`127.0.0.1:${apiPort}`] });
    try {
      await waitReady(`http://127.0.0.1:${healthPort}/readyz`, proc);
      expect(await (await fetch(`http://127.0.0.1:${healthPort}/healthz`)).text()).toBe("ok");
      const created = await client.create(
        ConfigMapSchema,
        create(ConfigMapSchema, {
          metadata: { name: "p", namespace: "default" },
          data: { a: "b" },
        }),
      );
      expect(created.metadata?.uid).not.toBe("");
      const metrics = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
      expect(metrics).toContain(
        'apiserver_request_total{verb="CREATE",resource="configmaps",code="201"} 1',
      );
      expect(proc.output()).toContain('"msg":"serving"');
      proc.child.kill("SIGTERM");
      expect(await proc.exit).toBe(0);
    } finally {
      client.close();
      if (proc.child.exitCode === null) proc.child.kill("SIGKILL");
      await proc.exit;
    }
  });

  it("exits 2 with the problem when --etcd-servers is missing or a flag is bad", async () => {
    const missing = startBinary([]);
    expect(await missing.exit).toBe(2);
    expect(missing.output()).toContain("--etcd-servers is required");
    const bad = startBinary(["--etcd-servers=http://127.0.0.1:1", "--event-ttl=forever"]);
    expect(await bad.exit).toBe(2);
    expect(bad.output()).toContain('--event-ttl "forever" is not a duration');
  });
});
