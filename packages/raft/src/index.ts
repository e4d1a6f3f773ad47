// @tug/raft: the Raft consensus core. A pure state machine (no IO, no timers, no ambient
// randomness) in the shape of etcd-io/raft. See docs/raft.md.

export { isRaftError, RaftError, type RaftErrorCode, type RaftErrorReason } from "./errors.js";
export type { Config, RandomSource } from "./raft.js";
export { RawNode, type SnapshotStatus } from "./raw-node.js";
export type { ReadOnlyOption } from "./read-only.js";
export { type InitialState, MemoryStorage, type Storage } from "./storage.js";
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
