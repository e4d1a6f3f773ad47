// One unary call on an HTTP/2 session: HEADERS and the one request message with END_STREAM,
// then the response headers, one message and the trailers (or a Trailers-Only response).
// The outcome is reported once: after the trailers and the last message, at the deadline, at a
// cancel, or when the stream closes, whichever comes first.
//
// Per call this makes one UnaryCall object and no closures: the stream's listeners are shared
// module functions that find their call on the stream (CALL), since every call used to pay for
// eight closures and their listeners' wrappers, a visible part of its CPU.

import { type ClientHttp2Stream, constants, type IncomingHttpHeaders } from "node:http2";
import { outsideReads } from "../outside-reads.js";
import {
  encodeMessage,
  GrpcError,
  isSingleMessage,
  MESSAGE_HEADER_BYTES,
  MessageDecoder,
  messageTooLargeText,
  Status,
} from "../wire/index.js";
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

export type UnaryCallback<Res> = (error: GrpcError | null, response?: Res) => void;

/** Where a unary call's stream holds its call, for the shared listeners below. */
const CALL: unique symbol = Symbol("unaryCall");

interface CallStream extends ClientHttp2Stream {
  [CALL]: UnaryCall<unknown, unknown>;
}

/**
 * Starts a unary call; `callback` runs exactly once. `maxReceiveBytes` -1 for no limit.
 * grpc-js's rules: OK without a message is UNIMPLEMENTED "No message received", a second
 * message UNIMPLEMENTED "Too many responses received".
 */
export function startUnaryCall<Req, Res>(
  connection: Connection,
  method: MethodDefinition<Req, Res>,
  request: Req,
  options: CallOptions | undefined,
  maxReceiveBytes: number,
  callback: UnaryCallback<Res>,
): void {
  let frame: Buffer;
  try {
    frame = encodeMessage(method.requestSerialize(request));
  } catch (e) {
    callback(new GrpcError(Status.INTERNAL, `Request message serialization failure: ${String(e)}`));
    return;
  }
  let timeoutMs: number | undefined;
  if (options?.deadline !== undefined) {
    timeoutMs = options.deadline - Date.now();
    if (timeoutMs <= 0) {
      callback(new GrpcError(Status.DEADLINE_EXCEEDED, deadlineExceededText(0)));
      return;
    }
  }
  const signal = options?.signal;
  if (signal?.aborted === true) {
    callback(new GrpcError(Status.CANCELLED, CANCELLED_ON_CLIENT));
    return;
  }
  let state: SessionState;
  let stream: ClientHttp2Stream;
  try {
    state = connection.open();
    stream = state.session.request(requestHeaders(method.path, timeoutMs, options?.metadata));
  } catch (e) {
    callback(unavailable(e));
    return;
  }
  connection.callStarted(state);
  const call = new UnaryCall(connection, state, stream, method, maxReceiveBytes, callback, signal);
  (stream as CallStream)[CALL] = call as UnaryCall<unknown, unknown>;
  stream.on("response", onResponse);
  stream.on("data", onData);
  stream.on("trailers", onTrailers);
  stream.on("end", onEnd);
  stream.on("error", onError);
  stream.on("close", onClose);
  if (timeoutMs !== undefined) call.startDeadline(timeoutMs);
  if (signal !== undefined) signal.addEventListener("abort", call);
  stream.end(frame);
}

/** The state of one unary call; its stream's listeners and the abort signal call into it. */
class UnaryCall<Req, Res> {
  private done = false;
  private response: Res | undefined;
  private messages = 0;
  /** The status from the trailers (or Trailers-Only headers): null for OK. */
  received: GrpcError | null | undefined;
  private timer: NodeJS.Timeout | undefined;
  decoder: MessageDecoder | undefined;
  /** The stream's error, reported when it closes (with the session's reason if it broke). */
  streamError: Error | undefined;

  constructor(
    private readonly connection: Connection,
    readonly state: SessionState,
    readonly stream: ClientHttp2Stream,
    private readonly method: MethodDefinition<Req, Res>,
    readonly maxReceiveBytes: number,
    private readonly callback: UnaryCallback<Res>,
    private readonly signal: AbortSignal | undefined,
  ) {}

  get finished(): boolean {
    return this.done;
  }

  startDeadline(ms: number): void {
    this.timer = setTimeout(
      () => this.finish(new GrpcError(Status.DEADLINE_EXCEEDED, deadlineExceededText(ms)), true),
      ms,
    );
  }

  /** The signal's 'abort' (the call is its listener object). */
  handleEvent(): void {
    this.finish(new GrpcError(Status.CANCELLED, CANCELLED_ON_CLIENT), true);
  }

  /** A response message's bytes. */
  onMessage(bytes: Buffer): void {
    if (++this.messages > 1) {
      this.finish(new GrpcError(Status.UNIMPLEMENTED, "Too many responses received"), true);
      return;
    }
    try {
      this.response = this.method.responseDeserialize(bytes);
    } catch (e) {
      this.finish(
        new GrpcError(Status.INTERNAL, `Response message parsing error: ${String(e)}`),
        true,
      );
    }
  }

  /** Reports the outcome once; `cancel` resets the stream (outside HTTP/2 reads). */
  finish(error: GrpcError | null, cancel: boolean): void {
    if (this.done) return;
    this.done = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.signal !== undefined) this.signal.removeEventListener("abort", this);
    const stream = this.stream;
    if (cancel && !stream.destroyed) {
      outsideReads(() => {
        if (!stream.destroyed) stream.close(constants.NGHTTP2_CANCEL);
      });
    }
    this.connection.callEnded(this.state);
    if (error !== null) this.callback(error);
    else if (this.messages === 0) {
      this.callback(new GrpcError(Status.UNIMPLEMENTED, "No message received"));
    } else this.callback(null, this.response);
  }
}

function onResponse(this: CallStream, headers: IncomingHttpHeaders): void {
  const call = this[CALL];
  if (headers["grpc-status"] !== undefined) {
    // Trailers-Only: the status is in the headers; no message follows.
    call.received = statusOfTrailers(headers);
    return;
  }
  const bad = errorOfResponseHeaders(headers);
  if (bad !== undefined) call.finish(bad, true);
}

function onData(this: CallStream, chunk: Buffer): void {
  const call = this[CALL];
  if (call.finished) return;
  const max = call.maxReceiveBytes;
  // The usual response: one chunk holding exactly one whole message.
  if (call.decoder === undefined && chunk[0] === 0 && isSingleMessage(chunk)) {
    const length = chunk.length - MESSAGE_HEADER_BYTES;
    if (max >= 0 && length > max) {
      call.finish(new GrpcError(Status.RESOURCE_EXHAUSTED, messageTooLargeText(length, max)), true);
      return;
    }
    call.onMessage(chunk.subarray(MESSAGE_HEADER_BYTES));
    return;
  }
  call.decoder ??= new MessageDecoder(max, (bytes) => call.onMessage(bytes));
  try {
    call.decoder.push(chunk);
  } catch (e) {
    call.finish(e instanceof GrpcError ? e : new GrpcError(Status.INTERNAL, String(e)), true);
  }
}

function onTrailers(this: CallStream, trailers: IncomingHttpHeaders): void {
  this[CALL].received = statusOfTrailers(trailers);
}

/**
 * The status is reported once every message before it was read, as grpc-js does: Node may
 * emit 'trailers' before the last 'data'.
 */
function onEnd(this: CallStream): void {
  const call = this[CALL];
  if (call.finished || call.received === undefined) return;
  if (call.decoder !== undefined && !call.decoder.idle) {
    call.finish(new GrpcError(Status.INTERNAL, "Response ended inside a message"), false);
  } else {
    call.finish(call.received, false);
  }
}

function onError(this: CallStream, e: Error): void {
  this[CALL].streamError = e;
}

function onClose(this: CallStream): void {
  const call = this[CALL];
  if (!call.finished) {
    call.finish(errorOfClosedStream(this.rstCode, call.state, call.streamError), false);
  }
}
