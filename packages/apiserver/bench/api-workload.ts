// What the API benchmark asks of tug-apiserver: the namespaces and service accounts pods need
// (admission's NamespaceLifecycle and ServiceAccount plugins; no controller-manager runs here),
// a namespace of LIST_NAMESPACE_PODS pods to get, list and update, and one request function per
// verb for the open-loop driver.

import { clone, create } from "@bufbuild/protobuf";
import { NamespaceSchema, type Pod, PodSchema, ServiceAccountSchema } from "@tug/api";
import type { ApiClient } from "@tug/client";

/** Holds the pods that are read, listed and updated. */
export const READ_NAMESPACE = "bench-read";
/** Receives the creates of the load runs, so that the read namespace keeps its size. */
export const CREATE_NAMESPACE = "bench-create";
/** Receives the writes the watchers see. */
export const WATCH_NAMESPACE = "bench-watch";
/** The list namespace holds about this many pods (the "~100 pods"). */
export const LIST_NAMESPACE_PODS = 100;
/** Page size of each list (kubectl's default chunk size). */
export const LIST_LIMIT = 500;
/** Each request's deadline: generous, so that a slow request counts as slow, not failed. */
export const REQUEST_TIMEOUT_MS = 10_000;

/** A small valid pod: one container, a label. */
export function benchPod(
  namespace: string,
  name: string,
  annotations: Record<string, string> = {},
): Pod {
  return create(PodSchema, {
    metadata: { name, namespace, labels: { app: "bench" }, annotations },
    spec: { containers: [{ name: "app", image: "busybox" }] },
  });
}

/** Creates the bench namespaces, each with its "default" ServiceAccount. */
export async function createNamespaces(client: ApiClient): Promise<void> {
  for (const name of [READ_NAMESPACE, CREATE_NAMESPACE, WATCH_NAMESPACE]) {
    await client.create(NamespaceSchema, create(NamespaceSchema, { metadata: { name } }));
    await client.create(
      ServiceAccountSchema,
      create(ServiceAccountSchema, { metadata: { name: "default", namespace: name } }),
    );
  }
}

/** Fills the read namespace; returns the stored pods (the update targets). */
export async function createReadPods(client: ApiClient): Promise<Pod[]> {
  const pods: Pod[] = [];
  for (let i = 0; i < LIST_NAMESPACE_PODS; i++) {
    pods.push(await client.create(PodSchema, benchPod(READ_NAMESPACE, `read-${i}`)));
  }
  return pods;
}

/** One request per verb, for runOpenLoop. */
export interface VerbRequests {
  readonly create: (seq: number) => Promise<unknown>;
  readonly update: (seq: number) => Promise<unknown>;
  readonly get: (seq: number) => Promise<unknown>;
  readonly list: (seq: number) => Promise<unknown>;
}

/**
 * The requests of one run, named `runId` so that creates never collide across runs.
 * Updates change a label of a read-namespace pod, sending the resourceVersion the bench last
 * got for it; a pod with an update in flight is skipped for the next free one, so that the
 * bench never conflicts with itself (it counts a conflict as an error).
 */
export function verbRequests(client: ApiClient, runId: string, pods: Pod[]): VerbRequests {
  const control = { timeoutMs: REQUEST_TIMEOUT_MS };
  const busy = new Set<number>();
  let next = 0;
  return {
    create: (seq) =>
      client.create(PodSchema, benchPod(CREATE_NAMESPACE, `${runId}-${seq}`), control),
    update: async (seq) => {
      let i = next;
      for (let tried = 0; busy.has(i) && tried < pods.length; tried++) i = (i + 1) % pods.length;
      if (busy.has(i))
        throw new Error(`all ${pods.length} update targets have an update in flight`);
      next = (i + 1) % pods.length;
      busy.add(i);
      try {
        const pod = clone(PodSchema, pods[i] as Pod);
        const labels = pod.metadata?.labels;
        if (labels === undefined) throw new Error(`pod ${i} came back without metadata`);
        labels.seq = `${runId}-${seq}`;
        pods[i] = await client.update(PodSchema, pod, control);
      } finally {
        busy.delete(i);
      }
    },
    get: (seq) =>
      client.get(PodSchema, `read-${seq % pods.length}`, {
        namespace: READ_NAMESPACE,
        ...control,
      }),
    list: () =>
      client.list(PodSchema, { namespace: READ_NAMESPACE, limit: LIST_LIMIT, ...control }),
  };
}
