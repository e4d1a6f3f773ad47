// The API service: the verbs, their gRPC binding with Status errors, and the ApiServer that
// serves them on a store.
export {
  ApiHandlers,
  type ApiHandlersOptions,
  MAX_OBJECT_BYTES,
  SYSTEM_NAMESPACES,
} from "./api-handlers.js";
export { ApiServer, type ApiServerOptions } from "./api-server.js";
export {
  type CallObserver,
  type CallRecord,
  grpcImplementation,
  type WatchEventObserver,
} from "./grpc-service.js";
export { REASON_CODES, type Reason, StatusError, toStatusError } from "./status-error.js";
