// The replicated txn, written and read by hand, as put-request-wire.ts does for puts: a
// tug.store.Request holding an etcdserverpb.TxnRequest (proto/tug/store.proto; the etcd
// messages as etcd's rpc.proto numbers them). The API server writes every object with a
// guarded Txn (compare create_revision or mod_revision, then put, else range), so on a busy
// cluster these are most entries; protobufjs's generic encode (nested writers, Long handling)
// and decode (message objects then mapped again by request-codec) cost several times what the
// few fields need.
//
// The bytes are plain protobuf, so protobufjs reads what this writes and the other way round.
// The encoder answers undefined for what it does not write (a nested txn, a negative or
// non-integer number, an unknown enum name) and the reader for anything it does not expect (a
// nested txn, an unknown field, a 64-bit value beyond 2^53, an enum number past the known
// ones); the callers then use protobufjs, which also reports malformed bytes.
// https://protobuf.dev/programming-guides/encoding/

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
import {
  type Cursor,
  isUint53,
  putBodyLength,
  readPut,
  requestHeaderLength,
  varintLength,
  writePutBody,
  writeRequestHeader,
  writeVarint,
} from "./put-request-wire.js";

const REQUEST_TXN = 0x32; // tug.store.Request.txn = 6, length-delimited
const TXN_COMPARE = 0x0a; // 1
const TXN_SUCCESS = 0x12; // 2
const TXN_FAILURE = 0x1a; // 3
const OP_RANGE = 0x0a; // RequestOp.request_range = 1
const OP_PUT = 0x12; // 2
const OP_DELETE_RANGE = 0x1a; // 3
const CMP_RESULT = 0x08; // 1, enum
const CMP_TARGET = 0x10; // 2, enum
const CMP_KEY = 0x1a; // 3, bytes
const CMP_VERSION = 0x20; // 4, int64
const CMP_CREATE = 0x28; // 5, int64
const CMP_MOD = 0x30; // 6, int64
const CMP_VALUE = 0x3a; // 7, bytes
const CMP_LEASE = 0x40; // 8, int64
/** Compare.range_end = 64, length-delimited: a two-byte tag (514 as a varint). */
const CMP_RANGE_END_0 = 0x82;
const CMP_RANGE_END_1 = 0x04;
const KEY = 0x0a; // RangeRequest.key, DeleteRangeRequest.key = 1
const RANGE_END = 0x12; // range_end = 2 in both
const DELETE_PREV_KV = 0x18; // DeleteRangeRequest.prev_kv = 3

const SORT_ORDERS: readonly SortOrder[] = ["NONE", "ASCEND", "DESCEND"];
const SORT_TARGETS: readonly SortTarget[] = ["KEY", "VERSION", "CREATE", "MOD", "VALUE"];
const COMPARE_RESULTS: readonly CompareResult[] = ["EQUAL", "GREATER", "LESS", "NOT_EQUAL"];
const COMPARE_TARGETS: readonly CompareTarget[] = ["VERSION", "CREATE", "MOD", "VALUE", "LEASE"];

/**
 * RangeRequest's varint fields 3..13 in field order, each as it is read from and written to a
 * RangeRequest; sort order and target are enum numbers, the flags 0 or 1.
 */
const RANGE_VARINTS: readonly {
  readonly tag: number;
  readonly get: (r: RangeRequest) => number;
  readonly set: (r: RangeRequest, n: number) => boolean;
}[] = [
  numberField(0x18, "limit"),
  numberField(0x20, "revision"),
  enumField(0x28, "sortOrder", SORT_ORDERS),
  enumField(0x30, "sortTarget", SORT_TARGETS),
  flagField(0x38, "serializable"),
  flagField(0x40, "keysOnly"),
  flagField(0x48, "countOnly"),
  numberField(0x50, "minModRevision"),
  numberField(0x58, "maxModRevision"),
  numberField(0x60, "minCreateRevision"),
  numberField(0x68, "maxCreateRevision"),
];

/** A RangeRequest enum field: its number, -1 for an unknown name (the encoder steps aside). */
function enumField<F extends "sortOrder" | "sortTarget">(
  tag: number,
  field: F,
  names: readonly NonNullable<RangeRequest[F]>[],
) {
  return {
    tag,
    get: (r: RangeRequest) => {
      const name = r[field];
      return name === undefined ? 0 : names.indexOf(name);
    },
    set: (r: RangeRequest, n: number) => {
      const name = names[n];
      if (name === undefined) return false;
      if (n !== 0) r[field] = name;
      else delete r[field];
      return true;
    },
  };
}

type RangeNumber =
  | "limit"
  | "revision"
  | "minModRevision"
  | "maxModRevision"
  | "minCreateRevision"
  | "maxCreateRevision";

/** A RangeRequest number; decoded as request-codec does: zero is absent (the last value wins). */
function numberField(tag: number, field: RangeNumber) {
  return {
    tag,
    get: (r: RangeRequest) => r[field] ?? 0,
    set: (r: RangeRequest, n: number) => {
      if (n !== 0) r[field] = n;
      else delete r[field];
      return true;
    },
  };
}

/** A RangeRequest flag, 0 or 1 on the wire; false is absent once decoded. */
function flagField(tag: number, field: "serializable" | "keysOnly" | "countOnly") {
  return {
    tag,
    get: (r: RangeRequest) => (r[field] ? 1 : 0),
    set: (r: RangeRequest, n: number) => {
      if (n !== 0) r[field] = true;
      else delete r[field];
      return true;
    },
  };
}

// ---------------------------------------------------------------- encode

/** Length of a length-delimited field whose contents are `n` bytes (tag of one byte). */
function fieldLength(n: number): number {
  return 1 + varintLength(n) + n;
}

function bytesLength(b: Uint8Array | undefined): number {
  return b === undefined || b.length === 0 ? 0 : fieldLength(b.length);
}

function writeBytes(buf: Uint8Array, pos: number, tag: number, b: Uint8Array | undefined) {
  if (b === undefined || b.length === 0) return pos;
  buf[pos++] = tag;
  pos = writeVarint(buf, pos, b.length);
  buf.set(b, pos);
  return pos + b.length;
}

/** The compare's target value as a number, for the targets whose value is one. */
function compareNumber(c: Compare): number {
  switch (c.target) {
    case "VERSION":
      return c.version ?? 0;
    case "CREATE":
      return c.createRevision ?? 0;
    case "MOD":
      return c.modRevision ?? 0;
    case "LEASE":
      return c.lease ?? 0;
    default:
      return 0;
  }
}

const COMPARE_NUMBER_TAGS: Readonly<Record<CompareTarget, number>> = {
  VERSION: CMP_VERSION,
  CREATE: CMP_CREATE,
  MOD: CMP_MOD,
  VALUE: CMP_VALUE,
  LEASE: CMP_LEASE,
};

/** -1 when the compare holds something this does not write. */
function compareLength(c: Compare): number {
  const result = COMPARE_RESULTS.indexOf(c.result);
  const target = COMPARE_TARGETS.indexOf(c.target);
  if (result < 0 || target < 0) return -1;
  let length = (result !== 0 ? 2 : 0) + (target !== 0 ? 2 : 0) + bytesLength(c.key);
  // target_union is a oneof: the field the target names is written even when zero or empty.
  if (c.target === "VALUE") {
    length += fieldLength(c.value?.length ?? 0);
  } else {
    const n = compareNumber(c);
    if (!isUint53(n)) return -1;
    length += 1 + varintLength(n);
  }
  const rangeEnd = c.rangeEnd;
  if (rangeEnd !== undefined && rangeEnd.length > 0) length += 1 + fieldLength(rangeEnd.length);
  return length;
}

function writeCompare(buf: Uint8Array, pos: number, c: Compare): number {
  const result = COMPARE_RESULTS.indexOf(c.result);
  const target = COMPARE_TARGETS.indexOf(c.target);
  if (result !== 0) {
    buf[pos++] = CMP_RESULT;
    buf[pos++] = result;
  }
  if (target !== 0) {
    buf[pos++] = CMP_TARGET;
    buf[pos++] = target;
  }
  pos = writeBytes(buf, pos, CMP_KEY, c.key);
  buf[pos++] = COMPARE_NUMBER_TAGS[c.target];
  if (c.target === "VALUE") {
    const value = c.value ?? new Uint8Array(0);
    pos = writeVarint(buf, pos, value.length);
    buf.set(value, pos);
    pos += value.length;
  } else {
    pos = writeVarint(buf, pos, compareNumber(c));
  }
  const rangeEnd = c.rangeEnd;
  if (rangeEnd !== undefined && rangeEnd.length > 0) {
    buf[pos++] = CMP_RANGE_END_0;
    buf[pos++] = CMP_RANGE_END_1;
    pos = writeVarint(buf, pos, rangeEnd.length);
    buf.set(rangeEnd, pos);
    pos += rangeEnd.length;
  }
  return pos;
}

function rangeLength(r: RangeRequest): number {
  let length = bytesLength(r.key) + bytesLength(r.rangeEnd);
  for (const f of RANGE_VARINTS) {
    const n = f.get(r);
    if (!isUint53(n)) return -1;
    if (n !== 0) length += 1 + varintLength(n);
  }
  return length;
}

function writeRange(buf: Uint8Array, pos: number, r: RangeRequest): number {
  pos = writeBytes(buf, pos, KEY, r.key);
  pos = writeBytes(buf, pos, RANGE_END, r.rangeEnd);
  for (const f of RANGE_VARINTS) {
    const n = f.get(r);
    if (n === 0) continue;
    buf[pos++] = f.tag;
    pos = writeVarint(buf, pos, n);
  }
  return pos;
}

function deleteRangeLength(d: DeleteRangeRequest): number {
  return bytesLength(d.key) + bytesLength(d.rangeEnd) + (d.prevKv ? 2 : 0);
}

function writeDeleteRange(buf: Uint8Array, pos: number, d: DeleteRangeRequest): number {
  pos = writeBytes(buf, pos, KEY, d.key);
  pos = writeBytes(buf, pos, RANGE_END, d.rangeEnd);
  if (d.prevKv) {
    buf[pos++] = DELETE_PREV_KV;
    buf[pos++] = 1;
  }
  return pos;
}

/** The length of the RequestOp's one field (tag, length, contents); -1 if not written here. */
function opLength(op: RequestOp): number {
  let inner: number;
  if ("requestPut" in op) inner = putBodyLength(op.requestPut);
  else if ("requestRange" in op) inner = rangeLength(op.requestRange);
  else if ("requestDeleteRange" in op) inner = deleteRangeLength(op.requestDeleteRange);
  else return -1;
  return inner < 0 ? -1 : fieldLength(inner);
}

function writeOp(buf: Uint8Array, pos: number, op: RequestOp): number {
  if ("requestPut" in op) {
    buf[pos++] = OP_PUT;
    pos = writeVarint(buf, pos, putBodyLength(op.requestPut));
    return writePutBody(buf, pos, op.requestPut);
  }
  if ("requestRange" in op) {
    buf[pos++] = OP_RANGE;
    pos = writeVarint(buf, pos, rangeLength(op.requestRange));
    return writeRange(buf, pos, op.requestRange);
  }
  if ("requestDeleteRange" in op) {
    buf[pos++] = OP_DELETE_RANGE;
    pos = writeVarint(buf, pos, deleteRangeLength(op.requestDeleteRange));
    return writeDeleteRange(buf, pos, op.requestDeleteRange);
  }
  return pos;
}

/**
 * The encoded Request for a txn by `proposer` under `id`, or undefined when the txn holds what
 * this does not write (see the head of this file); the caller's generic encoder then takes it.
 */
export function encodeTxnRequest(
  proposer: number,
  id: number,
  txn: TxnRequest,
): Uint8Array | undefined {
  if (!isUint53(proposer) || !isUint53(id)) return undefined;
  const compare = txn.compare ?? [];
  const success = txn.success ?? [];
  const failure = txn.failure ?? [];
  let txnLength = 0;
  for (const c of compare) {
    const n = compareLength(c);
    if (n < 0) return undefined;
    txnLength += fieldLength(n);
  }
  for (const op of success) {
    const n = opLength(op);
    if (n < 0) return undefined;
    txnLength += fieldLength(n);
  }
  for (const op of failure) {
    const n = opLength(op);
    if (n < 0) return undefined;
    txnLength += fieldLength(n);
  }
  const buf = Buffer.allocUnsafe(requestHeaderLength(proposer, id) + fieldLength(txnLength));
  let pos = writeRequestHeader(buf, 0, proposer, id);
  buf[pos++] = REQUEST_TXN;
  pos = writeVarint(buf, pos, txnLength);
  for (const c of compare) {
    buf[pos++] = TXN_COMPARE;
    pos = writeVarint(buf, pos, compareLength(c));
    pos = writeCompare(buf, pos, c);
  }
  for (const [tag, ops] of [
    [TXN_SUCCESS, success],
    [TXN_FAILURE, failure],
  ] as const) {
    for (const op of ops) {
      buf[pos++] = tag;
      pos = writeVarint(buf, pos, opLength(op));
      pos = writeOp(buf, pos, op);
    }
  }
  return buf;
}

// ---------------------------------------------------------------- decode

/** A length-delimited field's contents at the cursor as a view, or undefined if out of bounds. */
function readBytes(c: Cursor, end: number): Uint8Array | undefined {
  const length = c.varint(end);
  if (length < 0 || c.pos + length > end) return undefined;
  const bytes = c.data.subarray(c.pos, c.pos + length);
  c.pos += length;
  return bytes;
}

/**
 * Reads the TxnRequest in `c` up to `end`, shaped as request-codec's protobufjs decoder shapes
 * it, or undefined for anything unexpected (see the head of this file). Byte fields are views.
 */
export function readTxn(c: Cursor, end: number): TxnRequest | undefined {
  const compare: Compare[] = [];
  const success: RequestOp[] = [];
  const failure: RequestOp[] = [];
  while (c.pos < end) {
    const tag = c.data[c.pos++];
    const length = c.varint(end);
    if (length < 0 || c.pos + length > end) return undefined;
    const fieldEnd = c.pos + length;
    if (tag === TXN_COMPARE) {
      const cmp = readCompare(c, fieldEnd);
      if (cmp === undefined) return undefined;
      compare.push(cmp);
    } else if (tag === TXN_SUCCESS || tag === TXN_FAILURE) {
      const op = readOp(c, fieldEnd);
      if (op === undefined) return undefined;
      (tag === TXN_SUCCESS ? success : failure).push(op);
    } else {
      return undefined;
    }
  }
  return { compare, success, failure };
}

function readCompare(c: Cursor, end: number): Compare | undefined {
  let result = 0;
  let target = 0;
  let key: Uint8Array | undefined;
  let rangeEnd: Uint8Array | undefined;
  let value: Uint8Array | undefined;
  const numbers = new Map<number, number>();
  while (c.pos < end) {
    const tag = c.data[c.pos++];
    if (tag === CMP_RESULT || tag === CMP_TARGET) {
      const n = c.varint(end);
      if (n < 0) return undefined;
      if (tag === CMP_RESULT) result = n;
      else target = n;
    } else if (tag === CMP_VERSION || tag === CMP_CREATE || tag === CMP_MOD || tag === CMP_LEASE) {
      const n = c.varint(end);
      if (n < 0) return undefined;
      numbers.set(tag, n);
    } else if (tag === CMP_KEY || tag === CMP_VALUE) {
      const bytes = readBytes(c, end);
      if (bytes === undefined) return undefined;
      if (tag === CMP_KEY) key = bytes;
      else value = bytes;
    } else if (tag === CMP_RANGE_END_0 && c.data[c.pos] === CMP_RANGE_END_1 && c.pos < end) {
      c.pos++;
      rangeEnd = readBytes(c, end);
      if (rangeEnd === undefined) return undefined;
    } else {
      return undefined;
    }
  }
  const resultName = COMPARE_RESULTS[result];
  const targetName = COMPARE_TARGETS[target];
  if (resultName === undefined || targetName === undefined) return undefined;
  const out: Compare = { result: resultName, target: targetName, key: key ?? new Uint8Array(0) };
  if (rangeEnd !== undefined && rangeEnd.length > 0) out.rangeEnd = rangeEnd;
  switch (targetName) {
    case "VERSION":
      out.version = numbers.get(CMP_VERSION) ?? 0;
      break;
    case "CREATE":
      out.createRevision = numbers.get(CMP_CREATE) ?? 0;
      break;
    case "MOD":
      out.modRevision = numbers.get(CMP_MOD) ?? 0;
      break;
    case "VALUE":
      out.value = value ?? new Uint8Array(0);
      break;
    case "LEASE":
      out.lease = numbers.get(CMP_LEASE) ?? 0;
      break;
  }
  return out;
}

function readOp(c: Cursor, end: number): RequestOp | undefined {
  let op: RequestOp | undefined;
  while (c.pos < end) {
    if (op !== undefined) return undefined;
    const tag = c.data[c.pos++];
    const length = c.varint(end);
    if (length < 0 || c.pos + length > end) return undefined;
    const fieldEnd = c.pos + length;
    if (tag === OP_PUT) {
      const put: PutRequest | undefined = readPut(c, fieldEnd);
      if (put === undefined) return undefined;
      op = { requestPut: put };
    } else if (tag === OP_RANGE) {
      const range = readRange(c, fieldEnd);
      if (range === undefined) return undefined;
      op = { requestRange: range };
    } else if (tag === OP_DELETE_RANGE) {
      const deleteRange = readDeleteRange(c, fieldEnd);
      if (deleteRange === undefined) return undefined;
      op = { requestDeleteRange: deleteRange };
    } else {
      return undefined;
    }
  }
  return op;
}

/**
 * Reads the key or range_end field (field 1 or 2, as both RangeRequest and DeleteRangeRequest
 * number them) into `out`; false for bytes out of bounds. An empty range_end is absent.
 */
function readKeyOrRangeEnd(
  c: Cursor,
  end: number,
  tag: number,
  out: { key: Uint8Array; rangeEnd?: Uint8Array },
): boolean {
  const bytes = readBytes(c, end);
  if (bytes === undefined) return false;
  if (tag === KEY) out.key = bytes;
  else if (bytes.length > 0) out.rangeEnd = bytes;
  else delete out.rangeEnd;
  return true;
}

function readRange(c: Cursor, end: number): RangeRequest | undefined {
  const out: RangeRequest = { key: new Uint8Array(0) };
  while (c.pos < end) {
    const tag = c.data[c.pos++] as number;
    if (tag === KEY || tag === RANGE_END) {
      if (!readKeyOrRangeEnd(c, end, tag, out)) return undefined;
      continue;
    }
    // Field numbers 3..13 are the varints, in RANGE_VARINTS's order.
    const field = RANGE_VARINTS[(tag >> 3) - 3];
    if (field === undefined || field.tag !== tag) return undefined;
    const n = c.varint(end);
    if (n < 0 || !field.set(out, n)) return undefined;
  }
  return out;
}

function readDeleteRange(c: Cursor, end: number): DeleteRangeRequest | undefined {
  const out: DeleteRangeRequest = { key: new Uint8Array(0) };
  while (c.pos < end) {
    const tag = c.data[c.pos++] as number;
    if (tag === KEY || tag === RANGE_END) {
      if (!readKeyOrRangeEnd(c, end, tag, out)) return undefined;
    } else if (tag === DELETE_PREV_KV) {
      const n = c.varint(end);
      if (n < 0) return undefined;
      if (n !== 0) out.prevKv = true;
      else delete out.prevKv;
    } else {
      return undefined;
    }
  }
  return out;
}
