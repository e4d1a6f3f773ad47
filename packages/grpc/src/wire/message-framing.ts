// gRPC's Length-Prefixed-Message (PROTOCOL-HTTP2.md): a 1-byte Compressed-Flag, a 4-byte
// big-endian Message-Length, then the message. DATA frames carry a stream of these with no
// alignment: one message may span several chunks, and one chunk may hold several messages.

import { GrpcError } from "./grpc-error.js";
import { Status } from "./status.js";

/** Bytes before each message: the compressed flag and the length. */
export const MESSAGE_HEADER_BYTES = 5;

/** The message with its 5-byte prefix, uncompressed (flag 0), in one Buffer. */
export function encodeMessage(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(MESSAGE_HEADER_BYTES + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, MESSAGE_HEADER_BYTES);
  return out;
}

/**
 * Whether `chunk` holds exactly one whole Length-Prefixed-Message, as a unary call's DATA
 * usually does: its message is then `chunk.subarray(MESSAGE_HEADER_BYTES)` and its flag
 * `chunk[0]`, and a reader that has buffered nothing yet can take it without a decoder.
 */
export function isSingleMessage(chunk: Buffer): boolean {
  return (
    chunk.length >= MESSAGE_HEADER_BYTES &&
    chunk.readUInt32BE(1) === chunk.length - MESSAGE_HEADER_BYTES
  );
}

/** grpc-js's text for a message over the limit, which clients and tests match. */
export function messageTooLargeText(length: number, max: number): string {
  return `Received message larger than max (${length} vs. ${max})`;
}

/**
 * Splits a byte stream into messages. push() each DATA chunk as it arrives; each complete
 * message is passed to onMessage in order, as a view into the chunk when it lies within one
 * (no copy: it shares the chunk's memory, so a caller that reuses its chunks must copy) or
 * as a fresh Buffer when it was split. A length prefix over maxMessageBytes throws RESOURCE_EXHAUSTED before its bytes
 * are buffered; after a throw the decoder must not be used again.
 */
export class MessageDecoder {
  /**
   * The 5-byte prefix being read, when it is split across chunks. Allocated only then: most
   * messages arrive with their prefix whole, and a Buffer per call is work for the GC.
   */
  private header: Buffer | undefined;
  private headerFilled = 0;
  /** The message being read when it is split: its bytes so far. */
  private body: Buffer | undefined;
  private bodyFilled = 0;
  private compressed = false;

  constructor(
    /** The largest Message-Length accepted; -1 for no limit. */
    private readonly maxMessageBytes: number,
    private readonly onMessage: (message: Buffer, compressed: boolean) => void,
  ) {}

  /** Whether the stream so far ends on a message boundary (nothing partial held). */
  get idle(): boolean {
    return this.headerFilled === 0 && this.body === undefined;
  }

  push(chunk: Buffer): void {
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      if (this.body !== undefined) {
        const n = Math.min(end - pos, this.body.length - this.bodyFilled);
        chunk.copy(this.body, this.bodyFilled, pos, pos + n);
        this.bodyFilled += n;
        pos += n;
        if (this.bodyFilled === this.body.length) {
          const message = this.body;
          this.body = undefined;
          this.onMessage(message, this.compressed);
        }
        continue;
      }
      let length: number;
      if (this.headerFilled === 0 && end - pos >= MESSAGE_HEADER_BYTES) {
        // The common case: the whole prefix is in this chunk.
        this.compressed = chunk[pos] === 1;
        length = chunk.readUInt32BE(pos + 1);
        pos += MESSAGE_HEADER_BYTES;
      } else {
        this.header ??= Buffer.alloc(MESSAGE_HEADER_BYTES);
        const n = Math.min(end - pos, MESSAGE_HEADER_BYTES - this.headerFilled);
        chunk.copy(this.header, this.headerFilled, pos, pos + n);
        this.headerFilled += n;
        pos += n;
        if (this.headerFilled < MESSAGE_HEADER_BYTES) return;
        this.headerFilled = 0;
        this.compressed = this.header[0] === 1;
        length = this.header.readUInt32BE(1);
      }
      if (this.maxMessageBytes >= 0 && length > this.maxMessageBytes) {
        throw new GrpcError(
          Status.RESOURCE_EXHAUSTED,
          messageTooLargeText(length, this.maxMessageBytes),
        );
      }
      if (end - pos >= length) {
        const message = chunk.subarray(pos, pos + length);
        pos += length;
        this.onMessage(message, this.compressed);
      } else {
        this.body = Buffer.allocUnsafe(length);
        this.bodyFilled = 0;
      }
    }
  }
}
