// Which kinds a ResourceQuota resource name counts, and which objects a quota's scopes select
// (Kubernetes' quota evaluators and their MatchingScopes).
// https://kubernetes.io/docs/concepts/policy/resource-quotas/

import { type KindInfo, kindForResource, type Pod, type ResourceQuota } from "@tug/api";
import { podQosClass } from "@tug/apiserver";

const POD_RESOURCES = new Set(["pods", "cpu", "memory", "ephemeral-storage"]);
const SERVICE_RESOURCES = new Set(["services", "services.nodeports", "services.loadbalancers"]);
const CLAIM_SUFFIX = ".storageclass.storage.k8s.io/";
const OBJECT_COUNT_NAMES = new Set([
  "configmaps",
  "secrets",
  "resourcequotas",
  "replicationcontrollers",
]);

/** The kind whose objects count towards `resource`, if any evaluator counts it. */
export function kindCounting(resource: string): KindInfo | undefined {
  if (resource.startsWith("count/")) {
    const name = resource.slice("count/".length);
    const dot = name.indexOf(".");
    return dot < 0
      ? kindForResource("", name)
      : kindForResource(name.slice(dot + 1), name.slice(0, dot));
  }
  if (
    resource === "persistentvolumeclaims" ||
    resource === "requests.storage" ||
    resource.includes(CLAIM_SUFFIX)
  ) {
    return kindForResource("", "persistentvolumeclaims");
  }
  if (
    POD_RESOURCES.has(resource) ||
    resource.startsWith("requests.") ||
    resource.startsWith("limits.") ||
    resource.startsWith("hugepages-")
  ) {
    return kindForResource("", "pods");
  }
  if (SERVICE_RESOURCES.has(resource)) return kindForResource("", "services");
  if (OBJECT_COUNT_NAMES.has(resource)) return kindForResource("", resource);
  return undefined;
}

/** A quota's scopes, from spec.scopes and spec.scopeSelector, as requirements. */
function scopesOf(quota: ResourceQuota): { scope: string; operator: string; values: string[] }[] {
  const spec = quota.spec;
  return [
    ...(spec?.scopes ?? []).map((scope) => ({ scope, operator: "Exists", values: [] })),
    ...(spec?.scopeSelector?.matchExpressions ?? []).map((e) => ({
      scope: e.scopeName,
      operator: e.operator,
      values: [...e.values],
    })),
  ];
}

/** Whether the quota counts `obj` of `kind`: unscoped quotas count all; scoped ones only pods. */
export function quotaSelects(quota: ResourceQuota, kind: KindInfo, obj: unknown): boolean {
  const scopes = scopesOf(quota);
  if (scopes.length === 0) return true;
  if (kind.group !== "" || kind.resource !== "pods") return false;
  const pod = obj as Pod;
  return scopes.every(({ scope, operator, values }) => {
    switch (scope) {
      case "Terminating":
        return pod.spec?.activeDeadlineSeconds !== undefined;
      case "NotTerminating":
        return pod.spec?.activeDeadlineSeconds === undefined;
      case "BestEffort":
        return podQosClass(pod.spec) === "BestEffort";
      case "NotBestEffort":
        return podQosClass(pod.spec) !== "BestEffort";
      case "PriorityClass": {
        const name = pod.spec?.priorityClassName ?? "";
        if (operator === "Exists") return name !== "";
        if (operator === "DoesNotExist") return name === "";
        if (operator === "In") return values.includes(name);
        if (operator === "NotIn") return !values.includes(name);
        return false;
      }
      default:
        return false;
    }
  });
}
