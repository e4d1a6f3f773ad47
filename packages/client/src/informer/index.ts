// Informers: the reflector, the shared informer and its factory.
export {
  type BackoffOptions,
  ExponentialBackoff,
  REFLECTOR_BACKOFF_CAP_MS,
  REFLECTOR_BACKOFF_FACTOR,
  REFLECTOR_BACKOFF_INITIAL_MS,
  REFLECTOR_BACKOFF_JITTER,
  REFLECTOR_BACKOFF_RESET_MS,
} from "./backoff.js";
export {
  isExpiredError,
  type ListerWatcher,
  type ListOptions,
  type ListResult,
  ResourceExpiredError,
  type WatchEvent,
  type WatchEventType,
  type WatchOptions,
} from "./lister-watcher.js";
export {
  DEFAULT_LIST_PAGE_SIZE,
  type ErrorReporter,
  logErrorAsJson,
  MIN_WATCH_DURATION_MS,
  MIN_WATCH_TIMEOUT_SECONDS,
  Reflector,
  type ReflectorCounts,
  type ReflectorOptions,
} from "./reflector.js";
export {
  type HandlerOptions,
  type HandlerRegistration,
  MIN_RESYNC_PERIOD_MS,
  type ResourceEventHandler,
  SharedIndexInformer,
  type SharedInformerOptions,
  waitForCacheSync,
} from "./shared-informer.js";
export {
  type InformerSpec,
  SharedInformerFactory,
  type SharedInformerFactoryOptions,
} from "./shared-informer-factory.js";
