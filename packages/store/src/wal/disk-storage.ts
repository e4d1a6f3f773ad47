// The raft Storage of one member, kept on disk: a WAL and snapshot files under one data
// directory, staged in a MemoryStorage that raft reads from (etcd's raftStorage + WAL + snap).
//
//   <dir>/wal/   the WAL segments (wal.ts)
//   <dir>/snap/  the snapshot files (snapshotter.ts)
//
// Start: the newest snapshot file that the WAL has a marker for, then the WAL replayed from it,
// give the MemoryStorage its snapshot, hard state and entries; the application rebuilds its
// state from the snapshot's data plus the committed entries after it.
// Ready loop: persist() the Ready's snapshot (file first, then a marker in the WAL), entries
// and hard state, and only then let the Ready's messages go (Raft §5: persistent state is
// "updated on stable storage before responding to RPCs"). createSnapshot() after applying.

import { join } from "node:path";
import {
  type ConfState,
  type Entry,
  type HardState,
  type InitialState,
  isEmptyHardState,
  isEmptySnapshot,
  MemoryStorage,
  type Snapshot,
  type Storage,
} from "@tug/raft";
import { StoreError } from "../errors.js";
import { Snapshotter } from "./snapshotter.js";
import { Wal, type WalLogger, type WalOptions, type WalStats } from "./wal.js";
import type { WalMetadata } from "./wal-record.js";

/**
 * Entries kept in memory behind a snapshot, so that a follower a little behind catches up
 * from the log rather than by a snapshot transfer (etcd's SnapshotCatchUpEntries).
 */
export const DEFAULT_CATCH_UP_ENTRIES = 5000;

/**
 * Snapshot files kept. The WAL is kept back to the oldest of them, so with two, a damaged
 * newest snapshot file still leaves the previous one and the log after it to start from.
 */
export const DEFAULT_KEEP_SNAPSHOTS = 2;

export interface DiskStorageOptions {
  /** The cluster and member this process runs as; a data directory of another is refused. */
  readonly metadata: WalMetadata;
  /**
   * The initial membership, for a member founding a new cluster: saved as snapshot 0 when the
   * directory is new (like MemoryStorage.withPeers). A member joining an existing cluster
   * leaves it out and learns the membership from the leader.
   */
  readonly bootstrap?: ConfState;
  readonly catchUpEntries?: number;
  readonly keepSnapshots?: number;
  /** Segment size, the sync function and the logger, for the WAL and the snapshot files. */
  readonly wal?: WalOptions;
}

/** The part of a raft Ready that goes to stable storage. */
export interface PersistUpdate {
  readonly hardState?: HardState | undefined;
  readonly entries: readonly Entry[];
  readonly snapshot?: Snapshot | undefined;
  /** Ready.mustSync: false when only the commit index moved. Default true. */
  readonly mustSync?: boolean;
}

interface Slot {
  readonly update: PersistUpdate;
  state: "writing" | "durable" | "failed";
  error?: unknown;
  resolve(): void;
  reject(err: unknown): void;
}

export class DiskStorage implements Storage {
  /** Serialises the writes' start, so records reach the WAL in persist() call order. */
  private writeChain: Promise<void> = Promise.resolve();
  /** Persists whose memory update is not yet made, in call order. */
  private slots: Slot[] = [];
  /** Purging old snapshot files and WAL segments, off the persist path. */
  private housekeeping: Promise<void> = Promise.resolve();
  private failure: unknown;

  private constructor(
    readonly dir: string,
    readonly memory: MemoryStorage,
    private readonly wal: Wal,
    private readonly snapshotter: Snapshotter,
    private readonly catchUpEntries: number,
    private readonly keepSnapshots: number,
    private readonly logger: WalLogger,
  ) {}

  static async open(dir: string, options: DiskStorageOptions): Promise<DiskStorage> {
    const catchUpEntries = options.catchUpEntries ?? DEFAULT_CATCH_UP_ENTRIES;
    const keepSnapshots = options.keepSnapshots ?? DEFAULT_KEEP_SNAPSHOTS;
    if (!Number.isSafeInteger(catchUpEntries) || catchUpEntries < 0) {
      throw new StoreError(
        "INVALID_ARGUMENT",
        `catchUpEntries ${catchUpEntries} must be a non-negative integer`,
      );
    }
    if (!Number.isSafeInteger(keepSnapshots) || keepSnapshots < 1) {
      throw new StoreError("INVALID_ARGUMENT", `keepSnapshots ${keepSnapshots} must be at least 1`);
    }
    const walOptions = options.wal ?? {};
    const logger = walOptions.logger ?? { warn: (m: string) => process.stderr.write(`${m}\n`) };
    const walDir = join(dir, "wal");
    const snapshotter = await Snapshotter.open(join(dir, "snap"), {
      logger,
      ...(walOptions.syncFile ? { syncFile: walOptions.syncFile } : {}),
    });
    const make = (memory: MemoryStorage, wal: Wal) =>
      new DiskStorage(dir, memory, wal, snapshotter, catchUpEntries, keepSnapshots, logger);

    if (!(await Wal.exists(walDir))) {
      const boot = options.bootstrap;
      if (boot !== undefined) {
        await snapshotter.save({
          data: new Uint8Array(0),
          metadata: { index: 0, term: 0, confState: boot },
        });
      }
      const wal = await Wal.create(walDir, options.metadata, walOptions);
      const memory = boot
        ? MemoryStorage.withPeers(boot.voters, boot.learners)
        : new MemoryStorage();
      return make(memory, wal);
    }

    const { markers } = await Wal.snapshotMarkers(walDir);
    const snap = await snapshotter.loadNewestAvailable(markers);
    const from = snap?.metadata ?? { index: 0, term: 0 };
    const { wal, contents } = await Wal.open(walDir, from, {
      ...walOptions,
      metadata: options.metadata,
    });
    try {
      let memory: MemoryStorage;
      if (snap === undefined || snap.metadata.index === 0) {
        const cs = snap?.metadata.confState;
        memory = cs ? MemoryStorage.withPeers(cs.voters, cs.learners) : new MemoryStorage();
      } else {
        memory = new MemoryStorage();
        memory.applySnapshot(snap);
      }
      let hs = contents.hardState;
      // A snapshot is of committed state; its marker may have reached the disk without the
      // hard state written after it (a torn write), so raise the commit index to it.
      if (!isEmptyHardState(hs) && hs.commit < from.index) hs = { ...hs, commit: from.index };
      memory.setHardState(hs);
      memory.append(contents.entries);
      return make(memory, wal);
    } catch (err) {
      await wal.close();
      throw err;
    }
  }

  // --- raft's Storage, served from memory ---------------------------------------------------

  initialState(): InitialState {
    return this.memory.initialState();
  }
  entries(lo: number, hi: number, maxSize: number): readonly Entry[] {
    return this.memory.entries(lo, hi, maxSize);
  }
  term(i: number): number {
    return this.memory.term(i);
  }
  lastIndex(): number {
    return this.memory.lastIndex();
  }
  firstIndex(): number {
    return this.memory.firstIndex();
  }
  snapshot(): Snapshot {
    return this.memory.snapshot();
  }

  get walStats(): Readonly<WalStats> {
    return this.wal.stats;
  }

  /**
   * Makes a Ready's snapshot, entries and hard state durable — the snapshot file, then in the
   * WAL the snapshot's marker, the entries and the hard state — and then stages them in the
   * MemoryStorage. Resolves after both. Calls may overlap: they are written and staged in call
   * order, and overlapping ones share WAL syncs. After a failure every later call fails too.
   */
  persist(update: PersistUpdate): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      const slot: Slot = { update, state: "writing", resolve, reject };
      this.slots.push(slot);
      const started = this.writeChain.then(() => this.startWrite(update));
      this.writeChain = started.then(
        () => undefined,
        () => undefined,
      );
      started
        .then(({ durable }) => durable)
        .then(
          () => {
            slot.state = "durable";
          },
          (err: unknown) => {
            slot.state = "failed";
            slot.error = err;
          },
        )
        .then(() => this.stageDurable());
    });
  }

  /**
   * Records a snapshot of the application's state as of `appliedIndex` (applied, hence in the
   * log): writes the snapshot file and its WAL marker, then compacts the MemoryStorage to
   * `catchUpEntries` behind it and purges old snapshot files and WAL segments.
   */
  async createSnapshot(
    appliedIndex: number,
    confState: ConfState,
    data: Uint8Array,
  ): Promise<Snapshot> {
    const result = this.writeChain.then(async () => {
      const held = this.memory.snapshot().metadata.index;
      if (appliedIndex <= held) {
        throw new StoreError(
          "FAILED_PRECONDITION",
          `cannot snapshot at ${appliedIndex}: a snapshot at ${held} is already held`,
        );
      }
      const term = this.memory.term(appliedIndex);
      const snap: Snapshot = { data, metadata: { index: appliedIndex, term, confState } };
      await this.snapshotter.save(snap);
      await this.wal.saveSnapshotMarker(snap.metadata, "local");
      this.memory.createSnapshot(appliedIndex, confState, data);
      const compactTo = appliedIndex - this.catchUpEntries;
      if (compactTo >= this.memory.firstIndex()) this.memory.compact(compactTo);
      this.purgeOldFiles();
      return snap;
    });
    this.writeChain = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Waits for pending writes and housekeeping, then closes the WAL. */
  async close(): Promise<void> {
    await this.writeChain;
    await this.housekeeping;
    await this.wal.close();
  }

  /** Saves the snapshot file if any, then queues the WAL records; `durable` settles on sync. */
  private async startWrite(u: PersistUpdate): Promise<{ durable: Promise<unknown> }> {
    if (this.failure !== undefined) throw this.failure;
    const writes: Promise<void>[] = [];
    if (u.snapshot !== undefined && !isEmptySnapshot(u.snapshot)) {
      await this.snapshotter.save(u.snapshot);
      writes.push(this.wal.saveSnapshotMarker(u.snapshot.metadata, "restore"));
    }
    writes.push(this.wal.save(u.hardState, u.entries, { sync: u.mustSync ?? true }));
    return { durable: Promise.all(writes) };
  }

  /** Stages durable updates into memory, strictly in call order. */
  private stageDurable(): void {
    while (this.slots.length > 0) {
      const slot = this.slots[0] as Slot;
      if (slot.state === "writing") return;
      this.slots.shift();
      if (this.failure === undefined && slot.state === "failed") this.failure = slot.error;
      if (this.failure !== undefined) {
        slot.reject(this.failure);
        continue;
      }
      try {
        const u = slot.update;
        if (u.snapshot !== undefined && !isEmptySnapshot(u.snapshot)) {
          this.memory.applySnapshot(u.snapshot);
          this.purgeOldFiles();
        }
        if (u.hardState !== undefined && !isEmptyHardState(u.hardState))
          this.memory.setHardState(u.hardState);
        this.memory.append(u.entries);
        slot.resolve();
      } catch (err) {
        this.failure = err;
        slot.reject(err);
      }
    }
  }

  /** Keeps the newest snapshot files, and the WAL back to the oldest of them. Errors are logged. */
  private purgeOldFiles(): void {
    this.housekeeping = this.housekeeping.then(async () => {
      try {
        await this.snapshotter.retain(this.keepSnapshots);
        const kept = await this.snapshotter.list();
        const oldest = kept[kept.length - 1];
        if (oldest !== undefined) await this.wal.purgeTo(oldest.index);
      } catch (err) {
        this.logger.warn(
          `purging old snapshot files and WAL segments in ${this.dir} failed: ${String(err)}`,
        );
      }
    });
  }
}
