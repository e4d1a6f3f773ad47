// Helpers for the paper tests: one RawNode over a MemoryStorage that may hold a pre-built log,
// driven by hand. Tests step messages into it and read the messages it sends back, which is
// how etcd-io/raft's raft_paper_test.go checks single RPCs; whole-group scenarios use the
// test Network instead.

import {
  type ConfChange,
  type Entry,
  type HardState,
  MemoryStorage,
  type Message,
  type MessageInit,
  type MessageType,
  message,
  type NodeId,
  type RandomSource,
  RawNode,
  type ReadState,
  type Status,
  voteResponseType,
} from "../../src/index.js";
import { decodeConfChange } from "../../src/wire-codec.js";
import { type NodeOptions, testConfig } from "../support/network.js";
import { Rng } from "../support/rng.js";

export interface PeerSpec extends NodeOptions {
  readonly voters: readonly NodeId[];
  readonly learners?: readonly NodeId[];
  /** Entries already in stable storage (from index 1), as if written before a restart. */
  readonly log?: readonly Entry[];
  /** The persisted hard state; the default is the empty one. */
  readonly hardState?: Partial<HardState>;
  /** Seed of the election-timeout randomness; defaults to the node id. */
  readonly seed?: number;
  /** Replaces the seeded randomness, to pin the randomized election timeout. */
  readonly random?: RandomSource;
  /** Restart over this storage (what a crashed node had persisted) instead of a new one. */
  readonly storage?: MemoryStorage;
}

/** What a node handed out while draining its Readys. */
export interface Output {
  readonly messages: Message[];
  /** Entries persisted (Ready.entries), in order. */
  readonly entries: Entry[];
  /** Entries applied (Ready.committedEntries), in order. */
  readonly committed: Entry[];
  readonly readStates: ReadState[];
}

/** A single RawNode whose Readys the test persists, applies and inspects by hand. */
export class Peer {
  readonly node: RawNode;
  readonly storage: MemoryStorage;
  /** Every entry applied so far, no-ops and conf changes included. */
  readonly applied: Entry[] = [];

  constructor(
    readonly id: NodeId,
    spec: PeerSpec,
  ) {
    const { voters, learners, log, hardState, seed, random, storage, ...opts } = spec;
    this.storage = storage ?? MemoryStorage.withPeers(voters, learners ?? []);
    this.storage.append(log ?? []);
    if (hardState !== undefined) {
      this.storage.setHardState({ term: 0, vote: 0, commit: 0, ...hardState });
    }
    const config = testConfig(id, this.storage, new Rng(seed ?? id), opts);
    this.node = new RawNode(random === undefined ? config : { ...config, random });
  }

  status(): Status {
    return this.node.status();
  }

  /** Delivers a message from a peer, addressed to this node. */
  step(init: MessageInit): void {
    this.node.step(message({ to: this.id, ...init }));
  }

  tick(n = 1): void {
    for (let i = 0; i < n; i++) this.node.tick();
  }

  /** Persists, "sends" and applies every pending Ready, as a driver would, and returns it all. */
  drain(): Output {
    const out: Output = { messages: [], entries: [], committed: [], readStates: [] };
    while (this.node.hasReady()) {
      const rd = this.node.ready();
      this.storage.append(rd.entries);
      if (rd.hardState !== undefined) this.storage.setHardState(rd.hardState);
      out.entries.push(...rd.entries);
      out.messages.push(...rd.messages);
      out.readStates.push(...rd.readStates);
      for (const e of rd.committedEntries) {
        out.committed.push(e);
        this.applied.push(e);
        if (e.type === "EntryConfChange") {
          const cc: ConfChange = decodeConfChange(e.data);
          this.node.applyConfChange(cc);
        }
      }
      this.node.advance(rd);
    }
    return out;
  }

  /** Every entry in stable storage, in order. */
  log(): readonly Entry[] {
    return storedLog(this.storage);
  }
}

/** Entries with the given terms at indexes 1, 2, ... (the way the paper's figures draw logs). */
export function logOfTerms(...terms: number[]): Entry[] {
  return terms.map((term, i) => ({
    term,
    index: i + 1,
    type: "EntryNormal" as const,
    data: new Uint8Array(0),
  }));
}

/** Every entry in a storage, in order. */
export function storedLog(storage: MemoryStorage): readonly Entry[] {
  return storage.entries(storage.firstIndex(), storage.lastIndex() + 1, Number.MAX_SAFE_INTEGER);
}

/** The (index, term) pairs of a log, which is all the paper's figures show of an entry. */
export function shape(entries: readonly Entry[]): { index: number; term: number }[] {
  return entries.map((e) => ({ index: e.index, term: e.term }));
}

export function ofType(msgs: readonly Message[], type: MessageType): Message[] {
  return msgs.filter((m) => m.type === type);
}

/** Campaigns and has every other voter grant every (pre-)vote it asks for; returns the leader's output. */
export function elect(p: Peer): Output {
  p.node.campaign();
  for (let round = 0; round < 3; round++) {
    const out = p.drain();
    if (p.status().role === "leader") return out;
    for (const m of out.messages) {
      if (m.type === "MsgVote" || m.type === "MsgPreVote") {
        p.step({ type: voteResponseType(m.type), from: m.to, term: m.term });
      }
    }
  }
  throw new Error(`node ${p.id} did not become leader`);
}

/**
 * Answers every MsgApp in `msgs` as a follower that accepts it would (from the ids in `from`,
 * all recipients by default), and returns what the leader sent in reply.
 */
export function acceptAppends(p: Peer, msgs: readonly Message[], from?: readonly NodeId[]): Output {
  for (const m of msgs) {
    if (m.type !== "MsgApp" || (from !== undefined && !from.includes(m.to))) continue;
    p.step({ type: "MsgAppResp", from: m.to, term: m.term, index: m.index + m.entries.length });
  }
  return p.drain();
}

/**
 * Elects `p` and has every follower accept its appends until all are acknowledged. Returns
 * everything the leader handed out on the way (its no-op is among the committed entries).
 */
export function electAndCommit(p: Peer): Output {
  const all: Output = { messages: [], entries: [], committed: [], readStates: [] };
  let out = elect(p);
  for (let i = 0; ; i++) {
    all.messages.push(...out.messages);
    all.entries.push(...out.entries);
    all.committed.push(...out.committed);
    all.readStates.push(...out.readStates);
    if (ofType(out.messages, "MsgApp").length === 0) return all;
    if (i === 10) throw new Error(`node ${p.id} kept sending appends`);
    out = acceptAppends(p, out.messages);
  }
}
