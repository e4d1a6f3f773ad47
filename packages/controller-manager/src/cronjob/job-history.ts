// Which finished Jobs of a CronJob to delete: all but the newest successfulJobsHistoryLimit
// successful ones and the newest failedJobsHistoryLimit failed ones, oldest first (Kubernetes'
// cleanupFinishedJobs). https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#jobs-history-limits

import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Job } from "@tug/api";
import { jobFinished } from "../job/job-state.js";

/** Defaults of spec.successfulJobsHistoryLimit and spec.failedJobsHistoryLimit. */
export const DEFAULT_SUCCESSFUL_JOBS_HISTORY_LIMIT = 3;
export const DEFAULT_FAILED_JOBS_HISTORY_LIMIT = 1;

/** Oldest first: by status.startTime (a Job not started yet counts as newest), creation, name. */
export function compareJobsByStart(a: Job, b: Job): number {
  const startA = a.status?.startTime;
  const startB = b.status?.startTime;
  if (startA === undefined || startB === undefined) {
    if (startA !== startB) return startA === undefined ? 1 : -1;
  } else if (timestampMs(startA) !== timestampMs(startB)) {
    return timestampMs(startA) - timestampMs(startB);
  }
  const createdA = a.metadata?.creationTimestamp;
  const createdB = b.metadata?.creationTimestamp;
  const msA = createdA === undefined ? 0 : timestampMs(createdA);
  const msB = createdB === undefined ? 0 : timestampMs(createdB);
  if (msA !== msB) return msA - msB;
  const nameA = a.metadata?.name ?? "";
  const nameB = b.metadata?.name ?? "";
  return nameA < nameB ? -1 : nameA > nameB ? 1 : 0;
}

/**
 * The Jobs of `jobs` to delete, oldest first: the finished ones beyond the limits. A limit left
 * unset keeps every Job of its kind.
 */
export function jobsToPrune(
  jobs: readonly Job[],
  successfulLimit: number | undefined,
  failedLimit: number | undefined,
): Job[] {
  const pick = (outcome: "Complete" | "Failed", limit: number | undefined): Job[] => {
    if (limit === undefined) return [];
    const finished = jobs.filter((j) => jobFinished(j) === outcome).sort(compareJobsByStart);
    return finished.slice(0, Math.max(0, finished.length - limit));
  };
  return [...pick("Complete", successfulLimit), ...pick("Failed", failedLimit)];
}
