// apps/v1 workload validation: Deployment, ReplicaSet, DaemonSet, StatefulSet,
// ControllerRevision (k8s.io/kubernetes/pkg/apis/apps/validation).
// Reference: https://kubernetes.io/docs/concepts/workloads/controllers/

import { clone, equals, toJson } from "@bufbuild/protobuf";
import type { ControllerRevision } from "../gen/tug/apps/v1/controller_revision_pb.js";
import type { DaemonSet } from "../gen/tug/apps/v1/daemon_set_pb.js";
import type { Deployment } from "../gen/tug/apps/v1/deployment_pb.js";
import type { ReplicaSet } from "../gen/tug/apps/v1/replica_set_pb.js";
import { type StatefulSet, StatefulSetSpecSchema } from "../gen/tug/apps/v1/stateful_set_pb.js";
import type { PodTemplateSpec } from "../gen/tug/core/v1/pod_pb.js";
import { type LabelSelector, LabelSelectorSchema } from "../gen/tug/meta/v1/meta_pb.js";
import { validateLabelSelector } from "../labels/label-validation.js";
import { Selector } from "../labels/selector.js";
import { intOrString } from "../scheme/int-or-string.js";
import { FieldError, type FieldPath, root } from "./field-error.js";
import {
  immutableMessage,
  intOrPercent,
  intOrPercentValue,
  nonNegative,
  notMoreThan100Percent,
} from "./field-rules.js";
import { validatePodTemplateSpec } from "./pod-validation.js";
import { validatePersistentVolumeClaimSpec } from "./storage-validation.js";

const SPEC = root("spec");

/**
 * A controller's selector and template (ValidatePodTemplateSpecForReplicaSet and its
 * DaemonSet/StatefulSet twins): selector required, valid and not empty; template labels
 * matched by it ("`selector` does not match template `labels`"); template valid, with
 * restartPolicy Always and no activeDeadlineSeconds.
 */
function selectorAndTemplate(
  kind: string,
  selector: LabelSelector | undefined,
  template: PodTemplateSpec | undefined,
  restartPolicies: readonly string[],
  extraVolumes: readonly string[] = [],
): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validateSelector(kind, selector));
  const templatePath = SPEC.child("template");
  if (template === undefined) return [...errs, FieldError.required(templatePath)];
  errs.push(...templateMatches(selector, template, templatePath));
  errs.push(...validatePodTemplateSpec(template, templatePath, extraVolumes));
  const policy = template.spec?.restartPolicy ?? "";
  if (policy !== "" && !restartPolicies.includes(policy)) {
    errs.push(
      FieldError.notSupported(templatePath.child("spec", "restartPolicy"), policy, restartPolicies),
    );
  }
  if (restartPolicies.includes("Always") && template.spec?.activeDeadlineSeconds !== undefined) {
    errs.push(
      FieldError.forbidden(
        templatePath.child("spec", "activeDeadlineSeconds"),
        `activeDeadlineSeconds in ${kind} is not Supported`,
      ),
    );
  }
  return errs;
}

/** selector required, valid, and (for apps kinds) not empty. */
export function validateSelector(
  kind: string,
  selector: LabelSelector | undefined,
  allowEmpty = false,
): FieldError[] {
  const path = SPEC.child("selector");
  if (selector === undefined) return [FieldError.required(path)];
  const errs = validateLabelSelector(selector, path);
  if (
    !allowEmpty &&
    Object.keys(selector.matchLabels).length + selector.matchExpressions.length === 0
  ) {
    errs.push(
      FieldError.invalid(
        path,
        toJson(LabelSelectorSchema, selector),
        `empty selector is invalid for ${kind.toLowerCase()}`,
      ),
    );
  }
  return errs;
}

/** The template's labels must be selected by the selector (when the selector parses). */
export function templateMatches(
  selector: LabelSelector | undefined,
  template: PodTemplateSpec,
  templatePath: FieldPath,
): FieldError[] {
  if (selector === undefined) return [];
  let parsed: Selector;
  try {
    parsed = Selector.fromObject(selector);
  } catch {
    return [];
  }
  const labels = template.metadata?.labels ?? {};
  if (parsed.requirements.length > 0 && !parsed.matches(labels)) {
    return [
      FieldError.invalid(
        templatePath.child("metadata", "labels"),
        labels,
        "`selector` does not match template `labels`",
      ),
    ];
  }
  return [];
}

/**
 * ValidateDeploymentSpec: replicas, minReadySeconds, revisionHistoryLimit >= 0;
 * progressDeadlineSeconds > minReadySeconds; strategy Recreate (no rollingUpdate) or
 * RollingUpdate (maxSurge and maxUnavailable ints or percents, not both 0, maxUnavailable at
 * most 100%); selector and template.
 */
export function validateDeploymentSpec(deployment: Deployment): FieldError[] {
  const spec = deployment.spec;
  if (spec === undefined) return [FieldError.required(SPEC)];
  const errs: FieldError[] = [];
  errs.push(...nonNegative(spec.replicas, SPEC.child("replicas")));
  errs.push(...selectorAndTemplate("Deployment", spec.selector, spec.template, ["Always"]));
  errs.push(...nonNegative(spec.minReadySeconds, SPEC.child("minReadySeconds")));
  errs.push(...nonNegative(spec.revisionHistoryLimit, SPEC.child("revisionHistoryLimit")));
  const deadline = spec.progressDeadlineSeconds;
  if (deadline !== undefined) {
    errs.push(...nonNegative(deadline, SPEC.child("progressDeadlineSeconds")));
    if (deadline <= spec.minReadySeconds) {
      errs.push(
        FieldError.invalid(
          SPEC.child("progressDeadlineSeconds"),
          deadline,
          "must be greater than minReadySeconds",
        ),
      );
    }
  }
  const strategy = spec.strategy;
  const strategyPath = SPEC.child("strategy");
  switch (strategy?.type ?? "") {
    case "Recreate":
      if (strategy?.rollingUpdate !== undefined) {
        errs.push(
          FieldError.forbidden(
            strategyPath.child("rollingUpdate"),
            "may not be specified when strategy `type` is 'Recreate'",
          ),
        );
      }
      break;
    case "RollingUpdate": {
      const rolling = strategy?.rollingUpdate;
      const at = strategyPath.child("rollingUpdate");
      if (rolling === undefined) {
        errs.push(FieldError.required(at, "this should be defaulted and never be nil"));
        break;
      }
      errs.push(...intOrPercent(rolling.maxUnavailable, at.child("maxUnavailable")));
      errs.push(...intOrPercent(rolling.maxSurge, at.child("maxSurge")));
      if (
        intOrPercentValue(rolling.maxUnavailable) === 0 &&
        intOrPercentValue(rolling.maxSurge) === 0
      ) {
        errs.push(
          FieldError.invalid(
            at.child("maxUnavailable"),
            intOrPercentValue(rolling.maxUnavailable),
            "may not be 0 when `maxSurge` is 0",
          ),
        );
      }
      errs.push(...notMoreThan100Percent(rolling.maxUnavailable, at.child("maxUnavailable")));
      break;
    }
    default:
      errs.push(
        FieldError.notSupported(strategyPath.child("type"), strategy?.type ?? "", [
          "Recreate",
          "RollingUpdate",
        ]),
      );
  }
  return errs;
}

/** ValidateReplicaSetSpec: replicas and minReadySeconds >= 0, selector and template. */
export function validateReplicaSetSpec(replicaSet: ReplicaSet): FieldError[] {
  const spec = replicaSet.spec;
  if (spec === undefined) return [FieldError.required(SPEC)];
  return [
    ...nonNegative(spec.replicas, SPEC.child("replicas")),
    ...nonNegative(spec.minReadySeconds, SPEC.child("minReadySeconds")),
    ...selectorAndTemplate("ReplicaSet", spec.selector, spec.template, ["Always"]),
  ];
}

/**
 * ValidateDaemonSetSpec: selector and template; updateStrategy OnDelete or RollingUpdate
 * (maxUnavailable and maxSurge ints or percents up to 100%, exactly one non-zero); minReadySeconds
 * and revisionHistoryLimit >= 0.
 */
export function validateDaemonSetSpec(daemonSet: DaemonSet): FieldError[] {
  const spec = daemonSet.spec;
  if (spec === undefined) return [FieldError.required(SPEC)];
  const errs = selectorAndTemplate("DaemonSet", spec.selector, spec.template, ["Always"]);
  errs.push(...nonNegative(spec.minReadySeconds, SPEC.child("minReadySeconds")));
  errs.push(...nonNegative(spec.revisionHistoryLimit, SPEC.child("revisionHistoryLimit")));
  const strategy = spec.updateStrategy;
  const strategyPath = SPEC.child("updateStrategy");
  switch (strategy?.type ?? "") {
    case "OnDelete":
      break;
    case "RollingUpdate": {
      const rolling = strategy?.rollingUpdate;
      const at = strategyPath.child("rollingUpdate");
      if (rolling === undefined) {
        errs.push(FieldError.required(at));
        break;
      }
      errs.push(...intOrPercent(rolling.maxUnavailable, at.child("maxUnavailable")));
      errs.push(...intOrPercent(rolling.maxSurge, at.child("maxSurge")));
      errs.push(...notMoreThan100Percent(rolling.maxUnavailable, at.child("maxUnavailable")));
      errs.push(...notMoreThan100Percent(rolling.maxSurge, at.child("maxSurge")));
      // Exactly one of the two is non-zero (ValidateRollingUpdateDaemonSet).
      const unavailable = intOrPercentValue(rolling.maxUnavailable) !== 0;
      const surge = intOrPercentValue(rolling.maxSurge) !== 0;
      if (unavailable && surge) {
        errs.push(
          FieldError.invalid(
            at.child("maxSurge"),
            intOrString(rolling.maxSurge) ?? null,
            "may not be set when maxUnavailable is non-zero",
          ),
        );
      } else if (!unavailable && !surge) {
        errs.push(
          FieldError.required(at.child("maxUnavailable"), "cannot be 0 when maxSurge is 0"),
        );
      }
      break;
    }
    default:
      errs.push(
        FieldError.notSupported(strategyPath.child("type"), strategy?.type ?? "", [
          "OnDelete",
          "RollingUpdate",
        ]),
      );
  }
  return errs;
}

/**
 * ValidateStatefulSetSpec: podManagementPolicy OrderedReady or Parallel; updateStrategy
 * RollingUpdate (partition >= 0) or OnDelete (no rollingUpdate); replicas, minReadySeconds,
 * revisionHistoryLimit, ordinals.start >= 0; claim templates valid; selector and template.
 */
export function validateStatefulSetSpec(statefulSet: StatefulSet): FieldError[] {
  const spec = statefulSet.spec;
  if (spec === undefined) return [FieldError.required(SPEC)];
  const errs: FieldError[] = [];
  const policyPath = SPEC.child("podManagementPolicy");
  if (spec.podManagementPolicy === "") errs.push(FieldError.required(policyPath));
  else if (spec.podManagementPolicy !== "OrderedReady" && spec.podManagementPolicy !== "Parallel") {
    errs.push(
      FieldError.invalid(
        policyPath,
        spec.podManagementPolicy,
        "must be 'OrderedReady' or 'Parallel'",
      ),
    );
  }
  const strategy = spec.updateStrategy;
  const strategyPath = SPEC.child("updateStrategy");
  switch (strategy?.type ?? "") {
    case "":
      errs.push(FieldError.required(strategyPath.child("type")));
      break;
    case "OnDelete":
      if (strategy?.rollingUpdate !== undefined) {
        errs.push(
          FieldError.invalid(
            strategyPath.child("rollingUpdate"),
            null,
            "only allowed for updateStrategy 'RollingUpdate'",
          ),
        );
      }
      break;
    case "RollingUpdate": {
      const rolling = strategy?.rollingUpdate;
      if (rolling !== undefined) {
        const at = strategyPath.child("rollingUpdate");
        errs.push(...nonNegative(rolling.partition, at.child("partition")));
        if (rolling.maxUnavailable !== undefined) {
          errs.push(...intOrPercent(rolling.maxUnavailable, at.child("maxUnavailable")));
          if (intOrPercentValue(rolling.maxUnavailable) === 0) {
            errs.push(FieldError.invalid(at.child("maxUnavailable"), 0, "must be greater than 0"));
          }
          errs.push(...notMoreThan100Percent(rolling.maxUnavailable, at.child("maxUnavailable")));
        }
      }
      break;
    }
    default:
      errs.push(
        FieldError.invalid(
          strategyPath.child("type"),
          strategy?.type ?? "",
          "must be 'RollingUpdate' or 'OnDelete'",
        ),
      );
  }
  spec.volumeClaimTemplates.forEach((claim, i) => {
    const at = SPEC.child("volumeClaimTemplates").index(i);
    if ((claim.metadata?.name ?? "") === "")
      errs.push(FieldError.required(at.child("metadata", "name")));
    errs.push(...validatePersistentVolumeClaimSpec(claim.spec, at.child("spec")));
  });
  errs.push(...nonNegative(spec.replicas, SPEC.child("replicas")));
  errs.push(...nonNegative(spec.minReadySeconds, SPEC.child("minReadySeconds")));
  errs.push(...nonNegative(spec.revisionHistoryLimit, SPEC.child("revisionHistoryLimit")));
  errs.push(...nonNegative(spec.ordinals?.start, SPEC.child("ordinals", "start")));
  const retention = spec.persistentVolumeClaimRetentionPolicy;
  if (retention !== undefined) {
    const at = SPEC.child("persistentVolumeClaimRetentionPolicy");
    for (const [field, value] of [
      ["whenDeleted", retention.whenDeleted],
      ["whenScaled", retention.whenScaled],
    ] as const) {
      if (value !== "" && value !== "Retain" && value !== "Delete") {
        errs.push(FieldError.notSupported(at.child(field), value, ["Retain", "Delete"]));
      }
    }
  }
  // Kubernetes leaves a StatefulSet's pod spec unvalidated because its mounts may name claim
  // templates (a TODO in apps/validation); tug validates it with those names as volumes.
  const claimNames = spec.volumeClaimTemplates.map((claim) => claim.metadata?.name ?? "");
  errs.push(
    ...selectorAndTemplate("StatefulSet", spec.selector, spec.template, ["Always"], claimNames),
  );
  return errs;
}

/** apps/v1 selectors are immutable: `spec.selector: Invalid value: ...: field is immutable`. */
export function validateSelectorUpdate(
  next: LabelSelector | undefined,
  old: LabelSelector | undefined,
): FieldError[] {
  const shown = next === undefined ? null : toJson(LabelSelectorSchema, next);
  return immutableMessage(LabelSelectorSchema, next, old, SPEC.child("selector"), shown);
}

/**
 * ValidateStatefulSetUpdate: only replicas, ordinals, template, updateStrategy,
 * persistentVolumeClaimRetentionPolicy and minReadySeconds may change.
 */
export function validateStatefulSetSpecUpdate(next: StatefulSet, old: StatefulSet): FieldError[] {
  if (next.spec === undefined || old.spec === undefined) return [];
  const restore = clone(StatefulSetSpecSchema, next.spec);
  restore.replicas = old.spec.replicas;
  restore.ordinals = old.spec.ordinals;
  restore.template = old.spec.template;
  restore.updateStrategy = old.spec.updateStrategy;
  restore.persistentVolumeClaimRetentionPolicy = old.spec.persistentVolumeClaimRetentionPolicy;
  restore.minReadySeconds = old.spec.minReadySeconds;
  if (equals(StatefulSetSpecSchema, restore, old.spec)) return [];
  return [
    FieldError.forbidden(
      SPEC,
      "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ),
  ];
}

/** ValidateControllerRevision: data required, revision >= 0. */
export function validateControllerRevisionBody(revision: ControllerRevision): FieldError[] {
  const errs = nonNegative(revision.revision, root("revision"));
  if (revision.data === undefined)
    errs.push(FieldError.required(root("data"), "data is mandatory"));
  return errs;
}
