// Validation of a pod's scheduling constraints: tolerations, node and pod affinity, topology
// spread (k8s.io/kubernetes/pkg/apis/core/validation: ValidateTolerations, validateAffinity,
// ValidateNodeSelector, validatePodAffinityTerm, validateTopologySpreadConstraints).
// Reference: https://kubernetes.io/docs/concepts/scheduling-eviction/

import type {
  Affinity,
  NodeSelector,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  PodAffinityTerm,
  Taint,
  Toleration,
  TopologySpreadConstraint,
  WeightedPodAffinityTerm,
} from "../gen/tug/core/v1/scheduling_pb.js";
import {
  validateLabelName,
  validateLabelSelector,
  validateRequirementOperator,
} from "../labels/label-validation.js";
import { FieldError, type FieldPath } from "./field-error.js";
import { IS_NOT_POSITIVE, invalidEach, oneOf } from "./field-rules.js";
import { isValidLabelValue, nameIsDnsLabel } from "./names.js";

/** Taint effects, in Kubernetes' order. */
export const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

/**
 * ValidateTolerations: a key (label name) unless the operator is Exists; tolerationSeconds only
 * with effect NoExecute; Equal tolerations a valid label value; Exists ones no value; a
 * known effect when set.
 */
export function validateTolerations(
  tolerations: readonly Toleration[],
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  tolerations.forEach((toleration, i) => {
    const at = path.index(i);
    if (toleration.key !== "") errs.push(...validateLabelName(toleration.key, at.child("key")));
    if (toleration.key === "" && toleration.operator !== "Exists") {
      errs.push(
        FieldError.invalid(
          at.child("operator"),
          toleration.operator,
          'operator must be Exists when `key` is empty, which means "match all values and all keys"',
        ),
      );
    }
    if (toleration.tolerationSeconds !== undefined && toleration.effect !== "NoExecute") {
      errs.push(
        FieldError.invalid(
          at.child("effect"),
          toleration.effect,
          "effect must be 'NoExecute' when `tolerationSeconds` is set",
        ),
      );
    }
    switch (toleration.operator) {
      case "Equal":
      case "": {
        const problems = isValidLabelValue(toleration.value);
        if (problems.length > 0) {
          errs.push(FieldError.invalid(at.child("operator"), toleration.value, problems.join(";")));
        }
        break;
      }
      case "Exists":
        if (toleration.value !== "") {
          errs.push(
            FieldError.invalid(
              at.child("operator"),
              toleration.value,
              "value must be empty when `operator` is 'Exists'",
            ),
          );
        }
        break;
      default:
        errs.push(
          FieldError.notSupported(at.child("operator"), toleration.operator, ["Equal", "Exists"]),
        );
    }
    if (toleration.effect !== "")
      errs.push(...oneOf(toleration.effect, TAINT_EFFECTS, at.child("effect")));
  });
  return errs;
}

/** validateNodeTaints: key, value and effect valid; key and effect unique together. */
export function validateTaints(taints: readonly Taint[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  taints.forEach((taint, i) => {
    const at = path.index(i);
    errs.push(...validateLabelName(taint.key, at.child("key")));
    errs.push(...invalidEach(taint.value, at.child("value"), isValidLabelValue));
    errs.push(...oneOf(taint.effect, TAINT_EFFECTS, at.child("effect")));
    const key = `${taint.key}\0${taint.effect}`;
    if (seen.has(key)) {
      errs.push(FieldError.duplicate(at, `${taint.key}:${taint.effect}`));
    }
    seen.add(key);
  });
  return errs;
}

/** validateAffinity: node affinity, pod affinity and pod anti-affinity terms. */
export function validateAffinity(affinity: Affinity | undefined, path: FieldPath): FieldError[] {
  if (affinity === undefined) return [];
  const errs: FieldError[] = [];
  const node = affinity.nodeAffinity;
  if (node !== undefined) {
    const at = path.child("nodeAffinity");
    if (node.requiredDuringSchedulingIgnoredDuringExecution !== undefined) {
      errs.push(
        ...validateNodeSelector(
          node.requiredDuringSchedulingIgnoredDuringExecution,
          at.child("requiredDuringSchedulingIgnoredDuringExecution"),
        ),
      );
    }
    node.preferredDuringSchedulingIgnoredDuringExecution.forEach((term, i) => {
      const termPath = at.child("preferredDuringSchedulingIgnoredDuringExecution").index(i);
      errs.push(...weight(term.weight, termPath.child("weight")));
      errs.push(...validateNodeSelectorTerm(term.preference, termPath.child("preference")));
    });
  }
  for (const [field, podAffinity] of [
    ["podAffinity", affinity.podAffinity],
    ["podAntiAffinity", affinity.podAntiAffinity],
  ] as const) {
    if (podAffinity === undefined) continue;
    const at = path.child(field);
    podAffinity.requiredDuringSchedulingIgnoredDuringExecution.forEach((term, i) => {
      errs.push(
        ...validatePodAffinityTerm(
          term,
          at.child("requiredDuringSchedulingIgnoredDuringExecution").index(i),
        ),
      );
    });
    podAffinity.preferredDuringSchedulingIgnoredDuringExecution.forEach(
      (term: WeightedPodAffinityTerm, i) => {
        const termPath = at.child("preferredDuringSchedulingIgnoredDuringExecution").index(i);
        errs.push(...weight(term.weight, termPath.child("weight")));
        if (term.podAffinityTerm === undefined) {
          errs.push(FieldError.required(termPath.child("podAffinityTerm")));
        } else {
          errs.push(
            ...validatePodAffinityTerm(term.podAffinityTerm, termPath.child("podAffinityTerm")),
          );
        }
      },
    );
  }
  return errs;
}

function weight(value: number, path: FieldPath): FieldError[] {
  return value < 1 || value > 100
    ? [FieldError.invalid(path, value, "must be in the range 1-100")]
    : [];
}

/** ValidateNodeSelector: at least one term, each valid. */
export function validateNodeSelector(selector: NodeSelector, path: FieldPath): FieldError[] {
  const termsPath = path.child("nodeSelectorTerms");
  if (selector.nodeSelectorTerms.length === 0) {
    return [FieldError.required(termsPath, "must have at least one node selector term")];
  }
  return selector.nodeSelectorTerms.flatMap((term, i) =>
    validateNodeSelectorTerm(term, termsPath.index(i)),
  );
}

function validateNodeSelectorTerm(
  term: NodeSelectorTerm | undefined,
  path: FieldPath,
): FieldError[] {
  if (term === undefined) return [];
  const errs: FieldError[] = [];
  term.matchExpressions.forEach((requirement, i) => {
    errs.push(
      ...validateNodeSelectorRequirement(requirement, path.child("matchExpressions").index(i)),
    );
  });
  term.matchFields.forEach((requirement, i) => {
    errs.push(
      ...validateNodeFieldSelectorRequirement(requirement, path.child("matchFields").index(i)),
    );
  });
  return errs;
}

/** ValidateNodeSelectorRequirement: In/NotIn need values, Exists/DoesNotExist none, Gt/Lt one. */
export function validateNodeSelectorRequirement(
  requirement: NodeSelectorRequirement,
  path: FieldPath,
): FieldError[] {
  const errs = validateRequirementOperator(
    requirement.operator,
    requirement.values,
    path,
    (operator, values) =>
      operator === "Gt" || operator === "Lt"
        ? values.length === 1
          ? []
          : [
              FieldError.required(
                path.child("values"),
                "must be specified single value when `operator` is 'Lt' or 'Gt'",
              ),
            ]
        : undefined,
  );
  errs.push(...validateLabelName(requirement.key, path.child("key")));
  return errs;
}

function validateNodeFieldSelectorRequirement(
  requirement: NodeSelectorRequirement,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  switch (requirement.operator) {
    case "In":
    case "NotIn":
      if (requirement.values.length !== 1) {
        errs.push(
          FieldError.required(
            path.child("values"),
            "must be only one value when `operator` is 'In' or 'NotIn' for node field selector",
          ),
        );
      }
      break;
    default:
      errs.push(
        FieldError.invalid(
          path.child("operator"),
          requirement.operator,
          "not a valid selector operator",
        ),
      );
  }
  if (requirement.key !== "metadata.name") {
    errs.push(FieldError.notSupported(path.child("key"), requirement.key, ["metadata.name"]));
  }
  return errs;
}

/** validatePodAffinityTerm: selectors valid, namespaces DNS labels, topologyKey required. */
function validatePodAffinityTerm(term: PodAffinityTerm, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validateLabelSelector(term.labelSelector, path.child("labelSelector")));
  errs.push(...validateLabelSelector(term.namespaceSelector, path.child("namespaceSelector")));
  term.namespaces.forEach((namespace, i) => {
    for (const problem of nameIsDnsLabel(namespace, false)) {
      errs.push(FieldError.invalid(path.child("namespaces").index(i), namespace, problem));
    }
  });
  if (term.topologyKey === "") {
    errs.push(FieldError.required(path.child("topologyKey"), "can not be empty"));
  } else {
    errs.push(...validateLabelName(term.topologyKey, path.child("topologyKey")));
  }
  return errs;
}

/**
 * validateTopologySpreadConstraints: maxSkew > 0, topologyKey required, whenUnsatisfiable
 * DoNotSchedule or ScheduleAnyway, minDomains > 0 and only with DoNotSchedule, each
 * (topologyKey, whenUnsatisfiable) pair once.
 */
export function validateTopologySpreadConstraints(
  constraints: readonly TopologySpreadConstraint[],
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  const pairs = new Set<string>();
  constraints.forEach((constraint, i) => {
    const at = path.index(i);
    if (constraint.maxSkew <= 0) {
      errs.push(FieldError.invalid(at.child("maxSkew"), constraint.maxSkew, IS_NOT_POSITIVE));
    }
    if (constraint.topologyKey === "") {
      errs.push(FieldError.required(at.child("topologyKey"), "can not be empty"));
    } else {
      errs.push(...validateLabelName(constraint.topologyKey, at.child("topologyKey")));
    }
    errs.push(
      ...oneOf(
        constraint.whenUnsatisfiable,
        ["DoNotSchedule", "ScheduleAnyway"],
        at.child("whenUnsatisfiable"),
      ),
    );
    if (constraint.minDomains !== undefined) {
      if (constraint.minDomains <= 0) {
        errs.push(
          FieldError.invalid(at.child("minDomains"), constraint.minDomains, IS_NOT_POSITIVE),
        );
      } else if (constraint.whenUnsatisfiable !== "DoNotSchedule") {
        errs.push(
          FieldError.invalid(
            at.child("minDomains"),
            constraint.minDomains,
            `can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ${constraint.whenUnsatisfiable}`,
          ),
        );
      }
    }
    const pair = `{${constraint.topologyKey}, ${constraint.whenUnsatisfiable}}`;
    if (pairs.has(pair)) errs.push(FieldError.duplicate(at, pair));
    pairs.add(pair);
    errs.push(...validateLabelSelector(constraint.labelSelector, at.child("labelSelector")));
  });
  return errs;
}
