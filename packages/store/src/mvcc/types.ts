// Requests, responses and events of the MVCC keyspace. They mirror etcd's etcdserverpb
// (rpc.proto) and mvccpb (kv.proto) field for field, in camelCase, so that the gRPC layer maps
// the protos onto them one to one. Revisions, versions and lease ids are numbers: they stay
// below 2^53 (the lease layer must refuse larger client-chosen ids).
//
// Ownership: the keyspace copies the keys and values it is given (a Buffer's slice() would not:
// it copies them into shared slabs, byte-slabs.ts), so a caller may reuse what it passed. The
// KeyValue objects it hands out are shared with its history (no copy per read) and must not be
// mutated, nor their bytes: read them and encode them. A key or value is a view into a 64 KiB
// slab that holds other keys' bytes: use its byteOffset and length, never its whole `buffer`;
// while a caller holds it, it keeps that slab alive. It reads the same bytes for as long as it
// is held, compaction and the repack that may follow included.

/** mvccpb.KeyValue. A deleted key's tombstone has version 0, createRevision 0 and no value. */
export interface KeyValue {
  readonly key: Uint8Array;
  /** Revision of the last creation of the key (reset when it is deleted and created again). */
  readonly createRevision: number;
  /** Revision of the last change to the key. */
  readonly modRevision: number;
  /** 1 on creation, +1 on each put; 0 once deleted. */
  readonly version: number;
  readonly value: Uint8Array;
  /** The lease the key is attached to; 0 for none. */
  readonly lease: number;
}

export type SortOrder = "NONE" | "ASCEND" | "DESCEND";
export type SortTarget = "KEY" | "VERSION" | "CREATE" | "MOD" | "VALUE";

/**
 * etcdserverpb.RangeRequest. The keys read: `rangeEnd` absent or empty: the one key `key`;
 * `rangeEnd` = "\0": every key >= `key` (so key "\0", rangeEnd "\0" is every key); otherwise
 * the half-open [key, rangeEnd).
 */
export interface RangeRequest {
  key: Uint8Array;
  rangeEnd?: Uint8Array;
  /** At most this many kvs; 0 or absent: no limit. `more` tells whether some were left off. */
  limit?: number;
  /** Read the keyspace as of this revision; 0 or absent: the current revision. */
  revision?: number;
  sortOrder?: SortOrder;
  sortTarget?: SortTarget;
  /** A transport concern (ReadIndex or not); the keyspace ignores it. */
  serializable?: boolean;
  keysOnly?: boolean;
  countOnly?: boolean;
  minModRevision?: number;
  maxModRevision?: number;
  minCreateRevision?: number;
  maxCreateRevision?: number;
}

export interface RangeResponse {
  /** The store's revision when the read was served (not the revision read at). */
  revision: number;
  kvs: KeyValue[];
  /** Whether `limit` left matching kvs off. */
  more: boolean;
  /** How many keys the range holds at the revision read, before limit and revision filters. */
  count: number;
}

export interface PutRequest {
  key: Uint8Array;
  value?: Uint8Array;
  lease?: number;
  prevKv?: boolean;
  /** Keep the current value; the key must exist and `value` must be empty. */
  ignoreValue?: boolean;
  /** Keep the current lease; the key must exist and `lease` must be 0. */
  ignoreLease?: boolean;
}

export interface PutResponse {
  revision: number;
  prevKv?: KeyValue;
}

/** etcdserverpb.DeleteRangeRequest; `key`/`rangeEnd` as in RangeRequest. */
export interface DeleteRangeRequest {
  key: Uint8Array;
  rangeEnd?: Uint8Array;
  prevKv?: boolean;
}

export interface DeleteRangeResponse {
  revision: number;
  deleted: number;
  /** The deleted kvs, in key order, when `prevKv` was asked for; empty otherwise. */
  prevKvs: KeyValue[];
}

export type CompareResult = "EQUAL" | "GREATER" | "LESS" | "NOT_EQUAL";
export type CompareTarget = "VERSION" | "CREATE" | "MOD" | "VALUE" | "LEASE";

/**
 * etcdserverpb.Compare. The field named by `target` is compared (an absent one counts as 0 or
 * empty). Over a range (`rangeEnd` as in RangeRequest) every key must satisfy it; an empty
 * range compares as one absent key, whose fields are all 0, except that a VALUE compare on
 * absent keys always fails (etcd 3.4).
 */
export interface Compare {
  result: CompareResult;
  target: CompareTarget;
  key: Uint8Array;
  rangeEnd?: Uint8Array;
  version?: number;
  createRevision?: number;
  modRevision?: number;
  value?: Uint8Array;
  lease?: number;
}

/** etcdserverpb.RequestOp: exactly one of the four. */
export type RequestOp =
  | { requestRange: RangeRequest }
  | { requestPut: PutRequest }
  | { requestDeleteRange: DeleteRangeRequest }
  | { requestTxn: TxnRequest };

/** etcdserverpb.ResponseOp, answering the RequestOp in the same position. */
export type ResponseOp =
  | { responseRange: RangeResponse }
  | { responsePut: PutResponse }
  | { responseDeleteRange: DeleteRangeResponse }
  | { responseTxn: TxnResponse };

export interface TxnRequest {
  compare?: readonly Compare[];
  success?: readonly RequestOp[];
  failure?: readonly RequestOp[];
}

export interface TxnResponse {
  revision: number;
  succeeded: boolean;
  responses: ResponseOp[];
}

export interface CompactionResponse {
  revision: number;
}

export type EventType = "PUT" | "DELETE";

/**
 * mvccpb.Event. A DELETE's kv is the tombstone: the key and the deleting revision as
 * modRevision, all else 0. `prevKv` is the key's kv just before the change, when it existed
 * and is still held (history before the compact revision is gone).
 */
export interface KvEvent {
  readonly type: EventType;
  readonly kv: KeyValue;
  readonly prevKv?: KeyValue;
}

/**
 * Called synchronously with the events of each write that changed something, in commit
 * order; all events of one write share `revision` and are in the order the write made them
 * (etcd's sub-revisions). Must not throw, and must not call back into the keyspace's writes.
 */
export type EventListener = (events: readonly KvEvent[], revision: number) => void;

export interface EventsSince {
  events: KvEvent[];
  /** The last revision the replay covers: resume from revision + 1. */
  revision: number;
}
