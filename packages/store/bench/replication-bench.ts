// The replication path alone: three StoreServers in this process (real peer transport over
// loopback gRPC, real WALs with fdatasync in temp dirs), driven by concurrent puts straight
// into their backends, without the etcd client port. Prints one JSON line: puts/s and this
// process's CPU (user + system, all threads) per put. Set against the member CPU per put of
// `pnpm bench:store`, it tells what replication, the WAL and applying cost and what the
// client port adds. Under load, compare runs taken one right after the other. Not measured
// here: per-process costs, and members' fsync on their own thread (all three members share
// this one).
//
//   node --conditions=source --import tsx packages/store/bench/replication-bench.ts
//
// Environment: REPL_CLIENTS (default 64), REPL_SECONDS (default 8), REPL_WARMUP_SECONDS
// (default 2, not counted). Node flags such as --cpu-prof go before --import.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { listenPeer, type PeerListener, StoreServer } from "../src/server/index.js";
import { fdatasync } from "../src/wal/index.js";

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}=${raw} is not a positive number`);
  return n;
}

const clients = envNumber("REPL_CLIENTS", 64);
const seconds = envNumber("REPL_SECONDS", 8);
const warmupSeconds = envNumber("REPL_WARMUP_SECONDS", 2);
const VALUE = new Uint8Array(256).fill(0x61);
const encoder = new TextEncoder();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Raft messages sent to peers and WAL fsyncs, summed over the members. */
function counters(servers: readonly StoreServer[]): { messages: number; fsyncs: number } {
  let messages = 0;
  let fsyncs = 0;
  for (const s of servers) {
    const m = s.metrics();
    fsyncs += m.walFsync.count;
    for (const p of m.peers) messages += p.sentMessages;
  }
  return { messages, fsyncs };
}

/** Runs `clients` put loops, each on the members in turn, for `ms`; returns the puts done. */
async function drive(servers: readonly StoreServer[], ms: number): Promise<number> {
  let done = 0;
  let stop = false;
  let next = 0;
  const loop = async (c: number): Promise<void> => {
    for (let i = 0; !stop; i++) {
      const server = servers[next++ % servers.length] as StoreServer;
      await server.put({ key: encoder.encode(`bench/${c}/${i % 1000}`), value: VALUE });
      done++;
    }
  };
  const loops = Array.from({ length: clients }, (_, c) => loop(c));
  await sleep(ms);
  stop = true;
  await Promise.all(loops);
  return done;
}

const base = await mkdtemp(join(tmpdir(), "tug-replication-bench-"));
const peers: PeerListener[] = [];
const servers: StoreServer[] = [];
try {
  for (let i = 0; i < 3; i++) peers.push(await listenPeer("http://127.0.0.1:0"));
  const initialCluster = peers.map((p, i) => ({ name: `m${i + 1}`, peerUrls: [p.url] }));
  for (const [i, peer] of peers.entries()) {
    servers.push(
      await StoreServer.start({
        name: `m${i + 1}`,
        dataDir: join(base, `m${i + 1}`),
        peer,
        initialCluster,
        initialClusterToken: "replication-bench",
        heartbeatMs: 100,
        electionMs: 1000,
        // Every member syncs on the thread pool: in their own processes members sync on the
        // event loop's thread, which here would stall all three.
        syncFile: fdatasync,
      }),
    );
  }
  while (!servers.some((s) => s.isLeader) || servers.some((s) => s.leader === 0)) {
    await sleep(50);
  }
  await drive(servers, warmupSeconds * 1000);
  const counts0 = counters(servers);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const puts = await drive(servers, seconds * 1000);
  const cpu = process.cpuUsage(cpu0);
  const counts = counters(servers);
  const elapsed = (performance.now() - t0) / 1000;
  const perPut = (us: number) => Number((us / 1000 / puts).toFixed(4));
  process.stdout.write(
    `${JSON.stringify({
      clients,
      seconds,
      putsPerSec: Math.round(puts / elapsed),
      cpuMsPerPut: perPut(cpu.user + cpu.system),
      userMsPerPut: perPut(cpu.user),
      systemMsPerPut: perPut(cpu.system),
      // Load-independent: Raft messages between members, and WAL fsyncs, per put.
      messagesPerPut: Number(((counts.messages - counts0.messages) / puts).toFixed(3)),
      fsyncsPerPut: Number(((counts.fsyncs - counts0.fsyncs) / puts).toFixed(3)),
    })}\n`,
  );
} finally {
  await Promise.all(servers.map((s) => s.close({ transferLeadership: false })));
  for (const p of peers) p.close();
  await rm(base, { recursive: true, force: true });
}
