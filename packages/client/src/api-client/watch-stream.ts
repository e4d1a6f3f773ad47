// A watch as an async iterable: the server's WatchEvents, unpacked to typed objects, ending
// when the server ends the stream (timeout_seconds) or the caller cancels. A server ERROR event
// is thrown as ApiError (Expired with code 410 when the requested version was compacted).

import { type Any, anyUnpack } from "@bufbuild/protobuf/wkt";
import { status as grpcStatus } from "@grpc/grpc-js";
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

/**
 * The server-streaming call a watch reads (@tug/grpc's ClientStream): iterable once; cancel()
 * ends it, after which its iterator ends with a CANCELLED error.
 */
export interface WatchCall extends AsyncIterable<apiv1.WatchEvent> {
  cancel(): void;
}

const EVENT_TYPES = new Set<string>(["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]);

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

export class WatchStream<T> implements AsyncIterable<WatchEvent<T>> {
  private cancelled = false;
  private iterated = false;

  /**
   * `onError` sees the error the stream failed with (not a cancel), before the reader does:
   * the client uses it to move on from an unreachable server. `decode` turns each event's
   * object (not an ERROR's Status) into what the reader gets: by default the unpacked object.
   */
  constructor(
    private readonly call: WatchCall,
    signal?: AbortSignal,
    private readonly onError?: (error: ApiError) => void,
    private readonly decode: (object: Any | undefined) => T = unpackObject as (
      object: Any | undefined,
    ) => T,
  ) {
    if (signal?.aborted) this.cancel();
    else signal?.addEventListener("abort", () => this.cancel(), { once: true });
  }

  /** Ends the watch: the iterator finishes (done) and the stream is released. Idempotent. */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.call.cancel();
  }

  /**
   * A hand-written iterator rather than an async generator: one promise per event from the
   * call to the reader, not a generator's several hops (a scheduler reads ~1000 events a
   * second).
   */
  [Symbol.asyncIterator](): AsyncIterator<WatchEvent<T>> {
    if (this.iterated) throw new TypeError("a WatchStream can be iterated only once");
    this.iterated = true;
    const raw = this.call[Symbol.asyncIterator]();
    const onEvent = (r: IteratorResult<apiv1.WatchEvent>): IteratorResult<WatchEvent<T>> => {
      if (this.cancelled || r.done === true) {
        this.cancel();
        return DONE;
      }
      try {
        return { done: false, value: this.convert(r.value) };
      } catch (e) {
        this.cancel();
        throw e;
      }
    };
    const onFailure = (e: unknown): IteratorResult<WatchEvent<T>> => {
      if (this.cancelled) return DONE;
      const error = e instanceof ApiError ? e : ApiError.fromGrpc(e);
      this.onError?.(error);
      this.cancel();
      throw error;
    };
    return {
      next: () => (this.cancelled ? Promise.resolve(DONE) : raw.next().then(onEvent, onFailure)),
      return: () => {
        this.cancel();
        return Promise.resolve(DONE);
      },
    };
  }

  private convert(raw: apiv1.WatchEvent): WatchEvent<T> {
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
    return { type: raw.type as WatchEventType, object: this.decode(raw.object) };
  }
}
