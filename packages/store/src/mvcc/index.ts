// The MVCC keyspace of tug-store: etcd v3's data model as a pure, deterministic state machine.

export { CompactedError } from "./compacted-error.js";
export { compareBytes, keyBytes, keyString } from "./key-bytes.js";
export { FIRST_REVISION, Keyspace, type KeyspaceOptions } from "./keyspace.js";
export type * from "./types.js";
export {
  checkDeleteRangeRequest,
  checkPutRequest,
  checkRangeRequest,
  checkTxnRequest,
  DEFAULT_MAX_TXN_OPS,
  isReadOnlyTxn,
  isSerializableTxn,
} from "./validate.js";
