// The replicated put, written and read by hand: a tug.store.Request holding an
// etcdserverpb.PutRequest (proto/tug/store.proto; PutRequest's fields as etcd's rpc.proto
// numbers them) is the entry payload of nearly every write, encoded once by its proposer and
// decoded by every member. protobufjs's generic paths (nested writers, Long handling, decoded
// message objects then mapped again) cost several times what these few fields need.
//
// The bytes are plain protobuf, so protobufjs reads what this writes and the other way round;
// anything this reader does not expect (another operation, an unknown or repeated field, a
// 64-bit value beyond 2^53) makes it answer undefined, and the caller decodes with protobufjs.
// https://protobuf.dev/programming-guides/encoding/

import type { PutRequest } from "../mvcc/index.js";

/** Tags (field number << 3 | wire type) of the fields read and written here. */
const REQUEST_PROPOSER = 0x08; // 1, varint
const REQUEST_ID = 0x10; // 2, varint
const REQUEST_PUT = 0x22; // 4, length-delimited
const BATCH_REQUEST = 0x0a; // RequestBatch.requests = 1, length-delimited
const PUT_KEY = 0x0a; // 1, bytes
const PUT_VALUE = 0x12; // 2, bytes
const PUT_LEASE = 0x18; // 3, int64
const PUT_PREV_KV = 0x20; // 4, bool
const PUT_IGNORE_VALUE = 0x28; // 5, bool
const PUT_IGNORE_LEASE = 0x30; // 6, bool

/** A decoded put request, shaped as request-codec's decoder shapes every request. */
export interface DecodedPut {
  readonly proposer: number;
  readonly id: number;
  readonly op: { readonly type: "put"; readonly put: PutRequest };
}

function varintLength(n: number): number {
  let length = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    length++;
  }
  return length;
}

function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  while (n >= 128) {
    buf[pos++] = (n % 128) | 128;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

function isUint53(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/**
 * The encoded Request for a put by `proposer` under `id`, or undefined when a number is not a
 * non-negative integer below 2^53 (the caller's generic encoder then takes it). Zero and empty
 * fields are left out, as proto3 allows.
 */
export function encodePutRequest(
  proposer: number,
  id: number,
  put: PutRequest,
): Uint8Array | undefined {
  const lease = put.lease ?? 0;
  if (!isUint53(proposer) || !isUint53(id) || !isUint53(lease)) return undefined;
  const key = put.key;
  const value = put.value;
  const valueLength = value === undefined ? 0 : value.length;
  let putLength = 0;
  if (key.length > 0) putLength += 1 + varintLength(key.length) + key.length;
  if (valueLength > 0) putLength += 1 + varintLength(valueLength) + valueLength;
  if (lease !== 0) putLength += 1 + varintLength(lease);
  if (put.prevKv) putLength += 2;
  if (put.ignoreValue) putLength += 2;
  if (put.ignoreLease) putLength += 2;
  let length = 1 + varintLength(putLength) + putLength;
  if (proposer !== 0) length += 1 + varintLength(proposer);
  if (id !== 0) length += 1 + varintLength(id);

  const buf = Buffer.allocUnsafe(length);
  let pos = 0;
  if (proposer !== 0) {
    buf[pos++] = REQUEST_PROPOSER;
    pos = writeVarint(buf, pos, proposer);
  }
  if (id !== 0) {
    buf[pos++] = REQUEST_ID;
    pos = writeVarint(buf, pos, id);
  }
  buf[pos++] = REQUEST_PUT;
  pos = writeVarint(buf, pos, putLength);
  if (key.length > 0) {
    buf[pos++] = PUT_KEY;
    pos = writeVarint(buf, pos, key.length);
    buf.set(key, pos);
    pos += key.length;
  }
  if (value !== undefined && valueLength > 0) {
    buf[pos++] = PUT_VALUE;
    pos = writeVarint(buf, pos, valueLength);
    buf.set(value, pos);
    pos += valueLength;
  }
  if (lease !== 0) {
    buf[pos++] = PUT_LEASE;
    pos = writeVarint(buf, pos, lease);
  }
  if (put.prevKv) {
    buf[pos++] = PUT_PREV_KV;
    buf[pos++] = 1;
  }
  if (put.ignoreValue) {
    buf[pos++] = PUT_IGNORE_VALUE;
    buf[pos++] = 1;
  }
  if (put.ignoreLease) {
    buf[pos++] = PUT_IGNORE_LEASE;
    buf[pos++] = 1;
  }
  return buf;
}

/**
 * The RequestBatch of requests already encoded (by encodePutRequest or protobufjs): on the wire
 * a `repeated Request` is each one's bytes behind its tag and length, so none is encoded again.
 */
export function encodeRequestBatch(requests: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const r of requests) length += 1 + varintLength(r.length) + r.length;
  const buf = Buffer.allocUnsafe(length);
  let pos = 0;
  for (const r of requests) {
    buf[pos++] = BATCH_REQUEST;
    pos = writeVarint(buf, pos, r.length);
    buf.set(r, pos);
    pos += r.length;
  }
  return buf;
}

/** Reads varints of at most 8 bytes whose value is below 2^53; -1 for anything else. */
class Cursor {
  pos: number;

  constructor(
    readonly data: Uint8Array,
    start: number,
  ) {
    this.pos = start;
  }

  varint(end: number): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= end) return -1;
      const b = this.data[this.pos++] as number;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value <= Number.MAX_SAFE_INTEGER ? value : -1;
      scale *= 128;
    }
    return -1;
  }
}

/**
 * The requests of a RequestBatch whose every request is a put, or undefined if any is not (or
 * anything is unexpected): the caller then decodes the batch with protobufjs, which also reports
 * malformed bytes. Byte fields are views into `data`, as protobufjs's are.
 */
export function decodePutBatch(data: Uint8Array): DecodedPut[] | undefined {
  const c = new Cursor(data, 0);
  const out: DecodedPut[] = [];
  while (c.pos < data.length) {
    if (data[c.pos++] !== BATCH_REQUEST) return undefined;
    const length = c.varint(data.length);
    if (length < 0) return undefined;
    const end = c.pos + length;
    if (end > data.length) return undefined;
    const request = readRequest(c, end);
    if (request === undefined) return undefined;
    out.push(request);
  }
  return out;
}

function readRequest(c: Cursor, end: number): DecodedPut | undefined {
  let proposer = 0;
  let id = 0;
  let put: PutRequest | undefined;
  while (c.pos < end) {
    const tag = c.data[c.pos++];
    if (tag === REQUEST_PROPOSER) {
      proposer = c.varint(end);
      if (proposer < 0) return undefined;
    } else if (tag === REQUEST_ID) {
      id = c.varint(end);
      if (id < 0) return undefined;
    } else if (tag === REQUEST_PUT && put === undefined) {
      const length = c.varint(end);
      if (length < 0 || c.pos + length > end) return undefined;
      put = readPut(c, c.pos + length);
      if (put === undefined) return undefined;
    } else {
      return undefined;
    }
  }
  if (put === undefined) return undefined;
  return { proposer, id, op: { type: "put", put } };
}

function readPut(c: Cursor, end: number): PutRequest | undefined {
  let key: Uint8Array | undefined;
  let value: Uint8Array | undefined;
  let lease = 0;
  let prevKv = false;
  let ignoreValue = false;
  let ignoreLease = false;
  while (c.pos < end) {
    const tag = c.data[c.pos++];
    if (tag === PUT_KEY || tag === PUT_VALUE) {
      const length = c.varint(end);
      if (length < 0 || c.pos + length > end) return undefined;
      const bytes = c.data.subarray(c.pos, c.pos + length);
      c.pos += length;
      if (tag === PUT_KEY) key = bytes;
      else value = bytes;
    } else if (tag === PUT_LEASE) {
      lease = c.varint(end);
      if (lease < 0) return undefined;
    } else if (tag === PUT_PREV_KV || tag === PUT_IGNORE_VALUE || tag === PUT_IGNORE_LEASE) {
      const flag = c.varint(end);
      if (flag < 0) return undefined;
      if (tag === PUT_PREV_KV) prevKv = flag !== 0;
      else if (tag === PUT_IGNORE_VALUE) ignoreValue = flag !== 0;
      else ignoreLease = flag !== 0;
    } else {
      return undefined;
    }
  }
  // The shape request-codec gives a decoded put: absent or empty fields stay absent.
  const out: PutRequest = { key: key ?? new Uint8Array(0) };
  if (value !== undefined && value.length > 0) out.value = value;
  if (lease !== 0) out.lease = lease;
  if (prevKv) out.prevKv = true;
  if (ignoreValue) out.ignoreValue = true;
  if (ignoreLease) out.ignoreLease = true;
  return out;
}
