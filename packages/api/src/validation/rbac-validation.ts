// RBAC validation: Role, ClusterRole, RoleBinding, ClusterRoleBinding
// (k8s.io/kubernetes/pkg/apis/rbac/validation). Names are path segments, not DNS names.
// Reference: https://kubernetes.io/docs/reference/access-authn-authz/rbac/

import type {
  ClusterRole,
  ClusterRoleBinding,
  PolicyRule,
  Role,
  RoleBinding,
  RoleRef,
  Subject,
} from "../gen/tug/rbac/v1/rbac_pb.js";
import { validateLabelSelector } from "../labels/label-validation.js";
import { FieldError, type FieldPath, root } from "./field-error.js";
import { dnsSubdomain } from "./field-rules.js";
import type { NameValidator } from "./names.js";

const RBAC_GROUP = "rbac.authorization.k8s.io";

/**
 * ValidateRBACName (path.IsValidPathSegmentName): not "." or "..", no '/' or '%'; a
 * generateName prefix may not contain '/' or '%' either.
 */
export const rbacName: NameValidator = (name, prefix) => {
  const errs: string[] = [];
  if (!prefix && (name === "." || name === "..")) errs.push(`may not be '${name}'`);
  if (name.includes("/")) errs.push("may not contain '/'");
  if (name.includes("%")) errs.push("may not contain '%'");
  return errs;
};

/** ValidatePolicyRule: verbs required; non-resource URLs apart from resources; groups and resources. */
function validatePolicyRule(rule: PolicyRule, namespaced: boolean, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (rule.verbs.length === 0) {
    errs.push(FieldError.required(path.child("verbs"), "verbs must contain at least one value"));
  }
  if (rule.nonResourceUrls.length > 0) {
    if (namespaced) {
      errs.push(
        FieldError.invalid(
          path.child("nonResourceURLs"),
          rule.nonResourceUrls,
          "namespaced rules cannot apply to non-resource URLs",
        ),
      );
    }
    if (rule.apiGroups.length > 0 || rule.resources.length > 0 || rule.resourceNames.length > 0) {
      errs.push(
        FieldError.invalid(
          path.child("nonResourceURLs"),
          rule.nonResourceUrls,
          "rules cannot apply to both regular resources and non-resource URLs",
        ),
      );
    }
    return errs;
  }
  if (rule.apiGroups.length === 0) {
    errs.push(
      FieldError.required(
        path.child("apiGroups"),
        "resource rules must supply at least one api group",
      ),
    );
  }
  if (rule.resources.length === 0) {
    errs.push(
      FieldError.required(
        path.child("resources"),
        "resource rules must supply at least one resource",
      ),
    );
  }
  return errs;
}

export function validateRoleBody(role: Role): FieldError[] {
  return role.rules.flatMap((rule, i) => validatePolicyRule(rule, true, root("rules").index(i)));
}

/** ValidateClusterRole: rules, and the aggregation rule's selectors (at least one). */
export function validateClusterRoleBody(role: ClusterRole): FieldError[] {
  const errs = role.rules.flatMap((rule, i) =>
    validatePolicyRule(rule, false, root("rules").index(i)),
  );
  const aggregation = role.aggregationRule;
  if (aggregation !== undefined) {
    const at = root("aggregationRule", "clusterRoleSelectors");
    if (aggregation.clusterRoleSelectors.length === 0) {
      errs.push(
        FieldError.required(
          at,
          "at least one clusterRoleSelector required if aggregationRule is non-nil",
        ),
      );
    }
    aggregation.clusterRoleSelectors.forEach((selector, i) => {
      errs.push(...validateLabelSelector(selector, at.index(i)));
    });
  }
  return errs;
}

/**
 * ValidateRoleBinding / ValidateClusterRoleBinding: roleRef to the RBAC group, kind Role or
 * ClusterRole (ClusterRole only for a ClusterRoleBinding), a name; subjects valid.
 */
export function validateRoleBindingBody(
  binding: RoleBinding | ClusterRoleBinding,
  namespaced: boolean,
): FieldError[] {
  const errs = validateRoleRef(binding.roleRef, namespaced);
  binding.subjects.forEach((subject, i) => {
    errs.push(...validateSubject(subject, namespaced, root("subjects").index(i)));
  });
  return errs;
}

function validateRoleRef(ref: RoleRef | undefined, namespaced: boolean): FieldError[] {
  const path = root("roleRef");
  const errs: FieldError[] = [];
  if (ref?.apiGroup !== RBAC_GROUP) {
    errs.push(FieldError.notSupported(path.child("apiGroup"), ref?.apiGroup ?? "", [RBAC_GROUP]));
  }
  const kinds = namespaced ? ["Role", "ClusterRole"] : ["ClusterRole"];
  if (!kinds.includes(ref?.kind ?? ""))
    errs.push(FieldError.notSupported(path.child("kind"), ref?.kind ?? "", kinds));
  const name = ref?.name ?? "";
  if (name === "") errs.push(FieldError.required(path.child("name")));
  else
    for (const problem of rbacName(name, false))
      errs.push(FieldError.invalid(path.child("name"), name, problem));
  return errs;
}

/**
 * ValidateRoleBindingSubject: name required; ServiceAccount subjects in the core group with a
 * DNS-subdomain name (and a namespace in a ClusterRoleBinding); User and Group in the RBAC
 * group.
 */
function validateSubject(subject: Subject, namespaced: boolean, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (subject.name === "") errs.push(FieldError.required(path.child("name")));
  switch (subject.kind) {
    case "ServiceAccount":
      if (subject.apiGroup !== "")
        errs.push(FieldError.notSupported(path.child("apiGroup"), subject.apiGroup, [""]));
      if (subject.name !== "") errs.push(...dnsSubdomain(subject.name, path.child("name")));
      if (!namespaced && subject.namespace === "")
        errs.push(FieldError.required(path.child("namespace")));
      break;
    case "User":
    case "Group":
      if (subject.apiGroup !== RBAC_GROUP) {
        errs.push(FieldError.notSupported(path.child("apiGroup"), subject.apiGroup, [RBAC_GROUP]));
      }
      break;
    default:
      errs.push(
        FieldError.notSupported(path.child("kind"), subject.kind, [
          "ServiceAccount",
          "User",
          "Group",
        ]),
      );
  }
  return errs;
}

/** A binding's roleRef never changes: delete and recreate the binding instead. */
export function validateRoleBindingUpdate(
  next: RoleBinding | ClusterRoleBinding,
  old: RoleBinding | ClusterRoleBinding,
): FieldError[] {
  const a = next.roleRef;
  const b = old.roleRef;
  if (a?.apiGroup === b?.apiGroup && a?.kind === b?.kind && a?.name === b?.name) return [];
  return [
    FieldError.invalid(
      root("roleRef"),
      { apiGroup: a?.apiGroup ?? "", kind: a?.kind ?? "", name: a?.name ?? "" },
      "cannot change roleRef",
    ),
  ];
}
