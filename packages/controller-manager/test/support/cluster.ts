// A real control plane for controller tests, in this process: tug-store's in-memory backend
// serving etcd v3 gRPC, tug-apiserver on it, a client, and simulated nodes — a fake kubelet that
// binds pending pods to nodes, reports them Running and Ready without running anything, and
// finishes graceful deletions at once. stop() stops everything, in reverse order.

import { clone, create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Pod, PodConditionSchema, PodSchema, ServiceAccountSchema } from "@tug/api";
import { ApiServer } from "@tug/apiserver";
import {
  ApiClient,
  apiListerWatcher,
  isApiError,
  RateLimitingQueue,
  runWorkers,
  SharedIndexInformer,
} from "@tug/client";
import { LocalBackend, startEtcdGrpcServer } from "@tug/store";

export interface Cluster {
  readonly address: string;
  readonly client: ApiClient;
  stop(): Promise<void>;
}

export interface FakeKubelet {
  stop(): Promise<void>;
}

export async function startCluster(): Promise<Cluster> {
  const backend = new LocalBackend({ name: "controller-manager-test" });
  const etcd = await startEtcdGrpcServer({ backend, listen: "127.0.0.1:0" });
  let server: ApiServer | undefined;
  try {
    server = await ApiServer.start({
      etcdServers: [`http://127.0.0.1:${etcd.port}`],
      listen: "127.0.0.1:0",
      compactionIntervalMs: 0,
    });
  } catch (e) {
    await etcd.close();
    backend.close();
    throw e;
  }
  const running = server;
  const client = new ApiClient({ servers: [running.address], requestTimeoutMs: 10_000 });
  // What the ServiceAccount controller would create; pod admission looks it up.
  await client.create(
    ServiceAccountSchema,
    create(ServiceAccountSchema, {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "default", namespace: "default" },
    }),
  );
  return {
    address: running.address,
    client,
    stop: async () => {
      client.close();
      await running.stop();
      await etcd.close();
      backend.close();
    },
  };
}

/** An image whose containers never become ready on the fake kubelet (a failing readiness probe). */
export const NEVER_READY_IMAGE = "never-ready:1";
/** Images whose pods run to the end on the fake kubelet: phase Succeeded, or Failed (Jobs). */
export const SUCCEED_IMAGE = "succeed:1";
export const FAIL_IMAGE = "fail:1";

/**
 * Simulated nodes `nodes`: pods without a node are bound round-robin, bound pods become Running
 * and Ready (Ready=False for NEVER_READY_IMAGE; SUCCEED_IMAGE and FAIL_IMAGE pods end Succeeded
 * or Failed instead, and finished pods stay so), and pods being deleted are deleted for good
 * (grace period 0), one pod at a time per key through a workqueue, as a kubelet's pod workers
 * would.
 */
export async function startFakeKubelet(
  address: string,
  nodes: readonly string[] = ["node-a", "node-b"],
): Promise<FakeKubelet> {
  const client = new ApiClient({ servers: [address], requestTimeoutMs: 10_000 });
  const informer = new SharedIndexInformer<Pod>({
    listerWatcher: apiListerWatcher(client, PodSchema),
    name: "fake-kubelet-pods",
  });
  const queue = new RateLimitingQueue();
  const key = (pod: Pod) => `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`;
  informer.addEventHandler({
    onAdd: (pod) => queue.add(key(pod)),
    onUpdate: (_old, pod) => queue.add(key(pod)),
  });
  let next = 0;
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
        const node = nodes[next++ % nodes.length] as string;
        await client.bind(ns, name, node);
        return;
      }
      const phase = pod.status?.phase ?? "";
      if (phase === "Running" || phase === "Succeeded" || phase === "Failed") return;
      const image = pod.spec?.containers[0]?.image;
      const target =
        image === SUCCEED_IMAGE ? "Succeeded" : image === FAIL_IMAGE ? "Failed" : "Running";
      const running = clone(PodSchema, pod);
      const now = timestampFromDate(new Date());
      running.status ??= create(PodSchema).status;
      if (running.status !== undefined) {
        running.status.phase = target;
        running.status.startTime = now;
        const ready =
          target === "Running" &&
          (pod.spec?.containers.every((c) => c.image !== NEVER_READY_IMAGE) ?? true);
        running.status.conditions = ["PodScheduled", "Initialized", "ContainersReady", "Ready"].map(
          (type) =>
            create(PodConditionSchema, {
              type,
              status: ready || type === "PodScheduled" || type === "Initialized" ? "True" : "False",
              lastTransitionTime: now,
            }),
        );
      }
      await client.updateStatus(PodSchema, running);
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

/** Polls `check` every 50 ms until it returns true; throws `what` after `timeoutMs`. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
