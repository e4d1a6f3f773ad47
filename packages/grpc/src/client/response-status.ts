// How a client reads a call's outcome from what HTTP/2 delivered: grpc-status in the trailers
// (or in the headers of a Trailers-Only response), else the HTTP status
// (https://github.com/grpc/grpc/blob/master/doc/http-grpc-status-mapping.md), else the
// RST_STREAM code, with the codes and texts grpc-js gives, so callers that match them keep
// working.

import { constants, type IncomingHttpHeaders } from "node:http2";
import {
  decodeStatusMessage,
  GrpcError,
  Metadata,
  Status,
  type StatusCode,
  statusFromHeader,
} from "../wire/index.js";
import { RequestNotSentError, type SessionState } from "./connection.js";

/** The status an HTTP response without grpc-status stands for (http-grpc-status-mapping.md). */
export function statusOfHttpStatus(httpStatus: number): StatusCode {
  switch (httpStatus) {
    case 400:
      return Status.INTERNAL;
    case 401:
      return Status.UNAUTHENTICATED;
    case 403:
      return Status.PERMISSION_DENIED;
    case 404:
      return Status.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return Status.UNAVAILABLE;
    default:
      return Status.UNKNOWN;
  }
}

/**
 * The error for response headers that cannot start a gRPC response (not HTTP 200, or not
 * application/grpc), or undefined when they can. Called only for headers without grpc-status.
 */
export function errorOfResponseHeaders(headers: IncomingHttpHeaders): GrpcError | undefined {
  const httpStatus = Number(headers[":status"]);
  if (httpStatus !== 200) {
    return new GrpcError(statusOfHttpStatus(httpStatus), `Received HTTP status code ${httpStatus}`);
  }
  const contentType = headers["content-type"];
  if (contentType === undefined || !contentType.startsWith("application/grpc")) {
    return new GrpcError(
      Status.UNKNOWN,
      `Received content-type ${JSON.stringify(contentType ?? "")}, not application/grpc`,
    );
  }
  return undefined;
}

/**
 * The status in trailers (or Trailers-Only headers): its code and the grpc-message; the
 * metadata is built only for a failure, where a caller may read it.
 */
export function statusOfTrailers(trailers: IncomingHttpHeaders): GrpcError | null {
  const raw = trailers["grpc-status"];
  if (raw === undefined) {
    // grpc-js's reading of trailers without a status.
    return new GrpcError(
      Status.UNKNOWN,
      "No status information received",
      Metadata.fromHttp2Headers(trailers),
    );
  }
  if (raw === "0") return null;
  const message = trailers["grpc-message"];
  return new GrpcError(
    statusFromHeader(typeof raw === "string" ? raw : undefined),
    typeof message === "string" ? decodeStatusMessage(message) : "",
    Metadata.fromHttp2Headers(trailers),
  );
}

/**
 * The error of a stream that closed without a status: the session broke (UNAVAILABLE, with
 * its reason), or the peer reset the stream (the RST_STREAM code's meaning, as grpc-js maps
 * it).
 */
export function errorOfClosedStream(
  rstCode: number | undefined,
  session: SessionState,
  streamError: Error | undefined,
): GrpcError {
  if (session.error !== undefined || session.session.destroyed) {
    // A stream queued on a session that never connected fails before the session reports why;
    // Node gives the reason as the stream error's cause.
    const broke =
      session.error ??
      (streamError?.cause instanceof Error ? streamError.cause : streamError) ??
      new Error("Connection dropped");
    const reason = session.connected
      ? broke
      : new RequestNotSentError(broke.message, { cause: broke });
    return new GrpcError(Status.UNAVAILABLE, reason.message, undefined, { cause: reason });
  }
  switch (rstCode) {
    case constants.NGHTTP2_REFUSED_STREAM:
      return new GrpcError(Status.UNAVAILABLE, "Stream refused by server", undefined, {
        cause: new RequestNotSentError("Stream refused by server"),
      });
    case constants.NGHTTP2_CANCEL:
      return new GrpcError(Status.CANCELLED, "Call cancelled");
    case constants.NGHTTP2_ENHANCE_YOUR_CALM:
      return new GrpcError(
        Status.RESOURCE_EXHAUSTED,
        "Bandwidth exhausted or memory limit exceeded",
      );
    case constants.NGHTTP2_INADEQUATE_SECURITY:
      return new GrpcError(Status.PERMISSION_DENIED, "Protocol not secure enough");
    case constants.NGHTTP2_NO_ERROR:
    case undefined:
      return new GrpcError(
        Status.INTERNAL,
        `Received RST_STREAM with code ${rstCode ?? 0} (Call ended without gRPC status)`,
      );
    default:
      return new GrpcError(Status.INTERNAL, `Received RST_STREAM with code ${rstCode}`);
  }
}

/** The error of a call whose session could not even take the request. */
export function unavailable(reason: unknown): GrpcError {
  const details = reason instanceof Error ? reason.message : String(reason);
  const cause =
    reason instanceof RequestNotSentError
      ? reason
      : new RequestNotSentError(details, { cause: reason });
  return new GrpcError(Status.UNAVAILABLE, details, undefined, { cause });
}

/**
 * Whether a failed call's request certainly never reached the server's application, so that
 * sending it again cannot apply it twice (gRFC A6's transparent retry): no connection, or the
 * stream was refused. False for every other failure, including a connection that broke while
 * the request was in flight.
 */
export function requestNotSent(error: unknown): boolean {
  return error instanceof GrpcError && error.cause instanceof RequestNotSentError;
}
