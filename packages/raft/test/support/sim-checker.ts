// The safety invariants of Raft (paper §5.2–§5.4, Figure 3), checked incrementally as the
// simulator persists, commits and applies, so that every step is checked in O(entries touched).
//
// The key device is prefix identity by hash-consing: every distinct log prefix gets a small
// integer id, interned from (id of the prefix before it, term, type, data). Two logs are identical
// up to index i exactly when their prefix ids at i are equal, so Log Matching, Leader
// Completeness and State Machine Safety become integer comparisons, with no hashing collisions.

import {
  type Entry,
  isRaftError,
  type Message,
  type NodeId,
  type Storage,
} from "../../src/index.js";

export type ViolationKind =
  | "election-safety"
  | "log-matching"
  | "leader-completeness"
  | "state-machine-safety"
  | "lost-ack"
  | "read-linearizability"
  | "durability"
  | "liveness"
  | "core-error";

/** A broken invariant, thrown by the checker and reported by the simulator with its seed. */
export class Violation extends Error {
  override readonly name = "Violation";
  constructor(
    readonly kind: ViolationKind,
    message: string,
  ) {
    super(`${kind}: ${message}`);
  }
}

function violation(kind: ViolationKind, message: string): never {
  throw new Violation(kind, message);
}

/** A byte string as a JS string, one char per byte: a cheap exact key for entry data. */
function bytesKey(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return s;
}

/** Interns log prefixes: id 0 is the empty log (index 0, term 0). */
class PrefixTable {
  private readonly ids = new Map<string, number>();
  readonly indexOf: number[] = [0];
  readonly termOf: number[] = [0];

  child(parent: number, e: Entry): number {
    const key = `${parent},${e.term},${e.type === "EntryConfChange" ? "c" : "n"}${bytesKey(e.data)}`;
    const known = this.ids.get(key);
    if (known !== undefined) return known;
    const id = this.indexOf.length;
    this.ids.set(key, id);
    this.indexOf.push((this.indexOf[parent] ?? 0) + 1);
    this.termOf.push(e.term);
    return id;
  }
}

/** One node's persisted log as prefix ids: ids[k] identifies the log up to index base + k. */
interface LogIds {
  base: number;
  ids: number[];
}

export class Checker {
  private readonly prefixes = new PrefixTable();
  /** `${index}/${term}` → the prefix id every log holding that entry must have (§5.3 Log Matching). */
  private readonly byIndexTerm = new Map<string, number>();
  /** committed[i]: the prefix id of the committed log up to i; its length-1 is the highest known commit. */
  private readonly committed: number[] = [0];
  /**
   * term → the highest index a node at that term reported committed. A node learns of a commit
   * at a term no lower than the one it was committed in, so leaders of later terms must hold it.
   */
  private readonly committedByTerm = new Map<number, number>();
  private readonly logs = new Map<NodeId, LogIds>();
  private readonly leaderOf = new Map<number, NodeId>();
  /** The state machine every node converges to: applied payloads, and how many precede each index. */
  private readonly payloads: string[] = [];
  private readonly payloadCount: number[] = [0];
  /** Acknowledged writes: payload → index of its first application anywhere. */
  readonly acked = new Map<string, number>();
  maxAckedIndex = 0;
  /** Reads in flight: request context → the highest acknowledged index when issued. */
  private readonly reads = new Map<string, number>();
  readsAnswered = 0;

  commitIndex(): number {
    return this.committed.length - 1;
  }

  appliedIndexHighest(): number {
    return this.payloadCount.length - 1;
  }

  /** A node (re)starts from `storage`: its log is what the storage holds. */
  resetLog(id: NodeId, storage: Storage): void {
    const base = storage.firstIndex() - 1;
    const root = this.committed[base];
    if (root === undefined) {
      violation(
        "state-machine-safety",
        `node ${id} restarted with a log starting after ${base}, beyond the highest known commit ${this.commitIndex()}`,
      );
    }
    this.logs.set(id, { base, ids: [root] });
    const last = storage.lastIndex();
    if (last > base)
      this.persistEntries(id, storage.entries(base + 1, last + 1, Number.MAX_SAFE_INTEGER));
  }

  /** A node persisted a snapshot: its log is now the committed log up to the snapshot. */
  persistSnapshot(id: NodeId, index: number, term: number): void {
    const root = this.committed[index];
    if (root === undefined) {
      violation(
        "state-machine-safety",
        `node ${id} installed a snapshot at ${index}, beyond the highest known commit ${this.commitIndex()}`,
      );
    }
    if (this.prefixes.termOf[root] !== term) {
      violation(
        "state-machine-safety",
        `node ${id} installed a snapshot at ${index} term ${term}, but the committed entry there has term ${this.prefixes.termOf[root]}`,
      );
    }
    this.logs.set(id, { base: index, ids: [root] });
  }

  /** A node persisted entries (Raft §5.3: a conflicting suffix is replaced). Checks Log Matching. */
  persistEntries(id: NodeId, entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const log = this.log(id);
    const prev = first.index - 1;
    if (prev < log.base || prev > log.base + log.ids.length - 1) {
      violation(
        "log-matching",
        `node ${id} persisted entries from ${first.index}, but its log holds [${log.base + 1}, ${log.base + log.ids.length - 1}]`,
      );
    }
    log.ids.length = prev - log.base + 1;
    let parent = log.ids[log.ids.length - 1] ?? 0;
    for (const e of entries) {
      const parentIndex = this.prefixes.indexOf[parent] ?? -1;
      if (e.index !== parentIndex + 1) {
        violation(
          "log-matching",
          `node ${id} persisted a gap: entry ${e.index} after ${parentIndex}`,
        );
      }
      const child = this.prefixes.child(parent, e);
      const key = `${e.index}/${e.term}`;
      const seen = this.byIndexTerm.get(key);
      if (seen === undefined) this.byIndexTerm.set(key, child);
      else if (seen !== child) {
        violation(
          "log-matching",
          `node ${id} holds entry ${e.index} at term ${e.term}, and so does another log, but the logs differ at or before it`,
        );
      }
      log.ids.push(child);
      parent = child;
    }
  }

  /** The prefix id of node `id`'s log up to `index`, or undefined if it does not hold it. */
  private prefixAt(id: NodeId, index: number): number | undefined {
    const log = this.log(id);
    if (index < log.base) return this.committed[index];
    return log.ids[index - log.base];
  }

  lastIndex(id: NodeId): number {
    const log = this.log(id);
    return log.base + log.ids.length - 1;
  }

  /** Node `id` says entries up to `commit` are committed: they must agree with what others committed. */
  commit(id: NodeId, commit: number, term: number): void {
    this.committedByTerm.set(term, Math.max(commit, this.committedByTerm.get(term) ?? 0));
    const have = this.commitIndex();
    const mine = this.prefixAt(id, Math.min(commit, have));
    if (mine === undefined || mine !== this.committed[Math.min(commit, have)]) {
      violation(
        "state-machine-safety",
        `node ${id} commits up to ${commit}, but its log up to ${Math.min(commit, have)} differs from the committed log`,
      );
    }
    for (let i = have + 1; i <= commit; i++) {
      const p = this.prefixAt(id, i);
      if (p === undefined)
        violation("state-machine-safety", `node ${id} commits ${commit} but holds no entry ${i}`);
      this.committed.push(p);
    }
  }

  /**
   * Election Safety (§5.2): at most one leader per term. Leader Completeness (§5.4): a leader
   * holds every entry committed in an earlier term. (A leader of an old term may turn up late,
   * after later terms committed more: a candidate that won, then froze before counting votes.)
   */
  becameLeader(id: NodeId, term: number): void {
    const other = this.leaderOf.get(term);
    if (other !== undefined && other !== id) {
      violation("election-safety", `nodes ${other} and ${id} were both leader in term ${term}`);
    }
    this.leaderOf.set(term, id);
    let c = 0;
    for (const [t, index] of this.committedByTerm) if (t < term && index > c) c = index;
    if (this.prefixAt(id, c) !== this.committed[c]) {
      violation(
        "leader-completeness",
        `node ${id} became leader of term ${term} without every entry committed before it (committed ${c}, its last index ${this.lastIndex(id)})`,
      );
    }
  }

  /**
   * Node `id` applied `e` after applying up to `prevApplied`; `sm` is its state machine after.
   * State Machine Safety (§5.4.3): entries are applied in order, only once committed, and are
   * the committed ones; the state machine is then a prefix of every other node's.
   */
  applied(
    id: NodeId,
    prevApplied: number,
    e: Entry,
    sm: readonly string[],
    payload: string | undefined,
  ): void {
    if (e.index !== prevApplied + 1) {
      violation(
        "state-machine-safety",
        `node ${id} applied entry ${e.index} right after ${prevApplied}`,
      );
    }
    const committedHere = this.committed[e.index];
    const committedBefore = this.committed[e.index - 1];
    if (committedHere === undefined || committedBefore === undefined) {
      violation(
        "state-machine-safety",
        `node ${id} applied entry ${e.index}, beyond the highest known commit ${this.commitIndex()}`,
      );
    }
    if (
      this.prefixes.child(committedBefore, e) !== committedHere ||
      this.prefixAt(id, e.index) !== committedHere
    ) {
      violation(
        "state-machine-safety",
        `node ${id} applied an entry at ${e.index} (term ${e.term}) that is not the committed one`,
      );
    }
    if (e.index === this.payloadCount.length) {
      // The first application of this index anywhere: extend the reference state machine.
      if (payload !== undefined) {
        this.payloads.push(payload);
        if (!this.acked.has(payload)) {
          this.acked.set(payload, e.index);
          this.maxAckedIndex = Math.max(this.maxAckedIndex, e.index);
        }
      }
      this.payloadCount.push(this.payloads.length);
    }
    const want = this.payloadCount[e.index] ?? -1;
    if (sm.length !== want || (payload !== undefined && sm[want - 1] !== this.payloads[want - 1])) {
      violation(
        "state-machine-safety",
        `node ${id}'s state machine after entry ${e.index} holds ${sm.length} writes (last ${JSON.stringify(sm[sm.length - 1])}), the others ${want} (last ${JSON.stringify(this.payloads[want - 1])})`,
      );
    }
  }

  /** Node `id`'s state machine was loaded from a snapshot at `index`: it must be the committed state. */
  restoredState(id: NodeId, index: number, sm: readonly string[]): void {
    const want = this.payloadCount[index];
    if (want === undefined) {
      violation(
        "state-machine-safety",
        `node ${id} restored a state machine at ${index}, beyond any applied index`,
      );
    }
    let same = sm.length === want;
    for (let i = 0; same && i < want; i++) same = sm[i] === this.payloads[i];
    if (!same) {
      violation(
        "state-machine-safety",
        `node ${id}'s snapshot at ${index} holds a state machine that differs from the applied one`,
      );
    }
  }

  /**
   * Raft Figure 2: persistent state is "updated on stable storage before responding to RPCs".
   * When node `id` sends `m`, its disk (`durable`) must hold a term at least the message's; and
   * if that is the message's term, the vote it grants or asks for, and every entry it
   * acknowledges with the term its live log (`live`) has there. A message of an older term
   * (queued before the node moved on, as RawNode queues messages between Readies) is like one
   * the network delayed: the node will never act at that term again, so it promises nothing.
   */
  sent(id: NodeId, m: Message, durable: Storage, live: Storage): void {
    // Pre-votes carry a future term; forwarded proposals and reads carry none.
    if (m.term === 0 || m.type === "MsgPreVote" || m.type === "MsgPreVoteResp") return;
    const hs = durable.initialState().hardState;
    if (hs.term < m.term) {
      violation(
        "durability",
        `node ${id} sent ${m.type} at term ${m.term} with term ${hs.term} on disk`,
      );
    }
    if (hs.term > m.term) return;
    const votedFor =
      m.type === "MsgVote" ? id : m.type === "MsgVoteResp" && !m.reject ? m.to : undefined;
    if (votedFor !== undefined && hs.vote !== votedFor) {
      violation(
        "durability",
        `node ${id} sent ${m.type} for node ${votedFor} at term ${m.term} with vote ${hs.vote} on disk`,
      );
    }
    if (m.type === "MsgAppResp" && !m.reject && m.index > 0) {
      let onDisk: number | "compacted" | "missing";
      try {
        onDisk = durable.term(m.index);
      } catch (e) {
        if (isRaftError(e, "compacted")) onDisk = "compacted";
        else if (isRaftError(e, "unavailable")) onDisk = "missing";
        else throw e;
      }
      // Compacted: folded into a snapshot on disk, so durable.
      if (onDisk !== "compacted" && onDisk !== live.term(m.index)) {
        violation(
          "durability",
          `node ${id} acknowledged entry ${m.index} that is not on its disk (${onDisk})`,
        );
      }
    }
  }

  /** A client issued a read with context `ctx`: remember which writes it must observe. */
  readIssued(ctx: string): void {
    this.reads.set(ctx, this.maxAckedIndex);
  }

  /** Thesis §6.4: a read index covers every write acknowledged before the read was issued. */
  readState(id: NodeId, ctx: string, index: number): void {
    const floor = this.reads.get(ctx);
    if (floor === undefined) {
      violation(
        "read-linearizability",
        `node ${id} got a ReadState for a read never issued (${JSON.stringify(ctx)})`,
      );
    }
    this.readsAnswered++;
    if (index < floor) {
      violation(
        "read-linearizability",
        `node ${id} got read index ${index} for read ${JSON.stringify(ctx)}, but a write at ${floor} was acknowledged before the read was issued`,
      );
    }
  }

  /** No acknowledged write is lost: `sm` (a live member's state machine) holds every one. */
  holdsAllAcked(id: NodeId, sm: readonly string[]): void {
    const have = new Set(sm);
    for (const [payload, index] of this.acked) {
      if (!have.has(payload)) {
        violation(
          "lost-ack",
          `node ${id} lacks ${JSON.stringify(payload)}, acknowledged at index ${index}`,
        );
      }
    }
  }

  private log(id: NodeId): LogIds {
    const log = this.logs.get(id);
    if (log === undefined) throw new Error(`checker: node ${id} has no log yet`);
    return log;
  }
}
