// The typed API client of tug-apiserver, its one error type, and a ListerWatcher for informers.
export {
  ApiClient,
  type ApiClientOptions,
  type CallControl,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type DeleteCollectionOptions,
  type DeleteOptions,
  type GetOptions,
  type KindArg,
  kindInfoOf,
  type ListOptions,
  type ListResult,
  type ObjectOf,
  type PatchOptions,
  type PatchType,
  type Scope,
  type WatchOptions,
  type WriteOptions,
} from "./api-client.js";
export { ApiError, isApiError, type StatusCause } from "./api-error.js";
export { apiv1 } from "./api-imports.js";
export { apiListerWatcher, type ListerWatcherScope } from "./api-lister-watcher.js";
export { unpackObject } from "./object-any.js";
export {
  type ApiMethodName,
  apiServiceDefinition,
  STATUS_METADATA_KEY,
} from "./service-definition.js";
export { type WatchEvent, type WatchEventType, WatchStream } from "./watch-stream.js";
