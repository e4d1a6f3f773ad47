// @tug/grpc: gRPC (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md) spoken
// directly over node:http2, without grpc-js's per-call machinery. Its public surface is
// exported from here.
//
// wire: ready (status codes, message framing, grpc-timeout, grpc-message, Metadata, GrpcError).
// server: ready, see docs/grpc.md (GrpcServer: addService with grpc-js-shaped definitions and handlers).
// client: ready, see docs/grpc.md (GrpcChannel: unary, server-streaming and bidi calls).

export type { CallOptions, MethodDefinition } from "./client/call-options.js";
export { ClientStream, type StreamHandlers } from "./client/client-stream.js";
export { type ChannelOptions, GrpcChannel } from "./client/grpc-channel.js";
export { requestNotSent } from "./client/response-status.js";
export * from "./server/index.js";
export * from "./wire/index.js";
