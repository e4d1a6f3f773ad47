// One call's HTTP/2 stream, from the server's side (PROTOCOL-HTTP2.md): Response-Headers once,
// Length-Prefixed-Messages, then Trailers with grpc-status and grpc-message; or Trailers-Only
// (a single HEADERS frame with END_STREAM) when the call fails before any message. It reads
// the request's messages, keeps the deadline, and tells the call when it is cancelled (the
// client reset the stream, the connection went, or the deadline passed).

import type {
  IncomingHttpHeaders,
  OutgoingHttpHeaders,
  ServerHttp2Stream,
  ServerStreamResponseOptions,
} from "node:http2";
import { type CallStatus, GrpcError, statusOfError } from "../wire/grpc-error.js";
import {
  encodeMessage,
  isSingleMessage,
  MESSAGE_HEADER_BYTES,
  MessageDecoder,
  messageTooLargeText,
} from "../wire/message-framing.js";
import { Metadata } from "../wire/metadata.js";
import { Status, type StatusCode } from "../wire/status.js";
import { encodeStatusMessage } from "../wire/status-message.js";
import type { ServerMethodDefinition } from "./service-definition.js";

/** Limits and behaviour the server applies to every call. */
export interface CallLimits {
  /** The largest request message accepted; -1 for no limit. */
  readonly maxReceiveMessageBytes: number;
  /** The largest response message sent; -1 for no limit. */
  readonly maxSendMessageBytes: number;
}

/**
 * node:http2 adds a date header to every response unless told not to (an option its types
 * do not list); gRPC has no use for it.
 */
const WITHOUT_DATE = { sendDate: false };
/** Headers sent with a response's first message (or with sendMetadata). */
const RESPONSE_OPTIONS: ServerStreamResponseOptions = { ...WITHOUT_DATE, waitForTrailers: true };
/**
 * The Response-Headers without metadata, and the trailers of an OK call without trailing
 * metadata: node:http2 copies what respond() and sendTrailers() are given, so one object
 * serves every call.
 */
const RESPONSE_HEADERS: Readonly<OutgoingHttpHeaders> = Object.freeze({
  ":status": 200,
  "content-type": "application/grpc",
});
const OK_TRAILERS: Readonly<OutgoingHttpHeaders> = Object.freeze({ "grpc-status": "0" });
/**
 * Messages written together are copied into one Buffer up to this many bytes (one HTTP/2
 * stream write instead of one per message); beyond it they are written corked, uncopied.
 */
const BATCH_COPY_MAX_BYTES = 64 * 1024;
/** Trailers-Only: the status in the one HEADERS frame. */
export const TRAILERS_ONLY_OPTIONS: ServerStreamResponseOptions = {
  ...WITHOUT_DATE,
  endStream: true,
};

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** What a call object hears from its stream. */
export interface CallEvents {
  /** A request message, decoded. */
  onMessage(message: unknown): void;
  /** The client half-closed: no more messages. */
  onHalfClose(): void;
  /** The call ended without a status from the handler: reset, connection lost, deadline. */
  onCancel(): void;
}

export class CallStream {
  /** Set once a status is sent or the stream is gone: nothing more is written. */
  finished = false;
  cancelled = false;
  /** Trailing metadata a streaming handler gave to end(). */
  trailer: Metadata | undefined;
  private headersSent = false;
  /** Made only when a chunk is not one whole message (see onStreamData). */
  private decoder: MessageDecoder | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private metadataCache: Metadata | undefined;
  private events: CallEvents | undefined;

  constructor(
    readonly stream: ServerHttp2Stream,
    readonly headers: IncomingHttpHeaders,
    readonly method: ServerMethodDefinition,
    private readonly limits: CallLimits,
    /** Epoch milliseconds, or Infinity for none. */
    readonly deadline: number,
  ) {
    // Shared listeners that find this call on the stream: no closures per call. finish()
    // unhooks the call again (see detachFromStream).
    const hooked = stream as CallHttp2Stream;
    hooked[CALL] = this;
    hooked[TRAILERS] = OK_TRAILERS;
    stream.on("data", onStreamData);
    stream.on("end", onStreamEnd);
    stream.on("close", onStreamClose);
    if (deadline !== Number.POSITIVE_INFINITY) {
      this.deadlineTimer = setTimeout(
        () => this.cancel(Status.DEADLINE_EXCEEDED, "Deadline exceeded"),
        Math.max(0, deadline - Date.now()),
      );
      this.deadlineTimer.unref();
    }
  }

  /** Who hears the stream; set right after construction, before any data can arrive. */
  listen(events: CallEvents): void {
    this.events = events;
  }

  /** The request's custom metadata, read from its headers on first use. */
  get metadata(): Metadata {
    this.metadataCache ??= Metadata.fromHttp2Headers(this.headers);
    return this.metadataCache;
  }

  /** Stops reading until resume() (a Readable call's consumer is behind). */
  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  /** @internal A DATA chunk of the request stream. */
  onData(chunk: Buffer): void {
    if (this.finished) return;
    try {
      if (this.decoder === undefined && isSingleMessage(chunk)) {
        const length = chunk.length - MESSAGE_HEADER_BYTES;
        const max = this.limits.maxReceiveMessageBytes;
        if (max >= 0 && length > max) {
          throw new GrpcError(Status.RESOURCE_EXHAUSTED, messageTooLargeText(length, max));
        }
        this.onFrame(chunk.subarray(MESSAGE_HEADER_BYTES), chunk[0] === 1);
        return;
      }
      this.decoder ??= new MessageDecoder(this.limits.maxReceiveMessageBytes, (bytes, compressed) =>
        this.onFrame(bytes, compressed),
      );
      this.decoder.push(chunk);
    } catch (e) {
      this.sendStatus(statusOfError(e));
    }
  }

  /** @internal The client half-closed the request stream. */
  onEnd(): void {
    if (this.finished) return;
    if (this.decoder !== undefined && !this.decoder.idle) {
      this.sendStatus({ code: Status.INTERNAL, details: "Request stream ended mid-message" });
      return;
    }
    this.events?.onHalfClose();
  }

  private onFrame(bytes: Buffer, compressed: boolean): void {
    if (compressed) {
      throw new GrpcError(
        Status.INTERNAL,
        "Received a compressed message but the call's grpc-encoding is identity",
      );
    }
    let message: unknown;
    try {
      message = this.method.requestDeserialize(bytes);
    } catch (e) {
      throw new GrpcError(Status.INTERNAL, `Failed to parse the request: ${errorText(e)}`);
    }
    this.events?.onMessage(message);
  }

  /** Sends the response headers now, with this metadata (grpc-js's sendMetadata). */
  sendMetadata(metadata: Metadata): void {
    if (this.finished || this.headersSent) return;
    this.respond(metadata.toHttp2Headers());
  }

  private respond(extra?: OutgoingHttpHeaders): void {
    this.headersSent = true;
    this.stream.respond(
      extra === undefined ? RESPONSE_HEADERS : { ...RESPONSE_HEADERS, ...extra },
      RESPONSE_OPTIONS,
    );
    // HTTP/2 asks once, after the last DATA.
    this.stream.on("wantTrailers", onWantTrailers);
  }

  /** The message framed; throws a GrpcError if it cannot be serialized or is too large. */
  private frame(value: unknown): Buffer {
    let bytes: Uint8Array;
    try {
      bytes = this.method.responseSerialize(value);
    } catch (e) {
      throw new GrpcError(Status.INTERNAL, `Failed to serialize the response: ${errorText(e)}`);
    }
    const max = this.limits.maxSendMessageBytes;
    if (max >= 0 && bytes.length > max) {
      throw new GrpcError(
        Status.RESOURCE_EXHAUSTED,
        `Sent message larger than max (${bytes.length} vs. ${max})`,
      );
    }
    return encodeMessage(bytes);
  }

  /** Writes one response message; callback once HTTP/2 has taken it (or with the error). */
  write(value: unknown, callback: (error?: Error | null) => void): void {
    if (this.finished) {
      callback(new GrpcError(Status.CANCELLED, "The call has ended"));
      return;
    }
    let frame: Buffer;
    try {
      frame = this.frame(value);
    } catch (e) {
      this.sendStatus(statusOfError(e));
      callback(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    if (!this.headersSent) this.respond();
    this.stream.write(frame, callback);
  }

  /**
   * Writes several response messages at once (a Writable's writev: what the handler wrote
   * while HTTP/2 was taking the previous ones), in one HTTP/2 stream write when they are
   * small together; callback once HTTP/2 has taken them all (or with the error).
   */
  writeMany(values: readonly unknown[], callback: (error?: Error | null) => void): void {
    if (this.finished) {
      callback(new GrpcError(Status.CANCELLED, "The call has ended"));
      return;
    }
    const frames: Buffer[] = [];
    let total = 0;
    try {
      for (const value of values) {
        const frame = this.frame(value);
        frames.push(frame);
        total += frame.length;
      }
    } catch (e) {
      this.sendStatus(statusOfError(e));
      callback(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    if (!this.headersSent) this.respond();
    if (total <= BATCH_COPY_MAX_BYTES) {
      this.stream.write(Buffer.concat(frames, total), callback);
      return;
    }
    // Large messages are not copied: HTTP/2 takes them as one vectored write.
    this.stream.cork();
    for (let i = 0; i < frames.length - 1; i++) this.stream.write(frames[i]);
    this.stream.write(frames[frames.length - 1], callback);
    this.stream.uncork();
  }

  /** The single response of a unary call, then status OK with the trailing metadata. */
  sendResponse(value: unknown, trailer?: Metadata): void {
    if (this.finished) return;
    let frame: Buffer;
    try {
      frame = this.frame(value);
    } catch (e) {
      this.sendStatus(statusOfError(e));
      return;
    }
    this.finish();
    if (this.stream.destroyed) return;
    if (trailer !== undefined && !trailer.empty) {
      (this.stream as CallHttp2Stream)[TRAILERS] = { ...trailer.toHttp2Headers(), ...OK_TRAILERS };
    }
    if (!this.headersSent) this.respond();
    this.stream.end(frame);
  }

  /** Ends the call with this status: in the trailers, or Trailers-Only if nothing was sent. */
  sendStatus(status: CallStatus): void {
    if (this.finished) return;
    this.finish();
    if (this.stream.destroyed) return;
    const trailers: OutgoingHttpHeaders = {
      ...status.trailers,
      "grpc-status": String(status.code),
    };
    if (status.details !== "") trailers["grpc-message"] = encodeStatusMessage(status.details);
    if (this.headersSent) {
      (this.stream as CallHttp2Stream)[TRAILERS] = trailers;
      this.stream.end();
    } else {
      this.stream.respond(
        { ":status": 200, "content-type": "application/grpc", ...trailers },
        TRAILERS_ONLY_OPTIONS,
      );
    }
  }

  /** Ends the call with this status and tells the handler it is cancelled. */
  cancel(code: StatusCode, details: string): void {
    if (this.finished) return;
    this.sendStatus({ code, details });
    this.markCancelled();
  }

  private finish(): void {
    this.finished = true;
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    this.detachFromStream();
  }

  /**
   * Once a status is sent or the stream is gone, the stream's listeners need nothing of the
   * call: they ignore what still arrives, and 'wantTrailers' reads the trailers from the stream
   * itself. So the stream lets go of the call here. A finished Node HTTP/2 stream outlives its
   * call: V8's scavenger keeps API objects that have had properties added (Node's stream handle
   * and its write requests) alive until the next Mark-Compact, so they are promoted to old
   * space together with whatever they still reach. Unhooked, that is Node's own state only,
   * not this call, its request and response, the handler's call object and what it closed over.
   * (A Map from stream to call instead of the property promoted more in
   * bench/server-promotion-bench.ts: its hash table is reallocated as calls come and go.)
   */
  private detachFromStream(): void {
    (this.stream as CallHttp2Stream)[CALL] = undefined;
  }

  private markCancelled(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.events?.onCancel();
  }

  /** @internal The stream closed. */
  onClose(): void {
    if (this.finished) return;
    // The stream closed before the handler's status: the client reset it or the connection
    // is gone. Nothing can be sent any more.
    this.finish();
    this.markCancelled();
  }
}

/**
 * Where a call's HTTP/2 stream holds its CallStream, for the shared listeners below; undefined
 * once the call is finished (a finished call ignores the stream's events).
 */
const CALL: unique symbol = Symbol("callStream");
/**
 * Where it holds the trailers to send when HTTP/2 asks for them ('wantTrailers'): OK_TRAILERS
 * unless the call ends otherwise or with trailing metadata.
 */
const TRAILERS: unique symbol = Symbol("trailers");

interface CallHttp2Stream extends ServerHttp2Stream {
  [CALL]: CallStream | undefined;
  [TRAILERS]: Readonly<OutgoingHttpHeaders>;
}

function onStreamData(this: CallHttp2Stream, chunk: Buffer): void {
  this[CALL]?.onData(chunk);
}

function onStreamEnd(this: CallHttp2Stream): void {
  this[CALL]?.onEnd();
}

function onStreamClose(this: CallHttp2Stream): void {
  this[CALL]?.onClose();
}

function onWantTrailers(this: CallHttp2Stream): void {
  if (!this.destroyed) this.sendTrailers(this[TRAILERS]);
}
