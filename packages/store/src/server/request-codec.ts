// The replicated request format: what one EntryNormal of the Raft log carries (a
// tug.store.RequestBatch of tug.store.Request in proto/tug/store.proto), between the MVCC
// keyspace's request types and protobuf. Every member decodes the same bytes into the same request and applies it the same
// way, so nothing here may depend on the member, the clock or chance.
//
// Encoding is on the write path of every proposal and decoding on the apply path of every
// member: both map field by field, with no intermediate objects beyond protobufjs's own. Puts,
// nearly every entry of a busy store, are written and read by hand (put-request-wire.ts).

import type { Long } from "protobufjs/minimal.js";
import { StoreError } from "../errors.js";
import { type etcdserverpb, tug } from "../gen/storepb.js";
import type {
  Compare,
  CompareResult,
  CompareTarget,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  SortOrder,
  SortTarget,
  TxnRequest,
} from "../mvcc/index.js";
import { decodePutBatch, encodePutRequest, encodeRequestBatch } from "./put-request-wire.js";

const pb = tug.store;

/** A lease's remaining TTL to record (etcd's LeaseCheckpoint); 0 clears it. */
export interface CheckpointOp {
  readonly id: number;
  readonly remainingTtl: number;
}

/** What a log entry asks the state machine to do. */
export type StoreOp =
  | { readonly type: "put"; readonly put: PutRequest }
  | { readonly type: "deleteRange"; readonly deleteRange: DeleteRangeRequest }
  | { readonly type: "txn"; readonly txn: TxnRequest }
  | { readonly type: "compaction"; readonly revision: number; readonly physical: boolean }
  /** `id` is never 0: the proposer chose it (Lessor.chooseId). */
  | { readonly type: "leaseGrant"; readonly id: number; readonly ttl: number }
  | { readonly type: "leaseRevoke"; readonly id: number }
  | { readonly type: "leaseCheckpoint"; readonly checkpoints: readonly CheckpointOp[] }
  | {
      readonly type: "memberAttributes";
      readonly memberId: number;
      readonly name: string;
      readonly clientUrls: readonly string[];
    };

/** One replicated request: who waits for it (proposer, id) and what it does. */
export interface StoreRequest {
  /** The member that proposed it; only there does a caller wait for the result. */
  readonly proposer: number;
  /** Unique among the proposer's requests, across its restarts too (see request-id.ts). */
  readonly id: number;
  readonly op: StoreOp;
}

// ---------------------------------------------------------------- numbers and enums

/** A decoded 64-bit integer as a number (exact below 2^53, which is all tug hands out). */
export function longToNumber(v: number | Long | null | undefined): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === "number") return v;
  const high = v.unsigned ? v.high >>> 0 : v.high;
  return high * 4294967296 + (v.low >>> 0);
}

const SORT_ORDERS: readonly SortOrder[] = ["NONE", "ASCEND", "DESCEND"];
const SORT_TARGETS: readonly SortTarget[] = ["KEY", "VERSION", "CREATE", "MOD", "VALUE"];
const COMPARE_RESULTS: readonly CompareResult[] = ["EQUAL", "GREATER", "LESS", "NOT_EQUAL"];
const COMPARE_TARGETS: readonly CompareTarget[] = ["VERSION", "CREATE", "MOD", "VALUE", "LEASE"];

function enumNumber<T extends string>(names: readonly T[], name: T | undefined): number {
  if (name === undefined) return 0;
  const n = names.indexOf(name);
  if (n < 0) throw new StoreError("INVALID_ARGUMENT", `unknown enum value ${name}`);
  return n;
}

function enumName<T extends string>(names: readonly T[], n: number, what: string): T {
  const name = names[n];
  if (name === undefined) throw new StoreError("DATA_LOSS", `request entry: unknown ${what} ${n}`);
  return name;
}

// ---------------------------------------------------------------- encode

function rangeOut(r: RangeRequest): etcdserverpb.IRangeRequest {
  return {
    key: r.key,
    rangeEnd: r.rangeEnd,
    limit: r.limit,
    revision: r.revision,
    sortOrder: enumNumber(SORT_ORDERS, r.sortOrder),
    sortTarget: enumNumber(SORT_TARGETS, r.sortTarget),
    serializable: r.serializable,
    keysOnly: r.keysOnly,
    countOnly: r.countOnly,
    minModRevision: r.minModRevision,
    maxModRevision: r.maxModRevision,
    minCreateRevision: r.minCreateRevision,
    maxCreateRevision: r.maxCreateRevision,
  };
}

function compareOut(c: Compare): etcdserverpb.ICompare {
  const out: etcdserverpb.ICompare = {
    result: enumNumber(COMPARE_RESULTS, c.result),
    target: enumNumber(COMPARE_TARGETS, c.target),
    key: c.key,
    rangeEnd: c.rangeEnd,
  };
  // target_union is a oneof: only the field the target names goes on the wire.
  switch (c.target) {
    case "VERSION":
      out.version = c.version ?? 0;
      break;
    case "CREATE":
      out.createRevision = c.createRevision ?? 0;
      break;
    case "MOD":
      out.modRevision = c.modRevision ?? 0;
      break;
    case "VALUE":
      out.value = c.value ?? new Uint8Array(0);
      break;
    case "LEASE":
      out.lease = c.lease ?? 0;
      break;
  }
  return out;
}

function opOut(op: RequestOp): etcdserverpb.IRequestOp {
  if ("requestRange" in op) return { requestRange: rangeOut(op.requestRange) };
  if ("requestPut" in op) return { requestPut: op.requestPut };
  if ("requestDeleteRange" in op) return { requestDeleteRange: op.requestDeleteRange };
  return { requestTxn: txnOut(op.requestTxn) };
}

function txnOut(t: TxnRequest): etcdserverpb.ITxnRequest {
  return {
    compare: t.compare?.map(compareOut),
    success: t.success?.map(opOut),
    failure: t.failure?.map(opOut),
  };
}

export function encodeRequest(r: StoreRequest): Uint8Array {
  const op = r.op;
  if (op.type === "put") {
    const encoded = encodePutRequest(r.proposer, r.id, op.put);
    if (encoded !== undefined) return encoded;
  }
  const m: tug.store.IRequest = { proposer: r.proposer, id: r.id };
  switch (op.type) {
    case "put":
      m.put = op.put;
      break;
    case "deleteRange":
      m.deleteRange = op.deleteRange;
      break;
    case "txn":
      m.txn = txnOut(op.txn);
      break;
    case "compaction":
      m.compaction = { revision: op.revision, physical: op.physical };
      break;
    case "leaseGrant":
      m.leaseGrant = { ID: op.id, TTL: op.ttl };
      break;
    case "leaseRevoke":
      m.leaseRevoke = { ID: op.id };
      break;
    case "leaseCheckpoint":
      m.leaseCheckpoint = {
        checkpoints: op.checkpoints.map((c) => ({ ID: c.id, remaining_TTL: c.remainingTtl })),
      };
      break;
    case "memberAttributes":
      m.memberAttributes = {
        memberId: op.memberId,
        name: op.name,
        clientUrls: [...op.clientUrls],
      };
      break;
  }
  return pb.Request.encode(m).finish();
}

/**
 * The data of one entry holding the requests, each already encoded by encodeRequest: a
 * RequestBatch, written by hand since `repeated Request` is on the wire what `repeated bytes`
 * of encoded Requests is, so that no request is encoded twice.
 */
export function encodeBatch(requests: readonly Uint8Array[]): Uint8Array {
  return encodeRequestBatch(requests);
}

// ---------------------------------------------------------------- decode

/** Absent or empty bytes decode as undefined, so that optional fields stay optional. */
function optBytes(b: Uint8Array | null | undefined): Uint8Array | undefined {
  return b === null || b === undefined || b.length === 0 ? undefined : b;
}

function rangeIn(r: etcdserverpb.IRangeRequest): RangeRequest {
  const out: RangeRequest = { key: r.key ?? new Uint8Array(0) };
  const rangeEnd = optBytes(r.rangeEnd);
  if (rangeEnd !== undefined) out.rangeEnd = rangeEnd;
  const limit = longToNumber(r.limit);
  if (limit !== 0) out.limit = limit;
  const revision = longToNumber(r.revision);
  if (revision !== 0) out.revision = revision;
  if (r.sortOrder) out.sortOrder = enumName(SORT_ORDERS, r.sortOrder, "sort order");
  if (r.sortTarget) out.sortTarget = enumName(SORT_TARGETS, r.sortTarget, "sort target");
  if (r.serializable) out.serializable = true;
  if (r.keysOnly) out.keysOnly = true;
  if (r.countOnly) out.countOnly = true;
  const minMod = longToNumber(r.minModRevision);
  if (minMod !== 0) out.minModRevision = minMod;
  const maxMod = longToNumber(r.maxModRevision);
  if (maxMod !== 0) out.maxModRevision = maxMod;
  const minCreate = longToNumber(r.minCreateRevision);
  if (minCreate !== 0) out.minCreateRevision = minCreate;
  const maxCreate = longToNumber(r.maxCreateRevision);
  if (maxCreate !== 0) out.maxCreateRevision = maxCreate;
  return out;
}

function putIn(p: etcdserverpb.IPutRequest): PutRequest {
  const out: PutRequest = { key: p.key ?? new Uint8Array(0) };
  const value = optBytes(p.value);
  if (value !== undefined) out.value = value;
  const lease = longToNumber(p.lease);
  if (lease !== 0) out.lease = lease;
  if (p.prevKv) out.prevKv = true;
  if (p.ignoreValue) out.ignoreValue = true;
  if (p.ignoreLease) out.ignoreLease = true;
  return out;
}

function deleteRangeIn(d: etcdserverpb.IDeleteRangeRequest): DeleteRangeRequest {
  const out: DeleteRangeRequest = { key: d.key ?? new Uint8Array(0) };
  const rangeEnd = optBytes(d.rangeEnd);
  if (rangeEnd !== undefined) out.rangeEnd = rangeEnd;
  if (d.prevKv) out.prevKv = true;
  return out;
}

function compareIn(c: etcdserverpb.ICompare): Compare {
  const target = enumName(COMPARE_TARGETS, c.target ?? 0, "compare target");
  const out: Compare = {
    result: enumName(COMPARE_RESULTS, c.result ?? 0, "compare result"),
    target,
    key: c.key ?? new Uint8Array(0),
  };
  const rangeEnd = optBytes(c.rangeEnd);
  if (rangeEnd !== undefined) out.rangeEnd = rangeEnd;
  switch (target) {
    case "VERSION":
      out.version = longToNumber(c.version);
      break;
    case "CREATE":
      out.createRevision = longToNumber(c.createRevision);
      break;
    case "MOD":
      out.modRevision = longToNumber(c.modRevision);
      break;
    case "VALUE":
      out.value = c.value ?? new Uint8Array(0);
      break;
    case "LEASE":
      out.lease = longToNumber(c.lease);
      break;
  }
  return out;
}

function opIn(op: etcdserverpb.IRequestOp): RequestOp {
  if (op.requestRange) return { requestRange: rangeIn(op.requestRange) };
  if (op.requestPut) return { requestPut: putIn(op.requestPut) };
  if (op.requestDeleteRange) return { requestDeleteRange: deleteRangeIn(op.requestDeleteRange) };
  if (op.requestTxn) return { requestTxn: txnIn(op.requestTxn) };
  throw new StoreError("DATA_LOSS", "request entry: a txn op with no request");
}

function txnIn(t: etcdserverpb.ITxnRequest): TxnRequest {
  return {
    compare: (t.compare ?? []).map(compareIn),
    success: (t.success ?? []).map(opIn),
    failure: (t.failure ?? []).map(opIn),
  };
}

function opOf(m: tug.store.IRequest): StoreOp {
  if (m.put) return { type: "put", put: putIn(m.put) };
  if (m.deleteRange) return { type: "deleteRange", deleteRange: deleteRangeIn(m.deleteRange) };
  if (m.txn) return { type: "txn", txn: txnIn(m.txn) };
  if (m.compaction) {
    return {
      type: "compaction",
      revision: longToNumber(m.compaction.revision),
      physical: m.compaction.physical === true,
    };
  }
  if (m.leaseGrant) {
    return {
      type: "leaseGrant",
      id: longToNumber(m.leaseGrant.ID),
      ttl: longToNumber(m.leaseGrant.TTL),
    };
  }
  if (m.leaseRevoke) return { type: "leaseRevoke", id: longToNumber(m.leaseRevoke.ID) };
  if (m.leaseCheckpoint) {
    return {
      type: "leaseCheckpoint",
      checkpoints: (m.leaseCheckpoint.checkpoints ?? []).map((c) => ({
        id: longToNumber(c.ID),
        remainingTtl: longToNumber(c.remaining_TTL),
      })),
    };
  }
  if (m.memberAttributes) {
    return {
      type: "memberAttributes",
      memberId: longToNumber(m.memberAttributes.memberId),
      name: m.memberAttributes.name ?? "",
      clientUrls: m.memberAttributes.clientUrls ?? [],
    };
  }
  throw new StoreError("DATA_LOSS", "request entry: no operation (written by a newer version?)");
}

function requestOf(m: tug.store.IRequest): StoreRequest {
  return { proposer: longToNumber(m.proposer), id: longToNumber(m.id), op: opOf(m) };
}

/** Decodes one Request, as encodeRequest wrote it. */
export function decodeRequest(data: Uint8Array): StoreRequest {
  return requestOf(parse(() => pb.Request.decode(data)));
}

/**
 * Decodes an entry's data into its requests, in order. Throws StoreError DATA_LOSS for bytes
 * that are not a batch: every member fails the same way on the same entry, and the entry
 * changes nothing. A request whose operation is unknown (a newer version wrote it) comes back
 * as an Error in its place, so that the others still apply.
 */
export function decodeBatch(data: Uint8Array): (StoreRequest | StoreError)[] {
  const puts = decodePutBatch(data);
  if (puts !== undefined) return puts;
  const batch = parse(() => pb.RequestBatch.decode(data));
  return batch.requests.map((m) => {
    try {
      return requestOf(m);
    } catch (e) {
      if (e instanceof StoreError) return e;
      throw e;
    }
  });
}

function parse<T>(decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    throw new StoreError("DATA_LOSS", `request entry: malformed protobuf: ${String(e)}`, {
      cause: e,
    });
  }
}
