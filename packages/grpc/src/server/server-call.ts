// The call objects handlers receive, shaped like grpc-js's: ServerUnaryCall (an
// EventEmitter), ServerReadableCall (a Readable of requests), ServerWritableCall (a Writable
// of responses) and ServerDuplexCall (both). Each also has metadata, cancelled and the
// 'cancelled' event, getDeadline, getPeer, getPath and sendMetadata. As with grpc-js, a
// streaming handler ends its call with end() (status OK, optional trailing metadata) or by
// emitting 'error' with a grpc-js-shaped error (that error's status); writes apply
// backpressure through write()'s return value, 'drain' and write callbacks.

// biome-ignore-all lint/suspicious/noUnsafeDeclarationMerging: each class's CallInfo members are defined on its prototype by withCallInfo, right below the class.
// biome-ignore-all lint/correctness/noUnusedVariables: Req and Res name the messages a call reads and writes (grpc-js's call types have them too); the merged interfaces repeat the class's type parameters.

import { EventEmitter } from "node:events";
import { Duplex, Readable, Writable } from "node:stream";
import { statusOfError } from "../wire/grpc-error.js";
import type { Metadata } from "../wire/metadata.js";
import { Status } from "../wire/status.js";
import type { CallEvents, CallStream } from "./call-stream.js";

const CORE: unique symbol = Symbol("callStream");

/** What every call object offers besides its stream interface. */
export interface CallInfo {
  /** The request's custom metadata. */
  readonly metadata: Metadata;
  /** True once the call ended without the handler: reset, connection lost or deadline. */
  readonly cancelled: boolean;
  /** The deadline the client set (grpc-timeout), or Infinity for none. */
  getDeadline(): Date | number;
  /** "address:port" of the client, or "unknown" on a connection without one. */
  getPeer(): string;
  /** The request's :path, "/package.Service/Method". */
  getPath(): string;
  /** Sends the response headers now, with this metadata. */
  sendMetadata(metadata: Metadata): void;
}

interface HasCore {
  [CORE]: CallStream;
}

/** CallInfo's members on a call class's prototype, reading the call's CallStream. */
function withCallInfo(prototype: object): void {
  const core = (self: unknown) => (self as HasCore)[CORE];
  Object.defineProperties(prototype, {
    metadata: {
      get() {
        return core(this).metadata;
      },
    },
    cancelled: {
      get() {
        return core(this).cancelled;
      },
    },
  });
  const methods: { [K in keyof CallInfo]?: (this: HasCore, ...args: never[]) => unknown } = {
    getDeadline() {
      const deadline = this[CORE].deadline;
      return deadline === Number.POSITIVE_INFINITY ? deadline : new Date(deadline);
    },
    getPeer() {
      const socket = this[CORE].stream.session?.socket;
      const address = socket?.remoteAddress;
      if (address === undefined) return "unknown";
      return address.includes(":")
        ? `[${address}]:${socket?.remotePort}`
        : `${address}:${socket?.remotePort}`;
    },
    getPath() {
      return String(this[CORE].headers[":path"]);
    },
    sendMetadata(metadata: Metadata) {
      this[CORE].sendMetadata(metadata);
    },
  };
  Object.assign(prototype, methods);
}

// ---------------------------------------------------------------- unary

export interface ServerUnaryCall<Req> extends CallInfo {}
/** A unary or server-streaming call's one request, with the call's events. */
export class ServerUnaryCall<Req> extends EventEmitter {
  declare [CORE]: CallStream;

  constructor(
    core: CallStream,
    readonly request: Req,
  ) {
    super();
    this[CORE] = core;
  }
}
withCallInfo(ServerUnaryCall.prototype);

// ---------------------------------------------------------------- streams

/** Messages the Readable side has been given but not yet read past this pause reading. */
const READ_HIGH_WATER_MARK = 16;

/** Reading requests into a Readable's buffer, pausing HTTP/2 while the buffer is full. */
function readInto(readable: Readable, core: CallStream): Omit<CallEvents, "onCancel"> {
  return {
    onMessage(message) {
      if (!readable.push(message)) core.pause();
    },
    onHalfClose() {
      readable.push(null);
    },
  };
}

/**
 * A Writable side's write, writev and final: messages to HTTP/2 (those the handler wrote
 * while HTTP/2 was busy go together, see CallStream.writeMany), end() as status OK.
 */
function writeTo(core: CallStream) {
  return {
    write(message: unknown, _encoding: BufferEncoding, callback: (e?: Error | null) => void) {
      core.write(message, callback);
    },
    writev(
      chunks: { chunk: unknown; encoding: BufferEncoding }[],
      callback: (e?: Error | null) => void,
    ) {
      core.writeMany(
        chunks.map((c) => c.chunk),
        callback,
      );
    },
    final(callback: (e?: Error | null) => void) {
      core.sendStatus({ code: Status.OK, details: "", trailers: core.trailer?.toHttp2Headers() });
      callback();
    },
  };
}

/** grpc-js's behaviour: an 'error' emitted on a call ends it with that error's status. */
function statusOnError(emitter: EventEmitter, core: CallStream): void {
  emitter.on("error", (e: unknown) => core.sendStatus(statusOfError(e)));
}

/** grpc-js's behaviour on cancellation: 'cancelled', then the stream is destroyed ('close'). */
function cancelStream(stream: Readable | Writable): CallEvents["onCancel"] {
  return () => {
    stream.emit("cancelled", "cancelled");
    stream.destroy();
  };
}

export interface ServerReadableCall<Req> extends CallInfo {}
/** A client-streaming call: a Readable of requests (objects, in order). */
export class ServerReadableCall<Req> extends Readable {
  declare [CORE]: CallStream;

  constructor(core: CallStream) {
    super({ objectMode: true, highWaterMark: READ_HIGH_WATER_MARK });
    this[CORE] = core;
    core.listen({ ...readInto(this, core), onCancel: cancelStream(this) });
  }

  override _read(): void {
    this[CORE].resume();
  }
}
withCallInfo(ServerReadableCall.prototype);

export interface ServerWritableCall<Req, Res> extends CallInfo {}
/** A server-streaming call: its one request, and a Writable of responses. */
export class ServerWritableCall<Req, Res> extends Writable {
  declare [CORE]: CallStream;

  constructor(
    core: CallStream,
    readonly request: Req,
  ) {
    const { write, writev, final } = writeTo(core);
    super({ objectMode: true, write, writev, final });
    this[CORE] = core;
    statusOnError(this, core);
    core.listen({ onMessage() {}, onHalfClose() {}, onCancel: cancelStream(this) });
  }

  /** Ends the call with status OK, sending this trailing metadata (grpc-js's end(metadata)). */
  override end(metadataOrCallback?: Metadata | (() => void)): this {
    if (typeof metadataOrCallback === "function") return super.end(metadataOrCallback);
    if (metadataOrCallback !== undefined) this[CORE].trailer = metadataOrCallback;
    return super.end();
  }
}
withCallInfo(ServerWritableCall.prototype);

export interface ServerDuplexCall<Req, Res> extends CallInfo {}
/** A bidirectional call: a Readable of requests and a Writable of responses. */
export class ServerDuplexCall<Req, Res> extends Duplex {
  declare [CORE]: CallStream;

  constructor(core: CallStream) {
    const { write, writev, final } = writeTo(core);
    super({
      objectMode: true,
      writev,
      readableHighWaterMark: READ_HIGH_WATER_MARK,
      // The call ends when the handler ends it, not when the client half-closes.
      allowHalfOpen: true,
      write,
      final,
    });
    this[CORE] = core;
    statusOnError(this, core);
    core.listen({ ...readInto(this, core), onCancel: cancelStream(this) });
  }

  override _read(): void {
    this[CORE].resume();
  }

  override end(metadataOrCallback?: Metadata | (() => void)): this {
    if (typeof metadataOrCallback === "function") return super.end(metadataOrCallback);
    if (metadataOrCallback !== undefined) this[CORE].trailer = metadataOrCallback;
    return super.end();
  }
}
withCallInfo(ServerDuplexCall.prototype);
