import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Snapshot } from "@tug/raft";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StoreError } from "../../src/errors.js";
import { Snapshotter, snapshotFileName } from "../../src/wal/snapshotter.js";
import type { WalLogger } from "../../src/wal/wal.js";

let dir: string;
let warnings: string[];
const logger: WalLogger = { warn: (m) => warnings.push(m) };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tug-snap-"));
  warnings = [];
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function snap(index: number, term: number, text = `state@${index}`): Snapshot {
  return {
    data: new TextEncoder().encode(text),
    metadata: { index, term, confState: { voters: [1, 2, 3], learners: [4] } },
  };
}

describe("Snapshotter", () => {
  it("saves a snapshot as %016x-%016x.snap (term-index) and loads it back", async () => {
    const s = await Snapshotter.open(dir, { logger });
    const name = await s.save(snap(0x1234, 5));
    expect(name).toBe("0000000000000005-0000000000001234.snap");
    expect(await readdir(dir)).toEqual([name]);
    expect(await s.load(name)).toEqual(snap(0x1234, 5));
    expect(snapshotFileName({ index: 0x1234, term: 5 })).toBe(name);
  });

  it("loads the newest snapshot by index", async () => {
    const s = await Snapshotter.open(dir, { logger });
    for (const [i, t] of [
      [10, 1],
      [30, 2],
      [20, 2],
    ] as const) {
      await s.save(snap(i, t));
    }
    expect((await s.loadNewest())?.metadata.index).toBe(30);
    expect((await s.list()).map((f) => f.index)).toEqual([30, 20, 10]);
  });

  it("sets a damaged snapshot aside as .broken and falls back to the next older one", async () => {
    const s = await Snapshotter.open(dir, { logger });
    await s.save(snap(10, 1));
    const newest = await s.save(snap(20, 1));
    const path = join(dir, newest);
    const b = await readFile(path);
    b[b.length - 2] = (b[b.length - 2] as number) ^ 1;
    await writeFile(path, b);
    const got = await s.loadNewest();
    expect(got).toEqual(snap(10, 1));
    expect((await readdir(dir)).sort()).toEqual([
      snapshotFileName({ index: 10, term: 1 }),
      `${newest}.broken`,
    ]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      new RegExp(`${path} is damaged: CRC mismatch.*renamed it to ${newest}.broken`),
    );
  });

  it("treats a truncated or foreign file as damaged", async () => {
    const s = await Snapshotter.open(dir, { logger });
    const a = await s.save(snap(10, 1));
    await truncate(join(dir, a), 30);
    await expect(s.load(a)).rejects.toThrow(/header says \d+ body bytes, the file holds 6/);
    await writeFile(join(dir, a), "hello, world: not a snapshot");
    const err = await s.load(a).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe("DATA_LOSS");
    expect((err as StoreError).message).toMatch(/bad magic/);
    expect(await s.loadNewest()).toBeUndefined();
  });

  it("loads only snapshots the WAL has markers for (and snapshot 0, the bootstrap membership)", async () => {
    const s = await Snapshotter.open(dir, { logger });
    await s.save(snap(0, 0));
    await s.save(snap(10, 1));
    await s.save(snap(20, 2));
    expect((await s.loadNewestAvailable([{ index: 10, term: 1 }]))?.metadata.index).toBe(10);
    // A marker with another term does not vouch for the file.
    expect((await s.loadNewestAvailable([{ index: 20, term: 1 }]))?.metadata.index).toBe(0);
    expect((await s.list()).length).toBe(3);
  });

  it("keeps the newest N files", async () => {
    const s = await Snapshotter.open(dir, { logger });
    for (let i = 1; i <= 5; i++) await s.save(snap(i * 10, 1));
    expect(await s.retain(2)).toEqual([
      snapshotFileName({ index: 30, term: 1 }),
      snapshotFileName({ index: 20, term: 1 }),
      snapshotFileName({ index: 10, term: 1 }),
    ]);
    expect((await s.list()).map((f) => f.index)).toEqual([50, 40]);
  });

  it("removes a half-written temporary file left by a crash", async () => {
    await writeFile(join(dir, `${snapshotFileName({ index: 9, term: 9 })}.tmp`), "half");
    const s = await Snapshotter.open(dir, { logger });
    expect(await readdir(dir)).toEqual([]);
    expect(await s.loadNewest()).toBeUndefined();
  });
});
