// What every call is given: the method (path and codecs) and per-call options, and the
// request headers they make (PROTOCOL-HTTP2.md "Requests").

import type { OutgoingHttpHeaders } from "node:http2";
import { formatTimeout, type Metadata } from "../wire/index.js";

/**
 * A method: its path and its codecs. A grpc-js service definition entry
 * (`service.Range`, from proto-loader or grpc-tools) has this shape, so it can be passed as is.
 */
export interface MethodDefinition<Req, Res> {
  /** "/package.Service/Method" */
  readonly path: string;
  readonly requestSerialize: (request: Req) => Uint8Array;
  readonly responseDeserialize: (bytes: Buffer) => Res;
}

export interface CallOptions {
  /**
   * When the call must be over, in ms since the epoch (Date.now()), as grpc-js's `deadline`.
   * Sent as grpc-timeout and enforced locally: DEADLINE_EXCEEDED and RST_STREAM CANCEL.
   */
  readonly deadline?: number;
  /** Custom metadata sent with the request headers. */
  readonly metadata?: Metadata;
  /** Aborting it cancels the call: CANCELLED and RST_STREAM CANCEL. */
  readonly signal?: AbortSignal;
}

/** grpc-js's text for a call cancelled by its caller. */
export const CANCELLED_ON_CLIENT = "Cancelled on client";

/** The text of a call whose deadline passed. */
export function deadlineExceededText(timeoutMs: number): string {
  return `Deadline exceeded after ${timeoutMs} ms`;
}

/**
 * The HEADERS of calls without deadline or metadata, one object per path: Node's request()
 * copies the object it is given, so it can be shared, and a call spares building it.
 */
const plainHeaders = new Map<string, Readonly<OutgoingHttpHeaders>>();

/**
 * The HEADERS of a call; `timeoutMs` undefined when the call has no deadline. The object may
 * be shared between calls: read it, do not change it.
 */
export function requestHeaders(
  path: string,
  timeoutMs: number | undefined,
  metadata: Metadata | undefined,
): Readonly<OutgoingHttpHeaders> {
  const plain = timeoutMs === undefined && (metadata === undefined || metadata.empty);
  if (plain) {
    const cached = plainHeaders.get(path);
    if (cached !== undefined) return cached;
  }
  const headers: OutgoingHttpHeaders =
    metadata === undefined || metadata.empty ? {} : metadata.toHttp2Headers();
  headers[":method"] = "POST";
  headers[":path"] = path;
  headers["content-type"] = "application/grpc";
  headers.te = "trailers";
  if (timeoutMs !== undefined) headers["grpc-timeout"] = formatTimeout(timeoutMs);
  if (plain) plainHeaders.set(path, Object.freeze(headers));
  return headers;
}
