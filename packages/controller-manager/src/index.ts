// @tug/controller-manager — public surface: the controller framework, the ReplicaSet and
// Deployment controllers, rollback for `tug rollout undo`, and the tug-controller-manager process.

export { createLogger, type LogFields, type Logger, type LogLevel } from "@tug/daemon";
// The batch controllers: Job, CronJob and ttl-after-finished.
export {
  CRON_JOB_API_VERSION,
  CRON_JOB_KIND,
  CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION,
  CronJobController,
  type CronJobControllerOptions,
  DEFAULT_CONCURRENT_CRON_JOB_SYNCS,
  jobFromTemplate,
} from "./cronjob/cronjob-controller.js";
export {
  jobNameFor,
  MAX_MISSED_SCHEDULES,
  mostRecentSchedule,
  scheduleInZone,
} from "./cronjob/schedule-times.js";
export {
  CONTROLLER_REVISION_HASH_LABEL,
  daemonPodTemplate,
  nodeShouldRunDaemonPod,
  targetNodeName,
} from "./daemonset/daemon-pod.js";
export {
  DAEMON_SET_API_VERSION,
  DAEMON_SET_KIND,
  DaemonSetController,
  type DaemonSetControllerOptions,
} from "./daemonset/daemon-set-controller.js";
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
// The cluster controllers: node lifecycle and taint eviction, node IPAM, endpoints, service
// accounts, namespace deletion, garbage collection, resource quota usage, volume binding.
export {
  computeEndpointSubsets,
  findPort,
  HEADLESS_LABEL,
  MAX_ENDPOINTS_CAPACITY,
  OVER_CAPACITY_ANNOTATION,
} from "./endpoints/endpoint-subsets.js";
export {
  DEFAULT_CONCURRENT_ENDPOINT_SYNCS,
  EndpointsController,
  type EndpointsControllerOptions,
} from "./endpoints/endpoints-controller.js";
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
  DependencyGraph,
  FINALIZER_FOREGROUND,
  FINALIZER_ORPHAN,
  type GraphNode,
} from "./garbagecollector/dependency-graph.js";
export {
  DEFAULT_CONCURRENT_GC_SYNCS,
  GarbageCollector,
  type GarbageCollectorOptions,
  garbageCollectedKinds,
  informerKey,
} from "./garbagecollector/garbage-collector.js";
export {
  DEFAULT_CONCURRENT_JOB_SYNCS,
  JOB_API_VERSION,
  JOB_KIND,
  JobController,
  type JobControllerOptions,
} from "./job/job-controller.js";
export {
  JOB_COMPLETION_INDEX_ANNOTATION,
  JOB_TRACKING_FINALIZER,
  jobFinished,
} from "./job/job-state.js";
export {
  DEFAULT_CONCURRENT_NAMESPACE_SYNCS,
  FINALIZER_KUBERNETES,
  NamespaceController,
  type NamespaceControllerOptions,
} from "./namespace/namespace-controller.js";
export { CidrSet, formatCidr, parseCidr } from "./nodeipam/cidr-set.js";
export {
  DEFAULT_CLUSTER_CIDR,
  DEFAULT_NODE_CIDR_MASK_SIZE,
  NodeIpamController,
  type NodeIpamControllerOptions,
} from "./nodeipam/node-ipam-controller.js";
export {
  NODE_LEASE_NAMESPACE,
  NODE_MONITOR_GRACE_PERIOD_MS,
  NODE_MONITOR_PERIOD_MS,
  NODE_STARTUP_GRACE_PERIOD_MS,
  NodeLifecycleController,
  type NodeLifecycleControllerOptions,
} from "./nodelifecycle/node-lifecycle-controller.js";
export { POD_NODE_NAME_INDEX, podNodeNameIndexFunc } from "./nodelifecycle/pods-by-node.js";
export {
  TaintEvictionController,
  type TaintEvictionControllerOptions,
} from "./nodelifecycle/taint-eviction-controller.js";
export {
  matchingTolerations,
  minTolerationMs,
  TAINT_NODE_NOT_READY,
  TAINT_NODE_UNREACHABLE,
  TAINT_NODE_UNSCHEDULABLE,
  toleratesTaint,
} from "./nodelifecycle/taints.js";
export {
  LARGE_CLUSTER_SIZE_THRESHOLD,
  NODE_EVICTION_RATE,
  SECONDARY_NODE_EVICTION_RATE,
  UNHEALTHY_ZONE_THRESHOLD,
} from "./nodelifecycle/zone-state.js";
export type { ClusterControllerSettings } from "./process/controller-manager.js";
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
export {
  BURST_REPLICAS,
  ReplicaSetController,
  type ReplicaSetControllerOptions,
} from "./replicaset/replica-set-controller.js";
export { calculateReplicaSetStatus, REPLICA_FAILURE } from "./replicaset/replica-set-status.js";
export { SLOW_START_INITIAL_BATCH_SIZE, slowStartBatch } from "./replicaset/slow-start.js";
export {
  RESOURCE_QUOTA_SYNC_PERIOD_MS,
  ResourceQuotaController,
  type ResourceQuotaControllerOptions,
} from "./resourcequota/resource-quota-controller.js";
export {
  DEFAULT_SERVICE_ACCOUNTS,
  ServiceAccountsController,
  type ServiceAccountsControllerOptions,
} from "./serviceaccount/service-accounts-controller.js";
export {
  keyId,
  LEGACY_TOKEN_ISSUER,
  SERVICE_ACCOUNT_NAME_ANNOTATION,
  SERVICE_ACCOUNT_TOKEN_TYPE,
  SERVICE_ACCOUNT_UID_ANNOTATION,
  signToken,
  TokensController,
  type TokensControllerOptions,
} from "./serviceaccount/tokens-controller.js";
export {
  claimName,
  POD_INDEX_LABEL,
  STATEFUL_SET_POD_NAME_LABEL,
  statefulPodName,
} from "./statefulset/stateful-pod-identity.js";
export {
  STATEFUL_SET_API_VERSION,
  STATEFUL_SET_KIND,
  StatefulSetController,
  type StatefulSetControllerOptions,
} from "./statefulset/stateful-set-controller.js";
export {
  jobExpiryMs,
  TtlAfterFinishedController,
  type TtlAfterFinishedControllerOptions,
} from "./ttlafterfinished/ttl-after-finished-controller.js";
export {
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  PersistentVolumeBinder,
  type PersistentVolumeBinderOptions,
  PV_CLAIM_BINDER_SYNC_PERIOD_MS,
} from "./volumebinding/persistent-volume-binder.js";
export { findMatchingVolume } from "./volumebinding/volume-match.js";
