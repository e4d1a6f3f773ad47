// Validation of label maps and LabelSelector objects inside an object, reported as field
// errors (k8s.io/apimachinery/pkg/apis/meta/v1/validation: ValidateLabels,
// ValidateLabelName, ValidateLabelSelector).

import { FieldError, type FieldPath } from "../validation/field-error.js";
import { isQualifiedName, isValidLabelValue } from "../validation/names.js";
import type { LabelSet } from "./requirement.js";
import type { LabelSelectorRequirementShape, LabelSelectorShape } from "./selector.js";

/** A label (or annotation) key: one error per problem, at `path`. */
export function validateLabelName(key: string, path: FieldPath): FieldError[] {
  return isQualifiedName(key).map((problem) => FieldError.invalid(path, key, problem));
}

/**
 * A label map such as metadata.labels: every key a qualified name, every value a label value.
 * Errors are reported at `path` itself, as Kubernetes does (the key is in the message).
 */
export function validateLabels(labels: LabelSet | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const [key, value] of Object.entries(labels ?? {})) {
    errs.push(...validateLabelName(key, path));
    for (const problem of isValidLabelValue(value))
      errs.push(FieldError.invalid(path, value, problem));
  }
  return errs;
}

/** One matchExpressions entry. */
/**
 * The operator rules that label selector and node selector requirements share: In and NotIn
 * need values, Exists and DoesNotExist take none. `more` checks the operators only one kind
 * of requirement has (node selectors' Gt and Lt), answering undefined for an operator it does
 * not know; anything neither knows is "not a valid selector operator".
 */
export function validateRequirementOperator(
  operator: string,
  values: readonly string[],
  path: FieldPath,
  more?: (operator: string, values: readonly string[]) => FieldError[] | undefined,
): FieldError[] {
  switch (operator) {
    case "In":
    case "NotIn":
      return values.length === 0
        ? [
            FieldError.required(
              path.child("values"),
              "must be specified when `operator` is 'In' or 'NotIn'",
            ),
          ]
        : [];
    case "Exists":
    case "DoesNotExist":
      return values.length > 0
        ? [
            FieldError.forbidden(
              path.child("values"),
              "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            ),
          ]
        : [];
    default:
      return (
        more?.(operator, values) ?? [
          FieldError.invalid(path.child("operator"), operator, "not a valid selector operator"),
        ]
      );
  }
}

export function validateLabelSelectorRequirement(
  requirement: LabelSelectorRequirementShape,
  path: FieldPath,
): FieldError[] {
  const values = requirement.values ?? [];
  const errs = validateRequirementOperator(requirement.operator, values, path);
  errs.push(...validateLabelName(requirement.key, path.child("key")));
  values.forEach((value, i) => {
    for (const problem of isValidLabelValue(value)) {
      errs.push(FieldError.invalid(path.child("values").index(i), value, problem));
    }
  });
  return errs;
}

/** A LabelSelector object such as a Deployment's spec.selector; absent is valid. */
export function validateLabelSelector(
  selector: LabelSelectorShape | undefined,
  path: FieldPath,
): FieldError[] {
  if (selector === undefined) return [];
  const errs = validateLabels(selector.matchLabels, path.child("matchLabels"));
  (selector.matchExpressions ?? []).forEach((requirement, i) => {
    errs.push(
      ...validateLabelSelectorRequirement(requirement, path.child("matchExpressions").index(i)),
    );
  });
  return errs;
}
