// DNS messages in the RFC 1035 wire format (section 4): header, questions and resource records,
// with name compression understood when decoding (4.1.4) and not used when encoding (allowed:
// compression is optional for senders). Only what a cluster DNS server needs: A, AAAA, CNAME,
// SRV (RFC 2782) and SOA rdata are structured; other types keep their raw rdata.

/** Resource record types (RFC 1035 3.2.2, RFC 3596, RFC 2782). */
export const RR_TYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  ANY: 255,
} as const;
/** The Internet class. */
export const CLASS_IN = 1;
/** Response codes (RFC 1035 4.1.1). */
export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
} as const;
/** The largest UDP payload without EDNS (RFC 1035 4.2.1). */
export const MAX_UDP_SIZE = 512;

export interface DnsQuestion {
  /** Fully qualified, without the trailing dot, as sent (case preserved). */
  readonly name: string;
  readonly type: number;
  readonly class: number;
}

export type RData =
  | { readonly kind: "a"; readonly address: string }
  | { readonly kind: "aaaa"; readonly address: string }
  | { readonly kind: "name"; readonly target: string }
  | {
      readonly kind: "srv";
      readonly priority: number;
      readonly weight: number;
      readonly port: number;
      readonly target: string;
    }
  | {
      readonly kind: "soa";
      readonly mname: string;
      readonly rname: string;
      readonly serial: number;
      readonly refresh: number;
      readonly retry: number;
      readonly expire: number;
      readonly minimum: number;
    }
  | { readonly kind: "raw"; readonly bytes: Uint8Array };

export interface DnsRecord {
  readonly name: string;
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
  readonly data: RData;
}

export interface DnsMessage {
  readonly id: number;
  /** QR: true in responses. */
  readonly response: boolean;
  readonly opcode: number;
  readonly authoritative: boolean;
  readonly truncated: boolean;
  readonly recursionDesired: boolean;
  readonly recursionAvailable: boolean;
  readonly rcode: number;
  readonly questions: readonly DnsQuestion[];
  readonly answers: readonly DnsRecord[];
  readonly authorities: readonly DnsRecord[];
  readonly additionals: readonly DnsRecord[];
}

/** A message that cannot be decoded; the server answers FORMERR when it has an id. */
export class DnsFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DnsFormatError";
  }
}

// ---- encoding ----

class Writer {
  private buf = new Uint8Array(512);
  length = 0;

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.length++] = v & 0xff;
  }
  u16(v: number): void {
    this.u8(v >>> 8);
    this.u8(v);
  }
  u32(v: number): void {
    this.u16(Math.floor(v / 0x10000) & 0xffff);
    this.u16(v & 0xffff);
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  name(name: string): void {
    const trimmed = name.endsWith(".") ? name.slice(0, -1) : name;
    if (trimmed !== "") {
      for (const label of trimmed.split(".")) {
        const bytes = new TextEncoder().encode(label);
        if (bytes.length === 0 || bytes.length > 63) {
          throw new DnsFormatError(`name "${name}": label "${label}" must be 1-63 bytes`);
        }
        this.u8(bytes.length);
        this.bytes(bytes);
      }
    }
    this.u8(0);
  }
  patchU16(at: number, v: number): void {
    this.buf[at] = (v >>> 8) & 0xff;
    this.buf[at + 1] = v & 0xff;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function ipv4Bytes(address: string): number[] {
  const parts = address.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new DnsFormatError(`A record address "${address}" is not a dotted IPv4 address`);
  }
  return parts;
}

function ipv6Bytes(address: string): number[] {
  const [head = "", tail] = address.split("::");
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  if (groups.length !== 8) {
    throw new DnsFormatError(`AAAA record address "${address}" is not an IPv6 address`);
  }
  return groups.flatMap((g) => {
    const v = Number.parseInt(g, 16);
    return [(v >>> 8) & 0xff, v & 0xff];
  });
}

function writeRecord(w: Writer, r: DnsRecord): void {
  w.name(r.name);
  w.u16(r.type);
  w.u16(r.class);
  w.u32(r.ttl);
  const lengthAt = w.length;
  w.u16(0);
  const start = w.length;
  const d = r.data;
  switch (d.kind) {
    case "a":
      for (const b of ipv4Bytes(d.address)) w.u8(b);
      break;
    case "aaaa":
      for (const b of ipv6Bytes(d.address)) w.u8(b);
      break;
    case "name":
      w.name(d.target);
      break;
    case "srv":
      w.u16(d.priority);
      w.u16(d.weight);
      w.u16(d.port);
      w.name(d.target);
      break;
    case "soa":
      w.name(d.mname);
      w.name(d.rname);
      w.u32(d.serial);
      w.u32(d.refresh);
      w.u32(d.retry);
      w.u32(d.expire);
      w.u32(d.minimum);
      break;
    case "raw":
      w.bytes(d.bytes);
      break;
  }
  w.patchU16(lengthAt, w.length - start);
}

/** Encodes a message (RFC 1035 4.1). */
export function encodeDnsMessage(m: DnsMessage): Uint8Array {
  const w = new Writer();
  w.u16(m.id);
  w.u16(
    (m.response ? 0x8000 : 0) |
      ((m.opcode & 0xf) << 11) |
      (m.authoritative ? 0x0400 : 0) |
      (m.truncated ? 0x0200 : 0) |
      (m.recursionDesired ? 0x0100 : 0) |
      (m.recursionAvailable ? 0x0080 : 0) |
      (m.rcode & 0xf),
  );
  w.u16(m.questions.length);
  w.u16(m.answers.length);
  w.u16(m.authorities.length);
  w.u16(m.additionals.length);
  for (const q of m.questions) {
    w.name(q.name);
    w.u16(q.type);
    w.u16(q.class);
  }
  for (const r of [...m.answers, ...m.authorities, ...m.additionals]) writeRecord(w, r);
  return w.result();
}

// ---- decoding ----

/** Pointers may chain; a well-formed message never needs more than this many jumps. */
const MAX_POINTER_JUMPS = 64;

class Reader {
  offset = 0;
  constructor(readonly buf: Uint8Array) {}

  need(n: number, what: string): void {
    if (this.offset + n > this.buf.length) {
      throw new DnsFormatError(`message ends inside ${what} at byte ${this.offset}`);
    }
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.offset++] ?? 0;
  }
  u16(what: string): number {
    return (this.u8(what) << 8) | this.u8(what);
  }
  u32(what: string): number {
    return this.u16(what) * 0x10000 + this.u16(what);
  }
  /** A possibly compressed name (RFC 1035 4.1.4). */
  name(): string {
    const labels: string[] = [];
    let pos = this.offset;
    let jumped = false;
    for (let jumps = 0; ; ) {
      if (pos >= this.buf.length) throw new DnsFormatError(`name runs past the message end`);
      const len = this.buf[pos] ?? 0;
      if ((len & 0xc0) === 0xc0) {
        if (pos + 1 >= this.buf.length) throw new DnsFormatError("name pointer is cut off");
        const target = ((len & 0x3f) << 8) | (this.buf[pos + 1] ?? 0);
        if (!jumped) this.offset = pos + 2;
        jumped = true;
        if (++jumps > MAX_POINTER_JUMPS) throw new DnsFormatError("name pointers loop");
        pos = target;
        continue;
      }
      if ((len & 0xc0) !== 0)
        throw new DnsFormatError(`label type 0x${len.toString(16)} is unknown`);
      if (len === 0) {
        if (!jumped) this.offset = pos + 1;
        break;
      }
      if (pos + 1 + len > this.buf.length)
        throw new DnsFormatError("label runs past the message end");
      labels.push(new TextDecoder().decode(this.buf.subarray(pos + 1, pos + 1 + len)));
      pos += 1 + len;
    }
    return labels.join(".");
  }
}

function readRecord(r: Reader): DnsRecord {
  const name = r.name();
  const type = r.u16("record type");
  const klass = r.u16("record class");
  const ttl = r.u32("record ttl");
  const length = r.u16("rdlength");
  r.need(length, "rdata");
  const end = r.offset + length;
  let data: RData;
  switch (type) {
    case RR_TYPE.A:
      if (length !== 4) throw new DnsFormatError(`A record rdata is ${length} bytes, not 4`);
      data = { kind: "a", address: Array.from(r.buf.subarray(r.offset, end)).join(".") };
      break;
    case RR_TYPE.AAAA: {
      if (length !== 16) throw new DnsFormatError(`AAAA record rdata is ${length} bytes, not 16`);
      const groups: string[] = [];
      for (let i = 0; i < 16; i += 2) {
        groups.push(
          (((r.buf[r.offset + i] ?? 0) << 8) | (r.buf[r.offset + i + 1] ?? 0)).toString(16),
        );
      }
      data = { kind: "aaaa", address: groups.join(":") };
      break;
    }
    case RR_TYPE.CNAME:
    case RR_TYPE.NS:
    case RR_TYPE.PTR:
      data = { kind: "name", target: r.name() };
      break;
    case RR_TYPE.SRV:
      data = {
        kind: "srv",
        priority: r.u16("SRV priority"),
        weight: r.u16("SRV weight"),
        port: r.u16("SRV port"),
        target: r.name(),
      };
      break;
    case RR_TYPE.SOA:
      data = {
        kind: "soa",
        mname: r.name(),
        rname: r.name(),
        serial: r.u32("SOA serial"),
        refresh: r.u32("SOA refresh"),
        retry: r.u32("SOA retry"),
        expire: r.u32("SOA expire"),
        minimum: r.u32("SOA minimum"),
      };
      break;
    default:
      data = { kind: "raw", bytes: r.buf.slice(r.offset, end) };
  }
  r.offset = end;
  return { name, type, class: klass, ttl, data };
}

/** Decodes a message; throws DnsFormatError naming what is malformed. */
export function decodeDnsMessage(buf: Uint8Array): DnsMessage {
  const r = new Reader(buf);
  const id = r.u16("header");
  const flags = r.u16("header");
  const qd = r.u16("header");
  const an = r.u16("header");
  const ns = r.u16("header");
  const ar = r.u16("header");
  const questions: DnsQuestion[] = [];
  for (let i = 0; i < qd; i++) {
    const name = r.name();
    questions.push({ name, type: r.u16("question type"), class: r.u16("question class") });
  }
  const section = (n: number) => Array.from({ length: n }, () => readRecord(r));
  const answers = section(an);
  const authorities = section(ns);
  const additionals = section(ar);
  return {
    id,
    response: (flags & 0x8000) !== 0,
    opcode: (flags >>> 11) & 0xf,
    authoritative: (flags & 0x0400) !== 0,
    truncated: (flags & 0x0200) !== 0,
    recursionDesired: (flags & 0x0100) !== 0,
    recursionAvailable: (flags & 0x0080) !== 0,
    rcode: flags & 0xf,
    questions,
    answers,
    authorities,
    additionals,
  };
}
