// The WAL's O_DSYNC path (WalOptions.dsyncWrites): the same bytes on disk as write + fdatasync.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Entry } from "@tug/raft";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Wal, type WalLogger, type WalOptions } from "../../src/wal/wal.js";

const META = { clusterId: 0x1234, memberId: 7 };
const FROM_START = { index: 0, term: 0 };

let dir: string;
let root: string;
const logger: WalLogger = { warn: () => {} };

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "tug-wal-dsync-"));
  dir = join(root, "wal");
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function ent(index: number, term = 1, size = 8): Entry {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (index * 31 + i) & 0xff;
  return { index, term, type: "EntryNormal", data };
}

function range(lo: number, hi: number, term = 1, size = 8): Entry[] {
  const out: Entry[] = [];
  for (let i = lo; i <= hi; i++) out.push(ent(i, term, size));
  return out;
}

function indexes(entries: readonly Entry[]): number[] {
  return entries.map((e) => e.index);
}

async function openAll(options: WalOptions = {}) {
  return Wal.open(dir, FROM_START, { logger, ...options });
}

async function readAll(options: WalOptions = {}) {
  const { wal, contents } = await openAll(options);
  await wal.close();
  return contents;
}

async function segmentFiles(): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith(".wal")).sort();
}

describe("Wal: O_DSYNC writes (dsyncWrites)", () => {
  /** The same saves, some unsynced (commit-only) and one unsynced batch too large to hold. */
  async function writeScript(walDir: string, options: WalOptions): Promise<Wal> {
    const wal = await Wal.create(walDir, META, { logger, ...options });
    for (let i = 1; i <= 40; i++) {
      await wal.save({ term: 1, vote: 1, commit: i - 1 }, [ent(i, 1, 100)]);
      await wal.save({ term: 1, vote: 1, commit: i }, [], { sync: false });
      if (i % 7 === 0) await wal.save({ term: 1, vote: 1, commit: i }, [], { sync: false });
    }
    // More unsynced bytes than are kept for rewriting: the next sync is an fdatasync.
    await wal.save(undefined, range(41, 45, 1, 20_000), { sync: false });
    await wal.save({ term: 1, vote: 1, commit: 45 }, [ent(46, 1, 100)]);
    await wal.save({ term: 1, vote: 1, commit: 46 }, [], { sync: false });
    await wal.save(undefined, [ent(47, 1, 100)]);
    await wal.close();
    return wal;
  }

  for (const segmentSizeBytes of [64 * 1024 * 1024, 2048]) {
    it(`writes the same bytes as write + fdatasync (segments of ${segmentSizeBytes} bytes)`, async () => {
      const plainDir = join(root, "plain");
      const syncs = { plain: 0, dsync: 0, observed: 0 };
      const plain = await writeScript(plainDir, {
        segmentSizeBytes,
        syncFile: async (fh) => {
          syncs.plain++;
          await fh.datasync();
        },
      });
      const dsync = await writeScript(dir, {
        segmentSizeBytes,
        dsyncWrites: true,
        syncFile: async (fh) => {
          syncs.dsync++;
          await fh.datasync();
        },
        onDsyncWrite: (seconds) => {
          expect(seconds).toBeGreaterThanOrEqual(0);
          syncs.observed++;
        },
      });
      const files = await segmentFiles();
      expect((await readdir(plainDir)).filter((n) => n.endsWith(".wal")).sort()).toEqual(files);
      for (const f of files) {
        expect(await readFile(join(dir, f))).toEqual(await readFile(join(plainDir, f)));
      }
      expect(dsync.stats.fsyncs).toBe(plain.stats.fsyncs);
      expect(dsync.stats.bytesWritten).toBe(plain.stats.bytesWritten);
      expect(syncs.observed).toBeGreaterThan(30);
      // The fsyncs not done by O_DSYNC writes: the one after the large unsynced batch, and cuts.
      expect(syncs.dsync).toBe(syncs.plain - syncs.observed);
      if (segmentSizeBytes === 2048) expect(dsync.stats.cuts).toBeGreaterThan(3);
      const c = await readAll();
      expect(indexes(c.entries)).toEqual(range(1, 47).map((e) => e.index));
      expect(c.hardState).toEqual({ term: 1, vote: 1, commit: 46 });
      // Appends continue after a reopen.
      const { wal } = await openAll({ dsyncWrites: true });
      await wal.save({ term: 1, vote: 1, commit: 47 }, [ent(48, 1, 100)]);
      await wal.close();
      expect(indexes((await readAll()).entries)).toEqual(range(1, 48).map((e) => e.index));
    });
  }
});
