// A simulated node for controller tests: registers its Node (Ready, with a heartbeat), renews
// its Lease in kube-node-lease, reports the pods bound to it Running and Ready with an IP, and
// finishes their graceful deletion at once — without running anything. stop() is the node
// dying: heartbeats and pod updates end, and whatever was on it stays as it was.

import { clone, create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  LeaseSchema,
  NodeConditionSchema,
  NodeSchema,
  type Pod,
  PodConditionSchema,
  PodIPSchema,
  PodSchema,
} from "@tug/api";
import {
  ApiClient,
  apiListerWatcher,
  isApiError,
  RateLimitingQueue,
  runWorkers,
  SharedIndexInformer,
} from "@tug/client";

export interface FakeNodeAgent {
  readonly name: string;
  /** Whether the pod `name` in "default" should report Ready (default true). */
  setPodReady(namespace: string, name: string, ready: boolean): void;
  stop(): Promise<void>;
}

export interface FakeNodeAgentOptions {
  /** How often the Lease is renewed; the kubelet's is 10 s (a quarter of its 40 s duration). */
  readonly renewIntervalMs?: number;
  /** The third octet of the pod IPs this node hands out (10.244.<n>.<i>). */
  readonly subnet: number;
  readonly labels?: Record<string, string>;
}

export const NODE_LEASE_NAMESPACE = "kube-node-lease";

export async function startFakeNodeAgent(
  address: string,
  name: string,
  options: FakeNodeAgentOptions,
): Promise<FakeNodeAgent> {
  const api = new ApiClient({ servers: [address], requestTimeoutMs: 10_000 });
  const now = () => timestampFromDate(new Date());
  const readyCondition = () =>
    create(NodeConditionSchema, {
      type: "Ready",
      status: "True",
      reason: "KubeletReady",
      message: "kubelet is posting ready status",
      lastHeartbeatTime: now(),
      lastTransitionTime: now(),
    });
  // Register, or come back: a node that returns reports Ready again.
  try {
    await api.create(
      NodeSchema,
      create(NodeSchema, {
        apiVersion: "v1",
        kind: "Node",
        metadata: { name, labels: { "kubernetes.io/hostname": name, ...options.labels } },
        status: {
          capacity: { cpu: "4", memory: "8Gi", pods: "110" },
          allocatable: { cpu: "4", memory: "8Gi", pods: "110" },
          conditions: [readyCondition()],
        },
      }),
    );
  } catch (error) {
    if (!isApiError(error, "AlreadyExists")) throw error;
  }
  const node = clone(NodeSchema, await api.get(NodeSchema, name));
  if (node.status !== undefined) {
    node.status.conditions = [
      ...node.status.conditions.filter((c) => c.type !== "Ready"),
      readyCondition(),
    ];
    await api.updateStatus(NodeSchema, node);
  }

  let renewing = true;
  const renew = async () => {
    let lease = await api
      .get(LeaseSchema, name, { namespace: NODE_LEASE_NAMESPACE })
      .catch((error: unknown) => {
        if (isApiError(error, "NotFound")) return undefined;
        throw error;
      });
    if (lease === undefined) {
      lease = create(LeaseSchema, {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name, namespace: NODE_LEASE_NAMESPACE },
        spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: now() },
      });
      await api.create(LeaseSchema, lease);
      return;
    }
    const next = clone(LeaseSchema, lease);
    if (next.spec !== undefined) next.spec.renewTime = now();
    await api.update(LeaseSchema, next);
  };
  await renew();
  const interval = options.renewIntervalMs ?? 200;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const loop = () => {
    timer = setTimeout(() => {
      if (!renewing) return;
      renew()
        .catch(() => {})
        .finally(() => {
          if (renewing) loop();
        });
    }, interval);
  };
  loop();

  const notReady = new Set<string>();
  const informer = new SharedIndexInformer<Pod>({
    listerWatcher: apiListerWatcher(api, PodSchema, { fieldSelector: `spec.nodeName=${name}` }),
    name: `fake-node-${name}`,
  });
  const queue = new RateLimitingQueue();
  const key = (pod: Pod) => `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`;
  informer.addEventHandler({
    onAdd: (pod) => queue.add(key(pod)),
    onUpdate: (_old, pod) => queue.add(key(pod)),
  });
  let nextIp = 1;
  const ips = new Map<string, string>();
  const reconcile = async (k: string) => {
    const pod = informer.getIndexer().getByKey(k);
    if (pod === undefined) return;
    const ns = pod.metadata?.namespace ?? "";
    const podName = pod.metadata?.name ?? "";
    try {
      if (pod.metadata?.deletionTimestamp !== undefined) {
        await api.delete(PodSchema, podName, {
          namespace: ns,
          gracePeriodSeconds: 0,
          preconditions: { uid: pod.metadata.uid },
        });
        return;
      }
      const ready = !notReady.has(k);
      const current = pod.status?.conditions.find((c) => c.type === "Ready")?.status;
      if (pod.status?.phase === "Running" && current === (ready ? "True" : "False")) return;
      const running = clone(PodSchema, pod);
      const ts = now();
      const uid = pod.metadata?.uid ?? "";
      let ip = ips.get(uid);
      if (ip === undefined) {
        ip = `10.244.${options.subnet}.${nextIp++}`;
        ips.set(uid, ip);
      }
      if (running.status !== undefined) {
        running.status.phase = "Running";
        running.status.startTime ??= ts;
        running.status.podIp = ip;
        running.status.podIps = [create(PodIPSchema, { ip })];
        running.status.hostIp = "192.0.2.1";
        running.status.conditions = ["PodScheduled", "Initialized", "ContainersReady", "Ready"].map(
          (type) =>
            create(PodConditionSchema, {
              type,
              status:
                type === "Ready" || type === "ContainersReady"
                  ? ready
                    ? "True"
                    : "False"
                  : "True",
              lastTransitionTime: ts,
            }),
        );
      }
      await api.updateStatus(PodSchema, running);
    } catch (error) {
      if (isApiError(error, "NotFound") || isApiError(error, "Conflict")) return;
      throw error;
    }
  };
  const run = informer.run();
  const workers = runWorkers(queue, 2, reconcile);
  await informer.waitForCacheSync();
  return {
    name,
    setPodReady: (namespace, podName, ready) => {
      const k = `${namespace}/${podName}`;
      if (ready) notReady.delete(k);
      else notReady.add(k);
      queue.add(k);
    },
    stop: async () => {
      renewing = false;
      if (timer !== undefined) clearTimeout(timer);
      queue.shutDown();
      await informer.stop();
      await run;
      await workers;
      api.close();
    },
  };
}

/**
 * A scheduler stand-in: every 50 ms binds the pods without a node to the node `target(pod)` names
 * at that moment.
 */
export function startBinder(
  address: string,
  target: (pod: Pod) => string,
): { stop(): Promise<void> } {
  const api = new ApiClient({ servers: [address], requestTimeoutMs: 10_000 });
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const pending = await api.list(PodSchema, { fieldSelector: "spec.nodeName=" });
        for (const pod of pending.items) {
          if (pod.metadata?.deletionTimestamp !== undefined) continue;
          await api
            .bind(pod.metadata?.namespace ?? "", pod.metadata?.name ?? "", target(pod))
            .catch(() => {});
        }
      } catch {
        // The cluster is stopping; the loop ends with the next check.
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      api.close();
    },
  };
}
