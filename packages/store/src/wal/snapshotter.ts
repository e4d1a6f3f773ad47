// Snapshot files: a raft Snapshot (metadata and the application's data) per file, named
// `%016x-%016x.snap` (term-index, as etcd's snap package names them). A file is written under a
// temporary name, fsynced, renamed into place and the directory fsynced, so that a snapshot file
// that exists is whole; its CRC catches what the disk does to it later.
//
// File layout, little-endian:
//   0  8 bytes  magic: "tugsnap", then the format version byte (1)
//   8  u64      body length
//   16 u32      CRC-32 (zlib.crc32) of the body
//   20 u32      reserved, zero
//   24 body     raftpb.Snapshot (@tug/raft's encodeSnapshot)

import { mkdir, open, readdir, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { decodeSnapshot, encodeSnapshot, type Snapshot } from "@tug/raft";
import { StoreError } from "../errors.js";
import { fdatasync, fsyncDir, type SyncFile, unlinkIfExists, writeFully } from "./fs-util.js";
import type { WalLogger } from "./wal.js";
import type { SnapshotMarker } from "./wal-record.js";

const SNAP_MAGIC = Buffer.from("tugsnap\u0001", "latin1");
const HEADER_BYTES = 24;
const SNAP_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;
const TMP_SUFFIX = ".tmp";
export const BROKEN_SUFFIX = ".broken";

export interface SnapshotterOptions {
  readonly syncFile?: SyncFile;
  readonly logger?: WalLogger;
}

export interface SnapshotFile {
  readonly name: string;
  readonly term: number;
  readonly index: number;
}

export function snapshotFileName(m: SnapshotMarker): string {
  return `${m.term.toString(16).padStart(16, "0")}-${m.index.toString(16).padStart(16, "0")}.snap`;
}

export function encodeSnapshotFile(snap: Snapshot): Buffer {
  const body = encodeSnapshot(snap);
  const head = Buffer.alloc(HEADER_BYTES);
  head.set(SNAP_MAGIC, 0);
  head.writeBigUInt64LE(BigInt(body.length), 8);
  head.writeUInt32LE(crc32(body), 16);
  return Buffer.concat([head, body]);
}

/** Decodes a snapshot file's bytes; throws an Error saying what is wrong. */
export function decodeSnapshotFile(b: Buffer): Snapshot {
  if (b.length < HEADER_BYTES)
    throw new Error(`${b.length} bytes, shorter than the ${HEADER_BYTES}-byte header`);
  if (!b.subarray(0, 8).equals(SNAP_MAGIC))
    throw new Error("not a tug snapshot file (bad magic or version)");
  const length = b.readBigUInt64LE(8);
  if (length !== BigInt(b.length - HEADER_BYTES)) {
    throw new Error(`header says ${length} body bytes, the file holds ${b.length - HEADER_BYTES}`);
  }
  const body = b.subarray(HEADER_BYTES);
  const want = b.readUInt32LE(16);
  const got = crc32(body);
  if (want !== got)
    throw new Error(`CRC mismatch: stored ${want.toString(16)}, computed ${got.toString(16)}`);
  return decodeSnapshot(body);
}

export class Snapshotter {
  private readonly syncFile: SyncFile;
  private readonly logger: WalLogger;

  private constructor(
    readonly dir: string,
    options: SnapshotterOptions,
  ) {
    this.syncFile = options.syncFile ?? fdatasync;
    this.logger = options.logger ?? { warn: (m) => process.stderr.write(`${m}\n`) };
  }

  /** Opens (creating if missing) the snapshot directory, removing half-written temporary files. */
  static async open(dir: string, options: SnapshotterOptions = {}): Promise<Snapshotter> {
    await mkdir(dir, { recursive: true });
    for (const n of await readdir(dir)) {
      if (n.endsWith(`.snap${TMP_SUFFIX}`)) await unlinkIfExists(join(dir, n));
    }
    return new Snapshotter(dir, options);
  }

  /** Writes `snap` durably; returns the file name. Overwrites a file of the same term and index. */
  async save(snap: Snapshot): Promise<string> {
    const name = snapshotFileName(snap.metadata);
    const path = join(this.dir, name);
    const tmp = path + TMP_SUFFIX;
    const fh = await open(tmp, "w");
    try {
      await writeFully(fh, encodeSnapshotFile(snap), 0);
      await this.syncFile(fh);
    } catch (err) {
      await fh.close();
      await unlinkIfExists(tmp);
      throw err;
    }
    await fh.close();
    await rename(tmp, path);
    await fsyncDir(this.dir);
    return name;
  }

  /** Snapshot files, newest (highest index, then term) first. Broken ones are not listed. */
  async list(): Promise<SnapshotFile[]> {
    const files: SnapshotFile[] = [];
    for (const name of await readdir(this.dir)) {
      const m = SNAP_NAME.exec(name);
      if (m === null) continue;
      files.push({
        name,
        term: Number.parseInt(m[1] as string, 16),
        index: Number.parseInt(m[2] as string, 16),
      });
    }
    return files.sort((a, b) => b.index - a.index || b.term - a.term);
  }

  /** Reads one snapshot file; throws StoreError DATA_LOSS naming the file if it is damaged. */
  async load(name: string): Promise<Snapshot> {
    const path = join(this.dir, name);
    const b = await readFile(path);
    let snap: Snapshot;
    try {
      snap = decodeSnapshotFile(b);
    } catch (err) {
      throw new StoreError("DATA_LOSS", `snap: ${path} is damaged: ${errorText(err)}`, {
        cause: err,
      });
    }
    const want = snapshotFileName(snap.metadata);
    if (want !== name) {
      throw new StoreError(
        "DATA_LOSS",
        `snap: ${path} holds the snapshot at index ${snap.metadata.index} term ${snap.metadata.term}`,
      );
    }
    return snap;
  }

  /**
   * The newest snapshot that can be loaded and, unless `usable` says otherwise, any. A damaged
   * file is renamed to *.broken (kept for inspection, out of the way) with a warning, and the
   * next older one tried. `usable` lets the caller accept only snapshots its WAL has markers for.
   */
  async loadNewest(
    usable: (s: SnapshotFile) => boolean = () => true,
  ): Promise<Snapshot | undefined> {
    for (const f of await this.list()) {
      if (!usable(f)) continue;
      try {
        return await this.load(f.name);
      } catch (err) {
        if (!(err instanceof StoreError) || err.code !== "DATA_LOSS") throw err;
        const path = join(this.dir, f.name);
        await rename(path, path + BROKEN_SUFFIX);
        await fsyncDir(this.dir);
        this.logger.warn(
          `${err.message}; renamed it to ${f.name}${BROKEN_SUFFIX} and trying an older snapshot`,
        );
      }
    }
    return undefined;
  }

  /** The newest loadable snapshot that `markers` (from the WAL) vouch for, or index 0's. */
  loadNewestAvailable(markers: readonly SnapshotMarker[]): Promise<Snapshot | undefined> {
    const known = new Set(markers.map((m) => `${m.index}/${m.term}`));
    return this.loadNewest((f) => f.index === 0 || known.has(`${f.index}/${f.term}`));
  }

  /** Removes all but the newest `keep` snapshot files; returns the names removed. */
  async retain(keep: number): Promise<string[]> {
    const old = (await this.list()).slice(Math.max(keep, 1));
    for (const f of old) await unlinkIfExists(join(this.dir, f.name));
    if (old.length > 0) await fsyncDir(this.dir);
    return old.map((f) => f.name);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
