// A gRPC client for one target over node:http2: unary, server-streaming and bidi calls on one
// shared HTTP/2 session (see connection.ts), with grpc-js's error shape ({code, details,
// metadata}) so callers written for grpc-js keep working.

import type { CallOptions, MethodDefinition } from "./call-options.js";
import { ClientStream, type StreamHandlers } from "./client-stream.js";
import { Connection, type ConnectionOptions } from "./connection.js";
import { startUnaryCall, type UnaryCallback } from "./unary-call.js";

/** grpc's default limit on a received message (GRPC_DEFAULT_MAX_RECV_MESSAGE_LENGTH), 4 MiB. */
export const DEFAULT_MAX_RECEIVE_MESSAGE_BYTES = 4 * 1024 * 1024;

export interface ChannelOptions extends ConnectionOptions {
  /** Largest response message accepted, in bytes; -1 for no limit. Default 4 MiB. */
  readonly maxReceiveMessageBytes?: number;
}

export class GrpcChannel {
  private readonly connection: Connection;
  private readonly maxReceiveBytes: number;

  /** `target`: "host:port" or "http://host:port". Connects on the first call. */
  constructor(target: string, options: ChannelOptions = {}) {
    this.connection = new Connection(target, options);
    this.maxReceiveBytes = options.maxReceiveMessageBytes ?? DEFAULT_MAX_RECEIVE_MESSAGE_BYTES;
  }

  /** "host:port" of the target. */
  get target(): string {
    return this.connection.authority;
  }

  /** A unary call; rejects with a GrpcError. */
  unary<Req, Res>(
    method: MethodDefinition<Req, Res>,
    request: Req,
    options?: CallOptions,
  ): Promise<Res> {
    return new Promise<Res>((resolve, reject) =>
      startUnaryCall(this.connection, method, request, options, this.maxReceiveBytes, (e, r) => {
        if (e === null) resolve(r as Res);
        else reject(e);
      }),
    );
  }

  /** A unary call with a Node-style callback, called exactly once (no promise per call). */
  unaryCallback<Req, Res>(
    method: MethodDefinition<Req, Res>,
    request: Req,
    options: CallOptions | undefined,
    callback: UnaryCallback<Res>,
  ): void {
    startUnaryCall(this.connection, method, request, options, this.maxReceiveBytes, callback);
  }

  /**
   * A server-streaming call: the request is sent and the request side closed. Responses go to
   * `handlers`, or, without them, through async iteration (which throws the GrpcError the call
   * ended with; breaking out of the loop cancels the call).
   */
  serverStream<Req, Res>(
    method: MethodDefinition<Req, Res>,
    request: Req,
    options?: CallOptions,
    handlers?: StreamHandlers<Res>,
  ): ClientStream<Req, Res> {
    const call = new ClientStream(this.connection, method, options, this.maxReceiveBytes, handlers);
    call.write(request);
    call.end();
    return call;
  }

  /** A bidi (or client-streaming) call: write() requests, end() when done; responses as above. */
  stream<Req, Res>(
    method: MethodDefinition<Req, Res>,
    options?: CallOptions,
    handlers?: StreamHandlers<Res>,
  ): ClientStream<Req, Res> {
    return new ClientStream(this.connection, method, options, this.maxReceiveBytes, handlers);
  }

  /** Closes the session: calls in flight end with UNAVAILABLE, later calls at once. */
  close(): void {
    this.connection.close();
  }
}
