// The replicated log as the core sees it: stable storage followed by the unstable tail, with
// the commit and applied cursors. Invariant: applied <= committed <= lastIndex.

import { isRaftError, RaftError } from "./errors.js";
import { Unstable } from "./log-unstable.js";
import type { Storage } from "./storage.js";
import { limitSize } from "./storage.js";
import type { Entry, Snapshot } from "./types.js";

export class RaftLog {
  readonly storage: Storage;
  readonly unstable: Unstable;
  /** The highest index known to be stored on a quorum (Raft §5.3 commitIndex). */
  committed: number;
  /** The highest index the application has applied (Raft §5.3 lastApplied). */
  applied: number;
  /** The most bytes of committed entries handed out in one Ready. */
  readonly maxNextEntsSize: number;

  constructor(storage: Storage, maxNextEntsSize = Number.MAX_SAFE_INTEGER) {
    this.storage = storage;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    // Everything up to the snapshot is committed and applied by construction.
    this.committed = first - 1;
    this.applied = first - 1;
    this.maxNextEntsSize = maxNextEntsSize;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  /** The term of entry i. Throws RaftError "compacted" or "unavailable" when i is not held. */
  term(i: number): number {
    const dummy = this.firstIndex() - 1;
    if (i < dummy)
      throw new RaftError("compacted", `entry ${i} is compacted (first index ${dummy + 1})`);
    if (i > this.lastIndex()) {
      throw new RaftError("unavailable", `entry ${i} is past the last index ${this.lastIndex()}`);
    }
    return this.unstable.maybeTerm(i) ?? this.storage.term(i);
  }

  /** Is i in [firstIndex()-1, lastIndex()], the range outside which term(i) throws? */
  private holdsTerm(i: number): boolean {
    return i >= this.firstIndex() - 1 && i <= this.lastIndex();
  }

  /** The term of entry i, or 0 when it is not held (compacted or beyond the end). */
  termOrZero(i: number): number {
    // Checked up front: past the end is the common case on a follower's append path, and
    // building a RaftError there (stack trace included) cost half of all replication CPU.
    if (!this.holdsTerm(i)) return 0;
    try {
      return this.term(i);
    } catch (e) {
      if (isRaftError(e, "compacted") || isRaftError(e, "unavailable")) return 0;
      throw e;
    }
  }

  matchTerm(i: number, t: number): boolean {
    if (!this.holdsTerm(i)) return false;
    try {
      return this.term(i) === t;
    } catch (e) {
      if (isRaftError(e, "compacted") || isRaftError(e, "unavailable")) return false;
      throw e;
    }
  }

  /**
   * Raft §5.4.1: a log is at least as up-to-date as (lastIndex, term) if its last term is
   * larger, or equal with a last index at least as large.
   */
  isUpToDate(lastIndex: number, term: number): boolean {
    const lt = this.lastTerm();
    return term > lt || (term === lt && lastIndex >= this.lastIndex());
  }

  /**
   * The follower's half of AppendEntries (Raft §5.3): if the entry at `index` has term
   * `logTerm`, append `ents` after it (cutting any conflicting suffix), advance commit to
   * min(committed, last new index), and return the last new index; otherwise undefined.
   */
  maybeAppend(
    index: number,
    logTerm: number,
    committed: number,
    ents: readonly Entry[],
  ): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      if (ci <= this.committed) {
        throw new RaftError(
          "invariant-violated",
          `entry ${ci} conflicts with a committed entry (committed ${this.committed}): the log is corrupt`,
        );
      }
      this.append(ents.slice(ci - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  /** Appends entries to the unstable tail; returns the new last index. */
  append(ents: readonly Entry[]): number {
    const first = ents[0];
    if (first === undefined) return this.lastIndex();
    if (first.index - 1 < this.committed) {
      throw new RaftError(
        "invariant-violated",
        `appending after ${first.index - 1} would overwrite committed entries (committed ${this.committed})`,
      );
    }
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * The index of the first entry of `ents` that conflicts with the log (same index, other
   * term) or is new (past the end); 0 if every entry is already present.
   */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term`, with that term: where a leader whose
   * entry at `index` has `term` can next probe (the fast log backtracking of etcd-io/raft).
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = index; ; i--) {
      let t: number;
      try {
        t = this.term(i);
      } catch (e) {
        if (isRaftError(e, "compacted") || isRaftError(e, "unavailable"))
          return { index: i, term: 0 };
        throw e;
      }
      if (t <= term) return { index: i, term: t };
    }
  }

  unstableEntries(): readonly Entry[] {
    return this.unstable.entries;
  }

  /** Committed entries not yet applied, at most maxNextEntsSize bytes (at least one). */
  nextCommittedEntries(): readonly Entry[] {
    if (this.hasPendingSnapshot()) return [];
    const off = Math.max(this.applied + 1, this.firstIndex());
    if (this.committed + 1 > off) return this.slice(off, this.committed + 1, this.maxNextEntsSize);
    return [];
  }

  hasNextCommittedEntries(): boolean {
    if (this.hasPendingSnapshot()) return false;
    return this.committed + 1 > Math.max(this.applied + 1, this.firstIndex());
  }

  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== undefined;
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  commitTo(toCommit: number): void {
    // Never decrease commit.
    if (this.committed < toCommit) {
      if (this.lastIndex() < toCommit) {
        throw new RaftError(
          "invariant-violated",
          `commit ${toCommit} is out of range [last index ${this.lastIndex()}]: the log was truncated or lost`,
        );
      }
      this.committed = toCommit;
    }
  }

  appliedTo(i: number): void {
    if (i === 0) return;
    if (this.committed < i || i < this.applied) {
      throw new RaftError(
        "invariant-violated",
        `applied ${i} is out of range [previously applied ${this.applied}, committed ${this.committed}]`,
      );
    }
    this.applied = i;
  }

  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  /** Commits up to maxIndex if its entry is from `term` (Raft §5.4.2, Figure 8). */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.termOrZero(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  restore(s: Snapshot): void {
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }

  /** Entries from index i to the end, at most maxSize bytes (at least one). */
  entries(i: number, maxSize: number): readonly Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxSize);
  }

  /** Entries in [lo, hi), at most maxSize bytes (at least one). Throws "compacted" below the log. */
  slice(lo: number, hi: number, maxSize: number): readonly Entry[] {
    this.mustCheckOutOfBounds(lo, hi);
    if (lo === hi) return [];
    let ents: readonly Entry[] = [];
    if (lo < this.unstable.offset) {
      const stored = this.storage.entries(lo, Math.min(hi, this.unstable.offset), maxSize);
      // The storage stopped early (size limit): do not continue into the unstable part.
      if (stored.length < Math.min(hi, this.unstable.offset) - lo) return stored;
      ents = stored;
    }
    if (hi > this.unstable.offset) {
      const tail = this.unstable.slice(Math.max(lo, this.unstable.offset), hi);
      ents = ents.length > 0 ? [...ents, ...tail] : tail;
    }
    return limitSize(ents, maxSize);
  }

  private mustCheckOutOfBounds(lo: number, hi: number): void {
    if (lo > hi) throw new RaftError("invariant-violated", `invalid slice ${lo} > ${hi}`);
    const fi = this.firstIndex();
    if (lo < fi) throw new RaftError("compacted", `entry ${lo} is compacted (first index ${fi})`);
    const length = this.lastIndex() + 1 - fi;
    if (hi > fi + length) {
      throw new RaftError(
        "unavailable",
        `slice [${lo}, ${hi}) is out of bound [${fi}, ${this.lastIndex()}]`,
      );
    }
  }
}
