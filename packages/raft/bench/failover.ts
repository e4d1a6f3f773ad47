// Failover in simulated time: how long after the leader dies does a new leader commit an entry
// of its own term (Raft §8: its no-op), the moment from which it can serve writes and
// linearizable reads again. A discrete-event simulation in milliseconds, so results are not
// quantized to whole ticks:
// - every member ticks at the same interval but with its own random phase;
// - every message takes a one-way latency drawn uniformly from [latencyMinMs, latencyMaxMs],
//   and links are FIFO, like the TCP streams a real transport uses;
// - persisting and applying take no time (no IO), so what is left is the protocol's own cost:
//   detection (election timeout), pre-vote and vote round trips, and the no-op's round trip;
// - the leader is killed at a uniformly random moment once the group is steady: from then on
//   it neither sends nor receives (messages it sent before dying still arrive).

import type { Message, NodeId } from "../src/index.js";
import { Rng } from "../test/support/rng.js";
import { EventQueue } from "../test/support/sim-queue.js";
import { BenchNode } from "./bench-node.js";

export interface Timing {
  readonly name: string;
  readonly tickMs: number;
  readonly heartbeatTick: number;
  readonly electionTick: number;
}

export interface FailoverOptions {
  readonly members: number;
  readonly timing: Timing;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly latencyMinMs: number;
  readonly latencyMaxMs: number;
}

export interface TrialResult {
  readonly seed: number;
  /** From the kill to a live member becoming leader (what the paper's Figure 16 measures). */
  readonly electedMs: number;
  /** From the kill to that leader committing the first entry of its term. */
  readonly committedMs: number;
  /**
   * Times any member became candidate after the kill. More than one means an election did not
   * settle it at once: two members stood at the same time (a split vote), or a vote was lost.
   */
  readonly candidacies: number;
  /** Times any member became pre-candidate after the kill (0 with pre-vote off). */
  readonly preCandidacies: number;
}

/** Give up on a trial after this much simulated time without a committing leader. */
const TRIAL_LIMIT_MS = 120_000;

type SimEvent =
  | { readonly kind: "tick"; readonly node: BenchNode }
  | { readonly kind: "deliver"; readonly msg: Message }
  | { readonly kind: "kill" };

export function runFailoverTrial(o: FailoverOptions, seed: number): TrialResult {
  const rng = new Rng(seed);
  const raftRng = rng.fork();
  const netRng = rng.fork();
  const phaseRng = rng.fork();
  const killRng = rng.fork();
  const { tickMs, heartbeatTick, electionTick } = o.timing;
  const electionMs = electionTick * tickMs;

  const ids = Array.from({ length: o.members }, (_, i) => i + 1);
  const nodes = ids.map(
    (id) =>
      new BenchNode(id, ids, {
        electionTick,
        heartbeatTick,
        random: (n) => raftRng.intn(n),
        preVote: o.preVote,
        checkQuorum: o.checkQuorum,
      }),
  );
  const byId = new Map<NodeId, BenchNode>(nodes.map((n) => [n.id, n]));
  // Per-link FIFO: a message never overtakes an earlier one on the same link.
  const linkFree = new Map<string, number>();

  const q = new EventQueue<SimEvent>();
  for (const n of nodes) q.push(phaseRng.next() * tickMs, { kind: "tick", node: n });

  let dead: BenchNode | undefined;
  let deadTerm = 0;
  let killedAt = Number.NaN;
  let killScheduled = false;
  let electedAt = Number.NaN;
  let committedAt = Number.NaN;
  let candidacies = 0;
  let preCandidacies = 0;

  const afterInput = (node: BenchNode, now: number) => {
    const out = node.handleReady();
    for (const m of out.messages) {
      const link = `${m.from}>${m.to}`;
      const at = Math.max(
        now + o.latencyMinMs + netRng.next() * (o.latencyMaxMs - o.latencyMinMs),
        linkFree.get(link) ?? 0,
      );
      linkFree.set(link, at);
      q.push(at, { kind: "deliver", msg: m });
    }
    if (dead !== undefined) {
      for (const ev of out.events) {
        if (ev.type === "became-candidate") candidacies++;
        else if (ev.type === "became-pre-candidate") preCandidacies++;
        else if (ev.type === "became-leader" && Number.isNaN(electedAt)) electedAt = now;
      }
    }
    if (node.role !== "leader" || !out.committed.some((e) => e.term === node.term)) return;
    if (dead === undefined) {
      if (!killScheduled) {
        // Steady: a leader serves. Kill it at a uniformly random moment one to two election
        // timeouts later, so the kill falls anywhere within the heartbeat interval.
        killScheduled = true;
        q.push(now + electionMs * (1 + killRng.next()), { kind: "kill" });
      }
    } else if (node.term > deadTerm && Number.isNaN(committedAt)) {
      committedAt = now;
    }
  };

  for (;;) {
    const ev = q.popBefore(Number.POSITIVE_INFINITY);
    if (ev === undefined) throw new Error(`seed ${seed}: the simulation ran out of events`);
    const now = ev.at;
    if (dead !== undefined && now - killedAt > TRIAL_LIMIT_MS) {
      throw new Error(`seed ${seed}: no leader committed within ${TRIAL_LIMIT_MS} ms of the kill`);
    }
    const e = ev.item;
    if (e.kind === "tick") {
      if (e.node === dead) continue;
      e.node.raw.tick();
      afterInput(e.node, now);
      q.push(now + tickMs, e);
    } else if (e.kind === "deliver") {
      const to = byId.get(e.msg.to);
      if (to === undefined || to === dead) continue;
      to.raw.step(e.msg);
      afterInput(to, now);
    } else {
      const leader = currentLeader(nodes);
      if (leader === undefined) {
        // Between leaders (should not happen in a steady group): try again a little later.
        q.push(now + tickMs, e);
        continue;
      }
      dead = leader;
      deadTerm = leader.term;
      killedAt = now;
    }
    if (!Number.isNaN(committedAt)) break;
  }
  return {
    seed,
    electedMs: electedAt - killedAt,
    committedMs: committedAt - killedAt,
    candidacies,
    preCandidacies,
  };
}

/** The leader of the highest term, as the members themselves see it. */
function currentLeader(nodes: readonly BenchNode[]): BenchNode | undefined {
  let best: BenchNode | undefined;
  for (const n of nodes) {
    if (n.role === "leader" && (best === undefined || n.term > best.term)) best = n;
  }
  return best;
}
