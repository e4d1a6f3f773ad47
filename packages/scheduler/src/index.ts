// @tug/scheduler — public surface: the scheduling framework (cache, plugins, schedulePod), the
// scheduling queue, and the scheduler loop over its Binder / EventRecorder interfaces.

export { NodeInfo } from "./framework/node-info.js";
export type { FilterPlugin, NodeFilter, NodeScorer, ScorePlugin } from "./framework/plugin.js";
export { MAX_NODE_SCORE } from "./framework/plugin.js";
export { newPodInfo, type PodInfo, PodSpecError, podKey } from "./framework/pod-info.js";
export {
  DEFAULT_SCHEDULER_NAME,
  defaultProfile,
  type Profile,
  type WeightedScorePlugin,
} from "./framework/profile.js";
export { podRequests, ResourceParseError } from "./framework/resources.js";
export {
  ERR_NO_NODES_AVAILABLE,
  fitErrorMessage,
  ScheduleAlgorithm,
  type ScheduleAlgorithmOptions,
  type ScheduleResult,
} from "./framework/schedule-algorithm.js";
export { Snapshot } from "./framework/snapshot.js";
// The tug-scheduler process (bin/tug-scheduler.ts runs it).
export * from "./process/index.js";
export {
  type PendingPods,
  POD_INITIAL_BACKOFF_MS,
  POD_MAX_BACKOFF_MS,
  POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION_MS,
  type QueuedPod,
  SchedulingQueue,
  type SchedulingQueueOptions,
} from "./queue/scheduling-queue.js";
export {
  type Binder,
  DEFAULT_MAX_CONCURRENT_BINDS,
  type EventRecorder,
  type PodConditionWriter,
  REASON_SCHEDULER_ERROR,
  REASON_UNSCHEDULABLE,
  Scheduler,
  type SchedulerOptions,
  type SchedulerStats,
  scheduledMessage,
} from "./scheduler.js";
