// Watching pods as a user of the API sees them: which are ready, and how many were available
// at every moment of a rollout (each watch event is one state of the store, in revision order,
// so a count taken after every event misses no dip the store ever held).

import { type Pod, PodSchema } from "@tug/api";
import type { ApiClient } from "@tug/client";

/** The pod's Ready condition is True (Kubernetes: podutil.IsPodReady). */
export function isReady(pod: Pod): boolean {
  return pod.status?.conditions.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/**
 * Available as a ReplicaSet counts it with minReadySeconds 0: Ready and not being deleted
 * (Kubernetes' controller_utils FilterActivePods + IsPodAvailable).
 */
export function isAvailable(pod: Pod): boolean {
  return pod.metadata?.deletionTimestamp === undefined && isReady(pod);
}

/** Pods of the default namespace matching `labelSelector`. */
export async function podsOf(api: ApiClient, labelSelector: string): Promise<Pod[]> {
  return (await api.list(PodSchema, { namespace: "default", labelSelector })).items;
}

export interface AvailabilityObserver {
  /** The smallest number of available pods seen after any event (and at the start). */
  minimum(): number;
  /** How many states were counted. */
  samples(): number;
  /** The error that ended the watch early, if any. */
  error(): unknown;
  stop(): void;
}

/**
 * Lists the pods matching `labelSelector`, then watches from the list's resourceVersion and
 * counts the available ones after every event.
 */
export async function watchAvailable(
  api: ApiClient,
  labelSelector: string,
): Promise<AvailabilityObserver> {
  const list = await api.list(PodSchema, { namespace: "default", labelSelector });
  const pods = new Map<string, Pod>();
  for (const p of list.items) pods.set(p.metadata?.uid ?? "", p);
  const count = () => [...pods.values()].filter(isAvailable).length;
  let minimum = count();
  let samples = 1;
  let failure: unknown;
  const stopper = new AbortController();
  const stream = api.watch(PodSchema, {
    namespace: "default",
    labelSelector,
    resourceVersion: list.resourceVersion,
    signal: stopper.signal,
  });
  void (async () => {
    try {
      for await (const event of stream) {
        if (event.type === "BOOKMARK") continue;
        const uid = event.object.metadata?.uid ?? "";
        if (event.type === "DELETED") pods.delete(uid);
        else pods.set(uid, event.object);
        minimum = Math.min(minimum, count());
        samples++;
      }
    } catch (e) {
      if (!stopper.signal.aborted) failure = e;
    }
  })();
  return {
    minimum: () => minimum,
    samples: () => samples,
    error: () => failure,
    stop: () => stopper.abort(),
  };
}
