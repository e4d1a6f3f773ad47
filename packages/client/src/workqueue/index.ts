// The workqueue: client-go's util/workqueue for tug's controllers.
export { type Clock, realClock, type TimerHandle } from "./clock.js";
export { DelayingQueue } from "./delaying-queue.js";
export { FakeClock } from "./fake-clock.js";
export type { WorkQueueMetrics } from "./metrics.js";
export { type GetResult, WorkQueue, type WorkQueueOptions } from "./queue.js";
export {
  BucketRateLimiter,
  type BucketRateLimiterOptions,
  DEFAULT_ITEM_BASE_DELAY_MS,
  DEFAULT_ITEM_MAX_DELAY_MS,
  DEFAULT_OVERALL_BURST,
  DEFAULT_OVERALL_QPS,
  defaultControllerRateLimiter,
  ItemExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  type RateLimiter,
} from "./rate-limiter.js";
export { RateLimitingQueue, type RateLimitingQueueOptions } from "./rate-limiting-queue.js";
export { type RunWorkersOptions, runWorkers } from "./run-workers.js";
