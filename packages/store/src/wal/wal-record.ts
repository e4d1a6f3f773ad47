// The framing of one WAL record, and the payloads of the records the WAL itself defines
// (segment header, metadata, snapshot marker). Entries and hard states are raftpb protobuf
// (@tug/raft's wire codec), so the WAL stores what etcd's stores.
//
// A record, little-endian, 8-byte aligned so that a scan for the next record after a damaged
// one only tries aligned offsets (and so that records do not straddle sectors needlessly):
//
//   0  u32  payload length
//   4  u8   type (RecordType; 0 is never valid, so a zero-filled tail never parses)
//   5  u8×3 reserved, zero
//   8  u32  CRC-32 (zlib.crc32) of bytes [0, 8), the payload and the padding
//   12 ...  payload, then zero padding up to the next multiple of 8
//
// The CRC is per record, not chained as in etcd: a record can then be checked on its own,
// which is what tells a torn tail (nothing valid after the damage) from corruption (valid
// records after it). What a chained CRC adds, catching a record that went missing, the
// replay gets from checking that entry indexes are contiguous.

import { crc32 } from "node:zlib";

export const RECORD_HEADER_BYTES = 12;
export const RECORD_ALIGN = 8;

export const RecordType = {
  /** First record of every segment: magic, version, sequence and first index. */
  segmentHeader: 1,
  /** Second record of every segment: which cluster and member the WAL belongs to. */
  metadata: 2,
  /** One raft Entry (raftpb.Entry). A later entry at index i replaces i and all after it. */
  entry: 3,
  /** raftpb.HardState; the last one read wins. Repeated at the head of each new segment. */
  hardState: 4,
  /** A snapshot at (index, term) was saved to a snapshot file, so replay may start there. */
  snapshotMarker: 5,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

const RECORD_TYPE_NAMES: Record<number, string> = {
  1: "segment header",
  2: "metadata",
  3: "entry",
  4: "hard state",
  5: "snapshot marker",
};

export function recordTypeName(t: number): string {
  return RECORD_TYPE_NAMES[t] ?? `unknown type ${t}`;
}

export interface WalRecord {
  readonly type: RecordType;
  readonly payload: Uint8Array;
  /** Byte offset of the record in its segment. */
  readonly offset: number;
}

export function alignedRecordSize(payloadLength: number): number {
  const raw = RECORD_HEADER_BYTES + payloadLength;
  return Math.ceil(raw / RECORD_ALIGN) * RECORD_ALIGN;
}

/** Frames one record: header, payload, zero padding. */
export function encodeRecord(type: RecordType, payload: Uint8Array): Buffer {
  return encodeRecords([type], [payload]);
}

/**
 * Frames records back to back in one buffer — the same bytes as encodeRecord of each,
 * concatenated — so that a batch of entries costs one allocation and no copy to join them.
 * types[i] is the type of payloads[i].
 */
export function encodeRecords(
  types: readonly RecordType[],
  payloads: readonly Uint8Array[],
): Buffer {
  let total = 0;
  for (const p of payloads) total += alignedRecordSize(p.length);
  const b = Buffer.allocUnsafe(total);
  let offset = 0;
  for (let i = 0; i < payloads.length; i++) {
    const payload = payloads[i] as Uint8Array;
    const size = alignedRecordSize(payload.length);
    b.writeUInt32LE(payload.length, offset);
    b.writeUInt32LE(types[i] as number, offset + 4); // the type, then three zero bytes
    b.set(payload, offset + RECORD_HEADER_BYTES);
    b.fill(0, offset + RECORD_HEADER_BYTES + payload.length, offset + size);
    const record = b.subarray(offset, offset + size);
    b.writeUInt32LE(recordCrc(record, payload.length), offset + 8);
    offset += size;
  }
  return b;
}

function recordCrc(b: Uint8Array, payloadLength: number): number {
  const end = alignedRecordSize(payloadLength);
  const head = crc32(b.subarray(0, 8));
  return crc32(b.subarray(RECORD_HEADER_BYTES, end), head);
}

export type DecodeFailure =
  | { readonly kind: "short"; readonly detail: string }
  | { readonly kind: "invalid"; readonly detail: string };

export type DecodeResult =
  | { readonly ok: true; readonly record: WalRecord; readonly next: number }
  | { readonly ok: false; readonly failure: DecodeFailure };

/** Reads the record at `offset` of `buf`, checking its framing and CRC. */
export function decodeRecordAt(buf: Uint8Array, offset: number): DecodeResult {
  const remaining = buf.length - offset;
  if (remaining < RECORD_HEADER_BYTES) {
    return fail(
      "short",
      `only ${remaining} bytes left, a record header needs ${RECORD_HEADER_BYTES}`,
    );
  }
  const view = new DataView(buf.buffer, buf.byteOffset + offset, RECORD_HEADER_BYTES);
  const length = view.getUint32(0, true);
  const type = view.getUint8(4);
  if (RECORD_TYPE_NAMES[type] === undefined)
    return fail("invalid", `record type ${type} is not a WAL record type`);
  if (view.getUint8(5) !== 0 || view.getUint8(6) !== 0 || view.getUint8(7) !== 0) {
    return fail("invalid", "reserved header bytes are not zero");
  }
  const size = alignedRecordSize(length);
  if (size > remaining) {
    return fail(
      "short",
      `${recordTypeName(type)} record of ${size} bytes, but only ${remaining} bytes left`,
    );
  }
  const record = buf.subarray(offset, offset + size);
  const want = view.getUint32(8, true);
  const got = recordCrc(record, length);
  if (want !== got) {
    return fail(
      "invalid",
      `CRC mismatch (${recordTypeName(type)} record): stored ${hex32(want)}, computed ${hex32(got)}`,
    );
  }
  return {
    ok: true,
    record: {
      type: type as RecordType,
      payload: record.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + length),
      offset,
    },
    next: offset + size,
  };
}

/** The first offset after `from` (exclusive) at which a whole, valid record starts, if any. */
export function findValidRecordAfter(buf: Uint8Array, from: number): number | undefined {
  const start = (Math.floor(from / RECORD_ALIGN) + 1) * RECORD_ALIGN;
  for (let at = start; at + RECORD_HEADER_BYTES <= buf.length; at += RECORD_ALIGN) {
    if (decodeRecordAt(buf, at).ok) return at;
  }
  return undefined;
}

function fail(kind: DecodeFailure["kind"], detail: string): DecodeResult {
  return { ok: false, failure: { kind, detail } };
}

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}

// --- payloads the WAL defines -----------------------------------------------------------------

/** "tugwal", then a NUL and the format version. */
export const SEGMENT_MAGIC = Buffer.from("tugwal\u0000\u0001", "latin1");

export interface SegmentHeader {
  readonly seq: number;
  readonly firstIndex: number;
}

export function encodeSegmentHeader(h: SegmentHeader): Uint8Array {
  const b = Buffer.alloc(24);
  b.set(SEGMENT_MAGIC, 0);
  writeU64(b, 8, h.seq);
  writeU64(b, 16, h.firstIndex);
  return b;
}

export function decodeSegmentHeader(p: Uint8Array): SegmentHeader {
  const b = Buffer.from(p.buffer, p.byteOffset, p.byteLength);
  if (b.length !== 24 || !b.subarray(0, 8).equals(SEGMENT_MAGIC)) {
    throw new Error("not a tug WAL segment header (bad magic or version)");
  }
  return { seq: readU64(b, 8, "seq"), firstIndex: readU64(b, 16, "firstIndex") };
}

/** Whom a WAL belongs to. Both ids are non-zero and fit in 53 bits, like raft's NodeId. */
export interface WalMetadata {
  readonly clusterId: number;
  readonly memberId: number;
}

export function encodeMetadata(m: WalMetadata): Uint8Array {
  const b = Buffer.alloc(16);
  writeU64(b, 0, m.clusterId);
  writeU64(b, 8, m.memberId);
  return b;
}

export function decodeMetadata(p: Uint8Array): WalMetadata {
  const b = Buffer.from(p.buffer, p.byteOffset, p.byteLength);
  if (b.length !== 16) throw new Error(`metadata payload is ${b.length} bytes, want 16`);
  return { clusterId: readU64(b, 0, "clusterId"), memberId: readU64(b, 8, "memberId") };
}

/**
 * "local": a snapshot this member took of its own applied state; the log continues past it.
 * "restore": a snapshot received from the leader that replaced the whole log (Raft §7): the
 * entries written before the marker are dropped on replay, as MemoryStorage.applySnapshot does.
 */
export type SnapshotMarkerKind = "local" | "restore";

export interface SnapshotMarker {
  readonly index: number;
  readonly term: number;
}

export interface SnapshotMarkerRecord extends SnapshotMarker {
  readonly kind: SnapshotMarkerKind;
}

export function encodeSnapshotMarker(m: SnapshotMarkerRecord): Uint8Array {
  const b = Buffer.alloc(24);
  writeU64(b, 0, m.index);
  writeU64(b, 8, m.term);
  b.writeUInt8(m.kind === "restore" ? 1 : 0, 16);
  return b;
}

export function decodeSnapshotMarker(p: Uint8Array): SnapshotMarkerRecord {
  const b = Buffer.from(p.buffer, p.byteOffset, p.byteLength);
  if (b.length !== 24) throw new Error(`snapshot marker payload is ${b.length} bytes, want 24`);
  const kind = b.readUInt8(16);
  if (kind > 1) throw new Error(`snapshot marker kind ${kind} is unknown`);
  return {
    index: readU64(b, 0, "index"),
    term: readU64(b, 8, "term"),
    kind: kind === 1 ? "restore" : "local",
  };
}

function writeU64(b: Buffer, at: number, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new RangeError(`${n} is not a non-negative 53-bit integer`);
  b.writeBigUInt64LE(BigInt(n), at);
}

function readU64(b: Buffer, at: number, field: string): number {
  const v = b.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${field} ${v} does not fit in 53 bits`);
  return Number(v);
}
