// @tug/grpc: gRPC (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md) spoken
// directly over node:http2, without grpc-js's per-call machinery. Its public surface is
// exported from here.
//
// wire: ready (status codes, message framing, grpc-timeout, grpc-message, Metadata, GrpcError).
// server: in progress.

export * from "./wire/index.js";
