// LimitRanger: applies the namespace's LimitRanges to new pods and to persistent volume claims.
// Mutating: containers without requests or limits get the LimitRange's defaultRequest and
// default. Validating: per-Container, per-Pod and per-PersistentVolumeClaim min, max and
// maxLimitRequestRatio, refused with Kubernetes' texts.
// https://kubernetes.io/docs/concepts/policy/limit-range/
// https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/#limitranger

import type {
  Container,
  LimitRange,
  LimitRangeItem,
  PersistentVolumeClaim,
  Pod,
  Quantity,
} from "@tug/api";
import { podQosClass } from "../registry/qos.js";
import { addTo, type ResourceQuantities, readResourceList } from "../registry/resource-list.js";
import {
  type AdmissionAttributes,
  type AdmissionLookups,
  aggregate,
  forbidden,
  isObjectRequest,
} from "./attributes.js";
import type { AdmissionPlugin } from "./chain.js";

/** The annotation that records what LimitRanger set on a pod. */
export const LIMIT_RANGER_ANNOTATION = "kubernetes.io/limit-ranger";

/**
 * Pods on CREATE (containers cannot change afterwards) and claims on CREATE and UPDATE, never
 * subresources.
 */
function applies(a: AdmissionAttributes): "pod" | "claim" | undefined {
  if (isObjectRequest(a, "", "Pod") && a.operation === "CREATE") return "pod";
  if (
    isObjectRequest(a, "", "PersistentVolumeClaim") &&
    (a.operation === "CREATE" || a.operation === "UPDATE")
  ) {
    return "claim";
  }
  return undefined;
}

/**
 * A Container item's defaults as Kubernetes' LimitRange defaulting completes them: default
 * falls back to max, defaultRequest to default, then to min.
 */
function containerDefaults(item: LimitRangeItem): {
  limits: Record<string, string>;
  requests: Record<string, string>;
} {
  const limits: Record<string, string> = { ...item.max, ...item.default };
  const requests: Record<string, string> = { ...item.min, ...limits, ...item.defaultRequest };
  return { limits, requests };
}

function mergeContainer(
  container: Container,
  defaults: { limits: Record<string, string>; requests: Record<string, string> },
  what: string,
): string[] {
  if (container.resources === undefined) {
    container.resources = {
      $typeName: "tug.core.v1.ResourceRequirements",
      limits: {},
      requests: {},
    };
  }
  const resources = container.resources;
  // Kubernetes defaults a request to its limit when it decodes the pod, before admission; tug
  // applies defaults after mutating admission, so do that part here to see the same pod.
  for (const [name, limit] of Object.entries(resources.limits)) {
    if (resources.requests[name] === undefined) resources.requests[name] = limit;
  }
  const setLimits: string[] = [];
  const setRequests: string[] = [];
  for (const [name, value] of Object.entries(defaults.limits)) {
    if (resources.limits[name] === undefined) {
      resources.limits[name] = value;
      setLimits.push(name);
    }
  }
  for (const [name, value] of Object.entries(defaults.requests)) {
    if (resources.requests[name] === undefined) {
      resources.requests[name] = value;
      setRequests.push(name);
    }
  }
  const notes: string[] = [];
  if (setRequests.length > 0) {
    notes.push(`${setRequests.sort().join(", ")} request for ${what} ${container.name}`);
  }
  if (setLimits.length > 0) {
    notes.push(`${setLimits.sort().join(", ")} limit for ${what} ${container.name}`);
  }
  return notes;
}

async function mutate(a: AdmissionAttributes, lookups: AdmissionLookups): Promise<void> {
  if (applies(a) !== "pod") return;
  const pod = a.object as Pod | undefined;
  if (pod?.spec === undefined) return;
  for (const range of await lookups.listLimitRanges(a.namespace)) {
    const notes: string[] = [];
    for (const item of range.spec?.limits ?? []) {
      if (item.type !== "Container") continue;
      const defaults = containerDefaults(item);
      for (const c of pod.spec.containers) notes.push(...mergeContainer(c, defaults, "container"));
      for (const c of pod.spec.initContainers) {
        notes.push(...mergeContainer(c, defaults, "init container"));
      }
    }
    if (notes.length > 0 && pod.metadata !== undefined) {
      pod.metadata.annotations[LIMIT_RANGER_ANNOTATION] =
        `LimitRanger plugin set: ${notes.join("; ")}`;
    }
    // A pod already prepared for create carries its QoS class: keep it true to the new values.
    if (notes.length > 0 && pod.status !== undefined && pod.status.qosClass !== "") {
      pod.status.qosClass = podQosClass(pod.spec);
    }
  }
}

// The constraints, with Kubernetes' messages (plugin/pkg/admission/limitranger).

function minConstraint(
  type: string,
  name: string,
  enforced: Quantity,
  requests: ResourceQuantities,
  limits: ResourceQuantities,
): string | undefined {
  const req = requests.get(name);
  const lim = limits.get(name);
  if (req === undefined) {
    return `minimum ${name} usage per ${type} is ${enforced}.  No request is specified`;
  }
  if (req.cmp(enforced) < 0) {
    return `minimum ${name} usage per ${type} is ${enforced}, but request is ${req}`;
  }
  if (lim !== undefined && lim.cmp(enforced) < 0) {
    return `minimum ${name} usage per ${type} is ${enforced}, but limit is ${lim}`;
  }
  return undefined;
}

function maxConstraint(
  type: string,
  name: string,
  enforced: Quantity,
  requests: ResourceQuantities,
  limits: ResourceQuantities,
): string | undefined {
  const req = requests.get(name);
  const lim = limits.get(name);
  if (lim === undefined) {
    return `maximum ${name} usage per ${type} is ${enforced}.  No limit is specified`;
  }
  if (lim.cmp(enforced) > 0) {
    return `maximum ${name} usage per ${type} is ${enforced}, but limit is ${lim}`;
  }
  if (req !== undefined && req.cmp(enforced) > 0) {
    return `maximum ${name} usage per ${type} is ${enforced}, but request is ${req}`;
  }
  return undefined;
}

/** A claim's max applies to what it requests (claims have no limits). */
function maxRequestConstraint(
  type: string,
  name: string,
  enforced: Quantity,
  requests: ResourceQuantities,
): string | undefined {
  const req = requests.get(name);
  if (req === undefined) {
    return `maximum ${name} usage per ${type} is ${enforced}.  No request is specified`;
  }
  if (req.cmp(enforced) > 0) {
    return `maximum ${name} usage per ${type} is ${enforced}, but request is ${req}`;
  }
  return undefined;
}

function ratioConstraint(
  type: string,
  name: string,
  enforced: Quantity,
  requests: ResourceQuantities,
  limits: ResourceQuantities,
): string | undefined {
  const req = requests.get(name);
  const lim = limits.get(name);
  if (req === undefined || req.isZero()) {
    return `${name} max limit to request ratio per ${type} is ${enforced}, but no request is specified or request is 0`;
  }
  if (lim === undefined || lim.isZero()) {
    return `${name} max limit to request ratio per ${type} is ${enforced}, but no limit is specified or limit is 0`;
  }
  // limit / request > enforced, exactly: limit × 10^9 > enforced × request (all in nanos).
  if (lim.nanos * 1_000_000_000n > enforced.nanos * req.nanos) {
    const ratio = Number(lim.nanos) / Number(req.nanos);
    return `${name} max limit to request ratio per ${type} is ${enforced}, but provided ratio is ${ratio.toFixed(6)}`;
  }
  return undefined;
}

/** Checks one set of requests and limits against an item's min, max and ratio. */
function checkItem(
  item: LimitRangeItem,
  requests: ResourceQuantities,
  limits: ResourceQuantities,
): string[] {
  const errors: string[] = [];
  const each = (
    list: Readonly<Record<string, string>>,
    check: (name: string, enforced: Quantity) => string | undefined,
  ) => {
    for (const [name, enforced] of [...readResourceList(list)].sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    )) {
      const error = check(name, enforced);
      if (error !== undefined) errors.push(error);
    }
  };
  each(item.min, (n, e) => minConstraint(item.type, n, e, requests, limits));
  each(item.max, (n, e) => maxConstraint(item.type, n, e, requests, limits));
  each(item.maxLimitRequestRatio, (n, e) => ratioConstraint(item.type, n, e, requests, limits));
  return errors;
}

/** A pod's total: containers summed, each init container alone (they run one at a time). */
function podTotal(pod: Pod, which: "requests" | "limits"): ResourceQuantities {
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
  for (const [name, q] of readResourceList(pod.spec?.overhead)) addTo(total, name, q);
  return total;
}

function validatePod(range: LimitRange, pod: Pod): string[] {
  const errors: string[] = [];
  for (const item of range.spec?.limits ?? []) {
    if (item.type === "Container") {
      for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
        const requests = readResourceList(c.resources?.requests);
        const limits = readResourceList(c.resources?.limits);
        errors.push(...checkItem(item, requests, limits));
      }
    } else if (item.type === "Pod") {
      errors.push(...checkItem(item, podTotal(pod, "requests"), podTotal(pod, "limits")));
    }
  }
  return errors;
}

function validateClaim(range: LimitRange, claim: PersistentVolumeClaim): string[] {
  const errors: string[] = [];
  const requests = readResourceList(claim.spec?.resources?.requests);
  for (const item of range.spec?.limits ?? []) {
    if (item.type !== "PersistentVolumeClaim") continue;
    for (const [name, enforced] of readResourceList(item.min)) {
      const error = minConstraint(item.type, name, enforced, requests, new Map());
      if (error !== undefined) errors.push(error);
    }
    for (const [name, enforced] of readResourceList(item.max)) {
      const error = maxRequestConstraint(item.type, name, enforced, requests);
      if (error !== undefined) errors.push(error);
    }
  }
  return errors;
}

async function validate(a: AdmissionAttributes, lookups: AdmissionLookups): Promise<undefined> {
  const target = applies(a);
  if (target === undefined || a.object === undefined) return undefined;
  for (const range of await lookups.listLimitRanges(a.namespace)) {
    const errors =
      target === "pod"
        ? validatePod(range, a.object as unknown as Pod)
        : validateClaim(range, a.object as unknown as PersistentVolumeClaim);
    if (errors.length > 0) throw forbidden(a, aggregate(errors));
  }
  return undefined;
}

export const limitRanger: AdmissionPlugin = { name: "LimitRanger", mutate, validate };
