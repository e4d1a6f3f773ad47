// Simulated nodes for batch controllers: pods are bound to a node, then run to the end their
// image names — SUCCEED_IMAGE pods report Succeeded, FAIL_IMAGE pods Failed, any other image
// stays Running and Ready — and pods being deleted are deleted for good (grace period 0; a pod
// holding finalizers stays until they are removed). Nothing is run.

import { clone, create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Pod, PodConditionSchema, PodSchema, PodStatusSchema } from "@tug/api";
import {
  ApiClient,
  apiListerWatcher,
  isApiError,
  RateLimitingQueue,
  runWorkers,
  SharedIndexInformer,
} from "@tug/client";

export const SUCCEED_IMAGE = "succeed:1";
export const FAIL_IMAGE = "fail:1";

export interface BatchKubelet {
  stop(): Promise<void>;
}

export async function startBatchKubelet(address: string, node = "node-a"): Promise<BatchKubelet> {
  const client = new ApiClient({ servers: [address], requestTimeoutMs: 10_000 });
  const informer = new SharedIndexInformer<Pod>({
    listerWatcher: apiListerWatcher(client, PodSchema),
    name: "batch-kubelet-pods",
  });
  const queue = new RateLimitingQueue();
  const key = (pod: Pod) => `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`;
  informer.addEventHandler({
    onAdd: (pod) => queue.add(key(pod)),
    onUpdate: (_old, pod) => queue.add(key(pod)),
  });
  const reconcile = async (k: string) => {
    const pod = informer.getIndexer().getByKey(k);
    if (pod === undefined) return;
    const ns = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    try {
      if (pod.metadata?.deletionTimestamp !== undefined) {
        await client.delete(PodSchema, name, { namespace: ns, gracePeriodSeconds: 0 });
        return;
      }
      if ((pod.spec?.nodeName ?? "") === "") {
        await client.bind(ns, name, node);
        return;
      }
      const phase = pod.status?.phase ?? "";
      if (phase === "Running" || phase === "Succeeded" || phase === "Failed") return;
      const image = pod.spec?.containers[0]?.image ?? "";
      const next =
        image === SUCCEED_IMAGE ? "Succeeded" : image === FAIL_IMAGE ? "Failed" : "Running";
      const updated = clone(PodSchema, pod);
      const now = timestampFromDate(new Date());
      updated.status ??= create(PodStatusSchema);
      updated.status.phase = next;
      updated.status.startTime = now;
      updated.status.conditions = ["PodScheduled", "Ready"].map((type) =>
        create(PodConditionSchema, {
          type,
          status: type === "PodScheduled" || next === "Running" ? "True" : "False",
          lastTransitionTime: now,
        }),
      );
      await client.updateStatus(PodSchema, updated);
    } catch (error) {
      if (isApiError(error, "NotFound")) return;
      throw error;
    }
  };
  const run = informer.run();
  const workers = runWorkers(queue, 2, reconcile);
  return {
    stop: async () => {
      queue.shutDown();
      await informer.stop();
      await run;
      await workers;
      client.close();
    },
  };
}
