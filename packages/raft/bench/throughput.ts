// Throughput of the core alone: a closed loop of proposals against an in-memory group with
// no IO, no ticks and instant delivery. A new proposal is made whenever one commits, so that
// `window` proposals are always in flight. What this measures is the CPU cost of the Ready
// path (append, replicate, acknowledge, commit, apply) on every member, all in one thread.

import { isRaftError, type Message, type NodeId } from "../src/index.js";
import { Rng } from "../test/support/rng.js";
import { BenchNode } from "./bench-node.js";

export interface ThroughputResult {
  readonly members: number;
  readonly window: number;
  readonly payloadBytes: number;
  readonly committed: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** Committed per second of this process's CPU time: less sensitive to other load on the machine. */
  readonly perCpuSecond: number;
}

export interface ThroughputOptions {
  readonly members: number;
  /** Proposals kept in flight (proposed at the leader, not yet committed there). */
  readonly window: number;
  readonly payloadBytes: number;
  /** Measure for this long (wall clock), after a warm-up of `warmupMs`. */
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly seed: number;
  /** Wall clock, ms. */
  readonly now: () => number;
  /** This process's CPU time (user + system), ms. */
  readonly cpuNow: () => number;
}

/** A group whose messages are delivered in memory, in rounds: every Ready, then every message. */
class Group {
  readonly nodes: BenchNode[];
  readonly byId = new Map<NodeId, BenchNode>();
  private queue: Message[] = [];

  constructor(members: number, seed: number) {
    const ids = Array.from({ length: members }, (_, i) => i + 1);
    const rng = new Rng(seed);
    this.nodes = ids.map(
      (id) =>
        new BenchNode(id, ids, {
          electionTick: 10,
          heartbeatTick: 1,
          random: (n) => rng.intn(n),
        }),
    );
    for (const n of this.nodes) this.byId.set(n.id, n);
  }

  /** One round; calls `onLeaderCommit` with the number of non-empty entries the leader applied. */
  round(leader: BenchNode, onLeaderCommit: (n: number) => void): boolean {
    let busy = false;
    for (const node of this.nodes) {
      const out = node.handleReady();
      if (out.messages.length > 0) {
        busy = true;
        for (const m of out.messages) this.queue.push(m);
      }
      if (node === leader && out.committed.length > 0) {
        let n = 0;
        for (const e of out.committed) if (e.data.length > 0) n++;
        if (n > 0) onLeaderCommit(n);
      }
    }
    const batch = this.queue;
    this.queue = [];
    for (const m of batch) this.byId.get(m.to)?.raw.step(m);
    return busy || batch.length > 0;
  }

  /** Runs rounds until no Ready and no message is left. */
  settle(leader: BenchNode): void {
    for (let i = 0; i < 100_000; i++) {
      if (!this.round(leader, () => {})) return;
    }
    throw new Error("the group did not go quiet");
  }
}

export function runThroughput(o: ThroughputOptions): ThroughputResult {
  const group = new Group(o.members, o.seed);
  const leader = group.nodes[0];
  if (leader === undefined) throw new Error("no members");
  leader.raw.campaign();
  group.settle(leader);
  if (leader.raw.status().role !== "leader") throw new Error("node 1 did not win the election");

  const payload = new Uint8Array(o.payloadBytes);
  for (let i = 0; i < payload.length; i++) payload[i] = i & 0xff;

  let inFlight = 0;
  let committed = 0;
  const refill = () => {
    while (inFlight < o.window) {
      try {
        // A fresh buffer per proposal, as a real client request would bring.
        leader.raw.propose(payload.slice());
      } catch (e) {
        if (isRaftError(e, "proposal-dropped")) break; // over the uncommitted limit: wait
        throw e;
      }
      inFlight++;
    }
  };
  const onCommit = (n: number) => {
    inFlight -= n;
    committed += n;
    refill();
  };

  // Warm up (JIT), then measure from a clean count; the window stays full across the switch.
  refill();
  const warmEnd = o.now() + o.warmupMs;
  while (o.now() < warmEnd) {
    for (let i = 0; i < 64; i++) group.round(leader, onCommit);
  }
  committed = 0;
  const cpuStart = o.cpuNow();
  const start = o.now();
  const end = start + o.durationMs;
  let t = start;
  while (t < end) {
    for (let i = 0; i < 64; i++) group.round(leader, onCommit);
    t = o.now();
  }
  const seconds = (t - start) / 1000;
  const cpuSeconds = (o.cpuNow() - cpuStart) / 1000;
  const counted = committed;

  // Sanity: once quiet, every member applied the same prefix as the leader.
  group.settle(leader);
  for (const n of group.nodes) {
    if (n.applied !== leader.applied) {
      throw new Error(`member ${n.id} applied ${n.applied}, the leader ${leader.applied}`);
    }
  }
  return {
    members: o.members,
    window: o.window,
    payloadBytes: o.payloadBytes,
    committed: counted,
    seconds,
    perSecond: counted / seconds,
    perCpuSecond: counted / cpuSeconds,
  };
}
