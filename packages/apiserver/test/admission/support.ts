// Attributes and in-memory lookups for admission tests.

import type { LimitRange, Namespace, ResourceQuota, ServiceAccount } from "@tug/api";
import type {
  AdmissionAttributes,
  AdmissionLookups,
  AdmissionOperation,
} from "../../src/admission/attributes.js";
import type { ApiObject } from "../../src/registry/api-object.js";
import { kind, obj } from "../registry/support.js";

export interface World {
  namespaces?: Record<string, "Active" | "Terminating">;
  limitRanges?: Record<string, unknown>[];
  quotas?: Record<string, unknown>[];
  serviceAccounts?: string[];
}

/** Lookups over a small world; every namespaced object lives in "default" unless it says so. */
export function lookups(world: World = {}): AdmissionLookups {
  const namespaces = world.namespaces ?? { default: "Active" };
  const inNs = <T extends ApiObject>(list: Record<string, unknown>[] | undefined, k: string) =>
    (list ?? []).map((body) =>
      obj<T>({
        apiVersion: "v1",
        kind: k,
        ...body,
        metadata: { namespace: "default", ...(body.metadata as object) },
      }),
    );
  const limitRanges = inNs<LimitRange>(world.limitRanges, "LimitRange");
  const quotas = inNs<ResourceQuota>(world.quotas, "ResourceQuota");
  const accounts = world.serviceAccounts ?? ["default/default"];
  return {
    getNamespace: (name) =>
      namespaces[name] === undefined
        ? undefined
        : obj<Namespace>({
            apiVersion: "v1",
            kind: "Namespace",
            metadata: { name },
            status: { phase: namespaces[name] },
          }),
    listLimitRanges: async (ns) => limitRanges.filter((r) => r.metadata?.namespace === ns),
    listResourceQuotas: async (ns) => quotas.filter((q) => q.metadata?.namespace === ns),
    getServiceAccount: (ns, name) =>
      accounts.includes(`${ns}/${name}`)
        ? obj<ServiceAccount>({
            apiVersion: "v1",
            kind: "ServiceAccount",
            metadata: { name, namespace: ns },
          })
        : undefined,
  };
}

/** Attributes of a request on `resource`; the object's namespace and name fill the rest. */
export function attrs(
  operation: AdmissionOperation,
  resource: string,
  object: ApiObject | undefined,
  extra: Partial<AdmissionAttributes> = {},
): AdmissionAttributes {
  return {
    operation,
    kind: kind(resource),
    namespace: object?.metadata?.namespace ?? "",
    name: object?.metadata?.name ?? "",
    object,
    oldObject: undefined,
    subresource: "",
    dryRun: false,
    ...extra,
  };
}

/** A pod in "default" whose containers are given as [name, requests, limits]. */
export function podWith(
  containers: [string, Record<string, string>?, Record<string, string>?][],
  extra: Record<string, unknown> = {},
) {
  return obj({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web", namespace: "default" },
    spec: {
      containers: containers.map(([name, requests, limits]) => ({
        name,
        image: "busybox",
        resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) },
      })),
      ...extra,
    },
  });
}

/** The error `run` throws: its reason and message. */
export async function failure(
  run: () => Promise<unknown>,
): Promise<{ reason: string; message: string } | undefined> {
  try {
    await run();
    return undefined;
  } catch (err) {
    const e = err as { reason?: string; message: string };
    return { reason: e.reason ?? "", message: e.message };
  }
}
