// Defaults of the kinds outside core/v1, apps/v1 and batch/v1: RBAC bindings
// (pkg/apis/rbac/v1/defaults.go), NetworkPolicy (pkg/apis/networking/v1/defaults.go) and
// StorageClass (pkg/apis/storage/v1/defaults.go). Leases, PodDisruptionBudgets, Evictions and
// ControllerRevisions have none. Only unset fields are filled: idempotent.

import type { NetworkPolicy } from "../gen/tug/networking/v1/network_policy_pb.js";
import type { ClusterRoleBinding, RoleBinding, Subject } from "../gen/tug/rbac/v1/rbac_pb.js";
import type { StorageClass } from "../gen/tug/storage/v1/storage_class_pb.js";

/** The RBAC API group, the default roleRef.apiGroup and the apiGroup of User and Group. */
export const RBAC_GROUP = "rbac.authorization.k8s.io";

/**
 * SetDefaults_RoleBinding / ClusterRoleBinding / Subject: roleRef.apiGroup is the RBAC group;
 * a User or Group subject's apiGroup is the RBAC group (a ServiceAccount's stays "").
 */
export function defaultRoleBinding(binding: RoleBinding | ClusterRoleBinding): void {
  if (binding.roleRef !== undefined && binding.roleRef.apiGroup === "") {
    binding.roleRef.apiGroup = RBAC_GROUP;
  }
  for (const subject of binding.subjects) defaultSubject(subject);
}

function defaultSubject(subject: Subject): void {
  if (subject.apiGroup !== "") return;
  if (subject.kind === "User" || subject.kind === "Group") subject.apiGroup = RBAC_GROUP;
}

/**
 * SetDefaults_NetworkPolicy(Port): port protocol TCP; policyTypes [Ingress], plus Egress when
 * the policy has egress rules.
 */
export function defaultNetworkPolicy(policy: NetworkPolicy): void {
  const spec = policy.spec;
  if (spec === undefined) return;
  for (const rule of [...spec.ingress, ...spec.egress]) {
    for (const port of rule.ports) port.protocol ??= "TCP";
  }
  if (spec.policyTypes.length === 0) {
    spec.policyTypes.push("Ingress");
    if (spec.egress.length > 0) spec.policyTypes.push("Egress");
  }
}

/** SetDefaults_StorageClass: reclaimPolicy Delete, volumeBindingMode Immediate. */
export function defaultStorageClass(storageClass: StorageClass): void {
  storageClass.reclaimPolicy ??= "Delete";
  storageClass.volumeBindingMode ??= "Immediate";
}
