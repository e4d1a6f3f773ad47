// spec.concurrencyPolicy of a CronJob: what a due time does while Jobs of the CronJob still run.
// https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#concurrency-policy

/** "start" the new Job; "skip" this time (Forbid); "replace" the running Jobs with it. */
export type ConcurrencyAction = "start" | "skip" | "replace";

/**
 * Allow (the default, also for "") always starts; Forbid skips while a Job is active; Replace
 * deletes the active Jobs, then starts. With no active Job every policy starts.
 */
export function concurrencyAction(policy: string, activeJobs: number): ConcurrencyAction {
  if (activeJobs === 0) return "start";
  if (policy === "Forbid") return "skip";
  if (policy === "Replace") return "replace";
  return "start";
}
