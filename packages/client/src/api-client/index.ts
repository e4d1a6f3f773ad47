// The typed API client of tug-apiserver, its one error type, and a ListerWatcher for informers.
export {
  ApiClient,
  type ApiClientOptions,
  type CallControl as ApiCallControl,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type DeleteCollectionOptions as ApiDeleteCollectionOptions,
  type DeleteOptions as ApiDeleteOptions,
  type EncodedCreate,
  type GetOptions as ApiGetOptions,
  type KindArg,
  kindInfoOf,
  type ListOptions as ApiListOptions,
  type ListResult as ApiListResult,
  type ObjectOf,
  type PatchOptions as ApiPatchOptions,
  type PatchType as ApiPatchType,
  type Scope as ApiScope,
  type WatchOptions as ApiWatchOptions,
  type WriteOptions as ApiWriteOptions,
} from "./api-client.js";
export { ApiError, isApiError, type StatusCause } from "./api-error.js";
export { apiv1 } from "./api-imports.js";
export { apiListerWatcher, type ListerWatcherScope } from "./api-lister-watcher.js";
export { unpackObject } from "./object-any.js";
export {
  type ExecOptions as ApiExecOptions,
  type ExecResult as ApiExecResult,
  ExecSession,
  exitCodeOf,
  LogStream,
  type LogsOptions as ApiLogsOptions,
} from "./pod-streams.js";
export {
  type ApiMethodName,
  apiServiceDefinition,
  STATUS_METADATA_KEY,
} from "./service-definition.js";
export {
  type WatchEvent as ApiWatchEvent,
  type WatchEventType as ApiWatchEventType,
  WatchStream,
} from "./watch-stream.js";
