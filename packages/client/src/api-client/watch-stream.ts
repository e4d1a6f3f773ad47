// A watch as an async iterable: the server's WatchEvents, unpacked to typed objects, ending
// when the server ends the stream (timeout_seconds) or the caller cancels. A server ERROR event
// is thrown as ApiError (Expired with code 410 when the requested version was compacted).

import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { type ClientReadableStream, status as grpcStatus } from "@grpc/grpc-js";
import { StatusSchema } from "@tug/api";
import { ApiError } from "./api-error.js";
import type { apiv1 } from "./api-imports.js";
import { unpackObject } from "./object-any.js";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";

export interface WatchEvent<T> {
  readonly type: WatchEventType;
  /** DELETED: the last stored state; BOOKMARK: only metadata.resourceVersion is meaningful. */
  readonly object: T;
}

const EVENT_TYPES = new Set<string>(["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]);

export class WatchStream<T> implements AsyncIterable<WatchEvent<T>> {
  private cancelled = false;
  private iterated = false;

  constructor(
    private readonly call: ClientReadableStream<apiv1.WatchEvent>,
    signal?: AbortSignal,
  ) {
    // Errors are read from the iterator; this keeps an unread stream from throwing.
    call.on("error", () => undefined);
    if (signal?.aborted) this.cancel();
    else signal?.addEventListener("abort", () => this.cancel(), { once: true });
  }

  /** Ends the watch: the iterator finishes (done) and the stream is released. Idempotent. */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.call.cancel();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent<T>> {
    if (this.iterated) throw new TypeError("a WatchStream can be iterated only once");
    this.iterated = true;
    try {
      for await (const raw of this.call as AsyncIterable<apiv1.WatchEvent>) {
        if (this.cancelled) return;
        if (raw.type === "ERROR") {
          const status = raw.object === undefined ? undefined : anyUnpack(raw.object, StatusSchema);
          if (status === undefined) {
            throw new ApiError({
              reason: "InternalError",
              code: 500,
              grpcCode: grpcStatus.INTERNAL,
              message: "the server ended the watch with an ERROR event without a Status",
            });
          }
          throw ApiError.fromStatus(status, grpcStatus.OK);
        }
        if (!EVENT_TYPES.has(raw.type)) {
          throw new ApiError({
            reason: "InternalError",
            code: 500,
            grpcCode: grpcStatus.INTERNAL,
            message: `the server sent a watch event of unknown type ${JSON.stringify(raw.type)}`,
          });
        }
        yield { type: raw.type as WatchEventType, object: unpackObject(raw.object) as T };
      }
    } catch (e) {
      if (this.cancelled) return;
      if (e instanceof ApiError) throw e;
      throw ApiError.fromGrpc(e);
    } finally {
      this.cancel();
    }
  }
}
