// A streaming call (server-streaming or bidi) on an HTTP/2 session. Responses are delivered
// either to handlers (push) or through async iteration (pull); both honour backpressure:
// pause() stops reading, so HTTP/2 flow control holds the server back; write() returns false
// when the request side is full, and onDrain says when to go on.

import { type ClientHttp2Stream, constants, type IncomingHttpHeaders } from "node:http2";
import { outsideReads } from "../outside-reads.js";
import { encodeMessage, GrpcError, MessageDecoder, Metadata, Status } from "../wire/index.js";
import {
  CANCELLED_ON_CLIENT,
  type CallOptions,
  deadlineExceededText,
  type MethodDefinition,
  requestHeaders,
} from "./call-options.js";
import type { Connection, SessionState } from "./connection.js";
import {
  errorOfClosedStream,
  errorOfResponseHeaders,
  statusOfTrailers,
  unavailable,
} from "./response-status.js";

/** Push delivery of a stream's responses. */
export interface StreamHandlers<Res> {
  /** Each response, in order. Not called after onEnd. */
  onMessage(response: Res): void;
  /** Exactly once: null when the server ended the call with OK, else why it ended. */
  onEnd(error: GrpcError | null): void;
  /** The response headers' custom metadata, before the first message. */
  onHeaders?(metadata: Metadata): void;
  /** write() returned false and the request side can take more now. */
  onDrain?(): void;
}

/**
 * Responses buffered for an iterating reader before the stream is paused: enough to keep the
 * reader busy between network reads, small enough that a slow reader holds little memory.
 */
export const ITERATOR_HIGH_WATER_MARK = 16;

interface Waiter<Res> {
  resolve(r: IteratorResult<Res>): void;
  reject(e: unknown): void;
}

export class ClientStream<Req, Res> implements AsyncIterable<Res> {
  private readonly method: MethodDefinition<Req, Res>;
  private readonly connection: Connection;
  private state: SessionState | undefined;
  private stream: ClientHttp2Stream | undefined;
  private handlers: StreamHandlers<Res> | undefined;
  private readonly pushMode: boolean;
  private readonly decoder: MessageDecoder;
  private received: GrpcError | null | undefined;
  private ended: GrpcError | null | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly signal: AbortSignal | undefined;
  // Pull mode: responses not yet taken, the reader waiting for one.
  private readonly queue: Res[] = [];
  private waiter: Waiter<Res> | undefined;
  private paused = false;

  /** @internal Use GrpcChannel.stream / serverStream. */
  constructor(
    connection: Connection,
    method: MethodDefinition<Req, Res>,
    options: CallOptions | undefined,
    maxReceiveBytes: number,
    handlers: StreamHandlers<Res> | undefined,
  ) {
    this.connection = connection;
    this.method = method;
    this.handlers = handlers;
    this.pushMode = handlers !== undefined;
    this.signal = options?.signal;
    this.decoder = new MessageDecoder(maxReceiveBytes, (bytes) => this.onMessageBytes(bytes));
    let timeoutMs: number | undefined;
    if (options?.deadline !== undefined) {
      timeoutMs = Math.max(0, options.deadline - Date.now());
    }
    if (this.signal?.aborted === true) {
      this.endLater(new GrpcError(Status.CANCELLED, CANCELLED_ON_CLIENT));
      return;
    }
    if (timeoutMs === 0) {
      this.endLater(new GrpcError(Status.DEADLINE_EXCEEDED, deadlineExceededText(0)));
      return;
    }
    let state: SessionState;
    let stream: ClientHttp2Stream;
    try {
      state = connection.open();
      stream = state.session.request(requestHeaders(method.path, timeoutMs, options?.metadata));
    } catch (e) {
      this.endLater(unavailable(e));
      return;
    }
    this.state = state;
    this.stream = stream;
    connection.callStarted(state);
    stream.on("response", (headers: IncomingHttpHeaders) => this.onResponse(headers));
    stream.on("data", (chunk: Buffer) => this.onData(chunk));
    stream.on("trailers", (trailers: IncomingHttpHeaders) => {
      this.received = statusOfTrailers(trailers);
    });
    // See unary-call.ts: the status is reported after the last message was read.
    stream.on("end", () => {
      if (this.received === undefined) return;
      if (!this.decoder.idle) {
        this.finish(new GrpcError(Status.INTERNAL, "Response ended inside a message"), false);
      } else {
        this.finish(this.received, false);
      }
    });
    stream.on("drain", () => this.handlers?.onDrain?.());
    let streamError: Error | undefined;
    stream.on("error", (e: Error) => {
      streamError = e;
    });
    stream.on("close", () =>
      this.finish(errorOfClosedStream(stream.rstCode, state, streamError), false),
    );
    if (timeoutMs !== undefined) {
      const ms = timeoutMs;
      this.timer = setTimeout(
        () => this.finish(new GrpcError(Status.DEADLINE_EXCEEDED, deadlineExceededText(ms)), true),
        ms,
      );
    }
    this.signal?.addEventListener("abort", this.onAbort);
  }

  /** Sends a request. false: the send buffer is full; wait for onDrain before writing more. */
  write(request: Req): boolean {
    const stream = this.stream;
    if (stream === undefined || this.ended !== undefined || stream.writableEnded) return false;
    let frame: Buffer;
    try {
      frame = encodeMessage(this.method.requestSerialize(request));
    } catch (e) {
      this.finish(
        new GrpcError(Status.INTERNAL, `Request message serialization failure: ${String(e)}`),
        true,
      );
      return false;
    }
    return stream.write(frame);
  }

  /** Half-closes: no more requests; responses keep coming until the server ends the call. */
  end(): void {
    const stream = this.stream;
    if (stream !== undefined && !stream.writableEnded && !stream.destroyed) stream.end();
  }

  /** Ends the call now: RST_STREAM CANCEL, and the call ends with CANCELLED. */
  cancel(): void {
    this.finish(new GrpcError(Status.CANCELLED, CANCELLED_ON_CLIENT), true);
  }

  /** Stops reading responses; HTTP/2 flow control then holds the server back. */
  pause(): void {
    this.paused = true;
    this.stream?.pause();
  }

  resume(): void {
    this.paused = false;
    this.stream?.resume();
  }

  /** Whether the call is over (its status known). */
  get done(): boolean {
    return this.ended !== undefined;
  }

  [Symbol.asyncIterator](): AsyncIterator<Res> {
    if (this.pushMode) {
      throw new Error("this stream delivers to handlers; iterate only a stream started without");
    }
    return {
      next: () => this.next(),
      return: () => {
        this.cancelQuietly();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  private next(): Promise<IteratorResult<Res>> {
    if (this.queue.length > 0) {
      const value = this.queue.shift() as Res;
      if (this.paused && this.queue.length < ITERATOR_HIGH_WATER_MARK / 2) this.resume();
      return Promise.resolve({ done: false, value });
    }
    if (this.ended !== undefined) {
      return this.ended === null
        ? Promise.resolve({ done: true, value: undefined })
        : Promise.reject(this.ended);
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** A reader that stopped iterating does not want the CANCELLED error either. */
  private cancelQuietly(): void {
    this.queue.length = 0;
    this.cancel();
  }

  private readonly onAbort = () => this.cancel();

  private onResponse(headers: IncomingHttpHeaders): void {
    if (headers["grpc-status"] !== undefined) {
      this.received = statusOfTrailers(headers);
      return;
    }
    const bad = errorOfResponseHeaders(headers);
    if (bad !== undefined) {
      this.finish(bad, true);
      return;
    }
    this.handlers?.onHeaders?.(Metadata.fromHttp2Headers(headers));
  }

  private onData(chunk: Buffer): void {
    if (this.ended !== undefined) return;
    try {
      this.decoder.push(chunk);
    } catch (e) {
      this.finish(e instanceof GrpcError ? e : new GrpcError(Status.INTERNAL, String(e)), true);
    }
  }

  private onMessageBytes(bytes: Buffer): void {
    if (this.ended !== undefined) return;
    let response: Res;
    try {
      response = this.method.responseDeserialize(bytes);
    } catch (e) {
      this.finish(
        new GrpcError(Status.INTERNAL, `Response message parsing error: ${String(e)}`),
        true,
      );
      return;
    }
    if (this.handlers !== undefined) {
      this.handlers.onMessage(response);
      return;
    }
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      waiter.resolve({ done: false, value: response });
      return;
    }
    this.queue.push(response);
    if (!this.paused && this.queue.length >= ITERATOR_HIGH_WATER_MARK) this.pause();
  }

  /** Reports the end once: to the handlers, or to the reader after the queued responses. */
  private finish(error: GrpcError | null, cancel: boolean): void {
    if (this.ended !== undefined) return;
    this.ended = error;
    clearTimeout(this.timer);
    this.signal?.removeEventListener("abort", this.onAbort);
    const stream = this.stream;
    if (cancel && stream !== undefined && !stream.destroyed) {
      outsideReads(() => {
        if (!stream.destroyed) stream.close(constants.NGHTTP2_CANCEL);
      });
    }
    if (this.state !== undefined) this.connection.callEnded(this.state);
    const handlers = this.handlers;
    if (handlers !== undefined) {
      this.handlers = undefined;
      handlers.onEnd(error);
      return;
    }
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      if (error === null) waiter.resolve({ done: true, value: undefined });
      else waiter.reject(error);
    }
  }

  /** An end known before any I/O: reported on a later turn, as an I/O outcome would be. */
  private endLater(error: GrpcError): void {
    queueMicrotask(() => this.finish(error, false));
  }
}
