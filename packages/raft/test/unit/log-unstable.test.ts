import { describe, expect, it } from "vitest";
import { Unstable } from "../../src/log-unstable.js";
import { type Entry, entry, type Snapshot } from "../../src/types.js";

function ents(pairs: readonly (readonly [number, number])[]): Entry[] {
  return pairs.map(([index, term]) => entry({ index, term }));
}

function snap(index: number, term: number): Snapshot {
  return {
    data: new Uint8Array(),
    metadata: { index, term, confState: { voters: [1], learners: [] } },
  };
}

function unstable(init: {
  offset: number;
  entries?: [number, number][];
  snapshot?: Snapshot;
}): Unstable {
  const u = new Unstable(init.offset);
  u.entries = ents(init.entries ?? []);
  u.snapshot = init.snapshot;
  return u;
}

function ids(u: Unstable): [number, number][] {
  return u.entries.map((e) => [e.index, e.term]);
}

describe("Unstable.maybeFirstIndex", () => {
  it("no snapshot → undefined (the storage knows the first index)", () => {
    expect(unstable({ offset: 5, entries: [[5, 1]] }).maybeFirstIndex()).toBeUndefined();
    expect(unstable({ offset: 0 }).maybeFirstIndex()).toBeUndefined();
  });
  it("with a snapshot → one past it, with or without entries", () => {
    expect(unstable({ offset: 5, entries: [[5, 1]], snapshot: snap(4, 1) }).maybeFirstIndex()).toBe(
      5,
    );
    expect(unstable({ offset: 5, snapshot: snap(4, 1) }).maybeFirstIndex()).toBe(5);
  });
});

describe("Unstable.maybeLastIndex", () => {
  it("the last entry when there are entries", () => {
    expect(unstable({ offset: 5, entries: [[5, 1]] }).maybeLastIndex()).toBe(5);
    expect(
      unstable({
        offset: 5,
        entries: [
          [5, 1],
          [6, 1],
        ],
        snapshot: snap(4, 1),
      }).maybeLastIndex(),
    ).toBe(6);
  });
  it("the snapshot's index when there are no entries", () => {
    expect(unstable({ offset: 5, snapshot: snap(4, 1) }).maybeLastIndex()).toBe(4);
  });
  it("undefined when empty", () => {
    expect(unstable({ offset: 0 }).maybeLastIndex()).toBeUndefined();
  });
});

describe("Unstable.maybeTerm", () => {
  const cases: { name: string; u: () => Unstable; i: number; want: number | undefined }[] = [
    { name: "entry in range", u: () => unstable({ offset: 5, entries: [[5, 1]] }), i: 5, want: 1 },
    {
      name: "past the entries",
      u: () => unstable({ offset: 5, entries: [[5, 1]] }),
      i: 6,
      want: undefined,
    },
    {
      name: "before the offset, no snapshot",
      u: () => unstable({ offset: 5, entries: [[5, 1]] }),
      i: 4,
      want: undefined,
    },
    {
      name: "entry, with snapshot",
      u: () => unstable({ offset: 5, entries: [[5, 1]], snapshot: snap(4, 1) }),
      i: 5,
      want: 1,
    },
    {
      name: "past, with snapshot",
      u: () => unstable({ offset: 5, entries: [[5, 1]], snapshot: snap(4, 1) }),
      i: 6,
      want: undefined,
    },
    {
      name: "the snapshot's index",
      u: () => unstable({ offset: 5, entries: [[5, 1]], snapshot: snap(4, 1) }),
      i: 4,
      want: 1,
    },
    {
      name: "before the snapshot",
      u: () => unstable({ offset: 5, entries: [[5, 1]], snapshot: snap(4, 1) }),
      i: 3,
      want: undefined,
    },
    {
      name: "only a snapshot, past it",
      u: () => unstable({ offset: 5, snapshot: snap(4, 1) }),
      i: 5,
      want: undefined,
    },
    {
      name: "only a snapshot, at it",
      u: () => unstable({ offset: 5, snapshot: snap(4, 1) }),
      i: 4,
      want: 1,
    },
    {
      name: "only a snapshot, before it",
      u: () => unstable({ offset: 5, snapshot: snap(4, 1) }),
      i: 3,
      want: undefined,
    },
    { name: "empty", u: () => unstable({ offset: 0 }), i: 5, want: undefined },
  ];
  for (const c of cases) {
    it(`${c.name}: term(${c.i}) → ${c.want}`, () => {
      expect(c.u().maybeTerm(c.i)).toBe(c.want);
    });
  }
});

describe("Unstable.restore", () => {
  it("drops the entries and starts after the snapshot", () => {
    const u = unstable({ offset: 5, entries: [[5, 1]], snapshot: snap(4, 1) });
    const s = snap(6, 2);
    u.restore(s);
    expect(u.offset).toBe(7);
    expect(u.entries).toEqual([]);
    expect(u.snapshot).toBe(s);
  });
});

describe("Unstable.stableTo", () => {
  const cases: {
    name: string;
    offset: number;
    entries: [number, number][];
    snapshot?: Snapshot;
    index: number;
    term: number;
    wantOffset: number;
    wantLen: number;
  }[] = [
    { name: "empty", offset: 0, entries: [], index: 5, term: 1, wantOffset: 0, wantLen: 0 },
    {
      name: "all stable",
      offset: 5,
      entries: [[5, 1]],
      index: 5,
      term: 1,
      wantOffset: 6,
      wantLen: 0,
    },
    {
      name: "a prefix stable",
      offset: 5,
      entries: [
        [5, 1],
        [6, 1],
      ],
      index: 5,
      term: 1,
      wantOffset: 6,
      wantLen: 1,
    },
    {
      name: "term mismatch: the entry was replaced",
      offset: 6,
      entries: [[6, 2]],
      index: 6,
      term: 1,
      wantOffset: 6,
      wantLen: 1,
    },
    {
      name: "an index before the offset",
      offset: 5,
      entries: [[5, 1]],
      index: 4,
      term: 1,
      wantOffset: 5,
      wantLen: 1,
    },
    {
      name: "an older index and term",
      offset: 5,
      entries: [[5, 1]],
      index: 4,
      term: 2,
      wantOffset: 5,
      wantLen: 1,
    },
    {
      name: "with snapshot: all stable",
      offset: 5,
      entries: [[5, 1]],
      snapshot: snap(4, 1),
      index: 5,
      term: 1,
      wantOffset: 6,
      wantLen: 0,
    },
    {
      name: "with snapshot: a prefix",
      offset: 5,
      entries: [
        [5, 1],
        [6, 1],
      ],
      snapshot: snap(4, 1),
      index: 5,
      term: 1,
      wantOffset: 6,
      wantLen: 1,
    },
    {
      name: "with snapshot: term mismatch",
      offset: 6,
      entries: [[6, 2]],
      snapshot: snap(5, 1),
      index: 6,
      term: 1,
      wantOffset: 6,
      wantLen: 1,
    },
    {
      name: "stable to the snapshot: entries untouched",
      offset: 5,
      entries: [[5, 1]],
      snapshot: snap(4, 1),
      index: 4,
      term: 1,
      wantOffset: 5,
      wantLen: 1,
    },
    {
      name: "stable to an older snapshot term",
      offset: 5,
      entries: [[5, 2]],
      snapshot: snap(4, 2),
      index: 4,
      term: 1,
      wantOffset: 5,
      wantLen: 1,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: stableTo(${c.index}, ${c.term}) → offset ${c.wantOffset}, ${c.wantLen} left`, () => {
      const u = unstable({
        offset: c.offset,
        entries: c.entries,
        ...(c.snapshot ? { snapshot: c.snapshot } : {}),
      });
      u.stableTo(c.index, c.term);
      expect(u.offset).toBe(c.wantOffset);
      expect(u.entries.length).toBe(c.wantLen);
    });
  }
});

describe("Unstable.stableSnapTo", () => {
  it("forgets the snapshot only when its index matches", () => {
    const u = unstable({ offset: 5, snapshot: snap(4, 1) });
    u.stableSnapTo(3);
    expect(u.snapshot).toBeDefined();
    u.stableSnapTo(4);
    expect(u.snapshot).toBeUndefined();
    u.stableSnapTo(4);
    expect(u.snapshot).toBeUndefined();
  });
});

describe("Unstable.truncateAndAppend", () => {
  const cases: {
    name: string;
    offset: number;
    entries: [number, number][];
    add: [number, number][];
    wantOffset: number;
    want: [number, number][];
  }[] = [
    {
      name: "append after the last",
      offset: 5,
      entries: [[5, 1]],
      add: [
        [6, 1],
        [7, 1],
      ],
      wantOffset: 5,
      want: [
        [5, 1],
        [6, 1],
        [7, 1],
      ],
    },
    {
      name: "replace from the offset",
      offset: 5,
      entries: [[5, 1]],
      add: [
        [5, 2],
        [6, 2],
      ],
      wantOffset: 5,
      want: [
        [5, 2],
        [6, 2],
      ],
    },
    {
      name: "replace from before the offset",
      offset: 5,
      entries: [[5, 1]],
      add: [
        [4, 2],
        [5, 2],
        [6, 2],
      ],
      wantOffset: 4,
      want: [
        [4, 2],
        [5, 2],
        [6, 2],
      ],
    },
    {
      name: "truncate in the middle",
      offset: 5,
      entries: [
        [5, 1],
        [6, 1],
        [7, 1],
      ],
      add: [[6, 2]],
      wantOffset: 5,
      want: [
        [5, 1],
        [6, 2],
      ],
    },
    {
      name: "truncate at the last and extend",
      offset: 5,
      entries: [
        [5, 1],
        [6, 1],
        [7, 1],
      ],
      add: [
        [7, 2],
        [8, 2],
      ],
      wantOffset: 5,
      want: [
        [5, 1],
        [6, 1],
        [7, 2],
        [8, 2],
      ],
    },
    {
      name: "nothing to add",
      offset: 5,
      entries: [[5, 1]],
      add: [],
      wantOffset: 5,
      want: [[5, 1]],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const u = unstable({ offset: c.offset, entries: c.entries });
      u.truncateAndAppend(ents(c.add));
      expect(u.offset).toBe(c.wantOffset);
      expect(ids(u)).toEqual(c.want);
    });
  }

  it("does not alias the caller's array", () => {
    const u = unstable({ offset: 5, entries: [[5, 1]] });
    const add = ents([[4, 2]]);
    u.truncateAndAppend(add);
    add.push(entry({ index: 5, term: 9 }));
    expect(ids(u)).toEqual([[4, 2]]);
  });
});

describe("Unstable.slice", () => {
  it("returns [lo, hi) by index", () => {
    const u = unstable({
      offset: 5,
      entries: [
        [5, 1],
        [6, 1],
        [7, 2],
      ],
    });
    expect(u.slice(5, 8).map((e) => e.index)).toEqual([5, 6, 7]);
    expect(u.slice(6, 7).map((e) => e.index)).toEqual([6]);
    expect(u.slice(7, 7)).toEqual([]);
  });
});
