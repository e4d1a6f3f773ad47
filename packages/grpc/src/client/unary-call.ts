// One unary call on an HTTP/2 session: HEADERS and the one request message with END_STREAM,
// then the response headers, one message and the trailers (or a Trailers-Only response).
// The outcome is reported once: after the trailers and the last message, at the deadline, at a
// cancel, or when the stream closes, whichever comes first.

import { type ClientHttp2Stream, constants, type IncomingHttpHeaders } from "node:http2";
import { outsideReads } from "../outside-reads.js";
import {
  encodeMessage,
  GrpcError,
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

  let done = false;
  let response: Res | undefined;
  let messages = 0;
  /** The status from the trailers (or Trailers-Only headers): null for OK. */
  let received: GrpcError | null | undefined;
  let timer: NodeJS.Timeout | undefined;
  let decoder: MessageDecoder | undefined;

  const finish = (error: GrpcError | null, cancel: boolean) => {
    if (done) return;
    done = true;
    if (timer !== undefined) clearTimeout(timer);
    if (signal !== undefined) signal.removeEventListener("abort", onAbort);
    if (cancel && !stream.destroyed) {
      outsideReads(() => {
        if (!stream.destroyed) stream.close(constants.NGHTTP2_CANCEL);
      });
    }
    connection.callEnded(state);
    if (error !== null) callback(error);
    else if (messages === 0) callback(new GrpcError(Status.UNIMPLEMENTED, "No message received"));
    else callback(null, response);
  };
  const onAbort = () => finish(new GrpcError(Status.CANCELLED, CANCELLED_ON_CLIENT), true);

  const onMessage = (bytes: Buffer) => {
    if (++messages > 1) {
      finish(new GrpcError(Status.UNIMPLEMENTED, "Too many responses received"), true);
      return;
    }
    try {
      response = method.responseDeserialize(bytes);
    } catch (e) {
      finish(new GrpcError(Status.INTERNAL, `Response message parsing error: ${String(e)}`), true);
    }
  };

  stream.on("response", (headers: IncomingHttpHeaders) => {
    if (headers["grpc-status"] !== undefined) {
      // Trailers-Only: the status is in the headers; no message follows.
      received = statusOfTrailers(headers);
      return;
    }
    const bad = errorOfResponseHeaders(headers);
    if (bad !== undefined) finish(bad, true);
  });
  stream.on("data", (chunk: Buffer) => {
    if (done) return;
    // The usual response: one chunk holding exactly one whole message.
    if (
      decoder === undefined &&
      chunk.length >= MESSAGE_HEADER_BYTES &&
      chunk[0] === 0 &&
      chunk.readUInt32BE(1) === chunk.length - MESSAGE_HEADER_BYTES
    ) {
      const length = chunk.length - MESSAGE_HEADER_BYTES;
      if (maxReceiveBytes >= 0 && length > maxReceiveBytes) {
        finish(
          new GrpcError(Status.RESOURCE_EXHAUSTED, messageTooLargeText(length, maxReceiveBytes)),
          true,
        );
        return;
      }
      onMessage(chunk.subarray(MESSAGE_HEADER_BYTES));
      return;
    }
    decoder ??= new MessageDecoder(maxReceiveBytes, onMessage);
    try {
      decoder.push(chunk);
    } catch (e) {
      finish(e instanceof GrpcError ? e : new GrpcError(Status.INTERNAL, String(e)), true);
    }
  });
  stream.on("trailers", (trailers: IncomingHttpHeaders) => {
    received = statusOfTrailers(trailers);
  });
  // The status is reported once every message before it was read, as grpc-js does: Node may
  // emit 'trailers' before the last 'data'.
  stream.on("end", () => {
    if (done || received === undefined) return;
    if (decoder !== undefined && !decoder.idle) {
      finish(new GrpcError(Status.INTERNAL, "Response ended inside a message"), false);
    } else {
      finish(received, false);
    }
  });
  // Errors are reported when the stream closes, with the session's reason if it broke.
  let streamError: Error | undefined;
  stream.on("error", (e: Error) => {
    streamError = e;
  });
  stream.on("close", () => {
    if (!done) finish(errorOfClosedStream(stream.rstCode, state, streamError), false);
  });

  if (timeoutMs !== undefined) {
    const ms = timeoutMs;
    timer = setTimeout(
      () => finish(new GrpcError(Status.DEADLINE_EXCEEDED, deadlineExceededText(ms)), true),
      ms,
    );
  }
  if (signal !== undefined) signal.addEventListener("abort", onAbort);
  stream.end(frame);
}
