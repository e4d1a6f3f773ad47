// Starts the two etcd v3 stores the storage tests run against: tug-store in this process, and
// a real etcd 3.4 (/usr/bin/etcd) as a child process on free ports in a temp dir.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalBackend, startEtcdGrpcServer } from "@tug/store";
import { EtcdClient } from "../../src/storage/etcd-client.js";

/** A running store: its client endpoints, and how to stop it (idempotent). */
export interface TestStore {
  readonly kind: "tug-store" | "etcd";
  readonly endpoints: readonly string[];
  stop(): Promise<void>;
}

export const ETCD_BINARY = "/usr/bin/etcd";

/** How long etcd may take to start serving; it starts in well under a second here. */
const ETCD_START_TIMEOUT_MS = 20_000;

/** How long etcd gets to exit on SIGTERM before SIGKILL. */
const ETCD_STOP_GRACE_MS = 5_000;

export async function startTugStore(): Promise<TestStore> {
  const backend = new LocalBackend({ name: "apiserver-test" });
  const server = await startEtcdGrpcServer({ backend, listen: "127.0.0.1:0" });
  let stopped: Promise<void> | undefined;
  return {
    kind: "tug-store",
    endpoints: [`http://127.0.0.1:${server.port}`],
    stop: () => {
      stopped ??= server.close().finally(() => backend.close());
      return stopped;
    },
  };
}

async function freePort(): Promise<number> {
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

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
}

/** Starts etcd 3.4 with one member; throws if /usr/bin/etcd is missing or does not come up. */
export async function startEtcd(): Promise<TestStore> {
  if (!existsSync(ETCD_BINARY)) {
    throw new Error(`${ETCD_BINARY} not found: install Debian's etcd-server package (etcd 3.4)`);
  }
  const dir = await mkdtemp(join(tmpdir(), "tug-apiserver-etcd-"));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const child = spawn(
    ETCD_BINARY,
    [
      "--name=test",
      `--data-dir=${join(dir, "data")}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=test=${peerUrl}`,
      "--initial-cluster-state=new",
      "--log-level=error",
      "--logger=zap",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const gone = exited(child);
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), ETCD_STOP_GRACE_MS);
        await gone;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
  const client = new EtcdClient({ endpoints: [clientUrl], requestTimeoutMs: 1_000 });
  try {
    const deadline = Date.now() + ETCD_START_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null) {
        throw new Error(`etcd exited with code ${child.exitCode}: ${stderr}`);
      }
      try {
        await client.get("health");
        break;
      } catch (e) {
        if (Date.now() > deadline) {
          throw new Error(`etcd did not serve within ${ETCD_START_TIMEOUT_MS} ms: ${stderr}`, {
            cause: e,
          });
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (e) {
    await stop();
    throw e;
  } finally {
    client.close();
  }
  return { kind: "etcd", endpoints: [clientUrl], stop };
}

/** The stores every storage test runs against, by name, for describe.each. */
export const STORES: readonly { name: "tug-store" | "etcd"; start: () => Promise<TestStore> }[] = [
  { name: "tug-store", start: startTugStore },
  { name: "etcd", start: startEtcd },
];
