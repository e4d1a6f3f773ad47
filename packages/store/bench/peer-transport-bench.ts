// The peer transport alone, both directions: member 1 streams MsgApps (ENTRIES entries of 256
// bytes each) to member 2, which answers each with a MsgAppResp on its own stream, as a
// follower does; at most WINDOW appends are unanswered at a time (a closed loop, so nothing is
// dropped and the pace is the machine's). No Raft, no WAL: what is measured is what the
// transport costs per append and answer, sending and receiving, in this one process (user +
// system CPU, all threads). Prints one JSON line per round.
//
//   node --conditions=source --import tsx packages/store/bench/peer-transport-bench.ts
//
// Environment: PEER_BENCH_APPENDS (per round, default 20000), PEER_BENCH_ROUNDS (default 3),
// PEER_BENCH_WINDOW (default 8), PEER_BENCH_ENTRIES (default 4). Compare two versions by
// running them alternately, one right after the other.

import { performance } from "node:perf_hooks";
import { type Entry, type Message, message } from "@tug/raft";
import { Transport } from "../src/transport/index.js";

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}=${raw} is not a positive integer`);
  return n;
}

const appendsPerRound = envNumber("PEER_BENCH_APPENDS", 20_000);
const rounds = envNumber("PEER_BENCH_ROUNDS", 3);
const window = envNumber("PEER_BENCH_WINDOW", 8);
const entriesPerAppend = envNumber("PEER_BENCH_ENTRIES", 4);
const CLUSTER = 0xbe7cn;
const VALUE = new Uint8Array(256).fill(0x61);

let onAck: (index: number) => void = () => {};
const leader: Transport = new Transport({
  id: 1,
  clusterId: CLUSTER,
  onMessage: (m) => onAck(m.index),
  onSnapshot: async () => {},
});
const follower: Transport = new Transport({
  id: 2,
  clusterId: CLUSTER,
  // Answered on a microtask, as the Raft loop answers after its Ready.
  onMessage: (m) => {
    queueMicrotask(() =>
      follower.send([
        message({
          type: "MsgAppResp",
          from: 2,
          to: 1,
          term: 1,
          index: m.index + m.entries.length,
        }),
      ]),
    );
  },
  onSnapshot: async () => {},
});

function append(index: number): Message {
  const entries: Entry[] = [];
  for (let i = 1; i <= entriesPerAppend; i++) {
    entries.push({ term: 1, index: index + i, type: "EntryNormal", data: VALUE });
  }
  return message({
    type: "MsgApp",
    from: 1,
    to: 2,
    term: 1,
    index,
    logTerm: 1,
    commit: index,
    entries,
  });
}

/**
 * Sends `count` appends after index `start`, with at most `window` beyond the highest answer
 * (the transport coalesces answers: one may cover several appends, as in Raft); resolves
 * with the last index once it is answered.
 */
function drive(count: number, start: number): Promise<number> {
  const last = start + count * entriesPerAppend;
  return new Promise((resolve) => {
    let next = start;
    let acked = start;
    const fill = (): void => {
      while (next < last && next - acked < window * entriesPerAppend) {
        leader.send([append(next)]);
        next += entriesPerAppend;
      }
    };
    onAck = (index) => {
      if (index <= acked) return;
      acked = index;
      if (acked >= last) resolve(last);
      else fill();
    };
    fill();
  });
}

try {
  const urlLeader = await leader.listen("http://127.0.0.1:0");
  const urlFollower = await follower.listen("http://127.0.0.1:0");
  leader.addPeer(2, urlFollower);
  follower.addPeer(1, urlLeader);
  while (!leader.peerStats(2)?.connected || !follower.peerStats(1)?.connected) {
    await new Promise((r) => setTimeout(r, 20));
  }
  let index = await drive(2000, 0); // warm-up
  for (let r = 0; r < rounds; r++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    index = await drive(appendsPerRound, index);
    const cpu = process.cpuUsage(cpu0);
    const seconds = (performance.now() - t0) / 1000;
    process.stdout.write(
      `${JSON.stringify({
        round: r + 1,
        appends: appendsPerRound,
        window,
        entriesPerAppend,
        appendsPerSec: Math.round(appendsPerRound / seconds),
        cpuUsPerAppend: Number(((cpu.user + cpu.system) / appendsPerRound).toFixed(1)),
        userUsPerAppend: Number((cpu.user / appendsPerRound).toFixed(1)),
      })}\n`,
    );
  }
} finally {
  await Promise.all([leader.close(), follower.close()]);
}
