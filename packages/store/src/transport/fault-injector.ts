// The fault layer of the peer transport, for chaos experiments in the local mode (every member
// a process on one machine, where iptables and tc netem are not at hand): per link, drop a
// share of the Raft messages, hold them back by a delay with jitter, or cut the link. It acts
// on the sending side, on Raft messages only: a dropped message vanishes as on a lossy network
// (the sender is not told), the stream itself and its pings stay up, so a partition looks to
// Raft like a silent network, not like a crashed peer.
//
// Decisions come from a seeded generator, so a run with the same seed and the same sequence of
// messages drops the same ones. The settings can change at any time; they apply to messages
// sent from then on.

import type { NodeId } from "@tug/raft";
import { StoreError } from "../errors.js";

/** The faults of one directed link, from → to. Fields left out mean "no such fault". */
export interface LinkFaults {
  /** Share of messages dropped, in [0, 1]. */
  readonly dropProbability?: number;
  /** Delay added to every message, in ms. */
  readonly delayMs?: number;
  /** Extra delay drawn uniformly from [0, jitterMs) per message, in ms. */
  readonly jitterMs?: number;
  /** Every message is dropped (a network partition, one way). */
  readonly partitioned?: boolean;
}

/** What happens to one message on a link. */
export type FaultDecision =
  | { readonly drop: true; readonly reason: "partition" | "loss" }
  | { readonly drop: false; readonly delayMs: number };

export interface FaultInjectorOptions {
  /** Seed of the generator that decides drops and jitter; any 32-bit integer. */
  readonly seed: number;
}

const DELIVER_NOW: FaultDecision = { drop: false, delayMs: 0 };

export class FaultInjector {
  private readonly links = new Map<string, LinkFaults>();
  private defaults: LinkFaults = {};
  private readonly random: () => number;

  constructor(options: FaultInjectorOptions) {
    if (!Number.isInteger(options.seed)) {
      throw new StoreError(
        "INVALID_ARGUMENT",
        `fault injector: seed ${options.seed} is not an integer`,
      );
    }
    this.random = mulberry32(options.seed);
  }

  /** Sets the faults of the link from → to, replacing what it had; undefined clears them. */
  setLink(from: NodeId, to: NodeId, faults: LinkFaults | undefined): void {
    if (faults === undefined) this.links.delete(linkKey(from, to));
    else this.links.set(linkKey(from, to), checked(faults, `link ${from}->${to}`));
  }

  /** Sets the faults of every link that has none of its own. */
  setDefault(faults: LinkFaults): void {
    this.defaults = checked(faults, "default");
  }

  /** Cuts every link between the two groups, both ways, keeping the links' other faults. */
  partition(a: readonly NodeId[], b: readonly NodeId[]): void {
    for (const x of a) {
      for (const y of b) {
        this.setLink(x, y, { ...this.linkFaults(x, y), partitioned: true });
        this.setLink(y, x, { ...this.linkFaults(y, x), partitioned: true });
      }
    }
  }

  /** Cuts every link to and from `id` among `members` (a crashed NIC, as seen by the rest). */
  isolate(id: NodeId, members: readonly NodeId[]): void {
    this.partition(
      [id],
      members.filter((m) => m !== id),
    );
  }

  /** Removes every partition; drop rates and delays stay. */
  heal(): void {
    for (const [key, faults] of this.links) {
      if (faults.partitioned) this.links.set(key, { ...faults, partitioned: false });
    }
    if (this.defaults.partitioned) this.defaults = { ...this.defaults, partitioned: false };
  }

  /** Removes every fault. */
  reset(): void {
    this.links.clear();
    this.defaults = {};
  }

  /** The faults in force on the link from → to. */
  linkFaults(from: NodeId, to: NodeId): LinkFaults {
    return this.links.get(linkKey(from, to)) ?? this.defaults;
  }

  /** Decides the fate of one message on from → to; draws from the generator only if needed. */
  decide(from: NodeId, to: NodeId): FaultDecision {
    const f = this.linkFaults(from, to);
    if (f.partitioned) return { drop: true, reason: "partition" };
    const p = f.dropProbability ?? 0;
    if (p > 0 && this.random() < p) return { drop: true, reason: "loss" };
    const delay = f.delayMs ?? 0;
    const jitter = f.jitterMs ?? 0;
    if (delay === 0 && jitter === 0) return DELIVER_NOW;
    return { drop: false, delayMs: delay + (jitter > 0 ? this.random() * jitter : 0) };
  }
}

function linkKey(from: NodeId, to: NodeId): string {
  return `${from}->${to}`;
}

function checked(f: LinkFaults, where: string): LinkFaults {
  const p = f.dropProbability;
  if (p !== undefined && !(p >= 0 && p <= 1)) {
    throw new StoreError(
      "INVALID_ARGUMENT",
      `fault injector: ${where}: dropProbability ${p} is not in [0, 1]`,
    );
  }
  for (const name of ["delayMs", "jitterMs"] as const) {
    const v = f[name];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) {
      throw new StoreError(
        "INVALID_ARGUMENT",
        `fault injector: ${where}: ${name} ${v} is not a finite number of ms >= 0`,
      );
    }
  }
  return { ...f };
}

/** mulberry32: a small, fast 32-bit generator; plenty for fault decisions. Returns [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
