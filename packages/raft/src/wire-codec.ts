// Protobuf encoding of the core's data (proto/tug/raft.proto, etcd's raftpb numbering) for the
// store's WAL and peer transport. The core itself never encodes; this module only maps between
// types.ts and the generated code in gen/, and checks what comes off the wire.
//
// Contract, for every decodeX:
// - Input is untrusted. Malformed protobuf, an enum value tug does not know, or an id, term or
//   index above 2^53-1 (tug keeps them as JavaScript numbers) throws a WireCodecError whose
//   message names the field, e.g. "Message.entries[2].type: unknown EntryType 7".
// - Byte fields of the result are fresh copies, never views into the input, so the caller may
//   reuse its read buffer and a retained entry does not pin a whole network frame.
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

/** Runs protobufjs's decoder, turning its RangeError/Error into a WireCodecError. */
function parse<T>(type: string, decode: (b: Uint8Array) => T, b: Uint8Array): T {
  if (!(b instanceof Uint8Array)) {
    throw new WireCodecError(type, `${type}: cannot decode a ${typeof b}, want a Uint8Array`);
  }
  try {
    return decode(b);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new WireCodecError(type, `${type}: malformed protobuf (${why})`, { cause: e });
  }
}

// --- to the wire ----------------------------------------------------------------------------

function entryOut(e: Entry, at: string): tug.raftpb.IEntry {
  return {
    term: u64Out(e.term, at, "term"),
    index: u64Out(e.index, at, "index"),
    type: enumOut(ENTRY_TYPE_WIRE, e.type, at, "type"),
    data: bytesOut(e.data, at, "data"),
  };
}

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

function messageOut(m: Message): tug.raftpb.IMessage {
  return {
    type: enumOut(MESSAGE_TYPE_WIRE, m.type, "Message", "type"),
    to: u64Out(m.to, "Message", "to"),
    from: u64Out(m.from, "Message", "from"),
    term: u64Out(m.term, "Message", "term"),
    logTerm: u64Out(m.logTerm, "Message", "logTerm"),
    index: u64Out(m.index, "Message", "index"),
    entries: m.entries.map((e, i) => entryOut(e, `Message.entries[${i}]`)),
    commit: u64Out(m.commit, "Message", "commit"),
    snapshot: m.snapshot === undefined ? undefined : snapshotOut(m.snapshot, "Message.snapshot"),
    reject: m.reject ? true : undefined,
    rejectHint: u64Out(m.rejectHint, "Message", "rejectHint"),
    context: bytesOut(m.context, "Message", "context"),
  };
}

// --- from the wire --------------------------------------------------------------------------

function entryIn(e: tug.raftpb.IEntry, at: string): Entry {
  return {
    term: u64In(e.term, at, "term"),
    index: u64In(e.index, at, "index"),
    type: enumIn(ENTRY_TYPE_OF, "EntryType", e.type, at, "type"),
    data: bytesIn(e.data),
  };
}

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

function messageIn(m: tug.raftpb.IMessage): Message {
  const out: { -readonly [K in keyof Message]: Message[K] } = {
    type: enumIn(MESSAGE_TYPE_OF, "MessageType", m.type, "Message", "type"),
    to: u64In(m.to, "Message", "to"),
    from: u64In(m.from, "Message", "from"),
    term: u64In(m.term, "Message", "term"),
    logTerm: u64In(m.logTerm, "Message", "logTerm"),
    index: u64In(m.index, "Message", "index"),
    entries: (m.entries ?? []).map((e, i) => entryIn(e, `Message.entries[${i}]`)),
    commit: u64In(m.commit, "Message", "commit"),
    reject: m.reject === true,
    rejectHint: u64In(m.rejectHint, "Message", "rejectHint"),
    context: bytesIn(m.context),
  };
  // Absent stays absent (as message() builds it), so that round trips compare equal.
  if (m.snapshot) out.snapshot = snapshotIn(m.snapshot, "Message.snapshot");
  return out;
}

// --- public API -----------------------------------------------------------------------------

/** Encodes a Raft message for the peer transport. */
export function encodeMessage(m: Message): Uint8Array {
  return finish(pb.Message.encode(messageOut(m)));
}

/** Decodes a Raft message; see the contract at the top of this file. */
export function decodeMessage(b: Uint8Array): Message {
  return messageIn(parse("Message", (x) => pb.Message.decode(x), b));
}

/** Encodes one log entry, as the WAL stores it. */
export function encodeEntry(e: Entry): Uint8Array {
  return finish(pb.Entry.encode(entryOut(e, "Entry")));
}

export function decodeEntry(b: Uint8Array): Entry {
  return entryIn(
    parse("Entry", (x) => pb.Entry.decode(x), b),
    "Entry",
  );
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
