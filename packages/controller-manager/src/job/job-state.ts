// What the Job controller decides from a Job and its pods, as pure functions: which pods count
// as succeeded or failed, how many pods should be running, the back-off before replacing failed
// pods, and whether the Job has failed or succeeded (Kubernetes' pkg/controller/job).
// https://kubernetes.io/docs/concepts/workloads/controllers/job/

import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Job, Pod } from "@tug/api";

/**
 * The finalizer every pod of a Job carries until the controller has counted it in
 * status.succeeded / status.failed, so that a pod deleted after it finished still counts once.
 * https://kubernetes.io/docs/concepts/workloads/controllers/job/#job-tracking-with-finalizers
 */
export const JOB_TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking";
export const JOB_NAME_LABEL = "batch.kubernetes.io/job-name";
export const LEGACY_JOB_NAME_LABEL = "job-name";
export const CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid";
export const LEGACY_CONTROLLER_UID_LABEL = "controller-uid";

/**
 * The first delay before a failed pod is replaced; it doubles with each further failure
 * (Kubernetes' DefaultJobPodFailureBackOff, 10 s).
 */
export const JOB_BACKOFF_BASE_MS = 10_000;
/** The longest back-off between pod replacements (Kubernetes' MaxJobPodFailureBackOff, 6 min). */
export const JOB_BACKOFF_MAX_MS = 6 * 60_000;

export type JobConditionType =
  | "Complete"
  | "Failed"
  | "SuccessCriteriaMet"
  | "FailureTarget"
  | "Suspended";

/** A failure or success the controller has decided on, with Kubernetes' reason and message. */
export interface JobVerdict {
  readonly reason: string;
  readonly message: string;
}

export const BACKOFF_LIMIT_EXCEEDED: JobVerdict = {
  reason: "BackoffLimitExceeded",
  message: "Job has reached the specified backoff limit",
};
export const DEADLINE_EXCEEDED: JobVerdict = {
  reason: "DeadlineExceeded",
  message: "Job was active longer than specified deadline",
};
export const COMPLETIONS_REACHED: JobVerdict = {
  reason: "CompletionsReached",
  message: "Reached expected number of succeeded pods",
};

/** True when the Job has the condition `type` with status True. */
export function hasJobCondition(job: Job, type: JobConditionType): boolean {
  return job.status?.conditions.some((c) => c.type === type && c.status === "True") ?? false;
}

/** "Complete" or "Failed" once the Job has finished for good (IsJobFinished); else undefined. */
export function jobFinished(job: Job): "Complete" | "Failed" | undefined {
  if (hasJobCondition(job, "Complete")) return "Complete";
  if (hasJobCondition(job, "Failed")) return "Failed";
  return undefined;
}

/** A pod that ended well. */
export function isPodSucceeded(pod: Pod): boolean {
  return pod.status?.phase === "Succeeded";
}

/**
 * True when a replacement pod waits until the pod it replaces has reached phase Failed, rather
 * than starting as soon as that pod is terminating: podReplacementPolicy Failed, which a
 * podFailurePolicy implies (Kubernetes' onlyReplaceFailedPods).
 * https://kubernetes.io/docs/concepts/workloads/controllers/job/#pod-replacement-policy
 */
export function onlyReplaceFailedPods(job: Job): boolean {
  return job.spec?.podReplacementPolicy === "Failed" || job.spec?.podFailurePolicy !== undefined;
}

/**
 * A pod that counts as a failure of `job` (Kubernetes' isPodFailed): phase Failed, or — unless
 * onlyReplaceFailedPods — deleted before it succeeded, since such a pod may never get to report
 * Failed.
 */
export function isPodFailedForJob(pod: Pod, job: Job): boolean {
  const phase = pod.status?.phase ?? "";
  if (phase === "Failed") return true;
  if (onlyReplaceFailedPods(job)) return false;
  return pod.metadata?.deletionTimestamp !== undefined && phase !== "Succeeded";
}

/** A pod being deleted that has not reached a terminal phase yet. */
export function isPodTerminating(pod: Pod): boolean {
  const phase = pod.status?.phase ?? "";
  return (
    pod.metadata?.deletionTimestamp !== undefined && phase !== "Succeeded" && phase !== "Failed"
  );
}

export function hasTrackingFinalizer(pod: Pod): boolean {
  return pod.metadata?.finalizers.includes(JOB_TRACKING_FINALIZER) ?? false;
}

/**
 * How many pods should be active (NonIndexed): with completions, at most parallelism and at most
 * the completions still missing; without completions (a work queue), parallelism until the first
 * pod succeeds, then none. Never negative.
 */
export function wantedActivePods(job: Job, succeeded: number): number {
  const parallelism = Math.max(0, job.spec?.parallelism ?? 1);
  const completions = job.spec?.completions;
  if (completions === undefined) return succeeded > 0 ? 0 : parallelism;
  return Math.max(0, Math.min(parallelism, completions - succeeded));
}

/**
 * The back-off after `failures` consecutive pod failures (counted since the last success):
 * 0 with none, then base, 2×base, 4×base, … up to `maxMs`.
 */
export function backoffDelayMs(
  failures: number,
  baseMs: number = JOB_BACKOFF_BASE_MS,
  maxMs: number = JOB_BACKOFF_MAX_MS,
): number {
  if (failures <= 0) return 0;
  // 2^(failures-1) overflows to Infinity long before failures gets large; min() caps it.
  return Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 64));
}

/** A Job's consecutive failures since its last success, and when the last one was seen. */
export interface BackoffRecord {
  readonly failuresSinceSuccess: number;
  readonly lastFailureMs: number;
}

/** The record after some pods finished (in the order given): a success resets the count. */
export function nextBackoffRecord(
  record: BackoffRecord | undefined,
  finished: readonly ("succeeded" | "failed")[],
  nowMs: number,
): BackoffRecord | undefined {
  let current = record;
  for (const outcome of finished) {
    current =
      outcome === "succeeded"
        ? undefined
        : { failuresSinceSuccess: (current?.failuresSinceSuccess ?? 0) + 1, lastFailureMs: nowMs };
  }
  return current;
}

/** Milliseconds still to wait before creating pods again; 0 when creation may go ahead. */
export function remainingBackoffMs(
  record: BackoffRecord | undefined,
  nowMs: number,
  baseMs: number = JOB_BACKOFF_BASE_MS,
  maxMs: number = JOB_BACKOFF_MAX_MS,
): number {
  if (record === undefined) return 0;
  const delay = backoffDelayMs(record.failuresSinceSuccess, baseMs, maxMs);
  return Math.max(0, record.lastFailureMs + delay - nowMs);
}

/** When spec.activeDeadlineSeconds runs out, in ms since the epoch; undefined without one. */
export function activeDeadlineMs(job: Job): number | undefined {
  const seconds = job.spec?.activeDeadlineSeconds;
  const start = job.status?.startTime;
  if (seconds === undefined || start === undefined) return undefined;
  return timestampMs(start) + seconds * 1000;
}

/**
 * Why the Job fails, if it does: more failed pods than spec.backoffLimit (default 6), or active
 * for longer than spec.activeDeadlineSeconds since status.startTime.
 */
export function jobFailure(job: Job, failed: number, nowMs: number): JobVerdict | undefined {
  const limit = job.spec?.backoffLimit ?? 6;
  if (failed > limit) return BACKOFF_LIMIT_EXCEEDED;
  const deadline = activeDeadlineMs(job);
  if (deadline !== undefined && nowMs >= deadline) return DEADLINE_EXCEEDED;
  return undefined;
}

/**
 * True when the Job has succeeded (NonIndexed): completions pods succeeded; without completions,
 * one pod succeeded and none is active any more.
 */
export function jobSucceeded(job: Job, succeeded: number, active: number): boolean {
  const completions = job.spec?.completions;
  if (completions === undefined) return succeeded > 0 && active === 0;
  return succeeded >= completions;
}

/**
 * The annotation (and label) with a pod's completion index in an Indexed Job.
 * https://kubernetes.io/docs/concepts/workloads/controllers/job/#completion-mode
 */
export const JOB_COMPLETION_INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index";
/** The environment variable with the completion index, set in every container of the pod. */
export const JOB_COMPLETION_INDEX_ENV = "JOB_COMPLETION_INDEX";

/**
 * The longest generateName prefix: a name is at most 63 characters (a DNS label) and the API
 * server appends 5 random ones (Kubernetes' names.MaxGeneratedNameLength).
 */
export const MAX_GENERATED_NAME_LENGTH = 58;

/**
 * The generateName of an Indexed Job's pod for `index`, `<job>-<index>-`, so that its name is
 * `<job>-<index>-<random 5>`; a long Job name is cut so that the index and the random part
 * still fit (Kubernetes' podGenerateNameWithIndex).
 */
export function podGenerateNameWithIndex(jobName: string, index: number): string {
  const suffix = `-${index}-`;
  const prefix = `${jobName}${suffix}`;
  if (prefix.length <= MAX_GENERATED_NAME_LENGTH) return prefix;
  return `${jobName.slice(0, MAX_GENERATED_NAME_LENGTH - suffix.length)}${suffix}`;
}

export function isIndexedJob(job: Job): boolean {
  return job.spec?.completionMode === "Indexed";
}

/** The pod's completion index when it is a whole number in [0, completions); else undefined. */
export function podCompletionIndex(pod: Pod, completions: number): number | undefined {
  const text = pod.metadata?.annotations[JOB_COMPLETION_INDEX_ANNOTATION];
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const index = Number(text);
  return index < completions ? index : undefined;
}

/** status.completedIndexes ("1,3-5,7") as a set; malformed parts are ignored. */
export function parseIndexes(text: string): Set<number> {
  const indexes = new Set<number>();
  for (const part of text.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (m === null) continue;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let i = lo; i <= hi; i++) indexes.add(i);
  }
  return indexes;
}

/** Indexes in Kubernetes' compressed form: ascending, runs of consecutive ones as "a-b". */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && (sorted[j + 1] as number) === (sorted[j] as number) + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/**
 * The indexes to start pods for (Indexed): the lowest ones neither completed nor running, as many
 * as parallelism leaves room for beside the `running` ones.
 */
export function indexesToStart(
  completions: number,
  parallelism: number,
  completed: ReadonlySet<number>,
  running: ReadonlySet<number>,
): number[] {
  const room = Math.max(0, parallelism - running.size);
  const start: number[] = [];
  for (let i = 0; i < completions && start.length < room; i++) {
    if (!completed.has(i) && !running.has(i)) start.push(i);
  }
  return start;
}
