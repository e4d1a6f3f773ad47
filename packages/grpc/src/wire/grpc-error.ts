// The error a failed call carries: a gRPC status code, its message ("details") and the
// trailing metadata. Shaped like grpc-js's ServiceError (an Error with code, details and
// metadata), so code that reads `.code` and `.details` works with either library; its
// `message` is grpc-js's "<code> <NAME>: <details>".

import type { OutgoingHttpHeaders } from "node:http2";
import { Metadata } from "./metadata.js";
import { Status, type StatusCode, statusName } from "./status.js";

export class GrpcError extends Error {
  override readonly name = "GrpcError";
  readonly metadata: Metadata;

  constructor(
    readonly code: StatusCode,
    /** The status message as sent in grpc-message. */
    readonly details: string,
    metadata?: Metadata,
    options?: { cause?: unknown },
  ) {
    super(`${code} ${statusName(code)}: ${details}`, options);
    this.metadata = metadata ?? new Metadata();
  }
}

/**
 * Anything metadata-like another library's error may carry (grpc-js's Metadata has the same
 * method), so a handler may fail with a grpc-js-shaped error and keep its trailers.
 */
interface HeadersSource {
  toHttp2Headers(): OutgoingHttpHeaders;
}

/** The status a handler's error stands for. */
export interface CallStatus {
  readonly code: StatusCode;
  readonly details: string;
  /** Trailing metadata as HTTP/2 headers (binary values already base64). */
  readonly trailers?: OutgoingHttpHeaders;
}

function isHeadersSource(value: unknown): value is HeadersSource {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as HeadersSource).toHttp2Headers === "function"
  );
}

/**
 * The status to answer with for an error a handler gave, read as grpc-js's server reads
 * it: `code` if it is a status code (else UNKNOWN), `details` if a string (else the Error's
 * message), `metadata` if it has one.
 */
export function statusOfError(error: unknown): CallStatus {
  if (typeof error !== "object" || error === null) {
    return { code: Status.UNKNOWN, details: String(error) };
  }
  const e = error as { code?: unknown; details?: unknown; message?: unknown; metadata?: unknown };
  const code =
    typeof e.code === "number" && Number.isInteger(e.code) && e.code >= 0 && e.code <= 16
      ? (e.code as StatusCode)
      : Status.UNKNOWN;
  const details =
    typeof e.details === "string"
      ? e.details
      : typeof e.message === "string"
        ? e.message
        : "Unknown error";
  const metadata = isHeadersSource(e.metadata) ? e.metadata.toHttp2Headers() : undefined;
  return metadata === undefined ? { code, details } : { code, details, trailers: metadata };
}
