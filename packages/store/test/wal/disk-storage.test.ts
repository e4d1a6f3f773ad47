import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Entry, RawNode, type Ready, type Snapshot } from "@tug/raft";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StoreError } from "../../src/errors.js";
import { DiskStorage, type DiskStorageOptions } from "../../src/wal/disk-storage.js";
import type { WalLogger } from "../../src/wal/wal.js";

const META = { clusterId: 0xc1, memberId: 1 };

let dir: string;
let warnings: string[];
const logger: WalLogger = { warn: (m) => warnings.push(m) };
const open: DiskStorage[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tug-disk-storage-"));
  warnings = [];
});

afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

async function openStorage(options: Partial<DiskStorageOptions> = {}): Promise<DiskStorage> {
  const s = await DiskStorage.open(dir, { metadata: META, wal: { logger }, ...options });
  open.push(s);
  return s;
}

async function closeStorage(s: DiskStorage): Promise<void> {
  open.splice(open.indexOf(s), 1);
  await s.close();
}

function ent(index: number, term = 1): Entry {
  return { index, term, type: "EntryNormal", data: new TextEncoder().encode(`e${index}`) };
}

function range(lo: number, hi: number, term = 1): Entry[] {
  const out: Entry[] = [];
  for (let i = lo; i <= hi; i++) out.push(ent(i, term));
  return out;
}

function allEntries(s: DiskStorage): readonly Entry[] {
  return s.entries(s.firstIndex(), s.lastIndex() + 1, Number.MAX_SAFE_INTEGER);
}

describe("DiskStorage", () => {
  it("bootstraps a new member's membership as snapshot 0 and recovers everything after a restart", async () => {
    let s = await openStorage({ bootstrap: { voters: [1, 2, 3], learners: [] } });
    expect(s.initialState().confState).toEqual({ voters: [1, 2, 3], learners: [] });
    expect(s.lastIndex()).toBe(0);
    await s.persist({ hardState: { term: 2, vote: 1, commit: 0 }, entries: range(1, 5, 2) });
    await s.persist({ hardState: { term: 2, vote: 1, commit: 4 }, entries: [], mustSync: false });
    expect(s.lastIndex()).toBe(5);
    await closeStorage(s);

    s = await openStorage();
    expect(s.initialState()).toEqual({
      hardState: { term: 2, vote: 1, commit: 4 },
      confState: { voters: [1, 2, 3], learners: [] },
    });
    expect(s.firstIndex()).toBe(1);
    expect(allEntries(s)).toEqual(range(1, 5, 2));
    expect(s.term(3)).toBe(2);
  });

  it("starts a joining member (no bootstrap) empty, learning the membership from the leader", async () => {
    const s = await openStorage();
    expect(s.initialState().confState).toEqual({ voters: [], learners: [] });
    expect(s.lastIndex()).toBe(0);
  });

  it("refuses another member's data directory", async () => {
    await closeStorage(await openStorage({ bootstrap: { voters: [1], learners: [] } }));
    const err = await openStorage({ metadata: { clusterId: 0xc1, memberId: 2 } }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).message).toMatch(
      /belongs to cluster c1 member 1, but this member runs as cluster c1 member 2/,
    );
  });

  it("creates snapshots: compacts memory to the catch-up margin, keeps N files, purges the WAL, restarts from the newest", async () => {
    let s = await openStorage({
      bootstrap: { voters: [1], learners: [] },
      catchUpEntries: 10,
      keepSnapshots: 2,
      wal: { logger, segmentSizeBytes: 512 },
    });
    for (let i = 1; i <= 200; i += 10) {
      await s.persist({ hardState: { term: 1, vote: 1, commit: i + 9 }, entries: range(i, i + 9) });
    }
    const cs = { voters: [1], learners: [] };
    await s.createSnapshot(50, cs, new TextEncoder().encode("app@50"));
    await s.createSnapshot(120, cs, new TextEncoder().encode("app@120"));
    const snap = await s.createSnapshot(180, cs, new TextEncoder().encode("app@180"));
    expect(snap.metadata).toEqual({ index: 180, term: 1, confState: cs });
    expect(s.snapshot()).toEqual(snap);
    expect(s.firstIndex()).toBe(171);
    expect(s.lastIndex()).toBe(200);
    await expect(s.createSnapshot(150, cs, new Uint8Array(0))).rejects.toThrow(/already held/);
    const walBefore = s.walStats;
    await closeStorage(s);
    expect(walBefore.cuts).toBeGreaterThan(5);

    expect((await readdir(join(dir, "snap"))).sort()).toEqual([
      "0000000000000001-0000000000000078.snap",
      "0000000000000001-00000000000000b4.snap",
    ]);
    // The WAL reaches back to the oldest kept snapshot (120) and no further.
    const segs = (await readdir(join(dir, "wal"))).filter((n) => n.endsWith(".wal")).sort();
    const firstIndexes = segs.map((n) => Number.parseInt(n.slice(17, 33), 16));
    expect(firstIndexes[0]).toBeLessThanOrEqual(120);
    expect(firstIndexes[1]).toBeGreaterThan(120);

    s = await openStorage();
    expect(s.snapshot()).toEqual(snap);
    expect(s.firstIndex()).toBe(181);
    expect(allEntries(s)).toEqual(range(181, 200));
    expect(s.initialState().hardState).toEqual({ term: 1, vote: 1, commit: 200 });
  });

  it("falls back to the previous snapshot when the newest file is damaged", async () => {
    let s = await openStorage({ bootstrap: { voters: [1], learners: [] }, catchUpEntries: 0 });
    await s.persist({ hardState: { term: 1, vote: 1, commit: 30 }, entries: range(1, 30) });
    const cs = { voters: [1], learners: [] };
    await s.createSnapshot(10, cs, new TextEncoder().encode("app@10"));
    await s.createSnapshot(20, cs, new TextEncoder().encode("app@20"));
    await closeStorage(s);
    await writeFile(join(dir, "snap", "0000000000000001-0000000000000014.snap"), "scribbled over");
    s = await openStorage();
    expect(s.snapshot().metadata.index).toBe(10);
    expect(allEntries(s)).toEqual(range(11, 30));
    expect(warnings.some((w) => /0000000000000014\.snap is damaged.*\.broken/.test(w))).toBe(true);
  });

  it("installs a snapshot from the leader: the file, a restore marker, then the entries after it", async () => {
    let s = await openStorage();
    await s.persist({ hardState: { term: 1, vote: 0, commit: 3 }, entries: range(1, 8, 1) });
    const leaderSnap: Snapshot = {
      data: new TextEncoder().encode("leader state @500"),
      metadata: { index: 500, term: 3, confState: { voters: [1, 2, 3], learners: [] } },
    };
    await s.persist({
      hardState: { term: 3, vote: 0, commit: 500 },
      entries: [],
      snapshot: leaderSnap,
    });
    await s.persist({ hardState: { term: 3, vote: 0, commit: 502 }, entries: range(501, 503, 3) });
    expect(s.firstIndex()).toBe(501);
    await closeStorage(s);

    s = await openStorage();
    expect(s.snapshot()).toEqual(leaderSnap);
    expect(s.initialState().confState).toEqual({ voters: [1, 2, 3], learners: [] });
    expect(allEntries(s)).toEqual(range(501, 503, 3));
    expect(s.initialState().hardState.commit).toBe(502);
  });

  it("raises the commit index to a restored snapshot whose hard state did not reach the disk", async () => {
    let s = await openStorage();
    await s.persist({ hardState: { term: 1, vote: 0, commit: 3 }, entries: range(1, 8, 1) });
    const leaderSnap: Snapshot = {
      data: new Uint8Array([1]),
      metadata: { index: 500, term: 3, confState: { voters: [1, 2, 3], learners: [] } },
    };
    // As if the write tore right after the marker: no hard state with commit 500 follows it.
    await s.persist({ entries: [], snapshot: leaderSnap });
    await closeStorage(s);
    s = await openStorage();
    expect(s.snapshot().metadata.index).toBe(500);
    expect(s.initialState().hardState).toEqual({ term: 1, vote: 0, commit: 500 });
    expect(s.lastIndex()).toBe(500);
  });

  it("stages overlapping persists in call order, sharing WAL syncs", async () => {
    const s = await openStorage({ bootstrap: { voters: [1], learners: [] } });
    const done: number[] = [];
    const all: Promise<void>[] = [];
    for (let i = 1; i <= 40; i++) {
      all.push(
        s
          .persist({ hardState: { term: 1, vote: 1, commit: i - 1 }, entries: [ent(i)] })
          .then(() => void done.push(i)),
      );
    }
    await Promise.all(all);
    expect(done).toEqual(range(1, 40).map((e) => e.index));
    expect(allEntries(s)).toEqual(range(1, 40));
    expect(s.walStats.fsyncs).toBeLessThan(10);
  });

  it("serves a RawNode that restarts from disk with its applied state intact", async () => {
    const cs = { voters: [1], learners: [] };
    const decoder = new TextDecoder();
    const encoder = new TextEncoder();

    /** The state machine: the applied payloads, rebuilt from snapshot data plus the log. */
    type App = { applied: number; values: string[] };
    const drive = async (node: RawNode, s: DiskStorage, app: App, snapshotEvery: number) => {
      while (node.hasReady()) {
        const rd: Ready = node.ready();
        await s.persist({
          hardState: rd.hardState,
          entries: rd.entries,
          snapshot: rd.snapshot,
          mustSync: rd.mustSync,
        });
        for (const e of rd.committedEntries) {
          if (e.type === "EntryNormal" && e.data.length > 0)
            app.values.push(decoder.decode(e.data));
          app.applied = e.index;
          if (app.applied % snapshotEvery === 0) {
            await s.createSnapshot(app.applied, cs, encoder.encode(JSON.stringify(app.values)));
          }
        }
        node.advance(rd);
      }
    };
    const start = (s: DiskStorage) => {
      const snap = s.snapshot();
      const app: App = {
        applied: snap.metadata.index,
        values:
          snap.metadata.index === 0 ? [] : (JSON.parse(decoder.decode(snap.data)) as string[]),
      };
      const node = new RawNode({
        id: 1,
        electionTick: 10,
        heartbeatTick: 1,
        storage: s,
        random: () => 0,
        applied: snap.metadata.index,
      });
      return { node, app };
    };

    let s = await openStorage({ bootstrap: cs, catchUpEntries: 3 });
    let { node, app } = start(s);
    node.campaign();
    await drive(node, s, app, 7);
    for (let i = 0; i < 30; i++) {
      node.propose(encoder.encode(`v${i}`));
      await drive(node, s, app, 7);
    }
    const before = { values: [...app.values], status: node.status() };
    expect(before.values).toHaveLength(30);
    await closeStorage(s);

    s = await openStorage({ catchUpEntries: 3 });
    expect(s.snapshot().metadata.index).toBe(28);
    ({ node, app } = start(s));
    await drive(node, s, app, 7);
    expect(app.values).toEqual(before.values);
    expect(node.status().term).toBe(before.status.term);
    node.campaign();
    await drive(node, s, app, 1000);
    node.propose(encoder.encode("after restart"));
    await drive(node, s, app, 1000);
    expect(app.values).toEqual([...before.values, "after restart"]);
  });
});
