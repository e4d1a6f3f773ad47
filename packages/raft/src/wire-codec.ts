// Protobuf encoding of the core's data (proto/tug/raft.proto, etcd's raftpb numbering) for the
// store's WAL and peer transport. The core itself never encodes; this module only maps between
// types.ts and the generated code in gen/, and checks what comes off the wire.
//
// Contract, for every decodeX:
// - Input is untrusted. Malformed protobuf, an enum value tug does not know, or an id, term or
//   index above 2^53-1 (tug keeps them as JavaScript numbers) throws a WireCodecError whose
//   message names the field, e.g. "Message.entries[2].type: unknown EntryType 7".
// - Byte fields of the result are never views into the input, so the caller may reuse its read
//   buffer and a retained entry does not pin a whole network frame. decodeMessage and
//   decodeEntry copy their input once, on the first non-empty byte field, and hand out views of
//   that copy: the entries of one message share it (a retained entry pins at most the message it
//   came in, whose bytes are mostly entries anyway). Do not write into them.
// - Fields absent on the wire take their zero values (proto3), so an empty buffer decodes to
//   the zero value of the type. Unknown fields are skipped, for forward compatibility.
// Every encodeX checks that numbers are non-negative safe integers and enum names are known,
// and writes proto3's canonical form: zero-valued fields are left out.

import type { Long, Writer } from "protobufjs";
import { tug } from "./gen/raftpb.js";
import type {
  ConfChange,
  ConfChangeType,
  ConfState,
  Entry,
  EntryType,
  HardState,
  Message,
  MessageType,
  Snapshot,
  SnapshotMetadata,
} from "./types.js";

const pb = tug.raftpb;

/** Bytes or values that cannot be mapped between the wire and the core's types. */
export class WireCodecError extends Error {
  override readonly name = "WireCodecError";
  /** gRPC-aligned, as RaftError's codes: the input is at fault, not the system. */
  readonly code = "invalid_argument";
  /** Path of the offending field, e.g. "Message.entries[2].type"; the type name if unknown. */
  readonly field: string;

  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.field = field;
  }
}

// --- enum tables: names in types.ts ↔ numbers in raft.proto -----------------------------

const MESSAGE_TYPE_WIRE: Readonly<Record<MessageType, tug.raftpb.MessageType>> = {
  MsgHup: pb.MessageType.MsgHup,
  MsgBeat: pb.MessageType.MsgBeat,
  MsgProp: pb.MessageType.MsgProp,
  MsgApp: pb.MessageType.MsgApp,
  MsgAppResp: pb.MessageType.MsgAppResp,
  MsgVote: pb.MessageType.MsgVote,
  MsgVoteResp: pb.MessageType.MsgVoteResp,
  MsgSnap: pb.MessageType.MsgSnap,
  MsgHeartbeat: pb.MessageType.MsgHeartbeat,
  MsgHeartbeatResp: pb.MessageType.MsgHeartbeatResp,
  MsgUnreachable: pb.MessageType.MsgUnreachable,
  MsgSnapStatus: pb.MessageType.MsgSnapStatus,
  MsgCheckQuorum: pb.MessageType.MsgCheckQuorum,
  MsgTransferLeader: pb.MessageType.MsgTransferLeader,
  MsgTimeoutNow: pb.MessageType.MsgTimeoutNow,
  MsgReadIndex: pb.MessageType.MsgReadIndex,
  MsgReadIndexResp: pb.MessageType.MsgReadIndexResp,
  MsgPreVote: pb.MessageType.MsgPreVote,
  MsgPreVoteResp: pb.MessageType.MsgPreVoteResp,
  MsgForgetLeader: pb.MessageType.MsgForgetLeader,
};

const ENTRY_TYPE_WIRE: Readonly<Record<EntryType, tug.raftpb.EntryType>> = {
  EntryNormal: pb.EntryType.EntryNormal,
  EntryConfChange: pb.EntryType.EntryConfChange,
};

const CONF_CHANGE_TYPE_WIRE: Readonly<Record<ConfChangeType, tug.raftpb.ConfChangeType>> = {
  AddNode: pb.ConfChangeType.ConfChangeAddNode,
  RemoveNode: pb.ConfChangeType.ConfChangeRemoveNode,
  AddLearnerNode: pb.ConfChangeType.ConfChangeAddLearnerNode,
};

function invert<K extends string>(table: Readonly<Record<K, number>>): ReadonlyMap<number, K> {
  return new Map(Object.entries<number>(table).map(([name, n]) => [n, name as K]));
}

const MESSAGE_TYPE_OF = invert(MESSAGE_TYPE_WIRE);
const ENTRY_TYPE_OF = invert(ENTRY_TYPE_WIRE);
const CONF_CHANGE_TYPE_OF = invert(CONF_CHANGE_TYPE_WIRE);

// --- field checks -------------------------------------------------------------------------

/** Largest `high` word of a uint64 that still fits in 53 bits. */
const MAX_SAFE_HIGH = 0x1fffff;

// Field paths ("Message.entries[2].type") are built only when a check fails: `at` is the
// path of the enclosing message and `name` the field, or `[i]` for an element of a list.

function fail(at: string, name: string, problem: string): never {
  const field = name.startsWith("[") ? `${at}${name}` : `${at}.${name}`;
  throw new WireCodecError(field, `${field}: ${problem}`);
}

/** A uint64 off the wire as a number; throws if it does not fit in 53 bits. */
function u64In(v: number | Long | null | undefined, at: string, name: string): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === "number") {
    // Only without long.js does protobufjs hand out numbers, rounded above 2^53.
    if (Number.isSafeInteger(v) && v >= 0) return v;
    return fail(at, name, `${v} does not fit in 53 bits (max 2^53-1)`);
  }
  const high = v.high >>> 0;
  const low = v.low >>> 0;
  if (high > MAX_SAFE_HIGH) {
    const exact = (BigInt(high) << 32n) | BigInt(low);
    return fail(at, name, `${exact} does not fit in 53 bits (max 2^53-1)`);
  }
  return high * 0x1_0000_0000 + low;
}

/** A number bound for a uint64 field; undefined for zero so that it is not written. */
function u64Out(v: number, at: string, name: string): number | undefined {
  if (!Number.isSafeInteger(v) || v < 0) {
    return fail(at, name, `${v} is not an integer in [0, 2^53-1]`);
  }
  return v === 0 ? undefined : v;
}

function enumIn<K extends string>(
  table: ReadonlyMap<number, K>,
  enumName: string,
  v: number | null | undefined,
  at: string,
  name: string,
): K {
  return table.get(v ?? 0) ?? fail(at, name, `unknown ${enumName} ${v}`);
}

function enumOut<K extends string>(
  table: Readonly<Record<K, number>>,
  v: K,
  at: string,
  name: string,
): number | undefined {
  const n = Object.hasOwn(table, v) ? table[v] : fail(at, name, `unknown value ${String(v)}`);
  return n === 0 ? undefined : n;
}

const EMPTY = new Uint8Array(0);

function bytesIn(v: Uint8Array | null | undefined): Uint8Array {
  // Copy: protobufjs returns views into the input (see the contract above).
  return v === null || v === undefined || v.length === 0 ? EMPTY : new Uint8Array(v);
}

function bytesOut(v: Uint8Array, at: string, name: string): Uint8Array | undefined {
  if (!(v instanceof Uint8Array)) return fail(at, name, "not a Uint8Array");
  return v.length === 0 ? undefined : v;
}

/**
 * The writer's bytes as a plain Uint8Array. On Node protobufjs writes a Buffer, whose
 * slice() is a view rather than a copy; handing out Uint8Array keeps semantics uniform.
 */
function finish(w: Writer): Uint8Array {
  const b = w.finish();
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function checkInput(type: string, b: Uint8Array): void {
  if (!(b instanceof Uint8Array)) {
    throw new WireCodecError(type, `${type}: cannot decode a ${typeof b}, want a Uint8Array`);
  }
}

/** A decoder's failure that is not a WireCodecError (truncation, bad varint) as one. */
function malformed(type: string, e: unknown): WireCodecError {
  const why = e instanceof Error ? e.message : String(e);
  return new WireCodecError(type, `${type}: malformed protobuf (${why})`, { cause: e });
}

/** Runs protobufjs's decoder, turning its RangeError/Error into a WireCodecError. */
function parse<T>(type: string, decode: (b: Uint8Array) => T, b: Uint8Array): T {
  checkInput(type, b);
  try {
    return decode(b);
  } catch (e) {
    throw malformed(type, e);
  }
}

// --- to the wire ----------------------------------------------------------------------------

function idsOut(ids: readonly number[], at: string): number[] {
  return ids.map((id, i) => u64Out(id, at, `[${i}]`) ?? 0);
}

function confStateOut(cs: ConfState, at: string): tug.raftpb.IConfState {
  return {
    voters: idsOut(cs.voters, `${at}.voters`),
    learners: idsOut(cs.learners, `${at}.learners`),
  };
}

function snapshotOut(s: Snapshot, at: string): tug.raftpb.ISnapshot {
  const md = s.metadata;
  return {
    data: bytesOut(s.data, at, "data"),
    metadata: {
      confState: confStateOut(md.confState, `${at}.metadata.confState`),
      index: u64Out(md.index, at, "metadata.index"),
      term: u64Out(md.term, at, "metadata.term"),
    },
  };
}

// --- from the wire --------------------------------------------------------------------------

function idsIn(ids: readonly (number | Long)[] | null | undefined, at: string): number[] {
  return ids ? ids.map((id, i) => u64In(id, at, `[${i}]`)) : [];
}

function confStateIn(cs: tug.raftpb.IConfState | null | undefined, at: string): ConfState {
  return {
    voters: idsIn(cs?.voters, `${at}.voters`),
    learners: idsIn(cs?.learners, `${at}.learners`),
  };
}

function snapshotIn(s: tug.raftpb.ISnapshot, at: string): Snapshot {
  const md = s.metadata;
  const metadata: SnapshotMetadata = {
    index: u64In(md?.index, at, "metadata.index"),
    term: u64In(md?.term, at, "metadata.term"),
    confState: confStateIn(md?.confState, `${at}.metadata.confState`),
  };
  return { data: bytesIn(s.data), metadata };
}

// --- Message and Entry, by hand ----------------------------------------------------------
//
// The peer transport encodes and decodes every Raft message and the WAL every entry, so these
// two are written and read here field by field (https://protobuf.dev/programming-guides/
// encoding/) rather than through protobufjs's generic objects: no intermediate objects, no Long
// or LongBits per uint64 field, no writer operations, one allocation per encoded message and
// at most one copy per decoded one. The bytes are what protobufjs writes for the same values
// (fields in number order, zero values left out); test/wire-codec.test.ts checks that against
// the generated code for seeded messages, in both directions. The colder types above
// (snapshots, hard states, conf states and changes) stay on protobufjs.

/** Tags (field number << 3 | wire type) of Message's fields, raft.proto's numbering. */
const MESSAGE_TYPE_TAG = 0x08; // 1, varint
const MESSAGE_TO_TAG = 0x10; // 2, varint
const MESSAGE_FROM_TAG = 0x18; // 3, varint
const MESSAGE_TERM_TAG = 0x20; // 4, varint
const MESSAGE_LOG_TERM_TAG = 0x28; // 5, varint
const MESSAGE_INDEX_TAG = 0x30; // 6, varint
const MESSAGE_ENTRIES_TAG = 0x3a; // 7, length-delimited
const MESSAGE_COMMIT_TAG = 0x40; // 8, varint
const MESSAGE_SNAPSHOT_TAG = 0x4a; // 9, length-delimited
const MESSAGE_REJECT_TAG = 0x50; // 10, varint
const MESSAGE_REJECT_HINT_TAG = 0x58; // 11, varint
const MESSAGE_CONTEXT_TAG = 0x62; // 12, length-delimited
/** Entry's. */
const ENTRY_TYPE_TAG = 0x08; // 1, varint
const ENTRY_TERM_TAG = 0x10; // 2, varint
const ENTRY_INDEX_TAG = 0x18; // 3, varint
const ENTRY_DATA_TAG = 0x22; // 4, length-delimited

/** Wire types (the low 3 bits of a tag). */
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const START_GROUP = 3;
const END_GROUP = 4;
const FIXED32 = 5;

/** A varint is at most 10 bytes (64 bits, 7 a byte). */
const MAX_VARINT_BYTES = 10;

/** The path of entry `i` of `owner` ("Message.entries[2]"), or `owner` itself when i < 0. */
function entryPath(owner: string, i: number): string {
  return i < 0 ? owner : `${owner}[${i}]`;
}

/**
 * Reads protobuf from `buf`. Truncation and bad varints throw plain Errors, which the public
 * decoders turn into "T: malformed protobuf (...)"; field problems throw WireCodecError.
 */
class WireReader {
  pos = 0;
  /** Where the message being read ends: the input's end, or a nested message's. */
  limit: number;
  /** The one copy of the input that byte fields are views of; made on first need. */
  private copy: Uint8Array | undefined;

  constructor(private readonly buf: Uint8Array) {
    this.limit = buf.length;
  }

  private outOfRange(need: number): Error {
    return new RangeError(`index out of range: ${this.pos} + ${need} > ${this.limit}`);
  }

  /**
   * A varint as a number: exact up to 2^53-1, and above 2^53-1 whenever the value is (the
   * float sum only rounds once it is that large).
   */
  varint(): number {
    const buf = this.buf;
    const limit = this.limit;
    let pos = this.pos;
    if (pos >= limit) throw this.outOfRange(1);
    let b = buf[pos++] as number;
    if (b < 0x80) {
      this.pos = pos;
      return b;
    }
    let v = b & 0x7f;
    let scale = 0x80;
    for (let i = 1; i < MAX_VARINT_BYTES; i++) {
      if (pos >= limit) throw this.outOfRange(i + 1);
      b = buf[pos++] as number;
      v += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.pos = pos;
        return v;
      }
      scale *= 0x80;
    }
    throw new Error(`invalid varint encoding at offset ${this.pos}`);
  }

  /** A uint64 field's value, which must fit in 53 bits. */
  u64(at: string, name: string): number {
    const start = this.pos;
    const v = this.varint();
    if (v <= Number.MAX_SAFE_INTEGER) return v;
    return this.tooLarge(start, at, name);
  }

  /** The same for a field of entry `i` of `owner`, whose path is built only on failure. */
  entryU64(owner: string, i: number, name: string): number {
    const start = this.pos;
    const v = this.varint();
    if (v <= Number.MAX_SAFE_INTEGER) return v;
    return this.tooLarge(start, entryPath(owner, i), name);
  }

  private tooLarge(start: number, at: string, name: string): never {
    let exact = 0n;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const b = this.buf[start + i] as number;
      exact |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) break;
    }
    // As protobufjs reads it: the low 64 bits.
    return fail(at, name, `${BigInt.asUintN(64, exact)} does not fit in 53 bits (max 2^53-1)`);
  }

  /** An enum (int32) field's value, as protobufjs reads it. */
  int32(): number {
    const v = this.varint();
    return v <= 0x7fffffff ? v : Number(BigInt.asIntN(32, BigInt(Math.trunc(v))));
  }

  /** A length-delimited field's length, checked against what is left. */
  length(): number {
    const n = this.varint();
    if (n > this.limit - this.pos) throw this.outOfRange(n);
    return n;
  }

  /** Bytes [start, end) of the input, as a view of the call's one copy of it. */
  view(start: number, end: number): Uint8Array {
    this.copy ??= new Uint8Array(this.buf);
    return this.copy.subarray(start, end);
  }

  /** Skips a field of `wireType` whose tag was just read. */
  skip(wireType: number): void {
    switch (wireType) {
      case VARINT:
        this.varint();
        return;
      case FIXED64:
        this.advance(8);
        return;
      case LENGTH_DELIMITED: {
        const n = this.length(); // before reading pos: length() moves it
        this.pos += n;
        return;
      }
      case START_GROUP:
        for (;;) {
          const wt = this.varint() & 7;
          if (wt === END_GROUP) return;
          this.skip(wt);
        }
      case FIXED32:
        this.advance(4);
        return;
      default:
        throw new Error(`invalid wire type ${wireType} at offset ${this.pos}`);
    }
  }

  private advance(n: number): void {
    if (n > this.limit - this.pos) throw this.outOfRange(n);
    this.pos += n;
  }
}

/** Reads an Entry that ends at `end`; `owner` and `i` name it in errors (see entryPath). */
function readEntry(r: WireReader, end: number, owner: string, i: number): Entry {
  const outer = r.limit;
  r.limit = end;
  let type = 0;
  let term = 0;
  let index = 0;
  let data: Uint8Array = EMPTY;
  while (r.pos < end) {
    const tag = r.varint();
    switch (tag) {
      case ENTRY_TYPE_TAG:
        type = r.int32();
        break;
      case ENTRY_TERM_TAG:
        term = r.entryU64(owner, i, "term");
        break;
      case ENTRY_INDEX_TAG:
        index = r.entryU64(owner, i, "index");
        break;
      case ENTRY_DATA_TAG: {
        const n = r.length();
        data = n === 0 ? EMPTY : r.view(r.pos, r.pos + n);
        r.pos += n;
        break;
      }
      default:
        // An unknown field, or a known one with another wire type: skipped (proto3).
        r.skip(tag & 7);
    }
  }
  r.limit = outer;
  const typeName =
    ENTRY_TYPE_OF.get(type) ?? fail(entryPath(owner, i), "type", `unknown EntryType ${type}`);
  return { term, index, type: typeName, data };
}

function readMessage(b: Uint8Array): Message {
  const r = new WireReader(b);
  let type = 0;
  let to = 0;
  let from = 0;
  let term = 0;
  let logTerm = 0;
  let index = 0;
  const entries: Entry[] = [];
  let commit = 0;
  let snapshot: Snapshot | undefined;
  let reject = false;
  let rejectHint = 0;
  let context: Uint8Array = EMPTY;
  try {
    while (r.pos < r.limit) {
      const tag = r.varint();
      switch (tag) {
        case MESSAGE_TYPE_TAG:
          type = r.int32();
          break;
        case MESSAGE_TO_TAG:
          to = r.u64("Message", "to");
          break;
        case MESSAGE_FROM_TAG:
          from = r.u64("Message", "from");
          break;
        case MESSAGE_TERM_TAG:
          term = r.u64("Message", "term");
          break;
        case MESSAGE_LOG_TERM_TAG:
          logTerm = r.u64("Message", "logTerm");
          break;
        case MESSAGE_INDEX_TAG:
          index = r.u64("Message", "index");
          break;
        case MESSAGE_ENTRIES_TAG: {
          const n = r.length();
          const end = r.pos + n;
          entries.push(readEntry(r, end, "Message.entries", entries.length));
          break;
        }
        case MESSAGE_COMMIT_TAG:
          commit = r.u64("Message", "commit");
          break;
        case MESSAGE_SNAPSHOT_TAG: {
          const n = r.length();
          const s = pb.Snapshot.decode(b.subarray(r.pos, r.pos + n));
          snapshot = snapshotIn(s, "Message.snapshot");
          r.pos += n;
          break;
        }
        case MESSAGE_REJECT_TAG:
          reject = r.varint() !== 0;
          break;
        case MESSAGE_REJECT_HINT_TAG:
          rejectHint = r.u64("Message", "rejectHint");
          break;
        case MESSAGE_CONTEXT_TAG: {
          const n = r.length();
          context = n === 0 ? EMPTY : r.view(r.pos, r.pos + n);
          r.pos += n;
          break;
        }
        default:
          r.skip(tag & 7);
      }
    }
  } catch (e) {
    if (e instanceof WireCodecError) throw e;
    throw malformed("Message", e);
  }
  const out: { -readonly [K in keyof Message]: Message[K] } = {
    type: MESSAGE_TYPE_OF.get(type) ?? fail("Message", "type", `unknown MessageType ${type}`),
    to,
    from,
    term,
    logTerm,
    index,
    entries,
    commit,
    reject,
    rejectHint,
    context,
  };
  // Absent stays absent (as message() builds it), so that round trips compare equal.
  if (snapshot) out.snapshot = snapshot;
  return out;
}

/** Bytes of a varint holding `n`, a non-negative integer below 2^53. */
function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x20_0000) return 3;
  if (n < 0x1000_0000) return 4;
  let size = 4;
  for (let rest = Math.floor(n / 0x1000_0000); rest > 0; rest = Math.floor(rest / 0x80)) size++;
  return size;
}

function writeVarint(out: Uint8Array, pos: number, n: number): number {
  let v = n;
  while (v > 0x7f) {
    // `v & 0x7f` is exact for integers up to 2^53: ToInt32 keeps the low 32 bits.
    out[pos++] = (v & 0x7f) | 0x80;
    v = v > 0xffff_ffff ? Math.floor(v / 0x80) : v >>> 7;
  }
  out[pos++] = v;
  return pos;
}

/** Bytes of a varint field with a one-byte tag: none for zero (proto3 leaves it out). */
function varintFieldSize(n: number): number {
  return n === 0 ? 0 : 1 + varintSize(n);
}

function writeVarintField(out: Uint8Array, pos: number, tag: number, n: number): number {
  if (n === 0) return pos;
  out[pos] = tag;
  return writeVarint(out, pos + 1, n);
}

function bytesFieldSize(b: Uint8Array): number {
  return b.length === 0 ? 0 : 1 + varintSize(b.length) + b.length;
}

function writeBytesField(out: Uint8Array, pos: number, tag: number, b: Uint8Array): number {
  if (b.length === 0) return pos;
  out[pos] = tag;
  const at = writeVarint(out, pos + 1, b.length);
  out.set(b, at);
  return at + b.length;
}

function isU64(v: number): boolean {
  return Number.isSafeInteger(v) && v >= 0;
}

/** Checks a uint64 bound for the wire, throwing as u64Out does. */
function checkU64(v: number, at: string, name: string): void {
  if (!isU64(v)) u64Out(v, at, name);
}

/** Checks entry `i` of `owner` and returns the size of its fields (without tag and length). */
function entrySize(e: Entry, owner: string, i = -1): number {
  if (!Object.hasOwn(ENTRY_TYPE_WIRE, e.type)) {
    enumOut(ENTRY_TYPE_WIRE, e.type, entryPath(owner, i), "type");
  }
  if (!isU64(e.term)) u64Out(e.term, entryPath(owner, i), "term");
  if (!isU64(e.index)) u64Out(e.index, entryPath(owner, i), "index");
  if (!(e.data instanceof Uint8Array)) bytesOut(e.data, entryPath(owner, i), "data");
  return (
    varintFieldSize(ENTRY_TYPE_WIRE[e.type]) +
    varintFieldSize(e.term) +
    varintFieldSize(e.index) +
    bytesFieldSize(e.data)
  );
}

/** Writes a checked entry's fields at `pos`; returns the position after them. */
function writeEntryFields(out: Uint8Array, pos: number, e: Entry): number {
  let at = writeVarintField(out, pos, ENTRY_TYPE_TAG, ENTRY_TYPE_WIRE[e.type]);
  at = writeVarintField(out, at, ENTRY_TERM_TAG, e.term);
  at = writeVarintField(out, at, ENTRY_INDEX_TAG, e.index);
  return writeBytesField(out, at, ENTRY_DATA_TAG, e.data);
}

function writeMessage(m: Message): Uint8Array {
  const type = enumOut(MESSAGE_TYPE_WIRE, m.type, "Message", "type") ?? 0;
  checkU64(m.to, "Message", "to");
  checkU64(m.from, "Message", "from");
  checkU64(m.term, "Message", "term");
  checkU64(m.logTerm, "Message", "logTerm");
  checkU64(m.index, "Message", "index");
  checkU64(m.commit, "Message", "commit");
  checkU64(m.rejectHint, "Message", "rejectHint");
  if (!(m.context instanceof Uint8Array)) bytesOut(m.context, "Message", "context");
  const snapshot =
    m.snapshot === undefined
      ? undefined
      : finish(pb.Snapshot.encode(snapshotOut(m.snapshot, "Message.snapshot")));
  let size =
    varintFieldSize(type) +
    varintFieldSize(m.to) +
    varintFieldSize(m.from) +
    varintFieldSize(m.term) +
    varintFieldSize(m.logTerm) +
    varintFieldSize(m.index) +
    varintFieldSize(m.commit) +
    (m.reject ? 2 : 0) +
    varintFieldSize(m.rejectHint) +
    bytesFieldSize(m.context);
  const entries = m.entries;
  for (let i = 0; i < entries.length; i++) {
    const n = entrySize(entries[i] as Entry, "Message.entries", i);
    size += 1 + varintSize(n) + n;
  }
  if (snapshot) size += 1 + varintSize(snapshot.length) + snapshot.length;

  const out = allocate(size);
  let pos = writeVarintField(out, 0, MESSAGE_TYPE_TAG, type);
  pos = writeVarintField(out, pos, MESSAGE_TO_TAG, m.to);
  pos = writeVarintField(out, pos, MESSAGE_FROM_TAG, m.from);
  pos = writeVarintField(out, pos, MESSAGE_TERM_TAG, m.term);
  pos = writeVarintField(out, pos, MESSAGE_LOG_TERM_TAG, m.logTerm);
  pos = writeVarintField(out, pos, MESSAGE_INDEX_TAG, m.index);
  for (const e of entries) {
    out[pos] = MESSAGE_ENTRIES_TAG;
    // Sizes again rather than kept from the first pass: a few additions, no array.
    const n =
      varintFieldSize(ENTRY_TYPE_WIRE[e.type]) +
      varintFieldSize(e.term) +
      varintFieldSize(e.index) +
      bytesFieldSize(e.data);
    pos = writeEntryFields(out, writeVarint(out, pos + 1, n), e);
  }
  pos = writeVarintField(out, pos, MESSAGE_COMMIT_TAG, m.commit);
  if (snapshot) {
    out[pos] = MESSAGE_SNAPSHOT_TAG;
    pos = writeVarint(out, pos + 1, snapshot.length);
    out.set(snapshot, pos);
    pos += snapshot.length;
  }
  if (m.reject) {
    out[pos++] = MESSAGE_REJECT_TAG;
    out[pos++] = 1;
  }
  pos = writeVarintField(out, pos, MESSAGE_REJECT_HINT_TAG, m.rejectHint);
  pos = writeBytesField(out, pos, MESSAGE_CONTEXT_TAG, m.context);
  if (pos !== size) throw new Error(`wire codec: wrote ${pos} bytes of ${size} (a sizing bug)`);
  return out;
}

// Encoded messages and entries are short-lived (the transport copies them into its request,
// the WAL into its record), so small ones are carved out of a shared slab, as Node's
// Buffer.allocUnsafe does, instead of each getting a backing store of its own for the GC to
// track and free. A result stays valid for as long as it is held; it only shares its
// ArrayBuffer with others (a holder must respect byteOffset and byteLength).

const SLAB_BYTES = 16 * 1024;
/** Larger results are allocated on their own. */
const SLAB_MAX_RESULT = SLAB_BYTES / 4;
let slab = new Uint8Array(SLAB_BYTES);
let slabUsed = 0;

function allocate(size: number): Uint8Array {
  if (size > SLAB_MAX_RESULT) return new Uint8Array(size);
  if (size > SLAB_BYTES - slabUsed) {
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + size);
  slabUsed = (slabUsed + size + 7) & ~7; // 8-byte aligned, as Node's pool
  return out;
}

// --- public API -----------------------------------------------------------------------------

/** Encodes a Raft message for the peer transport. */
export function encodeMessage(m: Message): Uint8Array {
  return writeMessage(m);
}

/** Decodes a Raft message; see the contract at the top of this file. */
export function decodeMessage(b: Uint8Array): Message {
  checkInput("Message", b);
  return readMessage(b);
}

/** Encodes one log entry, as the WAL stores it. */
export function encodeEntry(e: Entry): Uint8Array {
  const size = entrySize(e, "Entry");
  const out = allocate(size);
  writeEntryFields(out, 0, e);
  return out;
}

export function decodeEntry(b: Uint8Array): Entry {
  checkInput("Entry", b);
  try {
    return readEntry(new WireReader(b), b.length, "Entry", -1);
  } catch (e) {
    if (e instanceof WireCodecError) throw e;
    throw malformed("Entry", e);
  }
}

export function encodeHardState(hs: HardState): Uint8Array {
  return finish(
    pb.HardState.encode({
      term: u64Out(hs.term, "HardState", "term"),
      vote: u64Out(hs.vote, "HardState", "vote"),
      commit: u64Out(hs.commit, "HardState", "commit"),
    }),
  );
}

export function decodeHardState(b: Uint8Array): HardState {
  const hs = parse("HardState", (x) => pb.HardState.decode(x), b);
  return {
    term: u64In(hs.term, "HardState", "term"),
    vote: u64In(hs.vote, "HardState", "vote"),
    commit: u64In(hs.commit, "HardState", "commit"),
  };
}

export function encodeSnapshot(s: Snapshot): Uint8Array {
  return finish(pb.Snapshot.encode(snapshotOut(s, "Snapshot")));
}

export function decodeSnapshot(b: Uint8Array): Snapshot {
  return snapshotIn(
    parse("Snapshot", (x) => pb.Snapshot.decode(x), b),
    "Snapshot",
  );
}

export function encodeConfState(cs: ConfState): Uint8Array {
  return finish(pb.ConfState.encode(confStateOut(cs, "ConfState")));
}

export function decodeConfState(b: Uint8Array): ConfState {
  return confStateIn(
    parse("ConfState", (x) => pb.ConfState.decode(x), b),
    "ConfState",
  );
}

/** Encodes a membership change, as carried in the data of an EntryConfChange entry. */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  return finish(
    pb.ConfChange.encode({
      type: enumOut(CONF_CHANGE_TYPE_WIRE, cc.type, "ConfChange", "type"),
      nodeId: u64Out(cc.nodeId, "ConfChange", "nodeId"),
      context: bytesOut(cc.context, "ConfChange", "context"),
    }),
  );
}

export function decodeConfChange(b: Uint8Array): ConfChange {
  const cc = parse("ConfChange", (x) => pb.ConfChange.decode(x), b);
  if (cc.type === pb.ConfChangeType.ConfChangeUpdateNode) {
    fail("ConfChange", "type", "ConfChangeUpdateNode is etcd's, not supported by tug");
  }
  return {
    type: enumIn(CONF_CHANGE_TYPE_OF, "ConfChangeType", cc.type, "ConfChange", "type"),
    nodeId: u64In(cc.nodeId, "ConfChange", "nodeId"),
    context: bytesIn(cc.context),
  };
}
