// Durability for tug-store: the write-ahead log, snapshot files, and the raft Storage on them.

export {
  DEFAULT_CATCH_UP_ENTRIES,
  DEFAULT_KEEP_SNAPSHOTS,
  DiskStorage,
  type DiskStorageOptions,
  type PersistUpdate,
} from "./disk-storage.js";
export { fdatasync, type SyncFile, syncAfterTurn } from "./fs-util.js";
export {
  type SnapshotFile,
  Snapshotter,
  type SnapshotterOptions,
  snapshotFileName,
} from "./snapshotter.js";
export {
  DEFAULT_SEGMENT_SIZE_BYTES,
  type SaveOptions,
  segmentName,
  Wal,
  type WalContents,
  type WalLogger,
  type WalOpenOptions,
  type WalOptions,
  type WalStats,
} from "./wal.js";
export type {
  SnapshotMarker,
  SnapshotMarkerKind,
  SnapshotMarkerRecord,
  WalMetadata,
} from "./wal-record.js";
