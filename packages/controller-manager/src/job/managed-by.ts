// spec.managedBy (Kubernetes' KEP-4368, JobManagedBy: beta and on by default in 1.32): a Job
// whose managedBy names another controller is reconciled by that controller alone; tug's Job
// controller creates no pod for it, removes no finalizer and writes no status.
// https://kubernetes.io/docs/concepts/workloads/controllers/job/#delegation-of-managing-a-job-object-to-external-controller

import type { Job } from "@tug/api";

/** The managedBy value, like no value at all, that leaves a Job to the built-in controller. */
export const JOB_CONTROLLER_NAME = "kubernetes.io/job-controller";

/** The external controller a Job is left to, or undefined when this controller manages it. */
export function externalJobManager(job: Job): string | undefined {
  const managedBy = job.spec?.managedBy;
  return managedBy === undefined || managedBy === JOB_CONTROLLER_NAME ? undefined : managedBy;
}
