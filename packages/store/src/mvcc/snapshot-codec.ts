// Byte-level writing and reading for the keyspace snapshot: unsigned varints (protobuf's
// encoding, extended by arithmetic to 53 bits), length-prefixed byte strings, and a trailing
// little-endian uint32. The reader checks every bound and throws on malformed input.

export class ByteWriter {
  private buf: Uint8Array;
  private len = 0;

  constructor(initialCapacity = 1024) {
    this.buf = new Uint8Array(Math.max(64, initialCapacity));
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  raw(bytes: ArrayLike<number>): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }

  /** A non-negative safe integer, 7 bits per byte, low bits first. */
  uvarint(n: number): void {
    this.reserve(8);
    const buf = this.buf;
    while (n >= 0x80) {
      buf[this.len++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    buf[this.len++] = n;
  }

  /** A length-prefixed byte string. */
  bytes(b: Uint8Array): void {
    this.uvarint(b.length);
    this.raw(b);
  }

  uint32(n: number): void {
    this.reserve(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 4).setUint32(0, n, true);
    this.len += 4;
  }

  /** The bytes written so far, without copying (valid until the next write). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  /** The bytes written, in an array of exactly their length. */
  finish(): Uint8Array {
    return this.buf.length === this.len ? this.buf : this.buf.slice(0, this.len);
  }
}

export class ByteReader {
  constructor(
    private readonly buf: Uint8Array,
    private pos = 0,
  ) {}

  uvarint(): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (this.pos >= this.buf.length) throw new Error("truncated varint");
      const b = this.buf[this.pos++] as number;
      n += (b & 0x7f) * scale;
      if (b < 0x80) break;
      if (i >= 7) throw new Error("varint too long");
      scale *= 0x80;
    }
    if (!Number.isSafeInteger(n)) throw new Error("varint beyond 2^53");
    return n;
  }

  /** A length-prefixed byte string, copied out of the input. */
  bytes(): Uint8Array {
    // Uint8Array's slice copies; a Buffer's own slice() would return a view.
    return Uint8Array.prototype.slice.call(this.bytesView());
  }

  /** A length-prefixed byte string as a view into the input (valid while the input is). */
  bytesView(): Uint8Array {
    const n = this.uvarint();
    if (n > this.remaining()) throw new Error(`byte string of ${n} overruns the input`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  remaining(): number {
    return this.buf.length - this.pos;
  }

  done(): boolean {
    return this.pos === this.buf.length;
  }
}
