// batch/v1 Job and CronJob validation (k8s.io/kubernetes/pkg/apis/batch/validation:
// ValidateJob, ValidateJobSpec, ValidateJobUpdate, ValidateCronJobCreate, ValidateCronJobSpec).
// Reference: https://kubernetes.io/docs/concepts/workloads/controllers/job/

import { toJson } from "@bufbuild/protobuf";
import type { CronJob } from "../gen/tug/batch/v1/cron_job_pb.js";
import {
  type Job,
  type JobSpec,
  PodFailurePolicySchema,
  type SuccessPolicy,
  type SuccessPolicyRule,
  SuccessPolicySchema,
} from "../gen/tug/batch/v1/job_pb.js";
import { PodTemplateSpecSchema } from "../gen/tug/core/v1/pod_pb.js";
import { validateLabelSelector } from "../labels/label-validation.js";
import { CronScheduleError, parseCronSchedule } from "./cron-schedule.js";
import { domainPrefixedPath } from "./domain-prefixed-path.js";
import { FieldError, type FieldPath, root } from "./field-error.js";
import { immutable, immutableMessage, nonNegative, oneOf, qualifiedName } from "./field-rules.js";
import { checkIndexIntervals } from "./index-intervals.js";
import { validatePodTemplateSpec } from "./pod-validation.js";
import { templateMatches, validateSelectorUpdate } from "./workload-validation.js";

const JOB_RESTART_POLICIES = ["OnFailure", "Never"];
/** A CronJob's name leaves 11 characters of a DNS-1035 label for the Job suffix. */
export const MAX_CRON_JOB_NAME_LENGTH = 52;

/**
 * ValidateJobSpec: parallelism, completions, activeDeadlineSeconds, backoffLimit,
 * backoffLimitPerIndex, maxFailedIndexes, ttlSecondsAfterFinished >= 0; completionMode
 * NonIndexed or Indexed (which needs completions, and alone allows backoffLimitPerIndex and
 * maxFailedIndexes, the latter only with the former and at most completions); managedBy a
 * domain-prefixed path of at most 63 characters; the podFailurePolicy; the successPolicy (Indexed
 * Jobs only); podReplacementPolicy Failed or TerminatingOrFailed (only Failed with a
 * podFailurePolicy); the selector, when set (the API server generates it unless
 * manualSelector), valid and matching the template; the template valid with restartPolicy
 * OnFailure or Never (only Never with a podFailurePolicy).
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
  errs.push(...nonNegative(spec.maxFailedIndexes, path.child("maxFailedIndexes")));
  if (spec.maxFailedIndexes !== undefined && spec.backoffLimitPerIndex === undefined) {
    errs.push(
      FieldError.required(path.child("backoffLimitPerIndex"), "when maxFailedIndexes is specified"),
    );
  }
  if (spec.managedBy !== undefined) {
    const managedByPath = path.child("managedBy");
    errs.push(...domainPrefixedPath(spec.managedBy, managedByPath));
    // Go's len(): bytes, not UTF-16 units.
    if (new TextEncoder().encode(spec.managedBy).length > MAX_MANAGED_BY_LENGTH) {
      errs.push(FieldError.tooLong(managedByPath, spec.managedBy, MAX_MANAGED_BY_LENGTH));
    }
  }
  if (spec.completionMode !== undefined) {
    errs.push(
      ...oneOf(spec.completionMode, ["NonIndexed", "Indexed"], path.child("completionMode")),
    );
  }
  if (spec.completionMode === "Indexed") {
    errs.push(...validateIndexedLimits(spec, path));
  } else {
    for (const field of ["backoffLimitPerIndex", "maxFailedIndexes"] as const) {
      const value = spec[field];
      if (value !== undefined) {
        errs.push(
          FieldError.invalid(
            path.child(field),
            value,
            "requires indexed completion mode (set completionMode: Indexed)",
          ),
        );
      }
    }
  }
  if (spec.podReplacementPolicy !== undefined) {
    const supported =
      spec.podFailurePolicy === undefined ? ["Failed", "TerminatingOrFailed"] : ["Failed"];
    errs.push(...oneOf(spec.podReplacementPolicy, supported, path.child("podReplacementPolicy")));
  }
  if (spec.manualSelector === true && spec.selector === undefined) {
    errs.push(FieldError.required(path.child("selector")));
  }
  errs.push(...validateLabelSelector(spec.selector, path.child("selector")));
  if (spec.podFailurePolicy !== undefined) {
    errs.push(...validatePodFailurePolicy(spec, path.child("podFailurePolicy")));
  }
  if (spec.successPolicy !== undefined) {
    errs.push(...validateSuccessPolicy(spec, spec.successPolicy, path.child("successPolicy")));
  }
  const templatePath = path.child("template");
  if (spec.template === undefined) {
    errs.push(FieldError.required(templatePath));
    return errs;
  }
  errs.push(...templateMatches(spec.selector, spec.template, templatePath));
  errs.push(...validatePodTemplateSpec(spec.template, templatePath));
  const policy = spec.template.spec?.restartPolicy ?? "";
  const restartPath = templatePath.child("spec", "restartPolicy");
  if (!JOB_RESTART_POLICIES.includes(policy)) {
    errs.push(FieldError.notSupported(restartPath, policy, JOB_RESTART_POLICIES));
  } else if (spec.podFailurePolicy !== undefined && policy !== "Never") {
    errs.push(
      FieldError.invalid(
        restartPath,
        policy,
        'only "Never" is supported when podFailurePolicy is specified',
      ),
    );
  }
  return errs;
}

/** Kubernetes' limits on Indexed Jobs (pkg/apis/batch/validation). */
const MAX_PARALLELISM_FOR_INDEXED_JOB = 100_000;
const MAX_FAILED_INDEXES_FOR_INDEXED_JOB = 100_000;
/** Above this many completions, backoffLimitPerIndex needs maxFailedIndexes and lower limits. */
const COMPLETIONS_SOFT_LIMIT = 100_000;
const PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS = 10_000;
const MAX_FAILED_INDEXES_LIMIT_FOR_HIGH_COMPLETIONS = 10_000;

/** completions required; parallelism and maxFailedIndexes within Kubernetes' bounds. */
function validateIndexedLimits(spec: JobSpec, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const { completions, parallelism, maxFailedIndexes } = spec;
  if (completions === undefined) {
    errs.push(FieldError.required(path.child("completions"), "when completion mode is Indexed"));
  }
  if (parallelism !== undefined && parallelism > MAX_PARALLELISM_FOR_INDEXED_JOB) {
    errs.push(
      FieldError.invalid(
        path.child("parallelism"),
        parallelism,
        `must be less than or equal to ${MAX_PARALLELISM_FOR_INDEXED_JOB} when completion mode is Indexed`,
      ),
    );
  }
  const maxPath = path.child("maxFailedIndexes");
  if (maxFailedIndexes !== undefined) {
    if (completions !== undefined && maxFailedIndexes > completions) {
      errs.push(
        FieldError.invalid(maxPath, maxFailedIndexes, "must be less than or equal to completions"),
      );
    }
    if (maxFailedIndexes > MAX_FAILED_INDEXES_FOR_INDEXED_JOB) {
      errs.push(
        FieldError.invalid(
          maxPath,
          maxFailedIndexes,
          `must be less than or equal to ${MAX_FAILED_INDEXES_FOR_INDEXED_JOB}`,
        ),
      );
    }
  }
  if (
    completions !== undefined &&
    completions > COMPLETIONS_SOFT_LIMIT &&
    spec.backoffLimitPerIndex !== undefined
  ) {
    const high = `when completions are above ${COMPLETIONS_SOFT_LIMIT} and used with backoff limit per index`;
    if (maxFailedIndexes === undefined) {
      errs.push(
        FieldError.required(
          maxPath,
          `must be specified when completions is above ${COMPLETIONS_SOFT_LIMIT}`,
        ),
      );
    } else if (maxFailedIndexes > MAX_FAILED_INDEXES_LIMIT_FOR_HIGH_COMPLETIONS) {
      errs.push(
        FieldError.invalid(
          maxPath,
          maxFailedIndexes,
          `must be less than or equal to ${MAX_FAILED_INDEXES_LIMIT_FOR_HIGH_COMPLETIONS} ${high}`,
        ),
      );
    }
    if (parallelism !== undefined && parallelism > PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS) {
      errs.push(
        FieldError.invalid(
          path.child("parallelism"),
          parallelism,
          `must be less than or equal to ${PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS} ${high}`,
        ),
      );
    }
  }
  return errs;
}

/** Kubernetes' bounds on a podFailurePolicy. */
const MAX_POD_FAILURE_POLICY_RULES = 20;
const MAX_ON_EXIT_CODES_VALUES = 255;
const MAX_ON_POD_CONDITIONS_PATTERNS = 20;
const POD_FAILURE_POLICY_ACTIONS = ["Count", "FailIndex", "FailJob", "Ignore"];
const CONDITION_STATUSES = ["False", "True", "Unknown"];

/**
 * validatePodFailurePolicy: at most 20 rules; each an action of Count, FailIndex (which needs
 * backoffLimitPerIndex), FailJob or Ignore, and exactly one of onExitCodes (operator In or
 * NotIn; containerName one of the template's containers; 1 to 255 distinct values in
 * ascending order, no 0 with In) and onPodConditions (at most 20 patterns, each a qualified
 * condition type with status True, False or Unknown).
 */
function validatePodFailurePolicy(spec: JobSpec, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const rules = spec.podFailurePolicy?.rules ?? [];
  const rulesPath = path.child("rules");
  if (rules.length > MAX_POD_FAILURE_POLICY_RULES) {
    errs.push(FieldError.tooMany(rulesPath, rules.length, MAX_POD_FAILURE_POLICY_RULES));
  }
  const podSpec = spec.template?.spec;
  const containerNames = new Set(
    [...(podSpec?.containers ?? []), ...(podSpec?.initContainers ?? [])].map((c) => c.name),
  );
  rules.forEach((rule, i) => {
    const at = rulesPath.index(i);
    const actionPath = at.child("action");
    if (rule.action === "FailIndex") {
      if (spec.backoffLimitPerIndex === undefined) {
        errs.push(
          FieldError.invalid(
            actionPath,
            rule.action,
            "requires the backoffLimitPerIndex to be set (FailIndex fails one index of an Indexed Job)",
          ),
        );
      }
    } else {
      errs.push(...oneOf(rule.action, POD_FAILURE_POLICY_ACTIONS, actionPath));
    }
    const onExit = rule.onExitCodes;
    if (onExit !== undefined) {
      const exitPath = at.child("onExitCodes");
      errs.push(...oneOf(onExit.operator, ["In", "NotIn"], exitPath.child("operator")));
      if (onExit.containerName !== undefined && !containerNames.has(onExit.containerName)) {
        errs.push(
          FieldError.invalid(
            exitPath.child("containerName"),
            onExit.containerName,
            "must be one of the container or initContainer names in the pod template",
          ),
        );
      }
      const valuesPath = exitPath.child("values");
      if (onExit.values.length === 0) {
        errs.push(FieldError.invalid(valuesPath, [], "at least one value is required"));
      } else if (onExit.values.length > MAX_ON_EXIT_CODES_VALUES) {
        errs.push(FieldError.tooMany(valuesPath, onExit.values.length, MAX_ON_EXIT_CODES_VALUES));
      }
      const seen = new Set<number>();
      let ordered = true;
      onExit.values.forEach((value, j) => {
        if (onExit.operator === "In" && value === 0) {
          errs.push(
            FieldError.invalid(valuesPath.index(j), value, "must not be 0 for the In operator"),
          );
        }
        if (seen.has(value)) errs.push(FieldError.duplicate(valuesPath.index(j), value));
        seen.add(value);
        if (j > 0 && (onExit.values[j - 1] as number) > value) ordered = false;
      });
      if (!ordered) {
        errs.push(FieldError.invalid(valuesPath, [...onExit.values], "must be ordered"));
      }
    }
    const patterns = rule.onPodConditions;
    if (patterns.length > 0) {
      const conditionsPath = at.child("onPodConditions");
      if (patterns.length > MAX_ON_POD_CONDITIONS_PATTERNS) {
        errs.push(
          FieldError.tooMany(conditionsPath, patterns.length, MAX_ON_POD_CONDITIONS_PATTERNS),
        );
      }
      patterns.forEach((pattern, j) => {
        const patternPath = conditionsPath.index(j);
        errs.push(...qualifiedName(pattern.type, patternPath.child("type")));
        errs.push(...oneOf(pattern.status, CONDITION_STATUSES, patternPath.child("status")));
      });
    }
    if (onExit !== undefined && patterns.length > 0) {
      errs.push(
        FieldError.invalid(
          at,
          "",
          "specifying both OnExitCodes and OnPodConditions is not supported",
        ),
      );
    } else if (onExit === undefined && patterns.length === 0) {
      errs.push(
        FieldError.invalid(at, "", "specifying one of OnExitCodes and OnPodConditions is required"),
      );
    }
  });
  return errs;
}

/** Kubernetes' bound on spec.managedBy (maxManagedByLength), in bytes. */
export const MAX_MANAGED_BY_LENGTH = 63;
/** Kubernetes' bounds on a successPolicy: rules, and the length of one succeededIndexes. */
const MAX_SUCCESS_POLICY_RULES = 20;
const MAX_SUCCEEDED_INDEXES_LENGTH = 64 * 1024;

/**
 * validateSuccessPolicy: Indexed Jobs only; 1 to 20 rules, each with succeededIndexes (well-formed
 * intervals below completions, at most 64 KiB) or succeededCount (>= 0, at most completions and
 * at most the number of succeededIndexes) or both.
 */
function validateSuccessPolicy(
  spec: JobSpec,
  policy: SuccessPolicy,
  path: FieldPath,
): FieldError[] {
  if (spec.completionMode !== "Indexed") {
    return [
      FieldError.invalid(
        path,
        toJson(SuccessPolicySchema, policy),
        "requires indexed completion mode (set completionMode: Indexed)",
      ),
    ];
  }
  const errs: FieldError[] = [];
  const rulesPath = path.child("rules");
  if (policy.rules.length === 0) {
    errs.push(
      FieldError.required(
        rulesPath,
        "at least one rules must be specified when the successPolicy is specified",
      ),
    );
  }
  if (policy.rules.length > MAX_SUCCESS_POLICY_RULES) {
    errs.push(FieldError.tooMany(rulesPath, policy.rules.length, MAX_SUCCESS_POLICY_RULES));
  }
  // Without completions (already reported as required) the rules cannot be checked against it.
  const completions = spec.completions;
  if (completions === undefined) return errs;
  policy.rules.forEach((rule, i) => {
    errs.push(...validateSuccessPolicyRule(rule, completions, rulesPath.index(i)));
  });
  return errs;
}

function validateSuccessPolicyRule(
  rule: SuccessPolicyRule,
  completions: number,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  const { succeededIndexes, succeededCount } = rule;
  if (succeededIndexes === undefined && succeededCount === undefined) {
    errs.push(
      FieldError.required(
        path,
        "at least one of succeededCount or succeededIndexes must be specified",
      ),
    );
  }
  let totalIndexes = 0;
  if (succeededIndexes !== undefined) {
    const indexesPath = path.child("succeededIndexes");
    if (succeededIndexes.length > MAX_SUCCEEDED_INDEXES_LENGTH) {
      errs.push(FieldError.tooLong(indexesPath, succeededIndexes, MAX_SUCCEEDED_INDEXES_LENGTH));
    }
    const parsed = checkIndexIntervals(succeededIndexes, completions);
    if (parsed.ok) totalIndexes = parsed.total;
    else {
      errs.push(
        FieldError.invalid(
          indexesPath,
          succeededIndexes,
          `error parsing succeededIndexes: ${parsed.error}`,
        ),
      );
    }
  }
  if (succeededCount !== undefined) {
    const countPath = path.child("succeededCount");
    errs.push(...nonNegative(succeededCount, countPath));
    if (succeededCount > completions) {
      errs.push(
        FieldError.invalid(
          countPath,
          succeededCount,
          `must be less than or equal to ${completions} (the number of specified completions)`,
        ),
      );
    }
    if (succeededIndexes !== undefined && succeededCount > totalIndexes) {
      errs.push(
        FieldError.invalid(
          countPath,
          succeededCount,
          `must be less than or equal to ${totalIndexes} (the number of indexes in the specified succeededIndexes field)`,
        ),
      );
    }
  }
  return errs;
}

/** A Job's spec on create. */
export function validateJobBody(job: Job): FieldError[] {
  return validateJobSpec(job.spec, root("spec"));
}

/**
 * ValidateJobUpdate: selector, completionMode, podFailurePolicy, backoffLimitPerIndex,
 * managedBy, successPolicy and (unless the Job was suspended) the pod template are immutable; completions too, except for
 * an Indexed job that changes parallelism with it.
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
  errs.push(
    ...immutableMessage(
      PodFailurePolicySchema,
      nextSpec.podFailurePolicy,
      oldSpec.podFailurePolicy,
      spec.child("podFailurePolicy"),
      "podFailurePolicy",
    ),
  );
  errs.push(
    ...immutable(
      nextSpec.backoffLimitPerIndex ?? null,
      oldSpec.backoffLimitPerIndex ?? null,
      spec.child("backoffLimitPerIndex"),
    ),
  );
  errs.push(
    ...immutable(nextSpec.managedBy ?? null, oldSpec.managedBy ?? null, spec.child("managedBy")),
  );
  errs.push(
    ...immutableMessage(
      SuccessPolicySchema,
      nextSpec.successPolicy,
      oldSpec.successPolicy,
      spec.child("successPolicy"),
      nextSpec.successPolicy === undefined
        ? null
        : toJson(SuccessPolicySchema, nextSpec.successPolicy),
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
