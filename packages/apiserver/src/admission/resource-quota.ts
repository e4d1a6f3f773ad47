// ResourceQuota: a new object, or an update that uses more, may not take a namespace past any
// of its quotas. Each quota whose scopes select the object and whose status.hard names a
// resource the object uses is checked (status.used + this object ≤ status.hard); a refusal
// names the quota and the amounts, with Kubernetes' text. The usage added is returned as
// charges for the server to record in the quotas' status.used with compare-and-swap, as
// kube-apiserver's quota admission does.
// https://kubernetes.io/docs/concepts/policy/resource-quotas/

import type { KindInfo, Pod, Quantity, ResourceQuota } from "@tug/api";
import { type ApiObject, cloneObject } from "../registry/api-object.js";
import {
  addTo,
  type ResourceQuantities,
  readResourceList,
  writeResourceList,
} from "../registry/resource-list.js";
import { type AdmissionAttributes, type AdmissionLookups, forbidden } from "./attributes.js";
import type { AdmissionPlugin } from "./chain.js";
import {
  countsResource,
  matchesScopes,
  objectUsage,
  POD_CONSTRAINED_RESOURCES,
} from "./quota-usage.js";

/** Usage one request adds to one quota. */
export interface QuotaCharge {
  readonly namespace: string;
  /** The quota's name. */
  readonly name: string;
  /**
   * The quota's resourceVersion when it was checked: write `used` into its status only if it
   * is still this version; else re-run admission.
   */
  readonly resourceVersion: string;
  /** What the object adds, for the resources the quota limits. */
  readonly delta: Readonly<Record<string, string>>;
  /** The quota's status.used with the delta added. */
  readonly used: Readonly<Record<string, string>>;
}

/** A copy of `quota` with status.used replaced by the charge's (the object to write). */
export function chargedQuota(
  kind: KindInfo,
  quota: ResourceQuota,
  charge: QuotaCharge,
): ResourceQuota {
  const next = cloneObject(kind, quota);
  if (next.status !== undefined) next.status.used = { ...charge.used };
  return next;
}

/** `a=1,b=2`, keys sorted (the quota plugin's prettyPrint). */
function prettyPrint(list: ResourceQuantities): string {
  return [...list.keys()]
    .sort()
    .map((k) => `${k}=${(list.get(k) as Quantity).toString()}`)
    .join(",");
}

function mask(list: ResourceQuantities, names: Iterable<string>): ResourceQuantities {
  const out: ResourceQuantities = new Map();
  for (const name of names) {
    const q = list.get(name);
    if (q !== undefined) out.set(name, q);
  }
  return out;
}

function scopesOf(quota: ResourceQuota) {
  return [
    ...(quota.spec?.scopes ?? []).map((scope) => ({
      scope,
      operator: "Exists",
      values: [] as readonly string[],
    })),
    ...(quota.spec?.scopeSelector?.matchExpressions ?? []).map((e) => ({
      scope: e.scopeName,
      operator: e.operator,
      values: e.values,
    })),
  ];
}

/**
 * The pod evaluator's Constraints: once a quota limits cpu or memory, every container must
 * declare it. `must specify limits.cpu for: web; requests.memory for: web,side`.
 */
function podConstraintError(obj: ApiObject, restricted: readonly string[]): string | undefined {
  const required = restricted.filter((r) => POD_CONSTRAINED_RESOURCES.includes(r));
  if (required.length === 0) return undefined;
  const missing = new Map<string, Set<string>>();
  const spec = (obj as unknown as Pod).spec;
  for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
    const requests = c.resources?.requests ?? {};
    const limits = c.resources?.limits ?? {};
    const declared = new Set<string>();
    for (const r of ["cpu", "memory"]) {
      if (requests[r] !== undefined) declared.add(r).add(`requests.${r}`);
      if (limits[r] !== undefined) declared.add(`limits.${r}`);
    }
    for (const r of required) {
      if (declared.has(r)) continue;
      const names = missing.get(r) ?? new Set<string>();
      names.add(c.name);
      missing.set(r, names);
    }
  }
  if (missing.size === 0) return undefined;
  const parts = [...missing.keys()]
    .sort()
    .map((r) => `${r} for: ${[...(missing.get(r) as Set<string>)].sort().join(",")}`);
  return `must specify ${parts.join("; ")}`;
}

/**
 * Kinds whose updates can use more (Kubernetes' evaluators that handle UPDATE): a Service that
 * becomes NodePort or LoadBalancer, a claim that asks for more storage. Pods' resources are
 * fixed once created.
 */
function chargesUpdates(kind: KindInfo): boolean {
  return (
    kind.group === "" &&
    (kind.resource === "services" || kind.resource === "persistentvolumeclaims")
  );
}

/** What `next` uses beyond `prev`, resource by resource; shrinking frees nothing here. */
function growth(next: ResourceQuantities, prev: ResourceQuantities): ResourceQuantities {
  const out: ResourceQuantities = new Map();
  for (const [name, q] of next) {
    const before = prev.get(name);
    const delta = before === undefined ? q : q.sub(before);
    if (delta.sign() > 0) out.set(name, delta);
  }
  return out;
}

async function validate(
  a: AdmissionAttributes,
  lookups: AdmissionLookups,
): Promise<readonly QuotaCharge[] | undefined> {
  if (a.subresource !== "" || a.namespace === "") return undefined;
  const obj = a.object;
  if (obj === undefined) return undefined;
  let usage: ResourceQuantities;
  if (a.operation === "CREATE") usage = objectUsage(a.kind, obj);
  else if (a.operation === "UPDATE" && a.oldObject !== undefined && chargesUpdates(a.kind)) {
    usage = growth(objectUsage(a.kind, obj), objectUsage(a.kind, a.oldObject));
  } else return undefined;
  if (usage.size === 0) return undefined;
  const quotas = await lookups.listResourceQuotas(a.namespace);
  if (quotas.length === 0) return undefined;
  const charges: QuotaCharge[] = [];
  for (const quota of quotas) {
    const name = quota.metadata?.name ?? "";
    const hard = readResourceList(quota.status?.hard);
    const used = readResourceList(quota.status?.used);
    const restricted = [...hard.keys()].filter((r) => countsResource(a.kind, r)).sort();
    if (restricted.length === 0 || !matchesScopes(a.kind, obj, scopesOf(quota))) continue;
    if (a.kind.group === "" && a.kind.resource === "pods") {
      const constraint = podConstraintError(obj, restricted);
      if (constraint !== undefined) throw forbidden(a, `failed quota: ${name}: ${constraint}`);
    }
    const unknown = restricted.filter((r) => !used.has(r));
    if (unknown.length > 0) {
      throw forbidden(a, `status unknown for quota: ${name}, resources: ${unknown.join(",")}`);
    }
    const requested = mask(usage, restricted);
    if (requested.size === 0) continue;
    const next: ResourceQuantities = new Map(used);
    for (const [r, q] of requested) addTo(next, r, q);
    const exceeded = [...requested.keys()].filter(
      (r) => (next.get(r) as Quantity).cmp(hard.get(r) as Quantity) > 0,
    );
    if (exceeded.length > 0) {
      throw forbidden(
        a,
        `exceeded quota: ${name}, requested: ${prettyPrint(mask(requested, exceeded))}, used: ${prettyPrint(mask(used, exceeded))}, limited: ${prettyPrint(mask(hard, exceeded))}`,
      );
    }
    charges.push({
      namespace: a.namespace,
      name,
      resourceVersion: quota.metadata?.resourceVersion ?? "",
      delta: writeResourceList(requested),
      used: { ...(quota.status?.used ?? {}), ...writeResourceList(mask(next, requested.keys())) },
    });
  }
  return charges;
}

export const resourceQuota: AdmissionPlugin = { name: "ResourceQuota", validate };
