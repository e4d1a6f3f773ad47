// @tug/controller-manager — public surface: the controller framework, the ReplicaSet and
// Deployment controllers, rollback for `tug rollout undo`, and the tug-controller-manager process.

export {
  DEPLOYMENT_API_VERSION,
  DEPLOYMENT_KIND,
  DeploymentController,
  type DeploymentControllerOptions,
} from "./deployment/deployment-controller.js";
export {
  AVAILABLE,
  PROGRESSING,
  REASONS as DEPLOYMENT_CONDITION_REASONS,
} from "./deployment/deployment-status.js";
export {
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  maxSurge,
  maxUnavailable,
  newReplicaSetReplicas,
  planOldReplicaSetsScaleDown,
  proportionalSizes,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  resolveFenceposts,
  revisionOf,
} from "./deployment/deployment-util.js";
export {
  computePodTemplateHash,
  equalIgnoreHash,
  POD_TEMPLATE_HASH_LABEL,
} from "./deployment/pod-template-hash.js";
export {
  type RollbackResult,
  replicaSetForRevision,
  rollbackDeployment,
  rolledBackDeployment,
} from "./deployment/rollback.js";
export { apiClaimActions, isGone } from "./framework/api-claim-actions.js";
export {
  type Controller,
  type RunControllerOptions,
  runController,
  type Syncable,
} from "./framework/controller.js";
export {
  type ClaimActions,
  type ClaimOwner,
  claimObjects,
  getControllerOf,
  newControllerRef,
  type OwnerIdentity,
} from "./framework/controller-ref.js";
export {
  ApiEventRecorder,
  type ApiEventRecorderOptions,
  EVENT_CACHE_SIZE,
  type EventRecorder,
  type EventType,
  type InvolvedObject,
  NO_EVENTS,
} from "./framework/event-recorder.js";
export { ControllerExpectations, EXPECTATIONS_TIMEOUT_MS } from "./framework/expectations.js";
export { ApiPodControl, type PodControl, podFromTemplate } from "./framework/pod-control.js";
export {
  compareForDeletion,
  isPodActive,
  isPodAvailable,
  isPodReady,
  podsToDelete,
  type RankedPod,
} from "./framework/pod-state.js";
export {
  ControllerManager,
  type ControllerManagerOptions,
  type ControllerManagerStats,
  type ControllerName,
  DEFAULT_CONCURRENT_SYNCS,
  DEFAULT_LEASE_NAME,
  DEFAULT_LEASE_NAMESPACE,
  KNOWN_CONTROLLERS,
} from "./process/controller-manager.js";
export { createLogger, type LogFields, type Logger, type LogLevel } from "./process/logger.js";
export {
  BURST_REPLICAS,
  ReplicaSetController,
  type ReplicaSetControllerOptions,
} from "./replicaset/replica-set-controller.js";
export { calculateReplicaSetStatus, REPLICA_FAILURE } from "./replicaset/replica-set-status.js";
export { SLOW_START_INITIAL_BATCH_SIZE, slowStartBatch } from "./replicaset/slow-start.js";
