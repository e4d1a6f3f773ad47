// Test harness for StoreServer: members in this process on real sockets (port 0), each with the
// etcd v3 gRPC server in front, in fresh temp dirs. `stopAll()` in afterEach stops every member
// and removes every directory a test made, whatever happened. Waits have no deadline of their
// own unless said: a condition that never comes fails by the test's timeout.

import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Etcd3 } from "etcd3";
import { type EtcdGrpcServer, startEtcdGrpcServer } from "../../src/api/index.js";
import {
  type InitialMember,
  listenPeer,
  type PeerListener,
  StoreServer,
  type StoreServerConfig,
} from "../../src/server/index.js";

/** Small timeouts so that elections take a fraction of a second. */
export const HEARTBEAT_MS = 20;
export const ELECTION_MS = 200;

/** mulberry32: a seeded uniform [0, 1) generator. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface TestMember {
  readonly name: string;
  readonly dataDir: string;
  readonly peerUrl: string;
  server: StoreServer;
  grpc: EtcdGrpcServer;
  /** host:port of its etcd API. */
  endpoint: string;
  client: Etcd3;
  stopped: boolean;
}

const dirs: string[] = [];
const members: TestMember[] = [];
const clients: Etcd3[] = [];

export async function tempDir(prefix = "tug-store-server-"): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

export type MemberOptions = Partial<
  Omit<StoreServerConfig, "name" | "dataDir" | "peer" | "initialCluster">
>;

/** Starts a member on a bound peer listener, with its etcd API on a free port. */
export async function startMember(
  name: string,
  dataDir: string,
  peer: PeerListener,
  initialCluster: readonly InitialMember[],
  options: MemberOptions = {},
): Promise<TestMember> {
  const server = await StoreServer.start({
    name,
    dataDir,
    peer,
    initialCluster,
    heartbeatMs: HEARTBEAT_MS,
    electionMs: ELECTION_MS,
    random: seeded(name.length * 7919 + name.charCodeAt(name.length - 1)),
    ...options,
  });
  const grpc = await startEtcdGrpcServer({ backend: server, listen: "127.0.0.1:0" });
  const endpoint = `127.0.0.1:${grpc.port}`;
  server.setClientUrls([`http://${endpoint}`]);
  const client = new Etcd3({ hosts: endpoint });
  clients.push(client);
  const m: TestMember = {
    name,
    dataDir,
    peerUrl: peer.url,
    server,
    grpc,
    endpoint,
    client,
    stopped: false,
  };
  members.push(m);
  return m;
}

export interface Cluster {
  readonly members: TestMember[];
  readonly initialCluster: InitialMember[];
  readonly token: string;
}

/** A new cluster of `n` members named m1..mn. */
export async function startCluster(n: number, options: MemberOptions = {}): Promise<Cluster> {
  const base = await tempDir();
  const peers = await Promise.all(
    Array.from({ length: n }, () => listenPeer("http://127.0.0.1:0")),
  );
  const initialCluster = peers.map((p, i) => ({ name: `m${i + 1}`, peerUrls: [p.url] }));
  const token = `test-${Math.floor(Math.random() * 1e9)}`;
  const started = await Promise.all(
    peers.map((p, i) =>
      startMember(`m${i + 1}`, join(base, `m${i + 1}`), p, initialCluster, {
        initialClusterToken: token,
        ...options,
      }),
    ),
  );
  return { members: started, initialCluster, token };
}

/** Restarts a stopped member on its data dir and peer URL. */
export async function restartMember(
  m: TestMember,
  initialCluster: readonly InitialMember[],
  options: MemberOptions = {},
): Promise<TestMember> {
  const peer = await listenPeer(m.peerUrl);
  return startMember(m.name, m.dataDir, peer, initialCluster, options);
}

/** Stops a member: its API and then the server (without handing leadership over, by default). */
export async function stopMember(m: TestMember, transferLeadership = false): Promise<void> {
  if (m.stopped) return;
  m.stopped = true;
  m.client.close();
  await m.grpc.close();
  await m.server.close({ transferLeadership });
}

export async function stopAll(): Promise<void> {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(members.splice(0).map((m) => stopMember(m)));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` every few ms until it holds. */
export async function until(cond: () => boolean | Promise<boolean>, everyMs = 10): Promise<void> {
  for (;;) {
    if (await cond()) return;
    await sleep(everyMs);
  }
}

/** The running member that leads, once every running member agrees on one. */
export async function waitLeader(ms: readonly TestMember[]): Promise<TestMember> {
  for (;;) {
    const live = ms.filter((m) => !m.stopped);
    const lead = live[0]?.server.leader ?? 0;
    const leader = live.find((m) => m.server.memberId === lead);
    if (lead !== 0 && leader?.server.isLeader && live.every((m) => m.server.leader === lead)) {
      return leader;
    }
    await sleep(10);
  }
}

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real etcdctl (ETCDCTL_API=3) against `endpoints`. */
export function etcdctl(
  endpoints: string | readonly string[],
  args: readonly string[],
): Promise<CommandResult> {
  const eps = typeof endpoints === "string" ? endpoints : endpoints.join(",");
  return new Promise((resolve, reject) => {
    const child = spawn(
      "/usr/bin/etcdctl",
      [`--endpoints=${eps}`, "--command-timeout=10s", ...args],
      {
        env: { ...process.env, ETCDCTL_API: "3" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on("data", (b: Buffer) => {
      stderr += b.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
