// etcdctl 3.4 dials each endpoint of `endpoint status`, `endpoint hashkv`, `move-leader` and
// `defrag` on its own, with the endpoint as given (`http://127.0.0.1:2379`) as the HTTP/2
// :authority. Node's HTTP/2 server (nghttp2) answers a request whose :authority has a
// character outside RFC 3986's authority set ('/' here) with RST_STREAM PROTOCOL_ERROR, and
// Node 20 has no option to turn that check off (nghttp2_option_set_no_http_messaging is not
// exposed). etcd's Go server accepts it. AuthorityRewriter cuts a request's :authority
// `scheme://host:port[/...]` down to `host:port` before nghttp2 sees it. Everything else is
// forwarded byte for byte, and so are header blocks with nothing to cut.
//
// Only connections that need it pay for it: acceptByAuthority reads a new connection's
// first header block (a client keeps one :authority per connection; grpc-js and the etcd3
// client send host:port) and hands the socket itself to HTTP/2, which then reads it natively,
// unless that block had a scheme to cut; only then does the connection go through the
// rewriter's JavaScript stream (withAuthoritySchemesCut). To get that first block from
// clients that wait for the server's SETTINGS, it sends the server's SETTINGS itself (see
// acceptByAuthority).
//
// HPACK (RFC 7541): only :authority values are changed, each in place and only ever made
// shorter, so every dynamic-table entry keeps its position and the server's table holds
// entries no larger than the client's: it evicts no entry the client can still refer to.

import type { Socket } from "node:net";
import { Duplex } from "node:stream";

const PREFACE_LENGTH = 24;
const FRAME_HEADER_LENGTH = 9;
const TYPE_HEADERS = 0x1;
const TYPE_CONTINUATION = 0x9;
const TYPE_SETTINGS = 0x4;
const FLAG_ACK = 0x1;
const FLAG_END_HEADERS = 0x4;
const FLAG_PADDED = 0x8;
const FLAG_PRIORITY = 0x20;
/** Every HTTP/2 peer accepts frames this large (the least SETTINGS_MAX_FRAME_SIZE). */
const MIN_MAX_FRAME_SIZE = 16_384;
/** A header block larger than this is forwarded untouched (nghttp2 refuses it anyway). */
const MAX_HEADER_BLOCK = 1 << 20;
/** Static table index of :authority. */
const STATIC_AUTHORITY = 1;
const STATIC_TABLE_LENGTH = 61;
/** The dynamic table size the client may use until it says otherwise (SETTINGS default). */
const DEFAULT_TABLE_SIZE = 4096;
/** Each dynamic-table entry costs at least this many octets (RFC 7541 §4.1). */
const ENTRY_OVERHEAD = 32;

/**
 * HPACK's Huffman code (RFC 7541 Appendix B) is canonical, so the code lengths of symbols
 * 0..256 (EOS) define it: 'a' = 5 bits ... 'z' = 30 bits.
 */
const HUFFMAN_LENGTHS =
  "isxxxxxxxtzxxzxxxxxxxxzxxxxxxxxxbffhibdgffdgdbbbaaabbbbbbbcdkbhfibccccccccccccccccccccccdcdioijbkabababbbaccbbbabcbaabccccckgjixprpprrrsrssssststtrstssssqrsrsstrqprrssqsrrtqrssqqrqsrssprrrsrrsvvporsruvvvwwvtuoqvwwvwtqqvvxwwwptpqrqqsrruuttvsvwvvwwwwwxwwwwwvz";
const EOS = 256;

interface Huffman {
  /** Code and bit length of each symbol. */
  readonly codes: readonly number[];
  readonly lengths: readonly number[];
  /** Canonical decoding: symbols by (length, symbol), and per length their count. */
  readonly sorted: readonly number[];
  readonly countByLength: readonly number[];
}

const HUFFMAN: Huffman = (() => {
  const lengths = Array.from(HUFFMAN_LENGTHS, (c) => c.charCodeAt(0) - 97 + 5);
  const sorted = lengths.map((_, s) => s);
  sorted.sort((a, b) => (lengths[a] ?? 0) - (lengths[b] ?? 0) || a - b);
  const codes = new Array<number>(lengths.length).fill(0);
  const countByLength = new Array<number>(31).fill(0);
  let code = 0;
  let previous = lengths[sorted[0] ?? 0] ?? 0;
  sorted.forEach((s, i) => {
    const length = lengths[s] ?? 0;
    if (i > 0) code = (code + 1) * 2 ** (length - previous);
    previous = length;
    codes[s] = code;
    countByLength[length] = (countByLength[length] ?? 0) + 1;
  });
  return { codes, lengths, sorted, countByLength };
})();

class MalformedError extends Error {}

/** Decodes a Huffman-coded HPACK string (RFC 7541 §5.2). */
export function huffmanDecode(input: Uint8Array): Buffer {
  const out: number[] = [];
  let code = 0;
  let length = 0;
  let first = 0;
  let index = 0;
  let allOnes = true;
  for (const byte of input) {
    for (let bit = 7; bit >= 0; bit--) {
      const b = (byte >> bit) & 1;
      allOnes &&= b === 1;
      code = code * 2 + b;
      length++;
      if (length > 30) throw new MalformedError("huffman code too long");
      const count = HUFFMAN.countByLength[length] ?? 0;
      if (code - first < count) {
        const symbol = HUFFMAN.sorted[index + code - first] ?? EOS;
        if (symbol === EOS) throw new MalformedError("EOS in huffman string");
        out.push(symbol);
        code = 0;
        length = 0;
        first = 0;
        index = 0;
        allOnes = true;
      } else {
        first = (first + count) * 2;
        index += count;
      }
    }
  }
  // What is left must be padding: fewer than 8 bits, all ones (a prefix of EOS).
  if (length > 7 || !allOnes) throw new MalformedError("bad huffman padding");
  return Buffer.from(out);
}

/** Huffman-codes an HPACK string. */
export function huffmanEncode(input: Uint8Array): Buffer {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const byte of input) {
    const length = HUFFMAN.lengths[byte] ?? 0;
    const code = HUFFMAN.codes[byte] ?? 0;
    for (let bit = length - 1; bit >= 0; bit--) {
      acc = (acc << 1) | (Math.floor(code / 2 ** bit) & 1);
      if (++bits === 8) {
        out.push(acc);
        acc = 0;
        bits = 0;
      }
    }
  }
  if (bits > 0) out.push(((acc << (8 - bits)) | ((1 << (8 - bits)) - 1)) & 0xff);
  return Buffer.from(out);
}

function encodeInteger(value: number, prefixBits: number, firstByteFlags: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([firstByteFlags | value]);
  const out = [firstByteFlags | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) | 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Buffer.from(out);
}

/** An HPACK string literal, Huffman-coded when that is shorter. */
function encodeString(value: Buffer): Buffer {
  const huffman = huffmanEncode(value);
  if (huffman.length < value.length) {
    return Buffer.concat([encodeInteger(huffman.length, 7, 0x80), huffman]);
  }
  return Buffer.concat([encodeInteger(value.length, 7, 0), value]);
}

/** `scheme://host:port[/path]` → `host:port`; undefined for anything without a scheme. */
export function authorityWithoutScheme(value: string): string | undefined {
  const match = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/]*)/.exec(value);
  return match?.[1];
}

class BlockReader {
  pos = 0;
  constructor(readonly block: Buffer) {}

  byte(): number {
    const b = this.block[this.pos];
    if (b === undefined) throw new MalformedError("header block ends early");
    return b;
  }

  integer(prefixBits: number): number {
    const max = (1 << prefixBits) - 1;
    let value = this.byte() & max;
    this.pos++;
    if (value < max) return value;
    for (let shift = 0; ; shift += 7) {
      if (shift > 28) throw new MalformedError("integer too large");
      const b = this.byte();
      this.pos++;
      value += (b & 127) * 2 ** shift;
      if ((b & 128) === 0) return value;
    }
  }

  /** A string literal's octets, decoded. */
  string(): Buffer {
    const huffman = (this.byte() & 0x80) !== 0;
    const raw = this.rawString();
    return huffman ? huffmanDecode(raw) : raw;
  }

  /** A string literal's octets as sent (Huffman-coded or not). */
  rawString(): Buffer {
    const length = this.integer(7);
    if (this.pos + length > this.block.length) throw new MalformedError("string ends early");
    const raw = this.block.subarray(this.pos, this.pos + length);
    this.pos += length;
    return raw;
  }
}

/**
 * Rewrites the client-to-server bytes of one HTTP/2 connection: push() each chunk as it
 * arrives and forward what it returns.
 */
export class AuthorityRewriter {
  private prefaceLeft = PREFACE_LENGTH;
  /** Bytes of the frame being forwarded as they come (every frame but header blocks). */
  private passLeft = 0;
  /** Bytes not yet forwarded: an incomplete frame header or header-block frame. */
  private pending: Buffer = Buffer.alloc(0);
  /** The frames of a header block still waiting for its END_HEADERS. */
  private blockFrames: Buffer[] = [];
  private blockFragments: Buffer[] = [];
  private blockBytes = 0;
  private blockStream = 0;
  /** Flags and priority fields of the block's HEADERS frame. */
  private blockFlags = 0;
  private blockPriority: Buffer | undefined;
  /** Whether each dynamic-table entry (newest first) is named :authority. */
  private table: boolean[] = [];
  private tableSizeLimit = DEFAULT_TABLE_SIZE;
  /** After anything not understood, everything is forwarded as is (nghttp2 will judge). */
  private passthrough = false;
  /** Header blocks read whole so far, and how many of them had an :authority cut. */
  blocksRead = 0;
  blocksRewritten = 0;
  /** Whether the client's first SETTINGS ACK is still to be taken out (see acceptByAuthority). */
  private dropSettingsAck: boolean;

  constructor(options: { dropFirstSettingsAck?: boolean } = {}) {
    this.dropSettingsAck = options.dropFirstSettingsAck ?? false;
  }

  /** Bytes pushed but not yet returned: a partial frame, or a header block not yet complete. */
  get held(): Buffer {
    return Buffer.concat([...this.blockFrames, this.pending]);
  }

  /** Whether the first SETTINGS ACK was taken out (when asked to). */
  get settingsAckDropped(): boolean {
    return !this.dropSettingsAck;
  }

  /** Whether it has stopped looking (it forwards everything unchanged from now on). */
  get passingThrough(): boolean {
    return this.passthrough;
  }

  push(chunk: Buffer): Buffer {
    if (this.passthrough) return chunk;
    const out: Buffer[] = [];
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    while (data.length > 0) {
      if (this.passthrough) {
        out.push(data);
        break;
      }
      if (this.prefaceLeft > 0 || this.passLeft > 0) {
        const n = Math.min(data.length, this.prefaceLeft > 0 ? this.prefaceLeft : this.passLeft);
        out.push(data.subarray(0, n));
        data = data.subarray(n);
        if (this.prefaceLeft > 0) this.prefaceLeft -= n;
        else this.passLeft -= n;
        continue;
      }
      if (data.length < FRAME_HEADER_LENGTH) {
        this.pending = Buffer.from(data);
        break;
      }
      const length = data.readUIntBE(0, 3);
      const type = data[3] ?? 0;
      const ack = type === TYPE_SETTINGS && ((data[4] ?? 0) & FLAG_ACK) !== 0 && length === 0;
      if (ack && this.dropSettingsAck) {
        this.dropSettingsAck = false;
        data = data.subarray(FRAME_HEADER_LENGTH);
        continue;
      }
      const isBlock =
        type === TYPE_HEADERS || (type === TYPE_CONTINUATION && this.blockFrames.length > 0);
      if (!isBlock || this.blockBytes + length > MAX_HEADER_BLOCK) {
        // A header block left unread would leave the dynamic table unknown: stop rewriting.
        if (isBlock || this.blockFrames.length > 0) this.giveUp(out);
        out.push(data.subarray(0, FRAME_HEADER_LENGTH));
        this.passLeft = length;
        data = data.subarray(FRAME_HEADER_LENGTH);
        continue;
      }
      if (data.length < FRAME_HEADER_LENGTH + length) {
        this.pending = Buffer.from(data);
        break;
      }
      const frame = data.subarray(0, FRAME_HEADER_LENGTH + length);
      data = data.subarray(FRAME_HEADER_LENGTH + length);
      this.headerBlockFrame(frame, out);
    }
    return out.length === 1 && out[0] !== undefined ? out[0] : Buffer.concat(out);
  }

  private headerBlockFrame(frame: Buffer, out: Buffer[]): void {
    const type = frame[3] ?? 0;
    const flags = frame[4] ?? 0;
    const stream = frame.readUInt32BE(5) & 0x7fffffff;
    let payload = frame.subarray(FRAME_HEADER_LENGTH);
    if (type === TYPE_HEADERS) {
      if (this.blockFrames.length > 0) {
        this.giveUp(out);
        out.push(frame);
        return;
      }
      let padding = 0;
      if (flags & FLAG_PADDED) {
        padding = payload[0] ?? 0;
        payload = payload.subarray(1);
      }
      if (flags & FLAG_PRIORITY) {
        this.blockPriority = Buffer.from(payload.subarray(0, 5));
        payload = payload.subarray(5);
      } else {
        this.blockPriority = undefined;
      }
      if (padding > payload.length) {
        this.passthrough = true;
        out.push(frame);
        return;
      }
      payload = payload.subarray(0, payload.length - padding);
      this.blockStream = stream;
      this.blockFlags = flags;
    } else if (stream !== this.blockStream) {
      this.giveUp(out);
      out.push(frame);
      return;
    }
    this.blockFrames.push(Buffer.from(frame));
    this.blockFragments.push(Buffer.from(payload));
    this.blockBytes += frame.length;
    if (flags & FLAG_END_HEADERS) this.endBlock(out);
  }

  /** Forwards the collected frames as they came and stops rewriting. */
  private giveUp(out: Buffer[]): void {
    out.push(...this.blockFrames);
    this.resetBlock();
    this.passthrough = true;
  }

  private resetBlock(): void {
    this.blockFrames = [];
    this.blockFragments = [];
    this.blockBytes = 0;
  }

  private endBlock(out: Buffer[]): void {
    this.blocksRead++;
    let rewritten: Buffer | undefined;
    try {
      rewritten = this.rewriteBlock(Buffer.concat(this.blockFragments));
    } catch (e) {
      if (!(e instanceof MalformedError)) throw e;
      this.giveUp(out);
      return;
    }
    if (rewritten === undefined) {
      out.push(...this.blockFrames);
    } else {
      this.blocksRewritten++;
      out.push(...this.frames(rewritten));
    }
    this.resetBlock();
  }

  /** The block as HEADERS + CONTINUATION frames, without padding. */
  private frames(block: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    const priority = this.blockPriority ?? Buffer.alloc(0);
    let rest = block;
    let first = true;
    do {
      const room = MIN_MAX_FRAME_SIZE - (first ? priority.length : 0);
      const fragment = rest.subarray(0, room);
      rest = rest.subarray(fragment.length);
      const last = rest.length === 0;
      let flags = first ? this.blockFlags & ~(FLAG_PADDED | FLAG_END_HEADERS) : 0;
      if (last) flags |= FLAG_END_HEADERS;
      const payload = first ? Buffer.concat([priority, fragment]) : fragment;
      const header = Buffer.alloc(FRAME_HEADER_LENGTH);
      header.writeUIntBE(payload.length, 0, 3);
      header[3] = first ? TYPE_HEADERS : TYPE_CONTINUATION;
      header[4] = flags;
      header.writeUInt32BE(this.blockStream, 5);
      frames.push(header, payload);
      first = false;
    } while (rest.length > 0);
    return frames;
  }

  private isAuthorityIndex(index: number): boolean {
    if (index === STATIC_AUTHORITY) return true;
    if (index <= STATIC_TABLE_LENGTH) return false;
    return this.table[index - STATIC_TABLE_LENGTH - 1] ?? false;
  }

  private addEntry(isAuthority: boolean): void {
    this.table.unshift(isAuthority);
    // Entries past what the table can hold were evicted by the client: none refers to them.
    const capacity = Math.ceil(this.tableSizeLimit / ENTRY_OVERHEAD);
    if (this.table.length > capacity) this.table.length = capacity;
  }

  /** The block with :authority values cut down, or undefined if nothing changed. */
  private rewriteBlock(block: Buffer): Buffer | undefined {
    const reader = new BlockReader(block);
    const parts: Buffer[] = [];
    let copiedTo = 0;
    let changed = false;
    while (reader.pos < block.length) {
      const first = reader.byte();
      if (first & 0x80) {
        reader.integer(7); // indexed field: refers to what is already there
        continue;
      }
      if ((first & 0xe0) === 0x20) {
        const size = reader.integer(5);
        this.tableSizeLimit = Math.max(size, DEFAULT_TABLE_SIZE);
        continue;
      }
      const indexing = (first & 0xc0) === 0x40;
      const nameIndex = reader.integer(indexing ? 6 : 4);
      const isAuthority =
        nameIndex === 0
          ? reader.string().toString("latin1") === ":authority"
          : this.isAuthorityIndex(nameIndex);
      const valueStart = reader.pos;
      if (indexing) this.addEntry(isAuthority);
      if (!isAuthority) {
        reader.rawString();
        continue;
      }
      const value = reader.string();
      const cut = authorityWithoutScheme(value.toString("latin1"));
      if (cut === undefined) continue;
      parts.push(block.subarray(copiedTo, valueStart), encodeString(Buffer.from(cut, "latin1")));
      copiedTo = reader.pos;
      changed = true;
    }
    if (!changed) return undefined;
    parts.push(block.subarray(copiedTo));
    return Buffer.concat(parts);
  }
}

/**
 * The socket as a Duplex whose readable side has :authority schemes cut (AuthorityRewriter);
 * writes go to the socket unchanged. `rewriter` and `head` continue a connection whose first
 * bytes were already read: the rewriter that read them and what it made of them.
 */
export function withAuthoritySchemesCut(
  socket: Socket,
  rewriter = new AuthorityRewriter(),
  head?: Buffer,
): Duplex {
  // Node's HTTP/2 server sets this on the sockets it is handed, but cannot on a Duplex.
  socket.setNoDelay(true);
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    // HTTP/2 hands over a reply's frames together (corked): they leave in one writev system
    // call, as they would from a socket HTTP/2 writes to directly, not one call per frame.
    writev(chunks, callback) {
      socket.cork();
      const last = chunks.length - 1;
      for (let i = 0; i < last; i++) socket.write((chunks[i] as { chunk: Buffer }).chunk);
      socket.write((chunks[last] as { chunk: Buffer }).chunk, callback);
      socket.uncork();
    },
    final(callback) {
      socket.end(callback);
    },
    destroy(error, callback) {
      socket.destroy(error ?? undefined);
      callback(error);
    },
  });
  if (head !== undefined && head.length > 0) duplex.push(head);
  socket.on("data", (chunk: Buffer) => {
    let out: Buffer;
    try {
      out = rewriter.push(chunk);
    } catch (e) {
      duplex.destroy(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    if (out.length > 0 && !duplex.push(out)) socket.pause();
  });
  socket.on("end", () => duplex.push(null));
  socket.on("error", (e) => duplex.destroy(e));
  socket.on("close", () => duplex.destroy());
  socket.resume();
  return duplex;
}

/**
 * The server connection preface acceptByAuthority sends at once: an empty SETTINGS frame (all
 * defaults, which is what Node's HTTP/2 server runs with until its own SETTINGS are acked).
 * Clients that wait for the server's SETTINGS before their first request (grpc-js 1.14, Go
 * gRPC as in etcdctl) then send it, and the peek can see its :authority.
 */
const EMPTY_SETTINGS = Buffer.from("000000040000000000", "hex");

/**
 * How long a new connection may go without a complete first request (and the ack of
 * EMPTY_SETTINGS) before it is given to HTTP/2 through the rewriter anyway: a client may
 * connect before its first call, and its keepalive PINGs must be answered.
 */
export const FIRST_HEADERS_WAIT_MS = 1000;

/** Which way acceptByAuthority gave a connection to HTTP/2. */
export type ConnectionPath = "native" | "rewritten";

/**
 * Gives a new connection to `accept`: the socket itself if its first header block has no
 * :authority scheme to cut (HTTP/2 then reads it natively, starting with the bytes read here,
 * put back with unshift), else the socket through withAuthoritySchemesCut.
 *
 * To see a first request from clients that wait for the server's SETTINGS, it sends
 * EMPTY_SETTINGS itself before HTTP/2 has the connection, and takes the client's ack of them
 * out of the bytes HTTP/2 reads (nghttp2 would take it for the ack of its own SETTINGS, and
 * fail the connection on the second). So it waits for both the first header block and that
 * ack; past FIRST_HEADERS_WAIT_MS it gives the connection the rewriter, which still takes
 * the ack out when it comes.
 */
export function acceptByAuthority(
  socket: Socket,
  accept: (connection: Duplex, path: ConnectionPath) => void,
): void {
  const rewriter = new AuthorityRewriter({ dropFirstSettingsAck: true });
  const read: Buffer[] = [];
  const decide = (native: boolean) => {
    clearTimeout(timer);
    socket.off("data", onData);
    socket.off("error", onError);
    socket.pause();
    // What the rewriter made of the bytes read: as they came, less the SETTINGS ack.
    const head = Buffer.concat(read);
    if (native) {
      // HTTP/2 reads the rest itself, from where the rewriter stopped.
      socket.unshift(Buffer.concat([head, rewriter.held]));
      accept(socket, "native");
    } else {
      accept(withAuthoritySchemesCut(socket, rewriter, head), "rewritten");
    }
  };
  const onData = (chunk: Buffer) => {
    try {
      read.push(rewriter.push(chunk));
    } catch {
      // Bytes it cannot follow: the rewriter's stream will fail the connection.
      read.push(chunk);
      decide(false);
      return;
    }
    if (rewriter.passingThrough) decide(false);
    else if (rewriter.blocksRead > 0 && rewriter.settingsAckDropped) {
      decide(rewriter.blocksRewritten === 0);
    }
  };
  const onError = () => socket.destroy();
  const timer = setTimeout(() => decide(false), FIRST_HEADERS_WAIT_MS);
  socket.on("data", onData);
  socket.on("error", onError);
  socket.once("close", () => clearTimeout(timer));
  socket.write(EMPTY_SETTINGS);
}
