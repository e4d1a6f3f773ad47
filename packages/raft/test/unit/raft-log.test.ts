import { describe, expect, it } from "vitest";
import { isRaftError, type RaftErrorReason } from "../../src/errors.js";
import { RaftLog } from "../../src/raft-log.js";
import { MemoryStorage } from "../../src/storage.js";
import { type Entry, entry, type Snapshot } from "../../src/types.js";
import { Rng } from "../support/rng.js";

const NO_LIMIT = Number.MAX_SAFE_INTEGER;

/** Entries from index `from` with the given terms (etcd's index(from).terms(...)). */
function terms(from: number, ...ts: number[]): Entry[] {
  return ts.map((term, i) => entry({ index: from + i, term }));
}

function snap(index: number, term: number): Snapshot {
  return {
    data: new Uint8Array(),
    metadata: { index, term, confState: { voters: [1], learners: [] } },
  };
}

/** A log over a fresh storage, with `es` appended to its unstable part. */
function logWith(es: readonly Entry[]): RaftLog {
  const log = new RaftLog(new MemoryStorage());
  log.append(es);
  return log;
}

function ids(es: readonly Entry[]): [number, number][] {
  return es.map((e) => [e.index, e.term]);
}

function reasonOf(fn: () => unknown): RaftErrorReason {
  try {
    fn();
  } catch (e) {
    if (isRaftError(e)) return e.reason;
    throw e;
  }
  throw new Error("expected a RaftError, nothing was thrown");
}

describe("RaftLog.findConflict", () => {
  const previous = terms(1, 1, 2, 3);
  const cases: { name: string; ents: Entry[]; want: number }[] = [
    { name: "no entries", ents: [], want: 0 },
    { name: "all present", ents: terms(1, 1, 2, 3), want: 0 },
    { name: "a present suffix", ents: terms(2, 2, 3), want: 0 },
    { name: "the last one present", ents: terms(3, 3), want: 0 },
    { name: "new entries after all present", ents: terms(1, 1, 2, 3, 4, 4), want: 4 },
    { name: "new entries after a present suffix", ents: terms(2, 2, 3, 4, 4), want: 4 },
    { name: "new entries after the last present", ents: terms(3, 3, 4, 4), want: 4 },
    { name: "only new entries", ents: terms(4, 4, 4), want: 4 },
    { name: "conflict at the first entry", ents: terms(1, 4, 4), want: 1 },
    { name: "conflict in the middle", ents: terms(2, 1, 4, 4), want: 2 },
    { name: "conflict at the last entry", ents: terms(3, 1, 2, 4, 4), want: 3 },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.want}`, () => {
      expect(logWith(previous).findConflict(c.ents)).toBe(c.want);
    });
  }
});

describe("RaftLog.findConflictByTerm", () => {
  // ents[0] is the snapshot's (index, term); mirrors etcd-io/raft's TestFindConflictByTerm.
  const fromStart = terms(0, 0, 2, 2, 5, 5, 5);
  const compacted = terms(10, 3, 3, 3, 4, 4, 4);
  const cases: { ents: Entry[]; index: number; term: number; want: number; why: string }[] = [
    {
      ents: fromStart,
      index: 100,
      term: 2,
      want: 100,
      why: "past the end: unknown term, no skipping",
    },
    { ents: fromStart, index: 5, term: 6, want: 5, why: "our term is lower: stay" },
    { ents: fromStart, index: 5, term: 5, want: 5, why: "same term: stay" },
    { ents: fromStart, index: 5, term: 4, want: 2, why: "skip the whole term-5 run" },
    { ents: fromStart, index: 5, term: 2, want: 2, why: "skip to the last term-2 entry" },
    { ents: fromStart, index: 5, term: 1, want: 0, why: "skip everything" },
    { ents: fromStart, index: 1, term: 2, want: 1, why: "first entry matches" },
    { ents: fromStart, index: 1, term: 1, want: 0, why: "first entry too new" },
    { ents: fromStart, index: 0, term: 0, want: 0, why: "the empty prefix" },
    { ents: compacted, index: 30, term: 3, want: 30, why: "past the end of a compacted log" },
    { ents: compacted, index: 14, term: 9, want: 14, why: "lower term at the end" },
    { ents: compacted, index: 14, term: 4, want: 14, why: "same term at the end" },
    { ents: compacted, index: 14, term: 3, want: 12, why: "skip the term-4 run" },
    { ents: compacted, index: 14, term: 2, want: 9, why: "runs into the compacted prefix" },
    { ents: compacted, index: 11, term: 5, want: 11, why: "lower term in the middle" },
    { ents: compacted, index: 10, term: 5, want: 10, why: "at the snapshot, its term is known" },
    { ents: compacted, index: 10, term: 3, want: 10, why: "at the snapshot, same term" },
    { ents: compacted, index: 10, term: 2, want: 9, why: "below the snapshot: compacted" },
    { ents: compacted, index: 9, term: 2, want: 9, why: "compacted index" },
    { ents: compacted, index: 4, term: 2, want: 4, why: "deep in the compacted prefix" },
    { ents: compacted, index: 0, term: 0, want: 0, why: "index 0 of a compacted log" },
  ];
  for (const c of cases) {
    const first = c.ents[0];
    it(`log from snapshot ${first?.index}: (${c.index}, ${c.term}) → ${c.want}: ${c.why}`, () => {
      const st = new MemoryStorage();
      if (first !== undefined && first.index > 0) st.applySnapshot(snap(first.index, first.term));
      const log = new RaftLog(st);
      log.append(c.ents.slice(1));
      const got = log.findConflictByTerm(c.index, c.term);
      expect(got.index).toBe(c.want);
      expect(got.term).toBe(log.termOrZero(c.want));
    });
  }
});

describe("RaftLog.isUpToDate (Raft §5.4.1)", () => {
  // Our log: entries 1..3 with terms 1, 2, 3.
  const cases: { index: number; term: number; want: boolean; why: string }[] = [
    { index: 2, term: 4, want: true, why: "higher last term wins even with a shorter log" },
    { index: 3, term: 4, want: true, why: "higher last term, same length" },
    { index: 4, term: 4, want: true, why: "higher last term, longer log" },
    { index: 2, term: 2, want: false, why: "lower last term loses" },
    { index: 3, term: 2, want: false, why: "lower last term loses at the same length" },
    { index: 4, term: 2, want: false, why: "lower last term loses even with a longer log" },
    { index: 2, term: 3, want: false, why: "same last term, shorter log loses" },
    { index: 3, term: 3, want: true, why: "same last term, same length" },
    { index: 4, term: 3, want: true, why: "same last term, longer log" },
  ];
  for (const c of cases) {
    it(`candidate (${c.index}, term ${c.term}) → ${c.want}: ${c.why}`, () => {
      expect(logWith(terms(1, 1, 2, 3)).isUpToDate(c.index, c.term)).toBe(c.want);
    });
  }
});

describe("RaftLog.maybeAppend (AppendEntries receiver, Raft §5.3)", () => {
  // Mirrors etcd-io/raft's TestLogMaybeAppend: entries 1..3 of terms 1, 2, 3; commit 1.
  const lastIndex = 3;
  const lastTerm = 3;
  const commit = 1;
  const cases: {
    name: string;
    index: number;
    logTerm: number;
    committed: number;
    ents: Entry[];
    want: number | undefined | "invariant-violated";
    wantCommit: number;
  }[] = [
    {
      name: "no match: other term at prev",
      index: lastIndex,
      logTerm: lastTerm - 1,
      committed: lastIndex,
      ents: terms(4, 4),
      want: undefined,
      wantCommit: commit,
    },
    {
      name: "no match: prev past the end",
      index: lastIndex + 1,
      logTerm: lastTerm,
      committed: lastIndex,
      ents: terms(5, 4),
      want: undefined,
      wantCommit: commit,
    },
    {
      name: "match at the last entry, nothing new",
      index: lastIndex,
      logTerm: lastTerm,
      committed: lastIndex,
      ents: [],
      want: lastIndex,
      wantCommit: lastIndex,
    },
    {
      name: "commit is capped at the last new index",
      index: lastIndex,
      logTerm: lastTerm,
      committed: lastIndex + 1,
      ents: [],
      want: lastIndex,
      wantCommit: lastIndex,
    },
    {
      name: "commit follows the leader's",
      index: lastIndex,
      logTerm: lastTerm,
      committed: lastIndex - 1,
      ents: [],
      want: lastIndex,
      wantCommit: lastIndex - 1,
    },
    {
      name: "commit never decreases",
      index: lastIndex,
      logTerm: lastTerm,
      committed: 0,
      ents: [],
      want: lastIndex,
      wantCommit: commit,
    },
    {
      name: "empty prefix matches; commit never decreases",
      index: 0,
      logTerm: 0,
      committed: lastIndex,
      ents: [],
      want: 0,
      wantCommit: commit,
    },
    {
      name: "append one",
      index: lastIndex,
      logTerm: lastTerm,
      committed: lastIndex,
      ents: terms(4, 4),
      want: lastIndex + 1,
      wantCommit: lastIndex,
    },
    {
      name: "append one, commit it",
      index: lastIndex,
      logTerm: lastTerm,
      committed: lastIndex + 1,
      ents: terms(4, 4),
      want: lastIndex + 1,
      wantCommit: lastIndex + 1,
    },
    {
      name: "append one, commit capped at it",
      index: lastIndex,
      logTerm: lastTerm,
      committed: lastIndex + 2,
      ents: terms(4, 4),
      want: lastIndex + 1,
      wantCommit: lastIndex + 1,
    },
    {
      name: "append two, commit both",
      index: lastIndex,
      logTerm: lastTerm,
      committed: lastIndex + 2,
      ents: terms(4, 4, 4),
      want: lastIndex + 2,
      wantCommit: lastIndex + 2,
    },
    {
      name: "match in the middle, conflict replaces the last",
      index: lastIndex - 1,
      logTerm: lastTerm - 1,
      committed: lastIndex,
      ents: terms(3, 4),
      want: lastIndex,
      wantCommit: lastIndex,
    },
    {
      name: "match earlier, conflict replaces two",
      index: lastIndex - 2,
      logTerm: lastTerm - 2,
      committed: lastIndex,
      ents: terms(2, 4),
      want: lastIndex - 1,
      wantCommit: lastIndex - 1,
    },
    {
      name: "a conflict with a committed entry is refused",
      index: 0,
      logTerm: 0,
      committed: lastIndex,
      ents: terms(1, 4),
      want: "invariant-violated",
      wantCommit: commit,
    },
    {
      name: "present entries then a conflict",
      index: lastIndex - 2,
      logTerm: lastTerm - 2,
      committed: lastIndex,
      ents: terms(2, lastTerm - 1, 4),
      want: lastIndex,
      wantCommit: lastIndex,
    },
  ];
  for (const c of cases) {
    it(`${c.name}`, () => {
      const log = logWith(terms(1, 1, 2, 3));
      log.committed = commit;
      if (c.want === "invariant-violated") {
        expect(reasonOf(() => log.maybeAppend(c.index, c.logTerm, c.committed, c.ents))).toBe(
          c.want,
        );
        expect(ids(log.slice(1, log.lastIndex() + 1, NO_LIMIT))).toEqual([
          [1, 1],
          [2, 2],
          [3, 3],
        ]);
        return;
      }
      const got = log.maybeAppend(c.index, c.logTerm, c.committed, c.ents);
      expect(got).toBe(c.want);
      expect(log.committed).toBe(c.wantCommit);
      if (got !== undefined && c.ents.length > 0) {
        const tail = log.slice(log.lastIndex() - c.ents.length + 1, log.lastIndex() + 1, NO_LIMIT);
        expect(ids(tail)).toEqual(ids(c.ents));
      }
    });
  }

  it("entries already present do not truncate a longer log (a delayed append)", () => {
    const log = logWith(terms(1, 1, 1, 1, 1, 1));
    expect(log.maybeAppend(1, 1, 0, terms(2, 1))).toBe(2);
    expect(log.lastIndex()).toBe(5);
  });
});

describe("RaftLog.commitTo / appliedTo", () => {
  it("commitTo advances commit", () => {
    const log = logWith(terms(1, 1, 2, 3));
    log.committed = 2;
    log.commitTo(3);
    expect(log.committed).toBe(3);
  });

  it("commitTo never decreases commit", () => {
    const log = logWith(terms(1, 1, 2, 3));
    log.committed = 2;
    log.commitTo(1);
    expect(log.committed).toBe(2);
  });

  it("commitTo past the last index is an invariant violation, and commit is kept", () => {
    const log = logWith(terms(1, 1, 2, 3));
    log.committed = 2;
    expect(reasonOf(() => log.commitTo(4))).toBe("invariant-violated");
    expect(log.committed).toBe(2);
  });

  it("appliedTo moves applied within [applied, committed]", () => {
    const log = logWith(terms(1, 1, 2, 3));
    log.commitTo(3);
    log.appliedTo(2);
    expect(log.applied).toBe(2);
    log.appliedTo(2);
    expect(log.applied).toBe(2);
    log.appliedTo(3);
    expect(log.applied).toBe(3);
  });

  it("appliedTo past commit or backwards is refused; 0 is a no-op", () => {
    const log = logWith(terms(1, 1, 2, 3));
    log.commitTo(2);
    log.appliedTo(2);
    expect(reasonOf(() => log.appliedTo(3))).toBe("invariant-violated");
    expect(reasonOf(() => log.appliedTo(1))).toBe("invariant-violated");
    log.appliedTo(0);
    expect(log.applied).toBe(2);
  });
});

describe("RaftLog.maybeCommit (Raft §5.4.2: only entries of the current term are committed by counting)", () => {
  it("refuses an index whose entry is from an older term", () => {
    const log = logWith(terms(1, 1, 2, 3));
    expect(log.maybeCommit(2, 3)).toBe(false);
    expect(log.committed).toBe(0);
  });

  it("commits an index of the current term, and with it everything before", () => {
    const log = logWith(terms(1, 1, 2, 3));
    expect(log.maybeCommit(3, 3)).toBe(true);
    expect(log.committed).toBe(3);
  });

  it("does nothing for an index at or below commit", () => {
    const log = logWith(terms(1, 1, 2, 3));
    log.commitTo(3);
    expect(log.maybeCommit(3, 3)).toBe(false);
    expect(log.maybeCommit(2, 2)).toBe(false);
  });

  it("does nothing for an index past the end", () => {
    const log = logWith(terms(1, 1, 2, 3));
    expect(log.maybeCommit(5, 3)).toBe(false);
  });
});

describe("RaftLog next committed entries", () => {
  // Snapshot at 3, entries 4..6, commit 5 (etcd's TestNextCommittedEnts).
  function log(applied: number): RaftLog {
    const st = new MemoryStorage();
    st.applySnapshot(snap(3, 1));
    const l = new RaftLog(st);
    l.append(terms(4, 1, 1, 1));
    l.commitTo(5);
    l.appliedTo(applied);
    return l;
  }
  for (const [applied, want] of [
    [0, [4, 5]],
    [3, [4, 5]],
    [4, [5]],
    [5, []],
  ] as const) {
    it(`applied ${applied} → ${JSON.stringify(want)}`, () => {
      const l = log(applied);
      expect(l.nextCommittedEntries().map((e) => e.index)).toEqual(want);
      expect(l.hasNextCommittedEntries()).toBe(want.length > 0);
    });
  }

  it("stops at maxNextEntsSize bytes, but hands out at least one entry", () => {
    const l = new RaftLog(new MemoryStorage(), 15);
    l.append([1, 2, 3].map((i) => entry({ index: i, term: 1, data: new Uint8Array(10) })));
    l.commitTo(3);
    expect(l.nextCommittedEntries().map((e) => e.index)).toEqual([1]);
    l.appliedTo(1);
    expect(l.nextCommittedEntries().map((e) => e.index)).toEqual([2]);
  });

  it("hands out nothing while a snapshot is pending", () => {
    const l = log(3);
    l.restore(snap(10, 2));
    expect(l.nextCommittedEntries()).toEqual([]);
    expect(l.hasNextCommittedEntries()).toBe(false);
    expect(l.hasPendingSnapshot()).toBe(true);
  });
});

describe("RaftLog stable/unstable", () => {
  it("unstable entries disappear once stableTo(last index, its term)", () => {
    const st = new MemoryStorage();
    const l = new RaftLog(st);
    l.append(terms(1, 1, 2));
    expect(ids(l.unstableEntries())).toEqual([
      [1, 1],
      [2, 2],
    ]);
    st.append(l.unstableEntries());
    l.stableTo(2, 2);
    expect(l.unstableEntries()).toEqual([]);
    // Still readable, now from storage.
    expect(l.term(2)).toBe(2);
  });

  it("stableTo with a stale term keeps the unstable entries (a newer leader replaced them)", () => {
    const l = logWith(terms(1, 1, 2));
    l.append(terms(2, 3));
    l.stableTo(2, 2);
    expect(ids(l.unstableEntries())).toEqual([
      [1, 1],
      [2, 3],
    ]);
  });

  it("append below commit is refused (it would overwrite committed entries)", () => {
    const l = logWith(terms(1, 1, 1, 1));
    l.commitTo(2);
    expect(reasonOf(() => l.append(terms(2, 5)))).toBe("invariant-violated");
    expect(l.lastIndex()).toBe(3);
  });
});

describe("RaftLog.restore", () => {
  it("a log over a storage with a snapshot starts right after it, committed up to it", () => {
    const st = new MemoryStorage();
    st.applySnapshot(snap(1000, 1000));
    const l = new RaftLog(st);
    expect(l.firstIndex()).toBe(1001);
    expect(l.lastIndex()).toBe(1000);
    expect(l.committed).toBe(1000);
    expect(l.applied).toBe(1000);
    expect(l.unstable.offset).toBe(1001);
    expect(l.term(1000)).toBe(1000);
    expect(l.entries(1001, NO_LIMIT)).toEqual([]);
  });

  it("restore installs a snapshot: the log restarts after it and commit jumps to it", () => {
    const l = logWith(terms(1, 1, 1, 2));
    l.commitTo(2);
    const s = snap(50, 7);
    l.restore(s);
    expect(l.committed).toBe(50);
    expect(l.firstIndex()).toBe(51);
    expect(l.lastIndex()).toBe(50);
    expect(l.lastTerm()).toBe(7);
    expect(l.snapshot()).toBe(s);
    expect(reasonOf(() => l.term(49))).toBe("compacted");
    // New entries follow the snapshot.
    l.append(terms(51, 7));
    expect(l.lastIndex()).toBe(51);
    expect(l.matchTerm(50, 7)).toBe(true);
  });
});

describe("RaftLog.term", () => {
  it("answers across storage and unstable; compacted and past-the-end throw", () => {
    const st = new MemoryStorage();
    st.applySnapshot(snap(3, 3));
    st.append(terms(4, 4, 5));
    const l = new RaftLog(st);
    l.append(terms(6, 6));
    expect([3, 4, 5, 6].map((i) => l.term(i))).toEqual([3, 4, 5, 6]);
    expect(reasonOf(() => l.term(2))).toBe("compacted");
    expect(reasonOf(() => l.term(7))).toBe("unavailable");
    expect(l.termOrZero(2)).toBe(0);
    expect(l.termOrZero(7)).toBe(0);
    expect(l.matchTerm(7, 0)).toBe(false);
  });
});

describe("RaftLog.slice across the stable/unstable boundary", () => {
  // etcd-io/raft's TestSlice: a snapshot at 100, 101..149 in storage, 150..199 unstable, each
  // entry 10 payload bytes.
  const offset = 100;
  const half = 150;
  const last = 200;
  const size = 10;
  const range = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) =>
      entry({ index: from + i, term: from + i, data: new Uint8Array(size) }),
    );
  function log(): RaftLog {
    const st = new MemoryStorage();
    st.applySnapshot(snap(offset, offset));
    st.append(range(offset + 1, half));
    const l = new RaftLog(st);
    l.append(range(half, last));
    return l;
  }
  const cases: { lo: number; hi: number; lim: number; want: [number, number] | RaftErrorReason }[] =
    [
      { lo: offset - 1, hi: offset + 1, lim: NO_LIMIT, want: "compacted" },
      { lo: offset, hi: offset + 1, lim: NO_LIMIT, want: "compacted" },
      { lo: half, hi: half - 1, lim: NO_LIMIT, want: "invariant-violated" },
      { lo: last, hi: last + 1, lim: NO_LIMIT, want: "unavailable" },
      { lo: offset + 1, hi: offset + 1, lim: NO_LIMIT, want: [offset + 1, offset + 1] },
      { lo: offset + 1, hi: half - 1, lim: NO_LIMIT, want: [offset + 1, half - 1] },
      { lo: offset + 1, hi: half, lim: NO_LIMIT, want: [offset + 1, half] },
      { lo: offset + 1, hi: half + 1, lim: NO_LIMIT, want: [offset + 1, half + 1] },
      { lo: offset + 1, hi: last, lim: NO_LIMIT, want: [offset + 1, last] },
      { lo: half - 1, hi: half, lim: NO_LIMIT, want: [half - 1, half] },
      { lo: half - 1, hi: half + 1, lim: NO_LIMIT, want: [half - 1, half + 1] },
      { lo: half - 1, hi: last, lim: NO_LIMIT, want: [half - 1, last] },
      { lo: half, hi: half + 1, lim: NO_LIMIT, want: [half, half + 1] },
      { lo: half, hi: last, lim: NO_LIMIT, want: [half, last] },
      { lo: last - 1, hi: last, lim: NO_LIMIT, want: [last - 1, last] },
      // At least one entry is always returned.
      { lo: offset + 1, hi: last, lim: 0, want: [offset + 1, offset + 2] },
      { lo: half - 1, hi: half + 1, lim: 0, want: [half - 1, half] },
      { lo: half, hi: last, lim: 0, want: [half, half + 1] },
      { lo: half + 1, hi: last, lim: 0, want: [half + 1, half + 2] },
      // Just enough for one.
      { lo: offset + 1, hi: last, lim: size, want: [offset + 1, offset + 2] },
      { lo: half - 1, hi: half + 1, lim: size, want: [half - 1, half] },
      { lo: half, hi: last, lim: size, want: [half, half + 1] },
      // Not enough for two.
      { lo: offset + 1, hi: last, lim: 2 * size - 1, want: [offset + 1, offset + 2] },
      { lo: half - 1, hi: half + 1, lim: 2 * size - 1, want: [half - 1, half] },
      { lo: half, hi: last, lim: 2 * size - 1, want: [half, half + 1] },
      // Enough for two.
      { lo: offset + 1, hi: last, lim: 2 * size, want: [offset + 1, offset + 3] },
      { lo: half - 2, hi: half + 1, lim: 2 * size, want: [half - 2, half] },
      { lo: half - 1, hi: half + 1, lim: 2 * size, want: [half - 1, half + 1] },
      { lo: half, hi: last, lim: 2 * size, want: [half, half + 2] },
      // Not enough for three, enough for three.
      { lo: half - 2, hi: half + 1, lim: 3 * size - 1, want: [half - 2, half] },
      { lo: half - 2, hi: half + 1, lim: 3 * size, want: [half - 2, half + 1] },
    ];
  for (const c of cases) {
    const lim = c.lim === NO_LIMIT ? "no limit" : `${c.lim} bytes`;
    it(`slice(${c.lo}, ${c.hi}, ${lim}) → ${Array.isArray(c.want) ? `[${c.want[0]}, ${c.want[1]})` : c.want}`, () => {
      const l = log();
      if (!Array.isArray(c.want)) {
        expect(reasonOf(() => l.slice(c.lo, c.hi, c.lim))).toBe(c.want);
        return;
      }
      const [from, to] = c.want;
      expect(ids(l.slice(c.lo, c.hi, c.lim))).toEqual(ids(range(from, to)));
    });
  }

  it("agrees with the size-limit definition on 3000 seeded random logs and ranges", () => {
    const rng = new Rng(4242);
    for (let trial = 0; trial < 3000; trial++) {
      const snapAt = rng.intn(5);
      const stableN = rng.intn(8);
      const unstableN = rng.intn(8);
      const sizes: number[] = [];
      const all: Entry[] = [];
      for (let i = 0; i < stableN + unstableN; i++) {
        const s = rng.intn(6);
        sizes.push(s);
        all.push(entry({ index: snapAt + 1 + i, term: 1, data: new Uint8Array(s) }));
      }
      const st = new MemoryStorage();
      if (snapAt > 0) st.applySnapshot(snap(snapAt, 1));
      st.append(all.slice(0, stableN));
      const l = new RaftLog(st);
      l.append(all.slice(stableN));
      const first = snapAt + 1;
      const lo = first + rng.intn(all.length + 1);
      const hi = lo + rng.intn(first + all.length - lo + 1);
      const lim = rng.chance(0.2) ? NO_LIMIT : rng.intn(20);
      // The definition: the longest prefix of [lo, hi) within lim bytes, but at least one.
      let n = 0;
      let total = 0;
      while (lo + n < hi) {
        total += sizes[lo + n - first] ?? 0;
        if (n > 0 && total > lim) break;
        n++;
      }
      const got = l.slice(lo, hi, lim).map((e) => e.index);
      const want = Array.from({ length: n }, (_, i) => lo + i);
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        throw new Error(
          `trial ${trial}: snapshot ${snapAt}, ${stableN} stable + ${unstableN} unstable, sizes ${sizes}, slice(${lo}, ${hi}, ${lim}): got ${got}, want ${want}`,
        );
      }
    }
  });
});
