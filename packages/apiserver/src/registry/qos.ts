// A pod's quality-of-service class, which the API server records in status.qosClass when the
// pod is created (Kubernetes' qos.GetPodQOS, pkg/apis/core/helper/qos;
// https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/).

import type { PodSpec } from "@tug/api";
import { addTo, type ResourceQuantities, readResourceList } from "./resource-list.js";

export type QosClass = "Guaranteed" | "Burstable" | "BestEffort";

/** Only these resources decide the class. */
const QOS_RESOURCES = ["cpu", "memory"] as const;

/**
 * BestEffort when no container (init containers included) requests or limits cpu or memory;
 * Guaranteed when every container limits both cpu and memory and every request equals the
 * limit (summed over containers); Burstable otherwise. Zero amounts count as unset. A request
 * left unset next to a limit counts as that limit, as defaulting will set it: the class is the
 * same whether it is computed before or after defaults.
 */
export function podQosClass(spec: PodSpec | undefined): QosClass {
  const requests: ResourceQuantities = new Map();
  const limits: ResourceQuantities = new Map();
  let guaranteed = true;
  for (const container of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
    const requested = { ...container.resources?.limits, ...container.resources?.requests };
    for (const [name, q] of readResourceList(requested)) {
      if (isQosResource(name) && q.sign() > 0) addTo(requests, name, q);
    }
    const limited = new Set<string>();
    for (const [name, q] of readResourceList(container.resources?.limits)) {
      if (isQosResource(name) && q.sign() > 0) {
        limited.add(name);
        addTo(limits, name, q);
      }
    }
    if (!QOS_RESOURCES.every((name) => limited.has(name))) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return "BestEffort";
  if (guaranteed) {
    for (const [name, request] of requests) {
      const limit = limits.get(name);
      if (limit === undefined || !limit.equals(request)) guaranteed = false;
    }
  }
  return guaranteed && requests.size === limits.size ? "Guaranteed" : "Burstable";
}

function isQosResource(name: string): boolean {
  return (QOS_RESOURCES as readonly string[]).includes(name);
}
