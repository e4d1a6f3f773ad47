// Between the wire and the backend: decoded etcdserverpb messages (64-bit integers as decimal
// strings, bytes as Buffers, enums as names) to the MVCC keyspace's requests, its responses
// back to messages, and StoreErrors to gRPC statuses.

import { type ServerErrorResponse, status } from "@grpc/grpc-js";
import { GRPC_CODE_NUMBER, StoreError } from "../errors.js";
import type {
  _etcdserverpb_Compare_CompareResult__Output,
  _etcdserverpb_Compare_CompareTarget__Output,
  Compare__Output,
} from "../gen/etcd/etcdserverpb/Compare.js";
import type { DeleteRangeRequest__Output } from "../gen/etcd/etcdserverpb/DeleteRangeRequest.js";
import type { PutRequest__Output } from "../gen/etcd/etcdserverpb/PutRequest.js";
import type {
  _etcdserverpb_RangeRequest_SortOrder__Output,
  _etcdserverpb_RangeRequest_SortTarget__Output,
  RangeRequest__Output,
} from "../gen/etcd/etcdserverpb/RangeRequest.js";
import type { RangeResponse as ProtoRangeResponse } from "../gen/etcd/etcdserverpb/RangeResponse.js";
import type { RequestOp__Output } from "../gen/etcd/etcdserverpb/RequestOp.js";
import type { ResponseHeader } from "../gen/etcd/etcdserverpb/ResponseHeader.js";
import type { ResponseOp as ProtoResponseOp } from "../gen/etcd/etcdserverpb/ResponseOp.js";
import type { TxnRequest__Output } from "../gen/etcd/etcdserverpb/TxnRequest.js";
import type { TxnResponse as ProtoTxnResponse } from "../gen/etcd/etcdserverpb/TxnResponse.js";
import type {
  Compare,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseOp,
  SortOrder,
  SortTarget,
  TxnRequest,
  TxnResponse,
} from "../mvcc/index.js";
import type { ResponseHeaderInfo } from "./backend.js";

/** Lease ids the backends can hold: positive and exact as JS numbers. */
export const MAX_LEASE_ID = Number.MAX_SAFE_INTEGER;

const EMPTY = new Uint8Array(0);

/**
 * A decoded int64/uint64 (a decimal string) as a number. Values beyond 2^53 lose precision,
 * which is harmless where they are only compared with what exists (revisions far in the
 * future, ids no backend hands out); callers that store a value check it first.
 */
export function int64(s: string): number {
  return Number(s);
}

/**
 * A copy of decoded bytes: protobufjs hands out views into the whole received message, which
 * a store must not keep alive.
 */
export function bytes(b: Uint8Array): Uint8Array {
  return b.length === 0 ? EMPTY : new Uint8Array(b);
}

/**
 * Decoded bytes as they are: a view into the received message. For the requests a backend only
 * reads or encodes (ranges, puts and deletes: the Raft backend encodes them into a log entry at
 * once), which saves an allocation per field on every request; a backend that keeps their bytes
 * copies them itself (LocalBackend.put).
 */
function view(b: Uint8Array): Uint8Array {
  return b.length === 0 ? EMPTY : b;
}

/** etcd's ErrGRPCInvalidSortOption text. */
const INVALID_SORT_OPTION = "etcdserver: invalid sort option";

const SORT_ORDERS: ReadonlySet<string> = new Set<SortOrder>(["NONE", "ASCEND", "DESCEND"]);
const SORT_TARGETS: ReadonlySet<string> = new Set<SortTarget>([
  "KEY",
  "VERSION",
  "CREATE",
  "MOD",
  "VALUE",
]);

/** An unknown enum number decodes as the number itself. */
function sortOrder(v: _etcdserverpb_RangeRequest_SortOrder__Output | number): SortOrder {
  if (typeof v !== "string" || !SORT_ORDERS.has(v)) {
    throw new StoreError("INVALID_ARGUMENT", INVALID_SORT_OPTION);
  }
  return v;
}

function sortTarget(v: _etcdserverpb_RangeRequest_SortTarget__Output | number): SortTarget {
  if (typeof v !== "string" || !SORT_TARGETS.has(v)) {
    throw new StoreError("INVALID_ARGUMENT", INVALID_SORT_OPTION);
  }
  return v;
}

export function rangeRequest(m: RangeRequest__Output): RangeRequest {
  return {
    key: view(m.key),
    rangeEnd: view(m.rangeEnd),
    limit: int64(m.limit),
    revision: int64(m.revision),
    sortOrder: sortOrder(m.sortOrder),
    sortTarget: sortTarget(m.sortTarget),
    serializable: m.serializable,
    keysOnly: m.keysOnly,
    countOnly: m.countOnly,
    minModRevision: int64(m.minModRevision),
    maxModRevision: int64(m.maxModRevision),
    minCreateRevision: int64(m.minCreateRevision),
    maxCreateRevision: int64(m.maxCreateRevision),
  };
}

export function putRequest(m: PutRequest__Output): PutRequest {
  return {
    key: view(m.key),
    value: view(m.value),
    lease: int64(m.lease),
    prevKv: m.prevKv,
    ignoreValue: m.ignoreValue,
    ignoreLease: m.ignoreLease,
  };
}

export function deleteRangeRequest(m: DeleteRangeRequest__Output): DeleteRangeRequest {
  return { key: view(m.key), rangeEnd: view(m.rangeEnd), prevKv: m.prevKv };
}

const COMPARE_RESULTS: ReadonlySet<string> = new Set(["EQUAL", "GREATER", "LESS", "NOT_EQUAL"]);
const COMPARE_TARGETS: ReadonlySet<string> = new Set([
  "VERSION",
  "CREATE",
  "MOD",
  "VALUE",
  "LEASE",
]);

function compare(m: Compare__Output): Compare {
  const result: _etcdserverpb_Compare_CompareResult__Output | number = m.result;
  const target: _etcdserverpb_Compare_CompareTarget__Output | number = m.target;
  // etcd compares an unknown result as false and an unknown target as nothing; refusing them
  // is kinder than a txn that silently takes its else branch.
  if (typeof result !== "string" || !COMPARE_RESULTS.has(result)) {
    throw new StoreError("INVALID_ARGUMENT", `tug-store: unknown compare result ${result}`);
  }
  if (typeof target !== "string" || !COMPARE_TARGETS.has(target)) {
    throw new StoreError("INVALID_ARGUMENT", `tug-store: unknown compare target ${target}`);
  }
  const c: Compare = { result, target, key: bytes(m.key), rangeEnd: bytes(m.rangeEnd) };
  // The oneof's value, when present; an absent one compares as 0 or empty.
  if (m.version !== undefined) c.version = int64(m.version);
  if (m.createRevision !== undefined) c.createRevision = int64(m.createRevision);
  if (m.modRevision !== undefined) c.modRevision = int64(m.modRevision);
  if (m.value !== undefined) c.value = bytes(m.value);
  if (m.lease !== undefined) c.lease = int64(m.lease);
  return c;
}

function requestOp(m: RequestOp__Output): RequestOp {
  switch (m.request) {
    case "requestRange":
      if (m.requestRange) return { requestRange: rangeRequest(m.requestRange) };
      break;
    case "requestPut":
      if (m.requestPut) return { requestPut: putRequest(m.requestPut) };
      break;
    case "requestDeleteRange":
      if (m.requestDeleteRange) {
        return { requestDeleteRange: deleteRangeRequest(m.requestDeleteRange) };
      }
      break;
    case "requestTxn":
      if (m.requestTxn) return { requestTxn: txnRequest(m.requestTxn) };
      break;
  }
  // etcd's applier panics on an empty RequestOp; a client sent nothing to run.
  throw new StoreError("INVALID_ARGUMENT", "tug-store: a txn RequestOp holds no request");
}

export function txnRequest(m: TxnRequest__Output): TxnRequest {
  return {
    compare: m.compare.map(compare),
    success: m.success.map(requestOp),
    failure: m.failure.map(requestOp),
  };
}

// ---------------------------------------------------------------- replies

/** The header of a reply, with `revision` when the operation tells it. */
export function header(info: ResponseHeaderInfo, revision?: number): ResponseHeader {
  return {
    clusterId: info.clusterId,
    memberId: info.memberId,
    revision: revision ?? info.revision,
    raftTerm: info.raftTerm,
  };
}

export function rangeResponse(r: RangeResponse, h: ResponseHeader): ProtoRangeResponse {
  return { header: h, kvs: r.kvs, more: r.more, count: r.count };
}

/**
 * A txn's reply. Responses nested in it carry a header holding only their revision, as
 * etcd's do.
 */
export function txnResponse(r: TxnResponse, h: ResponseHeader): ProtoTxnResponse {
  return { header: h, succeeded: r.succeeded, responses: r.responses.map(responseOp) };
}

function responseOp(op: ResponseOp): ProtoResponseOp {
  if ("responseRange" in op) {
    const r = op.responseRange;
    return { responseRange: rangeResponse(r, { revision: r.revision }) };
  }
  if ("responsePut" in op) {
    const r = op.responsePut;
    return { responsePut: { header: { revision: r.revision }, prevKv: r.prevKv ?? null } };
  }
  if ("responseDeleteRange" in op) {
    const r = op.responseDeleteRange;
    return {
      responseDeleteRange: {
        header: { revision: r.revision },
        deleted: r.deleted,
        prevKvs: r.prevKvs,
      },
    };
  }
  const r = op.responseTxn;
  return { responseTxn: txnResponse(r, { revision: r.revision }) };
}

// ---------------------------------------------------------------- errors

/**
 * The gRPC status for an error: a StoreError's code and text verbatim (clients match etcd's
 * texts); anything else is INTERNAL.
 */
export function grpcError(e: unknown): ServerErrorResponse {
  if (e instanceof StoreError) {
    return Object.assign(new Error(e.message), {
      code: GRPC_CODE_NUMBER[e.code],
      details: e.message,
    });
  }
  const message = e instanceof Error ? e.message : String(e);
  return Object.assign(new Error(message), { code: status.INTERNAL, details: message });
}

// ---------------------------------------------------------------- handlers

/** A unary handler from an async function: its result is the reply, its error the status. */
export function unary<Req, Res>(
  fn: (request: Req) => Promise<Res>,
): (
  call: { request: Req },
  callback: (error: ServerErrorResponse | null, value?: Res) => void,
) => void {
  return (call, callback) => {
    let p: Promise<Res>;
    try {
      p = fn(call.request);
    } catch (e) {
      callback(grpcError(e));
      return;
    }
    p.then(
      (value) => callback(null, value),
      (e: unknown) => callback(grpcError(e)),
    );
  };
}
