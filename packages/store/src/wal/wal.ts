// The write-ahead log: Raft's entries and hard state, made durable before the member answers
// for them (Raft §5: "updated on stable storage before responding to RPCs"), and replayed on
// restart after the newest snapshot. Shaped after etcd's server/storage/wal.
//
// On disk, a directory of segment files named `%016x-%016x.wal` (sequence-firstIndex, hex).
// firstIndex is the index of the first entry that may follow in that segment: the last index
// plus one when the segment was cut; the first segment is 0-0, as in etcd. Every segment starts
// with a segment header, then the metadata, then (except the first) the hard state as of the
// cut, so that each segment can be read on its own once older ones are purged. A segment is cut
// once it holds about `segmentSizeBytes` (64 MiB); it grows as it is written and is NOT
// preallocated: Node has no fallocate, and writing zeros ahead would double the writes; the
// price is that each fdatasync also flushes the file's new size.
//
// Group commit: save() frames its records at once (so records reach the disk in call order)
// and joins the queue; one writer at a time writes everything queued as one write and one
// fdatasync, and then resolves every save in it. Saves that arrive while a write+fdatasync is
// under way go together into the next one.
//
// Torn tails: a crash can leave the last, unacknowledged write partly on disk. On open, a
// record in the last segment that is short or fails its CRC, with no valid record anywhere
// after it, is such a tail: the file is cut there, with a warning. Anything else — a damaged
// record with valid records after it, or one in an older segment, or a damaged segment head —
// is corruption, and open fails naming the file and offset; acknowledged data is never dropped.

import { type FileHandle, mkdir, open, readdir, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import {
  decodeEntry,
  decodeHardState,
  EMPTY_HARD_STATE,
  type Entry,
  encodeEntry,
  encodeHardState,
  type HardState,
  isEmptyHardState,
} from "@tug/raft";
import { StoreError } from "../errors.js";
import {
  DirLock,
  fdatasync,
  fsyncDir,
  isErrno,
  type SyncFile,
  unlinkIfExists,
  writeFully,
  writeFullySync,
} from "./fs-util.js";
import { snapshotFileName } from "./snapshotter.js";
import {
  decodeMetadata,
  decodeRecordAt,
  decodeSegmentHeader,
  decodeSnapshotMarker,
  encodeMetadata,
  encodeRecord,
  encodeRecords,
  encodeSegmentHeader,
  encodeSnapshotMarker,
  findValidRecordAfter,
  RecordType,
  recordTypeName,
  type SnapshotMarker,
  type SnapshotMarkerKind,
  type SnapshotMarkerRecord,
  type WalMetadata,
  type WalRecord,
} from "./wal-record.js";

/** etcd's SegmentSizeBytes: big enough that cuts are rare, small enough to purge in steps. */
export const DEFAULT_SEGMENT_SIZE_BYTES = 64 * 1024 * 1024;

export interface WalLogger {
  warn(message: string): void;
}

const stderrLogger: WalLogger = { warn: (m) => process.stderr.write(`${m}\n`) };

export interface WalOptions {
  /** Cut a new segment once the current one holds this many bytes. Default 64 MiB. */
  readonly segmentSizeBytes?: number;
  /** Makes a file's writes durable; fdatasync by default. Tests wrap it to count or gate syncs. */
  readonly syncFile?: SyncFile;
  /** Where torn-tail repairs are reported. Default: stderr. */
  readonly logger?: WalLogger;
}

export interface WalOpenOptions extends WalOptions {
  /** The cluster and member this process runs as; open fails if the WAL belongs to another. */
  readonly metadata?: WalMetadata;
}

/** What a WAL holds after the snapshot it was opened from. Owned by the caller. */
export interface WalContents {
  readonly metadata: WalMetadata;
  /** The last hard state saved (EMPTY_HARD_STATE if none). */
  readonly hardState: HardState;
  /** Entries after the snapshot, contiguous from its index + 1, conflicts already resolved. */
  readonly entries: Entry[];
}

export interface WalStats {
  /** save() and saveSnapshotMarker() calls. */
  saves: number;
  /** write+sync rounds, each carrying one or more saves. */
  batches: number;
  /** Syncs of segment data (the cost group commit amortises); excludes syncs done by cuts. */
  fsyncs: number;
  bytesWritten: number;
  cuts: number;
}

export interface SaveOptions {
  /**
   * Whether the save must be durable before it resolves (default true). Raft's Ready says no
   * when only the commit index moved: that may be written now and synced with the next save.
   */
  readonly sync?: boolean;
}

interface SegmentFile {
  readonly seq: number;
  readonly firstIndex: number;
  readonly name: string;
}

interface Pending {
  readonly data: Buffer;
  readonly sync: boolean;
  /** The log's last index once this is written, if it changes it. */
  readonly lastIndex: number | undefined;
  readonly hardState: HardState | undefined;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

const SEGMENT_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;
const TMP_SUFFIX = ".tmp";

export function segmentName(seq: number, firstIndex: number): string {
  return `${hex16(seq)}-${hex16(firstIndex)}.wal`;
}

function hex16(n: number): string {
  return n.toString(16).padStart(16, "0");
}

/** Ids in error messages are hex, as etcd and etcdctl print them. */
function hexId(n: number): string {
  return n.toString(16);
}

export class Wal {
  readonly stats: WalStats = { saves: 0, batches: 0, fsyncs: 0, bytesWritten: 0, cuts: 0 };

  private pending: Pending[] = [];
  /** Whether the writer loop is running; set and cleared synchronously with the queue checks. */
  private writing = false;
  /** Resolves when the writer loop stops. */
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => {};
  private failure: StoreError | undefined;
  private closed = false;
  private unsyncedBytes = 0;

  private constructor(
    readonly dir: string,
    readonly metadata: WalMetadata,
    private readonly lock: DirLock,
    private segments: SegmentFile[],
    private file: FileHandle,
    /** Bytes in the current (last) segment. */
    private size: number,
    /** The log's last index as written: names the next segment. */
    private writtenLastIndex: number,
    private writtenHardState: HardState,
    private readonly options: Required<WalOptions>,
  ) {}

  /** Whether `dir` holds a WAL (any segment file). */
  static async exists(dir: string): Promise<boolean> {
    try {
      return (await readdir(dir)).some((n) => SEGMENT_NAME.test(n));
    } catch (err) {
      if (isErrno(err, "ENOENT")) return false;
      throw err;
    }
  }

  /** Creates a new WAL in `dir` (made if missing), its first segment holding `metadata`. */
  static async create(dir: string, metadata: WalMetadata, options: WalOptions = {}): Promise<Wal> {
    checkMetadata(metadata);
    const opts = withDefaults(options);
    await mkdir(dir, { recursive: true });
    const lock = await DirLock.acquire(dir, "WAL directory");
    try {
      if (await Wal.exists(dir)) {
        throw new StoreError(
          "ALREADY_EXISTS",
          `wal: ${dir} already holds a WAL; open it instead, or move it away to start afresh`,
        );
      }
      await removeTempFiles(dir);
      const first: SegmentFile = { seq: 0, firstIndex: 0, name: segmentName(0, 0) };
      const { file, size } = await writeNewSegment(dir, first, metadata, undefined, opts.syncFile);
      return new Wal(dir, metadata, lock, [first], file, size, 0, EMPTY_HARD_STATE, opts);
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /**
   * Opens the WAL in `dir` for appending and replays it from `fromSnapshot` (index 0 for the
   * whole log). The snapshot must have a marker in the WAL (Wal.snapshotMarkers lists them).
   * A torn tail is cut (and logged); corruption fails the open.
   */
  static async open(
    dir: string,
    fromSnapshot: SnapshotMarker,
    options: WalOpenOptions = {},
  ): Promise<{ wal: Wal; contents: WalContents }> {
    const opts = withDefaults(options);
    if (!(await Wal.exists(dir))) throw noWal(dir);
    const lock = await DirLock.acquire(dir, "WAL directory");
    try {
      await removeTempFiles(dir);
      const all = await listSegments(dir);
      const from = selectFrom(dir, all, fromSnapshot.index);
      const read = await readSegments(dir, all.slice(from));
      if (options.metadata !== undefined) checkSameMember(dir, read.metadata, options.metadata);
      const replay = replayRecords(read, fromSnapshot);

      const last = all[all.length - 1] as SegmentFile;
      const lastPath = join(dir, last.name);
      const file = await open(lastPath, "r+");
      try {
        if (read.torn !== undefined) {
          await file.truncate(read.torn.offset);
          await opts.syncFile(file);
          opts.logger.warn(
            `wal: cut a torn write at the end of ${lastPath}: ${read.lastSize - read.torn.offset} bytes ` +
              `from offset ${read.torn.offset} (${read.torn.detail}); it was never acknowledged`,
          );
        }
      } catch (err) {
        await file.close();
        throw err;
      }
      const size = read.torn?.offset ?? read.lastSize;
      const wal = new Wal(
        dir,
        read.metadata,
        lock,
        all,
        file,
        size,
        replay.lastIndex,
        replay.hardState,
        opts,
      );
      return {
        wal,
        contents: { metadata: read.metadata, hardState: replay.hardState, entries: replay.entries },
      };
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /**
   * The snapshot markers in the WAL, oldest first, and its last hard state, read without
   * taking the lock or repairing anything: to pick the newest snapshot file that the WAL can
   * be replayed from (etcd's ValidSnapshotEntries).
   */
  static async snapshotMarkers(
    dir: string,
  ): Promise<{ markers: SnapshotMarkerRecord[]; hardState: HardState; metadata: WalMetadata }> {
    const all = await listSegments(dir);
    const read = await readSegments(dir, all);
    const markers: SnapshotMarkerRecord[] = [];
    let hardState = EMPTY_HARD_STATE;
    for (const { path, record } of read.records) {
      if (record.type === RecordType.snapshotMarker)
        markers.push(decodePayload(path, record, decodeSnapshotMarker));
      if (record.type === RecordType.hardState)
        hardState = decodePayload(path, record, decodeHardState);
    }
    return { markers, hardState, metadata: read.metadata };
  }

  /** The log's last index as of the saves written so far. */
  get lastIndex(): number {
    return this.writtenLastIndex;
  }

  /** The segment files, oldest first. */
  segmentNames(): string[] {
    return this.segments.map((s) => s.name);
  }

  /**
   * Appends `entries` (a later entry at index i replaces i and everything after it) and then
   * `hardState`, resolving once they are durable. Calls are written in call order.
   */
  save(
    hardState: HardState | undefined,
    entries: readonly Entry[],
    options: SaveOptions = {},
  ): Promise<void> {
    const types: RecordType[] = [];
    const payloads: Uint8Array[] = [];
    for (const e of entries) {
      types.push(RecordType.entry);
      payloads.push(encodeEntry(e));
    }
    const hs = hardState !== undefined && !isEmptyHardState(hardState) ? hardState : undefined;
    if (hs !== undefined) {
      types.push(RecordType.hardState);
      payloads.push(encodeHardState(hs));
    }
    const lastIndex = entries[entries.length - 1]?.index;
    return this.enqueue(encodeRecords(types, payloads), options.sync ?? true, lastIndex, hs);
  }

  /**
   * Records that a snapshot at (index, term) is durable in a snapshot file, so that replay can
   * start there. Save the snapshot file first. `kind` "restore" marks a snapshot received from
   * the leader that replaced the log: replay drops the entries written before it.
   */
  saveSnapshotMarker(marker: SnapshotMarker, kind: SnapshotMarkerKind = "local"): Promise<void> {
    const data = encodeRecord(
      RecordType.snapshotMarker,
      encodeSnapshotMarker({ index: marker.index, term: marker.term, kind }),
    );
    return this.enqueue(data, true, kind === "restore" ? marker.index : undefined, undefined);
  }

  /**
   * Removes the segments that only hold entries before `index` (a snapshot's index): all
   * before the last segment whose firstIndex <= index, which replay from that snapshot starts
   * at. The current segment is never removed. Returns the names removed.
   */
  async purgeTo(index: number): Promise<string[]> {
    let keepFrom = 0;
    for (let i = 0; i < this.segments.length; i++) {
      if ((this.segments[i] as SegmentFile).firstIndex <= index) keepFrom = i;
    }
    if (keepFrom === 0) return [];
    const removed = this.segments.slice(0, keepFrom);
    this.segments = this.segments.slice(keepFrom);
    // Oldest first, so that a crash midway leaves a contiguous run of segments.
    for (const s of removed) await unlinkIfExists(join(this.dir, s.name));
    await fsyncDir(this.dir);
    return removed.map((s) => s.name);
  }

  /** Waits for queued saves, then closes the segment and releases the directory lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.writing) await this.idle;
    await this.file.close();
    await this.lock.release();
  }

  private enqueue(
    data: Buffer,
    sync: boolean,
    lastIndex: number | undefined,
    hardState: HardState | undefined,
  ): Promise<void> {
    if (this.closed)
      return Promise.reject(new StoreError("FAILED_PRECONDITION", `wal: ${this.dir} is closed`));
    if (this.failure !== undefined) return Promise.reject(this.failure);
    this.stats.saves++;
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ data, sync, lastIndex, hardState, resolve, reject });
      if (!this.writing) {
        this.writing = true;
        this.idle = new Promise((r) => {
          this.markIdle = r;
        });
        // Start on a microtask, so that saves issued in the same turn share the first write.
        queueMicrotask(() => void this.writeLoop());
      }
    });
  }

  /**
   * Writes what is queued, batch after batch, until the queue is empty. The last check of the
   * queue and the clearing of `writing` happen in one synchronous step, so that a save queued
   * in between always finds a writer running or starts one.
   */
  private async writeLoop(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        await this.writeBatch(batch);
      } catch (err) {
        const failure =
          err instanceof StoreError
            ? err
            : new StoreError(
                "INTERNAL",
                `wal: writing ${join(this.dir, this.currentSegment().name)} failed; the WAL accepts no more ` +
                  `writes, since what reached the disk is unknown. Restart the member to recover from disk: ${String(err)}`,
                { cause: err },
              );
        this.failure = failure;
        for (const p of [...batch, ...this.pending]) p.reject(failure);
        this.pending = [];
        break;
      }
      for (const p of batch) p.resolve();
    }
    this.writing = false;
    this.markIdle();
  }

  private async writeBatch(batch: readonly Pending[]): Promise<void> {
    if (this.size >= this.options.segmentSizeBytes) await this.cut();
    const data =
      batch.length === 1 ? (batch[0] as Pending).data : Buffer.concat(batch.map((p) => p.data));
    if (data.length > 0) {
      writeFullySync(this.file, data, this.size);
      this.size += data.length;
      this.unsyncedBytes += data.length;
      this.stats.bytesWritten += data.length;
    }
    for (const p of batch) {
      if (p.lastIndex !== undefined) this.writtenLastIndex = p.lastIndex;
      if (p.hardState !== undefined) this.writtenHardState = p.hardState;
    }
    if (this.unsyncedBytes > 0 && batch.some((p) => p.sync)) {
      await this.options.syncFile(this.file);
      this.stats.fsyncs++;
      this.unsyncedBytes = 0;
    }
    this.stats.batches++;
  }

  /** Starts a new segment: written whole under a temporary name, synced, renamed, dir synced. */
  private async cut(): Promise<void> {
    if (this.unsyncedBytes > 0) {
      await this.options.syncFile(this.file);
      this.unsyncedBytes = 0;
    }
    const prev = this.currentSegment();
    const seg: SegmentFile = {
      seq: prev.seq + 1,
      firstIndex: this.writtenLastIndex + 1,
      name: segmentName(prev.seq + 1, this.writtenLastIndex + 1),
    };
    const hs = isEmptyHardState(this.writtenHardState) ? undefined : this.writtenHardState;
    const { file, size } = await writeNewSegment(
      this.dir,
      seg,
      this.metadata,
      hs,
      this.options.syncFile,
    );
    await this.file.close();
    this.file = file;
    this.size = size;
    this.segments.push(seg);
    this.stats.cuts++;
  }

  private currentSegment(): SegmentFile {
    return this.segments[this.segments.length - 1] as SegmentFile;
  }
}

function withDefaults(o: WalOptions): Required<WalOptions> {
  const segmentSizeBytes = o.segmentSizeBytes ?? DEFAULT_SEGMENT_SIZE_BYTES;
  if (!Number.isSafeInteger(segmentSizeBytes) || segmentSizeBytes <= 0) {
    throw new StoreError(
      "INVALID_ARGUMENT",
      `wal: segmentSizeBytes ${segmentSizeBytes} must be a positive integer`,
    );
  }
  return { segmentSizeBytes, syncFile: o.syncFile ?? fdatasync, logger: o.logger ?? stderrLogger };
}

function checkMetadata(m: WalMetadata): void {
  for (const [field, v] of [
    ["clusterId", m.clusterId],
    ["memberId", m.memberId],
  ] as const) {
    if (!Number.isSafeInteger(v) || v <= 0) {
      throw new StoreError(
        "INVALID_ARGUMENT",
        `wal: metadata.${field} ${v} must be a positive 53-bit integer`,
      );
    }
  }
}

function checkSameMember(dir: string, found: WalMetadata, want: WalMetadata): void {
  if (found.clusterId === want.clusterId && found.memberId === want.memberId) return;
  throw new StoreError(
    "FAILED_PRECONDITION",
    `wal: ${dir} belongs to cluster ${hexId(found.clusterId)} member ${hexId(found.memberId)}, but this ` +
      `member runs as cluster ${hexId(want.clusterId)} member ${hexId(want.memberId)}. Point the member at its ` +
      "own data directory, or move this one away to join the cluster afresh.",
  );
}

async function writeNewSegment(
  dir: string,
  seg: SegmentFile,
  metadata: WalMetadata,
  hardState: HardState | undefined,
  syncFile: SyncFile,
): Promise<{ file: FileHandle; size: number }> {
  const parts = [
    encodeRecord(RecordType.segmentHeader, encodeSegmentHeader(seg)),
    encodeRecord(RecordType.metadata, encodeMetadata(metadata)),
  ];
  if (hardState !== undefined)
    parts.push(encodeRecord(RecordType.hardState, encodeHardState(hardState)));
  const head = Buffer.concat(parts);
  const path = join(dir, seg.name);
  const tmp = path + TMP_SUFFIX;
  const file = await open(tmp, "w+");
  try {
    await writeFully(file, head, 0);
    await syncFile(file);
    await rename(tmp, path);
    await fsyncDir(dir);
  } catch (err) {
    await file.close();
    await unlinkIfExists(tmp);
    throw err;
  }
  return { file, size: head.length };
}

async function removeTempFiles(dir: string): Promise<void> {
  for (const n of await readdir(dir)) {
    if (n.endsWith(`.wal${TMP_SUFFIX}`)) await unlinkIfExists(join(dir, n));
  }
}

async function listSegments(dir: string): Promise<SegmentFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (isErrno(err, "ENOENT")) throw noWal(dir);
    throw err;
  }
  const segs: SegmentFile[] = [];
  for (const name of names) {
    const m = SEGMENT_NAME.exec(name);
    if (m === null) continue;
    segs.push({
      seq: Number.parseInt(m[1] as string, 16),
      firstIndex: Number.parseInt(m[2] as string, 16),
      name,
    });
  }
  if (segs.length === 0) throw noWal(dir);
  segs.sort((a, b) => a.seq - b.seq);
  return segs;
}

function noWal(dir: string): StoreError {
  return new StoreError(
    "NOT_FOUND",
    `wal: ${dir} holds no WAL segments (*.wal); create a WAL first`,
  );
}

/** The position of the segment replay from snapshot `index` starts at. */
function selectFrom(dir: string, segs: readonly SegmentFile[], index: number): number {
  let from = -1;
  for (let i = 0; i < segs.length; i++) if ((segs[i] as SegmentFile).firstIndex <= index) from = i;
  if (from < 0) {
    throw new StoreError(
      "DATA_LOSS",
      `wal: ${dir} does not reach back to snapshot index ${index}: its oldest segment is ${segs[0]?.name}. ` +
        "Open from a newer snapshot, or remove the member's data and let it catch up from the leader.",
    );
  }
  for (let i = from + 1; i < segs.length; i++) {
    const prev = segs[i - 1] as SegmentFile;
    const seg = segs[i] as SegmentFile;
    if (seg.seq !== prev.seq + 1) {
      throw corrupt(
        join(dir, seg.name),
        0,
        `segment sequence jumps from ${prev.seq} (${prev.name}) to ${seg.seq}`,
      );
    }
  }
  return from;
}

interface ReadSegments {
  readonly metadata: WalMetadata;
  readonly records: { readonly path: string; readonly record: WalRecord }[];
  /** A torn write at the end of the last segment, to cut at `offset`. */
  readonly torn: { readonly offset: number; readonly detail: string } | undefined;
  readonly lastSize: number;
}

/** Reads and checks the framing of `segs`, consecutive segments ending with the last one. */
async function readSegments(dir: string, segs: readonly SegmentFile[]): Promise<ReadSegments> {
  const records: { path: string; record: WalRecord }[] = [];
  let metadata: WalMetadata | undefined;
  let torn: ReadSegments["torn"];
  let lastSize = 0;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i] as SegmentFile;
    const path = join(dir, seg.name);
    const buf = await readFile(path);
    const isLast = i === segs.length - 1;
    let off = 0;
    let n = 0;
    while (off < buf.length) {
      const r = decodeRecordAt(buf, off);
      if (!r.ok) {
        if (!isLast) {
          throw corrupt(path, off, `${r.failure.detail}, in a segment that is not the last one`);
        }
        const after = findValidRecordAfter(buf, off);
        if (after !== undefined) {
          throw corrupt(
            path,
            off,
            `${r.failure.detail}, yet a valid record follows at offset ${after}`,
          );
        }
        if (n < 2) throw corrupt(path, off, `${r.failure.detail}, in the segment's header records`);
        torn = { offset: off, detail: r.failure.detail };
        break;
      }
      const { record } = r;
      if (n === 0) {
        if (record.type !== RecordType.segmentHeader) {
          throw corrupt(
            path,
            off,
            `first record is of type ${recordTypeName(record.type)}, not segment header`,
          );
        }
        const h = decodePayload(path, record, decodeSegmentHeader);
        if (h.seq !== seg.seq || h.firstIndex !== seg.firstIndex) {
          throw corrupt(path, off, `segment header says ${segmentName(h.seq, h.firstIndex)}`);
        }
      } else if (n === 1) {
        if (record.type !== RecordType.metadata) {
          throw corrupt(
            path,
            off,
            `second record is of type ${recordTypeName(record.type)}, not metadata`,
          );
        }
        const m = decodePayload(path, record, decodeMetadata);
        if (metadata === undefined) metadata = m;
        else if (m.clusterId !== metadata.clusterId || m.memberId !== metadata.memberId) {
          throw corrupt(path, off, "metadata differs from the previous segment's");
        }
      } else {
        if (record.type === RecordType.segmentHeader || record.type === RecordType.metadata) {
          throw corrupt(
            path,
            off,
            `${recordTypeName(record.type)} record in the middle of a segment`,
          );
        }
        records.push({ path, record });
      }
      off = r.next;
      n++;
    }
    if (buf.length === 0 || (n < 2 && torn === undefined)) {
      throw corrupt(path, 0, "segment is missing its header records");
    }
    if (isLast) lastSize = buf.length;
  }
  if (metadata === undefined) throw noWal(dir);
  return { metadata, records, torn, lastSize };
}

interface Replay {
  readonly hardState: HardState;
  readonly entries: Entry[];
  readonly lastIndex: number;
}

/** Folds the records into the log after `from`, as raft's appends and truncations imply. */
function replayRecords(read: ReadSegments, from: SnapshotMarker): Replay {
  const entries: Entry[] = [];
  let hardState = EMPTY_HARD_STATE;
  let markerFound = from.index === 0;
  for (const { path, record } of read.records) {
    switch (record.type) {
      case RecordType.entry: {
        const e = decodePayload(path, record, decodeEntry);
        if (e.index <= from.index) {
          // Replaces everything from e.index on, which includes all entries kept so far.
          entries.length = 0;
          break;
        }
        const at = e.index - from.index - 1;
        if (at > entries.length) {
          const prev = entries.length === 0 ? from.index : from.index + entries.length;
          throw corrupt(
            path,
            record.offset,
            `entry ${e.index} follows entry ${prev}: the entries between are missing`,
          );
        }
        entries.length = at;
        entries.push(e);
        break;
      }
      case RecordType.hardState:
        hardState = decodePayload(path, record, decodeHardState);
        break;
      case RecordType.snapshotMarker: {
        const m = decodePayload(path, record, decodeSnapshotMarker);
        if (m.index === from.index) {
          if (m.term !== from.term) {
            throw new StoreError(
              "FAILED_PRECONDITION",
              `wal: snapshot ${from.index} has term ${from.term}, but the WAL's marker at ${path} offset ` +
                `${record.offset} says term ${m.term}: the snapshot file does not belong to this WAL`,
            );
          }
          markerFound = true;
        }
        if (m.kind === "restore") {
          if (m.index > from.index) {
            throw new StoreError(
              "DATA_LOSS",
              `wal: the log was replaced by snapshot ${m.index} (term ${m.term}; marker at ${path} offset ` +
                `${record.offset}), but replay starts from snapshot ${from.index}: the snapshot file ` +
                `${snapshotFileName(m)} is needed. Remove the member's data and let it catch up from the leader.`,
            );
          }
          entries.length = 0;
        }
        break;
      }
      default:
        throw corrupt(path, record.offset, `unexpected ${recordTypeName(record.type)} record`);
    }
  }
  if (!markerFound) {
    throw new StoreError(
      "FAILED_PRECONDITION",
      `wal: no marker for snapshot ${from.index} (term ${from.term}) in the WAL: the snapshot was not ` +
        "saved through this WAL. Open from a snapshot listed by Wal.snapshotMarkers.",
    );
  }
  return { hardState, entries, lastIndex: from.index + entries.length };
}

function decodePayload<T>(path: string, record: WalRecord, decode: (p: Uint8Array) => T): T {
  try {
    return decode(record.payload);
  } catch (err) {
    throw corrupt(
      path,
      record.offset,
      `${recordTypeName(record.type)} record passes its CRC but does not decode: ${String(err)}`,
      err,
    );
  }
}

function corrupt(path: string, offset: number, detail: string, cause?: unknown): StoreError {
  return new StoreError(
    "DATA_LOSS",
    `wal: ${path} is corrupt at offset ${offset}: ${detail}. The member's log cannot be trusted: keep the ` +
      "directory for inspection, and replace the member (etcdctl member remove, then add it back with empty data).",
    cause === undefined ? undefined : { cause },
  );
}
