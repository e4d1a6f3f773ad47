// tug-apiserver's storage layer: an etcd v3 client, Kubernetes' storage.Interface over it
// (ObjectStore), the watch cache, lease sharing for TTLs and periodic compaction. Generic over
// objects: it deals in keys, bytes and revisions through an ObjectCodec.

export {
  COMPACT_REV_KEY,
  Compactor,
  type CompactorOptions,
  DEFAULT_COMPACTION_INTERVAL_MS,
} from "./compactor.js";
export {
  ApiError,
  type ApiErrorDetails,
  CONTINUE_EXPIRED_MESSAGE,
  formatGroupResource,
  type GroupResource,
  isApiError,
  OPTIMISTIC_LOCK_MESSAGE,
  STATUS_CODES,
  type StatusReason,
  WATCH_EXPIRED_MESSAGE,
} from "./errors.js";
export {
  DEFAULT_REQUEST_TIMEOUT_MS,
  EtcdClient,
  type EtcdClientOptions,
  EtcdError,
  type EtcdErrorCode,
  type EtcdWatch,
  type KeyValue,
  prefixEnd,
  type RangeOptions,
  type RangeResult,
  type TxnOutcome,
  type WatchBatch,
  type WatchEvent as EtcdWatchEvent,
  type WatchOptions as EtcdWatchOptions,
} from "./etcd-client.js";
export { LeaseManager } from "./lease-manager.js";
export {
  DEFAULT_REGISTRY_PREFIX,
  type ListOptions,
  type ListResult,
  type ObjectCodec,
  type ObjectEvent,
  type ObjectRef,
  ObjectStore,
  type ObjectStoreOptions,
  type ObjectWatch,
  type Preconditions,
  type ProgressEvent,
  type ResourceInfo,
  type TryUpdate,
  toApiError,
  UNCHANGED,
  type WatchEventType,
  type WatchOptions,
} from "./object-store.js";
export {
  type CacheEvent,
  type CacheListOptions,
  type CacheListResult,
  CacheWatcher,
  type CacheWatchOptions,
  DEFAULT_BOOKMARK_INTERVAL_MS,
  DEFAULT_EVENT_WINDOW,
  DEFAULT_FRESHNESS_TIMEOUT_MS,
  DEFAULT_WATCHER_BUFFER,
  WatchCache,
  type WatchCacheOptions,
  type WatchCloseReason,
} from "./watch-cache.js";
