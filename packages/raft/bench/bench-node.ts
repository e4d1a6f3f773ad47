// One member of an in-memory benchmark group: a RawNode over a MemoryStorage, driven the way a
// real driver must (persist, then send, then apply, then advance) but with no IO at all: a
// "persist" is an append to memory and costs nothing. Both benchmarks (throughput and the
// failover simulation) use it, so they exercise the same Ready/advance path.

import {
  type Config,
  type Entry,
  MemoryStorage,
  type Message,
  type NodeId,
  type RaftEvent,
  RawNode,
  type Role,
} from "../src/index.js";

/** Entries kept behind the applied index when the log is compacted; far above any window used. */
const COMPACTION_MARGIN = 16_384;
/** Applied entries between compactions: bounds memory on long throughput runs. */
const COMPACTION_EVERY = 65_536;

export type BenchConfig = Omit<Config, "id" | "storage">;

/** What one pass over the node's Ready produced, for the caller to route and observe. */
export interface ReadyOutcome {
  readonly messages: readonly Message[];
  readonly committed: readonly Entry[];
  readonly events: readonly RaftEvent[];
}

export class BenchNode {
  readonly raw: RawNode;
  readonly storage: MemoryStorage;
  /** The role and term as of the last Ready handled (cheaper than status() on every step). */
  role: Role = "follower";
  term = 0;
  applied = 0;
  private lastCompaction = 0;

  constructor(
    readonly id: NodeId,
    voters: readonly NodeId[],
    config: BenchConfig,
  ) {
    this.storage = MemoryStorage.withPeers(voters);
    this.raw = new RawNode({ ...config, id, storage: this.storage });
  }

  /**
   * Handles every pending Ready: persists snapshot, entries and hard state, collects the
   * messages to send and the committed entries, and advances. Returns empty arrays when idle.
   */
  handleReady(): ReadyOutcome {
    if (!this.raw.hasReady()) return EMPTY_OUTCOME;
    const messages: Message[] = [];
    const committed: Entry[] = [];
    const events: RaftEvent[] = [];
    while (this.raw.hasReady()) {
      const rd = this.raw.ready();
      if (rd.snapshot !== undefined) this.storage.applySnapshot(rd.snapshot);
      this.storage.append(rd.entries);
      if (rd.hardState !== undefined) {
        this.storage.setHardState(rd.hardState);
        this.term = rd.hardState.term;
      }
      if (rd.softState !== undefined) this.role = rd.softState.role;
      for (const m of rd.messages) messages.push(m);
      for (const e of rd.committedEntries) committed.push(e);
      for (const ev of rd.events) events.push(ev);
      const last = rd.committedEntries[rd.committedEntries.length - 1];
      if (last !== undefined) this.applied = last.index;
      this.raw.advance(rd);
    }
    this.maybeCompact();
    return { messages, committed, events };
  }

  /** Snapshots and compacts the log once enough was applied, as a store would. */
  private maybeCompact(): void {
    if (this.applied - this.lastCompaction < COMPACTION_EVERY) return;
    const at = this.applied - COMPACTION_MARGIN;
    if (at <= this.storage.firstIndex()) return;
    this.storage.createSnapshot(at, undefined, new Uint8Array(0));
    this.storage.compact(at);
    this.lastCompaction = this.applied;
  }
}

const EMPTY_OUTCOME: ReadyOutcome = { messages: [], committed: [], events: [] };
