// spec.backoffLimitPerIndex of Indexed Jobs, as pure functions (Kubernetes' KEP-3850 in
// pkg/controller/job/backoff_limit_per_index): each index may fail backoffLimitPerIndex times
// before it is marked failed (status.failedIndexes) and not started again; the failures of an
// index so far travel on its pods in the job-index-failure-count annotation; past
// spec.maxFailedIndexes failed indexes the Job fails, and once every index has succeeded or
// failed with some failed, it fails too.
// https://kubernetes.io/docs/concepts/workloads/controllers/job/#backoff-limit-per-index

import type { Job, Pod } from "@tug/api";
import { isPodFailedForJob, type JobVerdict, podCompletionIndex } from "./job-state.js";
import { matchPodFailurePolicy, type PodFailureVerdict } from "./pod-failure-policy.js";

/** Failures of the pod's index before this pod, counted against backoffLimitPerIndex. */
export const JOB_INDEX_FAILURE_COUNT_ANNOTATION = "batch.kubernetes.io/job-index-failure-count";
/** Failures of the pod's index before this pod that a podFailurePolicy Ignore rule matched. */
export const JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION =
  "batch.kubernetes.io/job-index-ignored-failure-count";

export const MAX_FAILED_INDEXES_EXCEEDED: JobVerdict = {
  reason: "MaxFailedIndexesExceeded",
  message: "Job has exceeded the specified maximal number of failed indexes",
};
export const FAILED_INDEXES: JobVerdict = {
  reason: "FailedIndexes",
  message: "Job has failed indexes",
};

export function hasBackoffLimitPerIndex(job: Job): boolean {
  return job.spec?.backoffLimitPerIndex !== undefined;
}

export interface IndexFailureCounts {
  readonly failures: number;
  readonly ignored: number;
}

function countAnnotation(pod: Pod, name: string): number {
  const text = pod.metadata?.annotations[name];
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : 0;
}

/** The counts a pod carries (0 where an annotation is missing or not a whole number). */
export function indexFailureCounts(pod: Pod): IndexFailureCounts {
  return {
    failures: countAnnotation(pod, JOB_INDEX_FAILURE_COUNT_ANNOTATION),
    ignored: countAnnotation(pod, JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION),
  };
}

/**
 * The latest failed pod of `index` among the Job's `pods` (failed as isPodFailedForJob has it:
 * a deleted pod counts unless podReplacementPolicy is Failed): the one carrying the most
 * failures (each replacement carries one more than the pod it replaces), the newest on a tie.
 */
export function podBeingReplaced(job: Job, pods: readonly Pod[], index: number): Pod | undefined {
  const completions = job.spec?.completions ?? 0;
  let latest: Pod | undefined;
  let latestTotal = -1;
  for (const pod of pods) {
    if (!isPodFailedForJob(pod, job) || podCompletionIndex(pod, completions) !== index) continue;
    const { failures, ignored } = indexFailureCounts(pod);
    const total = failures + ignored;
    if (total > latestTotal || (total === latestTotal && isNewer(pod, latest))) {
      latest = pod;
      latestTotal = total;
    }
  }
  return latest;
}

function isNewer(pod: Pod, than: Pod | undefined): boolean {
  const a = pod.metadata?.creationTimestamp;
  const b = than?.metadata?.creationTimestamp;
  if (a === undefined || b === undefined) return false;
  return a.seconds > b.seconds || (a.seconds === b.seconds && a.nanos > b.nanos);
}

/**
 * The counts a new pod of an index carries: those of the pod it replaces plus that pod's own
 * failure (as ignored when an Ignore rule matched it); zero for an index's first pod.
 */
export function newIndexFailureCounts(job: Job, replaced: Pod | undefined): IndexFailureCounts {
  if (replaced === undefined) return { failures: 0, ignored: 0 };
  const { failures, ignored } = indexFailureCounts(replaced);
  const counted = matchPodFailurePolicy(job.spec?.podFailurePolicy, replaced).countFailed;
  return counted ? { failures: failures + 1, ignored } : { failures, ignored: ignored + 1 };
}

/**
 * True when the failed `pod` fails its index: a FailIndex rule matched it, or it counts and its
 * index had already failed backoffLimitPerIndex times before it.
 */
export function isIndexFailed(job: Job, pod: Pod, verdict: PodFailureVerdict): boolean {
  if (verdict.action === "FailIndex") return true;
  const limit = job.spec?.backoffLimitPerIndex;
  return limit !== undefined && verdict.countFailed && indexFailureCounts(pod).failures >= limit;
}

/**
 * Why an Indexed Job with backoffLimitPerIndex fails, if it does: more failed indexes than
 * maxFailedIndexes, or every index finished (succeeded or failed) with at least one failed.
 */
export function failedIndexesVerdict(
  job: Job,
  failed: ReadonlySet<number>,
  succeeded: ReadonlySet<number>,
): JobVerdict | undefined {
  if (!hasBackoffLimitPerIndex(job) || failed.size === 0) return undefined;
  const max = job.spec?.maxFailedIndexes;
  if (max !== undefined && failed.size > max) return MAX_FAILED_INDEXES_EXCEEDED;
  let finished = failed.size;
  for (const index of succeeded) if (!failed.has(index)) finished++;
  return finished >= (job.spec?.completions ?? 0) ? FAILED_INDEXES : undefined;
}
