// What one object counts against a ResourceQuota: Kubernetes' quota evaluators
// (pkg/quota/v1/evaluator/core: pods, services, persistentvolumeclaims; the object-count
// evaluator for everything else). https://kubernetes.io/docs/concepts/policy/resource-quotas/

import {
  type KindInfo,
  type PersistentVolumeClaim,
  type Pod,
  Quantity,
  type Service,
} from "@tug/api";
import type { ApiObject } from "../registry/api-object.js";
import { podQosClass } from "../registry/qos.js";
import { addTo, type ResourceQuantities, readResourceList } from "../registry/resource-list.js";

const ONE = Quantity.fromValue(1);

/** `count/pods`, `count/deployments.apps`: the object-count resource of a kind. */
export function objectCountResource(kind: KindInfo): string {
  return kind.group === "" ? `count/${kind.resource}` : `count/${kind.resource}.${kind.group}`;
}

/** The legacy names Kubernetes also counts for some core kinds ("pods", "services", ...). */
const LEGACY_COUNT_NAMES: ReadonlyMap<string, string> = new Map([
  ["pods", "pods"],
  ["services", "services"],
  ["configmaps", "configmaps"],
  ["secrets", "secrets"],
  ["persistentvolumeclaims", "persistentvolumeclaims"],
  ["resourcequotas", "resourcequotas"],
]);

/**
 * Compute resources a pod's containers must each declare once a quota limits them (the pod
 * evaluator's Constraints).
 */
export const POD_CONSTRAINED_RESOURCES: readonly string[] = [
  "cpu",
  "memory",
  "requests.cpu",
  "requests.memory",
  "limits.cpu",
  "limits.memory",
];

/** Every resource the pod evaluator can count, beyond the object counts. */
const POD_COMPUTE_PREFIXES = ["requests.", "limits."];
function isPodComputeResource(name: string): boolean {
  return (
    POD_CONSTRAINED_RESOURCES.includes(name) ||
    name === "ephemeral-storage" ||
    name.startsWith("hugepages-") ||
    POD_COMPUTE_PREFIXES.some((p) => name.startsWith(p))
  );
}

/** Whether a quota resource name is one this kind's evaluator counts. */
export function countsResource(kind: KindInfo, name: string): boolean {
  if (name === objectCountResource(kind)) return true;
  if (kind.group !== "") return false;
  if (LEGACY_COUNT_NAMES.get(kind.resource) === name) return true;
  switch (kind.resource) {
    case "pods":
      return isPodComputeResource(name);
    case "services":
      return name === "services.nodeports" || name === "services.loadbalancers";
    case "persistentvolumeclaims":
      return (
        name === "requests.storage" ||
        name.endsWith(".storageclass.storage.k8s.io/requests.storage") ||
        name.endsWith(".storageclass.storage.k8s.io/persistentvolumeclaims")
      );
    default:
      return false;
  }
}

/** A container's compute usage (podComputeUsageHelper): `cpu` and `requests.cpu` both. */
function computeUsage(
  requests: ResourceQuantities,
  limits: ResourceQuantities,
): ResourceQuantities {
  const usage: ResourceQuantities = new Map();
  for (const resource of ["cpu", "memory", "ephemeral-storage"]) {
    const request = requests.get(resource);
    if (request !== undefined) {
      usage.set(resource, request);
      usage.set(`requests.${resource}`, request);
    }
    const limit = limits.get(resource);
    if (limit !== undefined) usage.set(`limits.${resource}`, limit);
  }
  for (const [resource, request] of requests) {
    if (resource.startsWith("hugepages-")) {
      usage.set(resource, request);
      usage.set(`requests.${resource}`, request);
    } else if (resource.includes("/") && !resource.startsWith("kubernetes.io/")) {
      // Extended resources are quota'd only as requests.<name>.
      usage.set(`requests.${resource}`, request);
    }
  }
  return usage;
}

/** Requests (or limits) of a whole pod: containers summed, the largest init container, overhead. */
function podResources(pod: Pod, which: "requests" | "limits"): ResourceQuantities {
  const total: ResourceQuantities = new Map();
  for (const c of pod.spec?.containers ?? []) {
    for (const [name, q] of readResourceList(c.resources?.[which])) addTo(total, name, q);
  }
  for (const c of pod.spec?.initContainers ?? []) {
    for (const [name, q] of readResourceList(c.resources?.[which])) {
      const current = total.get(name);
      if (current === undefined || q.cmp(current) > 0) total.set(name, q);
    }
  }
  // Overhead adds to every request, but only to limits that are set.
  for (const [name, q] of readResourceList(pod.spec?.overhead)) {
    if (which === "requests" || total.has(name)) addTo(total, name, q);
  }
  return total;
}

function podUsage(pod: Pod): ResourceQuantities {
  // Terminal pods keep their object count but no longer use compute resources or "pods".
  const phase = pod.status?.phase ?? "";
  if (phase === "Succeeded" || phase === "Failed") return new Map();
  const usage = computeUsage(podResources(pod, "requests"), podResources(pod, "limits"));
  usage.set("pods", ONE);
  return usage;
}

function serviceUsage(service: Service): ResourceQuantities {
  const usage: ResourceQuantities = new Map([["services", ONE]]);
  const ports = Quantity.fromValue(service.spec?.ports.length ?? 0);
  if (service.spec?.type === "NodePort") usage.set("services.nodeports", ports);
  if (service.spec?.type === "LoadBalancer") {
    usage.set("services.loadbalancers", ONE);
    if (service.spec.allocateLoadBalancerNodePorts !== false)
      usage.set("services.nodeports", ports);
  }
  return usage;
}

function claimUsage(claim: PersistentVolumeClaim): ResourceQuantities {
  const usage: ResourceQuantities = new Map([["persistentvolumeclaims", ONE]]);
  const storageClass = claim.spec?.storageClassName ?? "";
  const prefix = `${storageClass}.storageclass.storage.k8s.io/`;
  if (storageClass !== "") usage.set(`${prefix}persistentvolumeclaims`, ONE);
  const storage = readResourceList(claim.spec?.resources?.requests).get("storage");
  if (storage !== undefined) {
    usage.set("requests.storage", storage);
    if (storageClass !== "") usage.set(`${prefix}requests.storage`, storage);
  }
  return usage;
}

/** Everything `obj` counts against a quota, by resource name. */
export function objectUsage(kind: KindInfo, obj: ApiObject): ResourceQuantities {
  let usage: ResourceQuantities = new Map();
  if (kind.group === "") {
    const legacy = LEGACY_COUNT_NAMES.get(kind.resource);
    if (kind.resource === "pods") usage = podUsage(obj as unknown as Pod);
    else if (kind.resource === "services") usage = serviceUsage(obj as unknown as Service);
    else if (kind.resource === "persistentvolumeclaims") {
      usage = claimUsage(obj as unknown as PersistentVolumeClaim);
    } else if (legacy !== undefined) usage.set(legacy, ONE);
  }
  usage.set(objectCountResource(kind), ONE);
  return usage;
}

/**
 * Whether a quota's scopes select `obj`: only pods match scoped quotas (Terminating,
 * NotTerminating, BestEffort, NotBestEffort, PriorityClass); an unknown scope matches nothing.
 */
export function matchesScopes(
  kind: KindInfo,
  obj: ApiObject,
  scopes: readonly { scope: string; operator: string; values: readonly string[] }[],
): boolean {
  if (scopes.length === 0) return true;
  if (kind.group !== "" || kind.resource !== "pods") return false;
  const pod = obj as unknown as Pod;
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
        switch (operator) {
          case "Exists":
            return name !== "";
          case "DoesNotExist":
            return name === "";
          case "In":
            return values.includes(name);
          case "NotIn":
            return !values.includes(name);
          default:
            return false;
        }
      }
      default:
        return false;
    }
  });
}
