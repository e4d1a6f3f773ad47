// A Job's generated selector: unless spec.manualSelector is true, the API server labels the
// pod template with the Job's name and uid and selects on the uid, so that a Job only ever
// owns its own pods (Kubernetes' pkg/registry/batch/job strategy, generateSelector).
// https://kubernetes.io/docs/concepts/workloads/controllers/job/#specifying-your-own-pod-selector

import type { Job, KindInfo, ObjectMeta } from "@tug/api";
import { emptyMessageField, setFieldOf } from "./api-object.js";

export const JOB_NAME_LABEL = "batch.kubernetes.io/job-name";
export const LEGACY_JOB_NAME_LABEL = "job-name";
export const CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid";
export const LEGACY_CONTROLLER_UID_LABEL = "controller-uid";

/**
 * Adds job-name and controller-uid labels (both spellings) to the template where they are
 * missing, and selects on batch.kubernetes.io/controller-uid. Labels the user set are kept: a
 * conflicting one fails validation (the selector does not match the template). Needs the
 * Job's final name and uid.
 */
export function generateJobSelector(kind: KindInfo, job: Job): void {
  if (job.spec?.manualSelector === true) return;
  if (job.spec === undefined) setFieldOf(job, "spec", emptyMessageField(kind, "spec"));
  const spec = job.spec;
  if (spec === undefined) return;
  const name = job.metadata?.name ?? "";
  const uid = job.metadata?.uid ?? "";
  if (spec.template === undefined) {
    spec.template = {
      $typeName: "tug.core.v1.PodTemplateSpec",
      metadata: undefined,
      spec: undefined,
    };
  }
  if (spec.template.metadata === undefined) {
    spec.template.metadata = emptyMessageField(kind, "metadata") as ObjectMeta;
  }
  const labels = spec.template.metadata.labels;
  for (const key of [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL]) labels[key] ??= name;
  for (const key of [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL]) labels[key] ??= uid;
  if (spec.selector === undefined) {
    spec.selector = {
      $typeName: "tug.meta.v1.LabelSelector",
      matchLabels: {},
      matchExpressions: [],
    };
  }
  spec.selector.matchLabels[CONTROLLER_UID_LABEL] ??= uid;
}
