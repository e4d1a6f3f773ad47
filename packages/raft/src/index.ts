// @tug/raft: the Raft consensus core. A pure state machine (no IO, no timers, no ambient
// randomness) in the shape of etcd-io/raft. See docs/raft.md.

export type { Config, RandomSource } from "./raft.js";
export { RawNode, type SnapshotStatus } from "./raw-node.js";
export { MemoryStorage, type Storage, type InitialState } from "./storage.js";
export { RaftError, isRaftError, type RaftErrorCode, type RaftErrorReason } from "./errors.js";
export type { ReadOnlyOption } from "./read-only.js";
export * from "./types.js";
export {
  decodeConfChange,
  decodeConfState,
  decodeEntry,
  decodeHardState,
  decodeMessage,
  decodeSnapshot,
  encodeConfChange,
  encodeConfState,
  encodeEntry,
  encodeHardState,
  encodeMessage,
  encodeSnapshot,
  WireCodecError,
} from "./wire-codec.js";
