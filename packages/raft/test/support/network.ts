// A synchronous in-memory network of RawNodes for paper tests and interaction scripts, in the
// spirit of etcd-io/raft's test `network`: messages are delivered at once, in order, until the
// group is quiet; links can be cut, nodes isolated, message types dropped. Each node persists
// every Ready into its MemoryStorage before its messages are sent, as a real driver must.

import {
  type ConfChange,
  type Config,
  type ConfState,
  type Entry,
  type HardState,
  MemoryStorage,
  type Message,
  type MessageType,
  type NodeId,
  type RaftEvent,
  RawNode,
  type ReadState,
  type Ready,
} from "../../src/index.js";
import { decodeConfChange } from "../../src/wire-codec.js";
import { Rng } from "./rng.js";

export type NodeOptions = Partial<Omit<Config, "id" | "storage" | "random">>;

export interface TestNode {
  readonly id: NodeId;
  rawNode: RawNode;
  readonly storage: MemoryStorage;
  /** Payloads of applied normal entries, in order (empty leader no-ops are skipped). */
  readonly applied: string[];
  /** Every entry applied, including no-ops and conf changes. */
  readonly appliedEntries: Entry[];
  readonly readStates: ReadState[];
  readonly events: RaftEvent[];
  confState: ConfState;
  lastHardState: HardState | undefined;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

export function text(b: Uint8Array): string {
  return decoder.decode(b);
}

/** Builds a node config with etcd's test defaults (election 10, heartbeat 1, pre-vote and check-quorum off). */
export function testConfig(
  id: NodeId,
  storage: MemoryStorage,
  rng: Rng,
  opts: NodeOptions = {},
): Config {
  return {
    id,
    electionTick: 10,
    heartbeatTick: 1,
    maxSizePerMsg: Number.MAX_SAFE_INTEGER,
    maxInflightMsgs: 256,
    checkQuorum: false,
    preVote: false,
    ...opts,
    storage,
    random: (n) => rng.intn(n),
  };
}

export class Network {
  readonly nodes = new Map<NodeId, TestNode>();
  /** Every message that went over the wire, in order, for assertions and golden output. */
  readonly sent: Message[] = [];
  private readonly cut = new Set<string>();
  private readonly isolated = new Set<NodeId>();
  private readonly dropTypes = new Set<MessageType>();
  /** When set, messages are held here instead of delivered (for step-by-step tests). */
  private holding = false;
  readonly held: Message[] = [];
  /** Per-node hook to observe or filter outgoing messages; return false to drop. */
  filter: ((m: Message) => boolean) | undefined;
  readonly rng: Rng;

  constructor(seed = 1) {
    this.rng = new Rng(seed);
  }

  /** A group of `voters` (plus `learners`) started fresh with the same options. */
  static of(
    voters: readonly NodeId[],
    opts: NodeOptions = {},
    learners: readonly NodeId[] = [],
    seed = 1,
  ): Network {
    const net = new Network(seed);
    for (const id of [...voters, ...learners]) {
      net.add(id, MemoryStorage.withPeers(voters, learners), opts);
    }
    return net;
  }

  add(id: NodeId, storage: MemoryStorage, opts: NodeOptions = {}): TestNode {
    const rawNode = new RawNode(testConfig(id, storage, this.rng, opts));
    const node: TestNode = {
      id,
      rawNode,
      storage,
      applied: [],
      appliedEntries: [],
      readStates: [],
      events: [],
      confState: storage.initialState().confState,
      lastHardState: undefined,
    };
    this.nodes.set(id, node);
    return node;
  }

  /** Replaces node `id` with a fresh RawNode over its persisted storage (crash + restart). */
  restart(id: NodeId, opts: NodeOptions = {}): TestNode {
    const old = this.node(id);
    this.nodes.delete(id);
    const snap = old.storage.snapshot();
    const node = this.add(id, old.storage, { ...opts, applied: snap.metadata.index });
    // The state machine restarts from the snapshot; the log after it is applied again.
    node.applied.push(...decodeSnapshotData(snap.data));
    return node;
  }

  node(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  raw(id: NodeId): RawNode {
    return this.node(id).rawNode;
  }

  // ---- faults ----

  cutLink(a: NodeId, b: NodeId): void {
    this.cut.add(`${a}->${b}`);
    this.cut.add(`${b}->${a}`);
  }

  cutOneWay(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}->${to}`);
  }

  isolate(id: NodeId): void {
    this.isolated.add(id);
  }

  drop(type: MessageType): void {
    this.dropTypes.add(type);
  }

  recover(): void {
    this.cut.clear();
    this.isolated.clear();
    this.dropTypes.clear();
  }

  hold(on: boolean): void {
    this.holding = on;
  }

  private delivers(m: Message): boolean {
    if (this.isolated.has(m.from) || this.isolated.has(m.to)) return false;
    if (this.cut.has(`${m.from}->${m.to}`)) return false;
    if (this.dropTypes.has(m.type)) return false;
    if (this.filter !== undefined && !this.filter(m)) return false;
    return this.nodes.has(m.to);
  }

  // ---- driving ----

  /** Persists and applies one node's Ready, returning its messages. */
  processReady(id: NodeId): Message[] {
    const node = this.node(id);
    const out: Message[] = [];
    while (node.rawNode.hasReady()) {
      const rd: Ready = node.rawNode.ready();
      if (rd.snapshot !== undefined) {
        node.storage.applySnapshot(rd.snapshot);
        node.applied.splice(0, node.applied.length, ...decodeSnapshotData(rd.snapshot.data));
        node.confState = rd.snapshot.metadata.confState;
      }
      node.storage.append(rd.entries);
      if (rd.hardState !== undefined) {
        node.storage.setHardState(rd.hardState);
        node.lastHardState = rd.hardState;
      }
      out.push(...rd.messages);
      for (const e of rd.committedEntries) {
        node.appliedEntries.push(e);
        if (e.type === "EntryConfChange") {
          const cc: ConfChange = decodeConfChange(e.data);
          node.confState = node.rawNode.applyConfChange(cc);
        } else if (e.data.length > 0) {
          node.applied.push(text(e.data));
        }
      }
      node.readStates.push(...rd.readStates);
      node.events.push(...rd.events);
      node.rawNode.advance(rd);
    }
    return out;
  }

  /** Delivers messages (and everything they cause) until the group is quiet. */
  send(msgs: readonly Message[]): void {
    const queue = [...msgs];
    for (let steps = 0; queue.length > 0; steps++) {
      if (steps > 1_000_000)
        throw new Error("the network did not go quiet after a million messages");
      const m = queue.shift();
      if (m === undefined) break;
      this.sent.push(m);
      if (this.holding) {
        this.held.push(m);
        continue;
      }
      if (!this.delivers(m)) continue;
      try {
        this.node(m.to).rawNode.step(m);
      } catch (e) {
        // Dropped forwarded proposals are the sender's concern, not the network's.
        if (!(e instanceof Error && "reason" in e)) throw e;
      }
      queue.push(...this.processReady(m.to));
    }
  }

  /** Flushes every node's pending Ready and delivers the result. */
  flush(): void {
    const msgs: Message[] = [];
    for (const id of this.ids()) msgs.push(...this.processReady(id));
    this.send(msgs);
  }

  /** Delivers held messages (after hold(false)), or a chosen subset. */
  release(pred: (m: Message) => boolean = () => true): void {
    const take = this.held.filter(pred);
    const keep = this.held.filter((m) => !pred(m));
    this.held.splice(0, this.held.length, ...keep);
    const wasHolding = this.holding;
    this.holding = false;
    this.send(take);
    this.holding = wasHolding;
  }

  ids(): NodeId[] {
    return [...this.nodes.keys()].sort((a, b) => a - b);
  }

  tick(id: NodeId, n = 1): void {
    for (let i = 0; i < n; i++) {
      this.raw(id).tick();
      this.send(this.processReady(id));
    }
  }

  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const id of this.ids()) this.raw(id).tick();
      this.flush();
    }
  }

  campaign(id: NodeId): void {
    this.raw(id).campaign();
    this.send(this.processReady(id));
  }

  propose(id: NodeId, data: string): void {
    this.raw(id).propose(bytes(data));
    this.send(this.processReady(id));
  }

  leader(): NodeId | undefined {
    const leaders = this.ids().filter((id) => this.raw(id).status().role === "leader");
    // The highest term wins: a deposed leader may not know it yet.
    let best: NodeId | undefined;
    let bestTerm = -1;
    for (const id of leaders) {
      const t = this.raw(id).status().term;
      if (t > bestTerm) {
        bestTerm = t;
        best = id;
      }
    }
    return best;
  }
}

/** The test state machine's snapshot: the applied payloads as JSON. */
export function encodeSnapshotData(applied: readonly string[]): Uint8Array {
  return bytes(JSON.stringify(applied));
}

export function decodeSnapshotData(b: Uint8Array): string[] {
  if (b.length === 0) return [];
  const v: unknown = JSON.parse(text(b));
  if (!Array.isArray(v)) throw new Error("snapshot data is not an array");
  return v.map(String);
}
