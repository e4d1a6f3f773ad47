// batch/v1 Job and CronJob validation (k8s.io/kubernetes/pkg/apis/batch/validation:
// ValidateJob, ValidateJobSpec, ValidateJobUpdate, ValidateCronJobCreate, ValidateCronJobSpec).
// Reference: https://kubernetes.io/docs/concepts/workloads/controllers/job/

import type { CronJob } from "../gen/tug/batch/v1/cron_job_pb.js";
import type { Job, JobSpec } from "../gen/tug/batch/v1/job_pb.js";
import { PodTemplateSpecSchema } from "../gen/tug/core/v1/pod_pb.js";
import { validateLabelSelector } from "../labels/label-validation.js";
import { CronScheduleError, parseCronSchedule } from "./cron-schedule.js";
import { FieldError, type FieldPath, root } from "./field-error.js";
import { immutable, immutableMessage, nonNegative, oneOf } from "./field-rules.js";
import { validatePodTemplateSpec } from "./pod-validation.js";
import { templateMatches, validateSelectorUpdate } from "./workload-validation.js";

const JOB_RESTART_POLICIES = ["OnFailure", "Never"];
/** A CronJob's name leaves 11 characters of a DNS-1035 label for the Job suffix. */
export const MAX_CRON_JOB_NAME_LENGTH = 52;

/**
 * ValidateJobSpec: parallelism, completions, activeDeadlineSeconds, backoffLimit,
 * ttlSecondsAfterFinished >= 0; completionMode NonIndexed or Indexed (which needs
 * completions); the selector, when set (the API server generates it unless manualSelector),
 * valid and matching the template; the template valid with restartPolicy OnFailure or Never.
 */
export function validateJobSpec(spec: JobSpec | undefined, path: FieldPath): FieldError[] {
  if (spec === undefined) return [FieldError.required(path)];
  const errs: FieldError[] = [];
  errs.push(...nonNegative(spec.parallelism, path.child("parallelism")));
  errs.push(...nonNegative(spec.completions, path.child("completions")));
  errs.push(...nonNegative(spec.activeDeadlineSeconds, path.child("activeDeadlineSeconds")));
  errs.push(...nonNegative(spec.backoffLimit, path.child("backoffLimit")));
  errs.push(...nonNegative(spec.ttlSecondsAfterFinished, path.child("ttlSecondsAfterFinished")));
  errs.push(...nonNegative(spec.backoffLimitPerIndex, path.child("backoffLimitPerIndex")));
  if (spec.completionMode !== undefined) {
    errs.push(
      ...oneOf(spec.completionMode, ["NonIndexed", "Indexed"], path.child("completionMode")),
    );
    if (spec.completionMode === "Indexed" && spec.completions === undefined) {
      errs.push(FieldError.required(path.child("completions"), "when completion mode is Indexed"));
    }
  }
  if (spec.podReplacementPolicy !== undefined) {
    errs.push(
      ...oneOf(
        spec.podReplacementPolicy,
        ["Failed", "TerminatingOrFailed"],
        path.child("podReplacementPolicy"),
      ),
    );
  }
  if (spec.manualSelector === true && spec.selector === undefined) {
    errs.push(FieldError.required(path.child("selector")));
  }
  errs.push(...validateLabelSelector(spec.selector, path.child("selector")));
  spec.podFailurePolicy?.rules.forEach((rule, i) => {
    const at = path.child("podFailurePolicy", "rules").index(i);
    errs.push(
      ...oneOf(rule.action, ["Count", "FailIndex", "FailJob", "Ignore"], at.child("action")),
    );
    const onExit = rule.onExitCodes !== undefined;
    const onConditions = rule.onPodConditions.length > 0;
    if (onExit && onConditions) {
      errs.push(
        FieldError.invalid(
          at,
          "",
          "specifying both OnExitCodes and OnPodConditions is not supported",
        ),
      );
    } else if (!onExit && !onConditions) {
      errs.push(
        FieldError.invalid(at, "", "specifying one of OnExitCodes and OnPodConditions is required"),
      );
    }
    if (rule.onExitCodes !== undefined) {
      const exitPath = at.child("onExitCodes");
      errs.push(...oneOf(rule.onExitCodes.operator, ["In", "NotIn"], exitPath.child("operator")));
      if (rule.onExitCodes.values.length === 0) {
        errs.push(
          FieldError.invalid(exitPath.child("values"), [], "at least one value is required"),
        );
      }
    }
  });
  const templatePath = path.child("template");
  if (spec.template === undefined) {
    errs.push(FieldError.required(templatePath));
    return errs;
  }
  errs.push(...templateMatches(spec.selector, spec.template, templatePath));
  errs.push(...validatePodTemplateSpec(spec.template, templatePath));
  const policy = spec.template.spec?.restartPolicy ?? "";
  if (!JOB_RESTART_POLICIES.includes(policy)) {
    errs.push(
      FieldError.notSupported(
        templatePath.child("spec", "restartPolicy"),
        policy,
        JOB_RESTART_POLICIES,
      ),
    );
  }
  return errs;
}

/** A Job's spec on create. */
export function validateJobBody(job: Job): FieldError[] {
  return validateJobSpec(job.spec, root("spec"));
}

/**
 * ValidateJobUpdate: selector, completionMode and (unless the Job was suspended) the pod
 * template are immutable; completions too, except for an Indexed job that changes
 * parallelism with it.
 */
export function validateJobSpecUpdate(next: Job, old: Job): FieldError[] {
  const nextSpec = next.spec;
  const oldSpec = old.spec;
  if (nextSpec === undefined || oldSpec === undefined) return [];
  const spec = root("spec");
  const errs = validateSelectorUpdate(nextSpec.selector, oldSpec.selector);
  errs.push(
    ...immutable(
      nextSpec.completionMode ?? null,
      oldSpec.completionMode ?? null,
      spec.child("completionMode"),
    ),
  );
  const elastic =
    nextSpec.completionMode === "Indexed" && nextSpec.completions === nextSpec.parallelism;
  if (!elastic) {
    errs.push(
      ...immutable(
        nextSpec.completions ?? null,
        oldSpec.completions ?? null,
        spec.child("completions"),
      ),
    );
  }
  if (oldSpec.suspend !== true) {
    errs.push(
      ...immutableMessage(
        PodTemplateSpecSchema,
        nextSpec.template,
        oldSpec.template,
        spec.child("template"),
        "template",
      ),
    );
  }
  return errs;
}

/**
 * ValidateCronJobCreate and ValidateCronJobSpec: name at most 52 characters; schedule
 * required and parseable; timeZone an IANA zone (not "Local"); concurrencyPolicy Allow,
 * Forbid or Replace; startingDeadlineSeconds and history limits >= 0; the job template.
 */
export function validateCronJobBody(cronJob: CronJob): FieldError[] {
  const errs: FieldError[] = [];
  const name = cronJob.metadata?.name ?? "";
  if (name.length > MAX_CRON_JOB_NAME_LENGTH) {
    errs.push(
      FieldError.invalid(
        root("metadata", "name"),
        name,
        `must be no more than ${MAX_CRON_JOB_NAME_LENGTH} characters`,
      ),
    );
  }
  const spec = cronJob.spec;
  const path = root("spec");
  if (spec === undefined) return [...errs, FieldError.required(path)];
  const schedulePath = path.child("schedule");
  if (spec.schedule === "") {
    errs.push(FieldError.required(schedulePath));
  } else {
    try {
      parseCronSchedule(spec.schedule);
    } catch (error) {
      if (!(error instanceof CronScheduleError)) throw error;
      errs.push(FieldError.invalid(schedulePath, spec.schedule, error.message));
    }
  }
  if (spec.timeZone !== undefined)
    errs.push(...validateTimeZone(spec.timeZone, path.child("timeZone")));
  errs.push(
    ...oneOf(
      spec.concurrencyPolicy,
      ["Allow", "Forbid", "Replace"],
      path.child("concurrencyPolicy"),
    ),
  );
  errs.push(...nonNegative(spec.startingDeadlineSeconds, path.child("startingDeadlineSeconds")));
  errs.push(
    ...nonNegative(spec.successfulJobsHistoryLimit, path.child("successfulJobsHistoryLimit")),
  );
  errs.push(...nonNegative(spec.failedJobsHistoryLimit, path.child("failedJobsHistoryLimit")));
  const templatePath = path.child("jobTemplate");
  if (spec.jobTemplate === undefined) errs.push(FieldError.required(templatePath));
  else errs.push(...validateJobSpec(spec.jobTemplate.spec, templatePath.child("spec")));
  return errs;
}

function validateTimeZone(zone: string, path: FieldPath): FieldError[] {
  if (zone === "") return [];
  if (zone === "Local") {
    return [
      FieldError.invalid(
        path,
        zone,
        "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
      ),
    ];
  }
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return [];
  } catch {
    return [FieldError.invalid(path, zone, `unknown time zone ${zone}`)];
  }
}
