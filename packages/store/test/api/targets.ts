// What the etcd API tests run against: tug-store's gRPC server over a LocalBackend in this
// process, or a real etcd 3.4 started from /usr/bin/etcd on free ports in a temp dir. The same
// assertions run against both, so that they describe etcd's behaviour, not tug's.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials } from "@grpc/grpc-js";
import { etcdServices } from "../../src/api/etcd-proto.js";
import {
  LocalBackend,
  type LocalBackendOptions,
  startEtcdGrpcServer,
} from "../../src/api/index.js";

export const ETCD_BIN = "/usr/bin/etcd";
export const ETCDCTL_BIN = "/usr/bin/etcdctl";
export const HAVE_ETCD = existsSync(ETCD_BIN);
export const HAVE_ETCDCTL = existsSync(ETCDCTL_BIN);

/** How long a real etcd may take to start serving (it is usually well under a second). */
const ETCD_START_TIMEOUT_MS = 20_000;

export interface Target {
  readonly kind: "tug" | "etcd";
  /** host:port of the client endpoint. */
  readonly endpoint: string;
  close(): Promise<void>;
}

export interface TargetOptions {
  /** Watch progress notifications for watchers that asked (etcd's default: 10 minutes). */
  progressNotifyIntervalMs?: number;
  backend?: LocalBackendOptions;
  /** tug only: see EtcdGrpcServerOptions.watchMaxPendingBytes. */
  watchMaxPendingBytes?: number;
}

export type StartTarget = (options?: TargetOptions) => Promise<Target>;

export async function startTug(options: TargetOptions = {}): Promise<Target> {
  const backend = new LocalBackend({ name: "tug", ...options.backend });
  const server = await startEtcdGrpcServer({
    backend,
    listen: "127.0.0.1:0",
    progressNotifyIntervalMs: options.progressNotifyIntervalMs,
    watchMaxPendingBytes: options.watchMaxPendingBytes,
  });
  const endpoint = `127.0.0.1:${server.port}`;
  backend.setClientUrls([`http://${endpoint}`]);
  return {
    kind: "tug",
    endpoint,
    close: async () => {
      await server.close();
      backend.close();
    },
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once a Maintenance.Status call succeeds. */
async function waitServing(endpoint: string, proc: ChildProcess, log: () => string): Promise<void> {
  const client = new etcdServices.Maintenance(endpoint, credentials.createInsecure());
  const deadline = Date.now() + ETCD_START_TIMEOUT_MS;
  try {
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`etcd exited with ${proc.exitCode}:\n${log()}`);
      const ok = await new Promise<boolean>((resolve) => {
        client.Status({}, { deadline: Date.now() + 1000 }, (err) => resolve(err === null));
      });
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`etcd did not start serving:\n${log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    client.close();
  }
}

/** Another test may take a probed port before etcd binds it; pick new ports this many times. */
const ETCD_BIND_ATTEMPTS = 3;

export async function startEtcd(options: TargetOptions = {}): Promise<Target> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startEtcdOnce(options);
    } catch (e) {
      const raced = e instanceof Error && e.message.includes("address already in use");
      if (!raced || attempt >= ETCD_BIND_ATTEMPTS) throw e;
    }
  }
}

async function startEtcdOnce(options: TargetOptions): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), "tug-etcd-"));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const endpoint = `127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    "--name=etcd",
    `--data-dir=${join(dir, "data")}`,
    `--listen-client-urls=http://${endpoint}`,
    `--advertise-client-urls=http://${endpoint}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=etcd=${peer}`,
    "--log-level=error",
  ];
  if (options.progressNotifyIntervalMs !== undefined) {
    args.push(
      `--experimental-watch-progress-notify-interval=${options.progressNotifyIntervalMs}ms`,
    );
  }
  const proc = spawn(ETCD_BIN, args, { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  proc.stderr?.on("data", (d: Buffer) => {
    log += d.toString();
  });
  const close = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGKILL");
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitServing(endpoint, proc, () => log);
  } catch (e) {
    await close();
    throw e;
  }
  return { kind: "etcd", endpoint, close };
}

// The real etcd and etcdctl are part of what these suites test against: without them the
// suites would prove nothing about compatibility, so they fail instead of skipping.
if (!HAVE_ETCD || !HAVE_ETCDCTL) {
  throw new Error(
    `the etcd API tests need ${ETCD_BIN} and ${ETCDCTL_BIN} (Debian's etcd-server and etcd-client): run bash scripts/setup-system.sh`,
  );
}

/** The targets every suite runs against: tug-store's gRPC layer and a real etcd 3.4. */
export const TARGETS: readonly (readonly [name: "tug" | "etcd", start: StartTarget])[] = [
  ["tug", startTug],
  ["etcd", startEtcd],
];
