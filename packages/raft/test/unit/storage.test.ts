import { describe, expect, it } from "vitest";
import { isRaftError, type RaftErrorReason } from "../../src/errors.js";
import { limitSize, MemoryStorage, payloadSize } from "../../src/storage.js";
import { type Entry, entry, type Snapshot } from "../../src/types.js";

/** Entries [index, term] with `size` payload bytes each. */
function ents(pairs: readonly (readonly [number, number])[], size = 0): Entry[] {
  return pairs.map(([index, term]) => entry({ index, term, data: new Uint8Array(size) }));
}

function ids(es: readonly Entry[]): [number, number][] {
  return es.map((e) => [e.index, e.term]);
}

function snap(index: number, term: number, voters: number[] = [1, 2, 3]): Snapshot {
  return {
    data: new Uint8Array([7]),
    metadata: { index, term, confState: { voters, learners: [] } },
  };
}

/** A storage holding a snapshot at (3, 3) followed by the given entries: etcd's test fixture. */
function storageAt3(
  more: readonly (readonly [number, number])[] = [
    [4, 4],
    [5, 5],
  ],
  size = 0,
): MemoryStorage {
  const s = new MemoryStorage();
  s.applySnapshot(snap(3, 3));
  s.append(ents(more, size));
  return s;
}

function raftErrorOf(fn: () => unknown): {
  reason: RaftErrorReason;
  code: string;
  message: string;
} {
  try {
    fn();
  } catch (e) {
    if (isRaftError(e)) return { reason: e.reason, code: e.code, message: e.message };
    throw e;
  }
  throw new Error("expected a RaftError, nothing was thrown");
}

describe("MemoryStorage: a new storage", () => {
  it("holds no entries: first index 1, last index 0, term(0) = 0", () => {
    const s = new MemoryStorage();
    expect(s.firstIndex()).toBe(1);
    expect(s.lastIndex()).toBe(0);
    expect(s.term(0)).toBe(0);
    expect(s.entries(1, 1, Number.MAX_SAFE_INTEGER)).toEqual([]);
    expect(s.initialState().hardState).toEqual({ term: 0, vote: 0, commit: 0 });
  });

  it("withPeers records the initial configuration", () => {
    const s = MemoryStorage.withPeers([1, 2, 3], [4]);
    expect(s.initialState().confState).toEqual({ voters: [1, 2, 3], learners: [4] });
    expect(s.snapshot().metadata.index).toBe(0);
  });

  it("setHardState is returned by initialState", () => {
    const s = new MemoryStorage();
    s.setHardState({ term: 4, vote: 2, commit: 0 });
    expect(s.initialState().hardState).toEqual({ term: 4, vote: 2, commit: 0 });
  });
});

describe("MemoryStorage.term (snapshot at 3, entries 4..5)", () => {
  const cases: { i: number; want: number | RaftErrorReason }[] = [
    { i: 2, want: "compacted" },
    { i: 3, want: 3 },
    { i: 4, want: 4 },
    { i: 5, want: 5 },
    { i: 6, want: "unavailable" },
  ];
  for (const c of cases) {
    it(`term(${c.i}) → ${c.want}`, () => {
      const s = storageAt3();
      if (typeof c.want === "number") expect(s.term(c.i)).toBe(c.want);
      else expect(raftErrorOf(() => s.term(c.i)).reason).toBe(c.want);
    });
  }
});

describe("MemoryStorage.entries (snapshot at 3, entries 4..6 of 10 bytes each)", () => {
  const all = Number.MAX_SAFE_INTEGER;
  const cases: { lo: number; hi: number; max: number; want: number[] | RaftErrorReason }[] = [
    { lo: 2, hi: 6, max: all, want: "compacted" },
    { lo: 3, hi: 4, max: all, want: "compacted" },
    { lo: 4, hi: 5, max: all, want: [4] },
    { lo: 4, hi: 6, max: all, want: [4, 5] },
    { lo: 4, hi: 7, max: all, want: [4, 5, 6] },
    { lo: 6, hi: 7, max: all, want: [6] },
    { lo: 7, hi: 7, max: all, want: [] },
    { lo: 4, hi: 8, max: all, want: "unavailable" },
    { lo: 4, hi: 7, max: 0, want: [4] },
    { lo: 4, hi: 7, max: 19, want: [4] },
    { lo: 4, hi: 7, max: 20, want: [4, 5] },
    { lo: 4, hi: 7, max: 29, want: [4, 5] },
    { lo: 4, hi: 7, max: 30, want: [4, 5, 6] },
  ];
  for (const c of cases) {
    it(`entries(${c.lo}, ${c.hi}, ${c.max === all ? "no limit" : c.max}) → ${JSON.stringify(c.want)}`, () => {
      const s = storageAt3(
        [
          [4, 4],
          [5, 5],
          [6, 6],
        ],
        10,
      );
      if (Array.isArray(c.want))
        expect(s.entries(c.lo, c.hi, c.max).map((e) => e.index)).toEqual(c.want);
      else expect(raftErrorOf(() => s.entries(c.lo, c.hi, c.max)).reason).toBe(c.want);
    });
  }

  it("errors carry the codes callers branch on", () => {
    const s = storageAt3();
    expect(raftErrorOf(() => s.entries(2, 4, 100)).code).toBe("out_of_range");
    expect(raftErrorOf(() => s.entries(4, 9, 100)).code).toBe("out_of_range");
  });
});

describe("MemoryStorage first/last index", () => {
  it("first index is one past the snapshot, last index the last entry", () => {
    const s = storageAt3();
    expect(s.firstIndex()).toBe(4);
    expect(s.lastIndex()).toBe(5);
    s.append(ents([[6, 5]]));
    expect(s.lastIndex()).toBe(6);
  });

  it("compaction moves the first index but not the last", () => {
    const s = storageAt3();
    s.compact(4);
    expect(s.firstIndex()).toBe(5);
    expect(s.lastIndex()).toBe(5);
    expect(s.term(4)).toBe(4);
    expect(raftErrorOf(() => s.term(3)).reason).toBe("compacted");
  });
});

describe("MemoryStorage.compact", () => {
  const cases: {
    i: number;
    want: RaftErrorReason | { first: number; terms: [number, number][] };
  }[] = [
    { i: 2, want: "compacted" },
    { i: 3, want: "compacted" },
    {
      i: 4,
      want: {
        first: 5,
        terms: [
          [4, 4],
          [5, 5],
        ],
      },
    },
    { i: 5, want: { first: 6, terms: [[5, 5]] } },
    { i: 6, want: "unavailable" },
  ];
  for (const c of cases) {
    it(`compact(${c.i}) on snapshot 3, entries 4..5 → ${typeof c.want === "string" ? c.want : `first ${c.want.first}`}`, () => {
      const s = storageAt3();
      if (typeof c.want === "string") {
        expect(raftErrorOf(() => s.compact(c.i)).reason).toBe(c.want);
        expect(s.firstIndex()).toBe(4);
        return;
      }
      s.compact(c.i);
      expect(s.firstIndex()).toBe(c.want.first);
      const got: [number, number][] = [];
      for (let i = c.want.first - 1; i <= s.lastIndex(); i++) got.push([i, s.term(i)]);
      expect(got).toEqual(c.want.terms);
    });
  }

  it("keeps the snapshot: compaction only drops log entries", () => {
    const s = storageAt3();
    s.compact(5);
    expect(s.snapshot().metadata.index).toBe(3);
  });
});

describe("MemoryStorage.createSnapshot", () => {
  const cs = { voters: [1, 2, 3], learners: [] };
  it("records index, term of that entry, configuration and data", () => {
    const s = storageAt3();
    const data = new Uint8Array([1, 2]);
    const got = s.createSnapshot(4, cs, data);
    expect(got.metadata).toEqual({ index: 4, term: 4, confState: cs });
    expect(got.data).toEqual(data);
    expect(s.snapshot()).toBe(got);
    // Entries are kept until compact().
    expect(s.firstIndex()).toBe(4);
    expect(s.createSnapshot(5, cs, data).metadata.term).toBe(5);
  });

  it("without a configuration keeps the previous snapshot's", () => {
    const t = new MemoryStorage();
    t.applySnapshot(snap(3, 3, [7, 8]));
    t.append(ents([[4, 4]]));
    expect(t.createSnapshot(4, undefined, new Uint8Array()).metadata.confState.voters).toEqual([
      7, 8,
    ]);
  });

  it("at or below the current snapshot → snapshot-out-of-date", () => {
    const s = storageAt3();
    const e = raftErrorOf(() => s.createSnapshot(3, cs, new Uint8Array()));
    expect(e.reason).toBe("snapshot-out-of-date");
    expect(e.code).toBe("failed_precondition");
    s.createSnapshot(5, cs, new Uint8Array());
    expect(raftErrorOf(() => s.createSnapshot(4, cs, new Uint8Array())).reason).toBe(
      "snapshot-out-of-date",
    );
  });

  it("past the last index → unavailable", () => {
    const s = storageAt3();
    expect(raftErrorOf(() => s.createSnapshot(6, cs, new Uint8Array())).reason).toBe("unavailable");
  });

  it("of an index already compacted away → compacted (its term is gone)", () => {
    const s = new MemoryStorage();
    s.append(
      ents([
        [1, 1],
        [2, 1],
        [3, 2],
        [4, 2],
      ]),
    );
    s.compact(3);
    expect(raftErrorOf(() => s.createSnapshot(2, cs, new Uint8Array())).reason).toBe("compacted");
    expect(s.snapshot().metadata.index).toBe(0);
    expect(s.createSnapshot(3, cs, new Uint8Array()).metadata.term).toBe(2);
  });
});

describe("MemoryStorage.applySnapshot", () => {
  it("replaces the log: first index after the snapshot, its term answers", () => {
    const s = storageAt3();
    s.applySnapshot(snap(10, 7));
    expect(s.firstIndex()).toBe(11);
    expect(s.lastIndex()).toBe(10);
    expect(s.term(10)).toBe(7);
    expect(s.snapshot().metadata.index).toBe(10);
    expect(s.initialState().confState.voters).toEqual([1, 2, 3]);
    expect(raftErrorOf(() => s.term(9)).reason).toBe("compacted");
  });

  it("an older or equal snapshot → snapshot-out-of-date, and nothing changes", () => {
    const s = storageAt3();
    s.applySnapshot(snap(10, 7));
    expect(raftErrorOf(() => s.applySnapshot(snap(10, 7))).reason).toBe("snapshot-out-of-date");
    expect(raftErrorOf(() => s.applySnapshot(snap(5, 9))).reason).toBe("snapshot-out-of-date");
    expect(s.snapshot().metadata).toMatchObject({ index: 10, term: 7 });
  });
});

describe("MemoryStorage.append (Raft §5.3: conflicting suffixes are cut)", () => {
  const cases: {
    name: string;
    add: [number, number][];
    want: [number, number][] | "unavailable";
  }[] = [
    {
      name: "the same entries change nothing",
      add: [
        [3, 3],
        [4, 4],
        [5, 5],
      ],
      want: [
        [4, 4],
        [5, 5],
      ],
    },
    {
      name: "conflicting entries replace the suffix",
      add: [
        [3, 3],
        [4, 6],
        [5, 6],
      ],
      want: [
        [4, 6],
        [5, 6],
      ],
    },
    {
      name: "new entries are added",
      add: [
        [3, 3],
        [4, 4],
        [5, 5],
        [6, 5],
      ],
      want: [
        [4, 4],
        [5, 5],
        [6, 5],
      ],
    },
    {
      name: "compacted incoming entries are skipped, the rest truncates",
      add: [
        [2, 3],
        [3, 3],
        [4, 5],
      ],
      want: [[4, 5]],
    },
    {
      name: "a conflict at the first entry truncates everything after",
      add: [[4, 5]],
      want: [[4, 5]],
    },
    {
      name: "a direct append after the last",
      add: [[6, 5]],
      want: [
        [4, 4],
        [5, 5],
        [6, 5],
      ],
    },
    {
      name: "entries entirely compacted are ignored",
      add: [
        [1, 1],
        [2, 2],
      ],
      want: [
        [4, 4],
        [5, 5],
      ],
    },
    { name: "a gap after the last → unavailable", add: [[7, 5]], want: "unavailable" },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = storageAt3();
      if (c.want === "unavailable") {
        expect(raftErrorOf(() => s.append(ents(c.add))).reason).toBe("unavailable");
        expect(s.lastIndex()).toBe(5);
        return;
      }
      s.append(ents(c.add));
      expect(ids(s.entries(s.firstIndex(), s.lastIndex() + 1, Number.MAX_SAFE_INTEGER))).toEqual(
        c.want,
      );
      // The snapshot's term still answers at firstIndex-1.
      expect(s.term(3)).toBe(3);
    });
  }

  it("an empty append is a no-op", () => {
    const s = storageAt3();
    s.append([]);
    expect(s.lastIndex()).toBe(5);
  });
});

describe("limitSize and payloadSize", () => {
  const e = (size: number, index: number) => entry({ index, term: 1, data: new Uint8Array(size) });
  it("payloadSize sums data lengths", () => {
    expect(payloadSize([e(3, 1), e(0, 2), e(5, 3)])).toBe(8);
    expect(payloadSize([])).toBe(0);
  });
  it("keeps the longest prefix within the limit, and always one entry", () => {
    const es = [e(10, 1), e(10, 2), e(10, 3)];
    expect(limitSize(es, 0).length).toBe(1);
    expect(limitSize([e(100, 1)], 5).length).toBe(1);
    expect(limitSize(es, 20).length).toBe(2);
    expect(limitSize(es, 25).length).toBe(2);
    expect(limitSize(es, 30)).toBe(es);
    expect(limitSize([], 0)).toEqual([]);
  });
});
