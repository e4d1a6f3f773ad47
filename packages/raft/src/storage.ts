// The stable storage the core reads from. The application appends to it the entries and hard
// state each Ready hands out, before sending that Ready's messages (Raft §5, "Persistent state
// ... updated on stable storage before responding to RPCs").

import { RaftError } from "./errors.js";
import type { ConfState, Entry, HardState, Snapshot } from "./types.js";
import { EMPTY_HARD_STATE } from "./types.js";

export interface InitialState {
  readonly hardState: HardState;
  readonly confState: ConfState;
}

/**
 * What the core needs from stable storage. Methods throw RaftError with reason "compacted"
 * when asked for entries folded into the snapshot, and "unavailable" past the last index.
 * Returned arrays belong to the storage and must not be mutated.
 */
export interface Storage {
  /** The persisted hard state, and the configuration as of the latest snapshot. */
  initialState(): InitialState;
  /** Entries in the half-open range [lo, hi), limited to about `maxSize` bytes but at least one. */
  entries(lo: number, hi: number, maxSize: number): readonly Entry[];
  /** The term of entry i, for i in [firstIndex()-1, lastIndex()]; firstIndex()-1 is the snapshot's. */
  term(i: number): number;
  lastIndex(): number;
  /** The index of the first entry still held (the snapshot's index + 1). */
  firstIndex(): number;
  /** The latest snapshot. May throw "snapshot-temporarily-unavailable" while one is being made. */
  snapshot(): Snapshot;
}

/** Sums the payload sizes of entries, the measure for maxSizePerMsg and the inflight byte cap. */
export function payloadSize(entries: readonly Entry[]): number {
  let n = 0;
  for (const e of entries) n += e.data.length;
  return n;
}

/**
 * Keeps a prefix of `entries` whose size stays within `maxSize`, and always at least one entry
 * so that an oversized entry can still be sent. Returns the array itself when nothing is cut.
 */
export function limitSize(entries: readonly Entry[], maxSize: number): readonly Entry[] {
  if (entries.length <= 1) return entries;
  let size = entries[0]?.data.length ?? 0;
  let n = 1;
  for (; n < entries.length; n++) {
    size += entries[n]?.data.length ?? 0;
    if (size > maxSize) break;
  }
  return n === entries.length ? entries : entries.slice(0, n);
}

/**
 * An in-memory Storage, for tests and for the store to stage its WAL in. `ents[0]` is a dummy
 * entry holding the snapshot's index and term, so that term(firstIndex-1) answers.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private snap: Snapshot;
  private ents: Entry[];

  /** A storage whose initial configuration holds `voters` (and `learners`): a new group. */
  static withPeers(voters: readonly number[], learners: readonly number[] = []): MemoryStorage {
    const s = new MemoryStorage();
    s.snap = {
      data: new Uint8Array(0),
      metadata: { index: 0, term: 0, confState: { voters: [...voters], learners: [...learners] } },
    };
    return s;
  }

  constructor() {
    this.snap = {
      data: new Uint8Array(0),
      metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } },
    };
    this.ents = [{ term: 0, index: 0, type: "EntryNormal", data: new Uint8Array(0) }];
  }

  initialState(): InitialState {
    return { hardState: this.hardState, confState: this.snap.metadata.confState };
  }

  setHardState(hs: HardState): void {
    this.hardState = hs;
  }

  entries(lo: number, hi: number, maxSize: number): readonly Entry[] {
    const offset = this.dummy().index;
    if (lo <= offset) {
      throw new RaftError("compacted", `entry ${lo} was compacted (first index is ${offset + 1})`);
    }
    if (hi > this.lastIndex() + 1) {
      throw new RaftError(
        "unavailable",
        `entries up to ${hi - 1} requested but the last index is ${this.lastIndex()}`,
      );
    }
    // Only the dummy entry: nothing to return.
    if (this.ents.length === 1) return [];
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxSize);
  }

  term(i: number): number {
    const offset = this.dummy().index;
    if (i < offset) {
      throw new RaftError("compacted", `term of entry ${i} asked, but it was compacted`);
    }
    const e = this.ents[i - offset];
    if (e === undefined) {
      throw new RaftError(
        "unavailable",
        `term of entry ${i} asked, but the last index is ${this.lastIndex()}`,
      );
    }
    return e.term;
  }

  lastIndex(): number {
    return this.dummy().index + this.ents.length - 1;
  }

  firstIndex(): number {
    return this.dummy().index + 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces the whole contents with a snapshot received from the leader. */
  applySnapshot(snap: Snapshot): void {
    if (this.snap.metadata.index >= snap.metadata.index) {
      throw new RaftError(
        "snapshot-out-of-date",
        `snapshot at index ${snap.metadata.index} is not newer than the one held (${this.snap.metadata.index})`,
      );
    }
    this.snap = snap;
    this.ents = [
      {
        term: snap.metadata.term,
        index: snap.metadata.index,
        type: "EntryNormal",
        data: new Uint8Array(0),
      },
    ];
  }

  /**
   * Records a snapshot of the application state as of applied index `i` (which must be in
   * the log). Entries are kept; call compact() to drop them.
   */
  createSnapshot(i: number, confState: ConfState | undefined, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) {
      throw new RaftError(
        "snapshot-out-of-date",
        `cannot snapshot at ${i}: a snapshot at ${this.snap.metadata.index} already exists`,
      );
    }
    if (i > this.lastIndex()) {
      throw new RaftError(
        "unavailable",
        `cannot snapshot at ${i}: the last index is ${this.lastIndex()}`,
      );
    }
    const offset = this.dummy().index;
    const held = this.ents[i - offset];
    if (held === undefined) {
      // Compacted past i: its term is gone, and a snapshot with a made-up term would corrupt
      // every follower that installs it.
      throw new RaftError(
        "compacted",
        `cannot snapshot at ${i}: the log was compacted up to ${offset}`,
      );
    }
    const term = held.term;
    this.snap = {
      data,
      metadata: { index: i, term, confState: confState ?? this.snap.metadata.confState },
    };
    return this.snap;
  }

  /** Drops entries before `compactIndex`; the entry at compactIndex becomes the new dummy. */
  compact(compactIndex: number): void {
    const offset = this.dummy().index;
    if (compactIndex <= offset) {
      throw new RaftError("compacted", `already compacted past ${compactIndex} (at ${offset})`);
    }
    if (compactIndex > this.lastIndex()) {
      throw new RaftError(
        "unavailable",
        `cannot compact to ${compactIndex}: the last index is ${this.lastIndex()}`,
      );
    }
    const i = compactIndex - offset;
    const head = this.ents[i];
    if (head === undefined) return;
    this.ents = [
      { term: head.term, index: head.index, type: "EntryNormal", data: new Uint8Array(0) },
      ...this.ents.slice(i + 1),
    ];
  }

  /**
   * Appends entries, truncating any existing suffix they conflict with (Raft §5.3: "If an
   * existing entry conflicts with a new one ... delete the existing entry and all that follow").
   * Entries already compacted are ignored.
   */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const firstIndex = this.firstIndex();
    const last = first.index + entries.length - 1;
    if (last < firstIndex) return;
    let ents = entries;
    if (firstIndex > first.index) ents = entries.slice(firstIndex - first.index);
    const head = ents[0];
    if (head === undefined) return;
    const offset = head.index - this.dummy().index;
    if (offset > this.ents.length) {
      throw new RaftError(
        "unavailable",
        `missing log entries: appending at ${head.index} but the last index is ${this.lastIndex()}`,
      );
    }
    // Truncate the conflicting suffix in place, then append: O(appended) in the common case.
    this.ents.length = offset;
    for (const e of ents) this.ents.push(e);
  }

  private dummy(): Entry {
    const d = this.ents[0];
    if (d === undefined) throw new RaftError("unavailable", "memory storage lost its dummy entry");
    return d;
  }
}
