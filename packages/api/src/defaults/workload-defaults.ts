// Defaults of the apps/v1 and batch/v1 workloads, as the Kubernetes API server sets them
// (k8s.io/kubernetes/pkg/apis/apps/v1/defaults.go, pkg/apis/batch/v1/defaults.go). Each pod
// template also gets the pod spec's defaults. Only unset fields are filled: idempotent.
// Reference: https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/

import { create } from "@bufbuild/protobuf";
import {
  type DaemonSet,
  DaemonSetUpdateStrategySchema,
  RollingUpdateDaemonSetSchema,
} from "../gen/tug/apps/v1/daemon_set_pb.js";
import {
  type Deployment,
  DeploymentStrategySchema,
  RollingUpdateDeploymentSchema,
} from "../gen/tug/apps/v1/deployment_pb.js";
import type { ReplicaSet } from "../gen/tug/apps/v1/replica_set_pb.js";
import {
  RollingUpdateStatefulSetStrategySchema,
  type StatefulSet,
  StatefulSetPersistentVolumeClaimRetentionPolicySchema,
  StatefulSetUpdateStrategySchema,
} from "../gen/tug/apps/v1/stateful_set_pb.js";
import type { CronJob } from "../gen/tug/batch/v1/cron_job_pb.js";
import type { Job, JobSpec } from "../gen/tug/batch/v1/job_pb.js";
import { makeIntOrString } from "../scheme/int-or-string.js";
import { defaultPersistentVolumeClaim } from "./core-defaults.js";
import { defaultPodTemplate } from "./pod-defaults.js";

/** How many old ReplicaSets / ControllerRevisions a controller keeps for rollback. */
export const DEFAULT_REVISION_HISTORY_LIMIT = 10;
/** SetDefaults_Deployment: seconds without progress before Progressing=False. */
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;
/** SetDefaults_Deployment: maxSurge and maxUnavailable of a rolling update. */
export const DEFAULT_DEPLOYMENT_MAX_SURGE = "25%";
export const DEFAULT_DEPLOYMENT_MAX_UNAVAILABLE = "25%";
/** SetDefaults_Job: pod failures before the job is marked failed. */
export const DEFAULT_JOB_BACKOFF_LIMIT = 6;
/** SetDefaults_Job: with backoffLimitPerIndex, the job-wide limit is effectively off. */
const MAX_INT32 = 2147483647;

/**
 * SetDefaults_Deployment: replicas 1, strategy RollingUpdate with maxUnavailable and maxSurge
 * 25% (a Recreate strategy gets no rollingUpdate), revisionHistoryLimit 10,
 * progressDeadlineSeconds 600.
 */
export function defaultDeployment(deployment: Deployment): void {
  const spec = deployment.spec;
  if (spec === undefined) return;
  spec.replicas ??= 1;
  spec.strategy ??= create(DeploymentStrategySchema, {});
  const strategy = spec.strategy;
  if (strategy.type === "") strategy.type = "RollingUpdate";
  if (strategy.type === "RollingUpdate") {
    strategy.rollingUpdate ??= create(RollingUpdateDeploymentSchema, {});
    strategy.rollingUpdate.maxUnavailable ??= makeIntOrString(DEFAULT_DEPLOYMENT_MAX_UNAVAILABLE);
    strategy.rollingUpdate.maxSurge ??= makeIntOrString(DEFAULT_DEPLOYMENT_MAX_SURGE);
  }
  spec.revisionHistoryLimit ??= DEFAULT_REVISION_HISTORY_LIMIT;
  spec.progressDeadlineSeconds ??= DEFAULT_PROGRESS_DEADLINE_SECONDS;
  defaultPodTemplate(spec.template);
}

/** SetDefaults_ReplicaSet: replicas 1. */
export function defaultReplicaSet(replicaSet: ReplicaSet): void {
  const spec = replicaSet.spec;
  if (spec === undefined) return;
  spec.replicas ??= 1;
  defaultPodTemplate(spec.template);
}

/**
 * SetDefaults_DaemonSet: updateStrategy RollingUpdate with maxUnavailable 1 and maxSurge 0,
 * revisionHistoryLimit 10.
 */
export function defaultDaemonSet(daemonSet: DaemonSet): void {
  const spec = daemonSet.spec;
  if (spec === undefined) return;
  spec.updateStrategy ??= create(DaemonSetUpdateStrategySchema, {});
  const strategy = spec.updateStrategy;
  if (strategy.type === "") strategy.type = "RollingUpdate";
  if (strategy.type === "RollingUpdate") {
    strategy.rollingUpdate ??= create(RollingUpdateDaemonSetSchema, {});
    strategy.rollingUpdate.maxUnavailable ??= makeIntOrString(1);
    strategy.rollingUpdate.maxSurge ??= makeIntOrString(0);
  }
  spec.revisionHistoryLimit ??= DEFAULT_REVISION_HISTORY_LIMIT;
  defaultPodTemplate(spec.template);
}

/**
 * SetDefaults_StatefulSet: podManagementPolicy OrderedReady, updateStrategy RollingUpdate with
 * partition 0, replicas 1, revisionHistoryLimit 10, PVC retention Retain/Retain; the claim
 * templates get the PVC defaults.
 */
export function defaultStatefulSet(statefulSet: StatefulSet): void {
  const spec = statefulSet.spec;
  if (spec === undefined) return;
  if (spec.podManagementPolicy === "") spec.podManagementPolicy = "OrderedReady";
  spec.updateStrategy ??= create(StatefulSetUpdateStrategySchema, {});
  const strategy = spec.updateStrategy;
  if (strategy.type === "") strategy.type = "RollingUpdate";
  if (strategy.type === "RollingUpdate") {
    strategy.rollingUpdate ??= create(RollingUpdateStatefulSetStrategySchema, {});
    strategy.rollingUpdate.partition ??= 0;
  }
  spec.persistentVolumeClaimRetentionPolicy ??= create(
    StatefulSetPersistentVolumeClaimRetentionPolicySchema,
    {},
  );
  const retention = spec.persistentVolumeClaimRetentionPolicy;
  if (retention.whenDeleted === "") retention.whenDeleted = "Retain";
  if (retention.whenScaled === "") retention.whenScaled = "Retain";
  spec.replicas ??= 1;
  spec.revisionHistoryLimit ??= DEFAULT_REVISION_HISTORY_LIMIT;
  for (const claim of spec.volumeClaimTemplates) defaultPersistentVolumeClaim(claim);
  defaultPodTemplate(spec.template);
}

/**
 * SetDefaults_Job: completions and parallelism 1 when both are unset, else parallelism 1;
 * backoffLimit 6 (the int32 maximum with backoffLimitPerIndex); completionMode NonIndexed;
 * suspend false; podReplacementPolicy Failed with a podFailurePolicy, else
 * TerminatingOrFailed; status True in every onPodConditions pattern of the podFailurePolicy.
 * The selector is generated by the API server's job strategy, not here.
 */
export function defaultJob(job: Job): void {
  if (job.spec === undefined) return;
  defaultJobSpec(job.spec);
  const spec = job.spec;
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??=
    spec.backoffLimitPerIndex === undefined ? DEFAULT_JOB_BACKOFF_LIMIT : MAX_INT32;
  spec.completionMode ??= "NonIndexed";
  spec.suspend ??= false;
  spec.podReplacementPolicy ??=
    spec.podFailurePolicy === undefined ? "TerminatingOrFailed" : "Failed";
  for (const rule of spec.podFailurePolicy?.rules ?? []) {
    for (const pattern of rule.onPodConditions) {
      if (pattern.status === "") pattern.status = "True";
    }
  }
}

function defaultJobSpec(spec: JobSpec): void {
  defaultPodTemplate(spec.template);
}

/**
 * SetDefaults_CronJob: concurrencyPolicy Allow, suspend false, successfulJobsHistoryLimit 3,
 * failedJobsHistoryLimit 1; the job template's pod template gets the pod spec's defaults (the
 * Job's own defaults are set when the controller creates each Job).
 */
export function defaultCronJob(cronJob: CronJob): void {
  const spec = cronJob.spec;
  if (spec === undefined) return;
  if (spec.concurrencyPolicy === "") spec.concurrencyPolicy = "Allow";
  spec.suspend ??= false;
  spec.successfulJobsHistoryLimit ??= 3;
  spec.failedJobsHistoryLimit ??= 1;
  if (spec.jobTemplate?.spec !== undefined) defaultJobSpec(spec.jobTemplate.spec);
}
