// The server core: GrpcServer and what handlers see.

export {
  DEFAULT_MAX_RECEIVE_MESSAGE_BYTES,
  GrpcServer,
  type GrpcServerOptions,
  parseListenAddress,
} from "./grpc-server.js";
export type { CallInfo } from "./server-call.js";
export {
  ServerDuplexCall,
  ServerReadableCall,
  ServerUnaryCall,
  ServerWritableCall,
} from "./server-call.js";
export type {
  BidiStreamingHandler,
  ClientStreamingHandler,
  Handler,
  SendUnaryData,
  ServerMethodDefinition,
  ServerStreamingHandler,
  ServiceDefinition,
  ServiceHandlers,
  UnaryHandler,
} from "./service-definition.js";
