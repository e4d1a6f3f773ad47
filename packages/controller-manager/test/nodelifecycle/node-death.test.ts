// Node death end to end, against a real tug-apiserver and tug-store with simulated nodes and
// short timings: a node stops renewing its Lease → Ready=Unknown, its pods not ready, the
// unreachable NoExecute taint → its pods evicted once their tolerationSeconds have passed (a pod
// tolerating the taint forever stays) → the ReplicaSet's replacements run on the healthy node.
// The node comes back → the taints go.

import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampMs } from "@bufbuild/protobuf/wkt";
import {
  type Node,
  NodeSchema,
  type Pod,
  PodSchema,
  type ReplicaSet,
  ReplicaSetSchema,
} from "@tug/api";
import { apiListerWatcher } from "@tug/client";
import { afterEach, beforeEach, expect, it } from "vitest";
import { ensureDefaultServiceAccount } from "../../../apiserver/test/support/default-service-account.js";
import { ApiPodControl, NO_EVENTS, ReplicaSetController } from "../../src/index.js";
import { NodeLifecycleController } from "../../src/nodelifecycle/node-lifecycle-controller.js";
import { TaintEvictionController } from "../../src/nodelifecycle/taint-eviction-controller.js";
import { type Cluster, eventually, startCluster } from "../support/cluster.js";
import { type FakeNodeAgent, startBinder, startFakeNodeAgent } from "./fake-node-agent.js";
import { type RunningControllers, runControllers } from "./run-controllers.js";

const UNREACHABLE = "node.kubernetes.io/unreachable";
const NOT_READY = "node.kubernetes.io/not-ready";
const TOLERATION_SECONDS = 2;

let cluster: Cluster;
const agents = new Map<string, FakeNodeAgent>();
let binder: { stop(): Promise<void> } | undefined;
let controllers: RunningControllers | undefined;
let target = "node-a";

beforeEach(async () => {
  cluster = await startCluster();
  await ensureDefaultServiceAccount(cluster.client, "default");
});

afterEach(async () => {
  await controllers?.stop();
  await binder?.stop();
  for (const agent of agents.values()) await agent.stop();
  agents.clear();
  await cluster?.stop();
});

function msOf(ts: Timestamp | undefined, what: string): number {
  if (ts === undefined) throw new Error(`${what} is not set`);
  return timestampMs(ts);
}

function readyCondition(node: Node) {
  return node.status?.conditions.find((c) => c.type === "Ready");
}

it("a node that stops renewing its Lease goes Unknown, is tainted, and loses its pods to the healthy node", async () => {
  const { client } = cluster;
  agents.set("node-a", await startFakeNodeAgent(cluster.address, "node-a", { subnet: 1 }));
  agents.set("node-b", await startFakeNodeAgent(cluster.address, "node-b", { subnet: 2 }));
  binder = startBinder(cluster.address, () => target);
  controllers = await runControllers(cluster.address, ({ api, nodes, pods, leases, factory }) => [
    new NodeLifecycleController({
      api,
      nodes,
      pods,
      leases,
      recorder: NO_EVENTS,
      nodeMonitorPeriodMs: 200,
      nodeMonitorGracePeriodMs: 1_500,
      nodeStartupGracePeriodMs: 1_500,
    }),
    new TaintEvictionController({ api, nodes, pods, recorder: NO_EVENTS }),
    new ReplicaSetController({
      api,
      replicaSets: factory.informerFor<ReplicaSet>({
        key: "apps/v1/replicasets",
        newListerWatcher: () => apiListerWatcher(api, ReplicaSetSchema),
      }),
      pods,
      podControl: new ApiPodControl(api, NO_EVENTS),
      recorder: NO_EVENTS,
    }),
  ]);

  // Two pods evicted TOLERATION_SECONDS after the taint, and one that tolerates it forever.
  const shortTolerations = [UNREACHABLE, NOT_READY].map((key) => ({
    key,
    operator: "Exists",
    effect: "NoExecute",
    tolerationSeconds: TOLERATION_SECONDS,
  }));
  await client.create(
    ReplicaSetSchema,
    create(ReplicaSetSchema, {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: "web", namespace: "default" },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: {
            containers: [{ name: "main", image: "busybox:1" }],
            tolerations: shortTolerations,
          },
        },
      },
    }),
  );
  await client.create(
    PodSchema,
    create(PodSchema, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "patient", namespace: "default" },
      spec: {
        containers: [{ name: "main", image: "busybox:1" }],
        tolerations: [{ key: UNREACHABLE, operator: "Exists", effect: "NoExecute" }],
      },
    }),
  );
  // Tolerates the key and effect but not the (empty) value: evicted as soon as tainted. The
  // admission plugin sees a toleration for the key and adds no default one.
  await client.create(
    PodSchema,
    create(PodSchema, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "impatient", namespace: "default" },
      spec: {
        containers: [{ name: "main", image: "busybox:1" }],
        tolerations: [
          { key: UNREACHABLE, operator: "Equal", value: "elsewhere", effect: "NoExecute" },
        ],
      },
    }),
  );
  const podsOn = async (node: string) =>
    (await client.list(PodSchema, { namespace: "default", fieldSelector: `spec.nodeName=${node}` }))
      .items;
  const running = (p: Pod) =>
    p.status?.phase === "Running" && p.metadata?.deletionTimestamp === undefined;
  await eventually("4 pods running on node-a", async () => {
    return (await podsOn("node-a")).filter(running).length === 4;
  });
  const firstUids = new Set((await podsOn("node-a")).map((p) => p.metadata?.uid));

  // node-a dies; new pods go to node-b.
  target = "node-b";
  await agents.get("node-a")?.stop();
  agents.delete("node-a");

  let node: Node | undefined;
  await eventually("node-a Unknown and tainted unreachable:NoExecute", async () => {
    node = await client.get(NodeSchema, "node-a");
    return (
      readyCondition(node)?.status === "Unknown" &&
      (node.spec?.taints ?? []).some((t) => t.key === UNREACHABLE && t.effect === "NoExecute")
    );
  });
  expect(readyCondition(node as Node)?.reason).toBe("NodeStatusUnknown");
  expect(readyCondition(node as Node)?.message).toBe("Kubelet stopped posting node status.");
  expect((node as Node).spec?.taints.map((t) => `${t.key}:${t.effect}`).sort()).toEqual([
    `${UNREACHABLE}:NoExecute`,
    `${UNREACHABLE}:NoSchedule`,
  ]);
  const taintedAt = msOf(
    (node as Node).spec?.taints.find((t) => t.effect === "NoExecute")?.timeAdded,
    "the NoExecute taint's timeAdded",
  );
  // node-b stays healthy and untainted.
  const healthy = await client.get(NodeSchema, "node-b");
  expect(readyCondition(healthy)?.status).toBe("True");
  expect(healthy.spec?.taints ?? []).toEqual([]);

  await eventually("the ReplicaSet's pods on node-a evicted", async () => {
    const pods = await podsOn("node-a");
    return pods
      .filter((p) => p.metadata?.labels.app === "web")
      .every((p) => p.metadata?.deletionTimestamp !== undefined);
  });
  const onA = await podsOn("node-a");
  for (const pod of onA) {
    // Every pod on the lost node was marked not ready.
    expect(pod.status?.conditions.find((c) => c.type === "Ready")?.status).toBe("False");
  }
  for (const pod of onA.filter((p) => p.metadata?.labels.app === "web")) {
    const reason = pod.status?.conditions.find((c) => c.type === "DisruptionTarget");
    expect(reason?.reason).toBe("DeletionByTaintManager");
    // Not before its tolerationSeconds had passed since the taint.
    const evictedAt = timestampMs(
      reason?.lastTransitionTime ?? ({ seconds: 0n, nanos: 0 } as never),
    );
    expect(evictedAt - taintedAt).toBeGreaterThanOrEqual(TOLERATION_SECONDS * 1000 - 50);
  }
  // The pod whose toleration does not match went at once.
  const impatient = onA.find((p) => p.metadata?.name === "impatient");
  const impatientAt = msOf(
    impatient?.status?.conditions.find((c) => c.type === "DisruptionTarget")?.lastTransitionTime,
    "impatient's DisruptionTarget",
  );
  expect(impatientAt - taintedAt).toBeLessThan(TOLERATION_SECONDS * 1000);
  // The pod that tolerates the taint forever is still there, not being deleted.
  const patient = await client.get(PodSchema, "patient", { namespace: "default" });
  expect(patient.metadata?.deletionTimestamp).toBeUndefined();

  await eventually("two replacements running on node-b", async () => {
    const pods = (await podsOn("node-b")).filter(
      (p) => p.metadata?.labels.app === "web" && running(p) && !firstUids.has(p.metadata?.uid),
    );
    return pods.length === 2;
  });

  // node-a comes back: Ready again, its taints removed.
  agents.set("node-a", await startFakeNodeAgent(cluster.address, "node-a", { subnet: 1 }));
  await eventually("node-a untainted after it came back", async () => {
    const back = await client.get(NodeSchema, "node-a");
    return readyCondition(back)?.status === "True" && (back.spec?.taints ?? []).length === 0;
  });
}, 60_000);

it("a lone node that dies goes Unknown but is not tainted for eviction (every zone is down)", async () => {
  const { client } = cluster;
  agents.set("solo", await startFakeNodeAgent(cluster.address, "solo", { subnet: 3 }));
  controllers = await runControllers(cluster.address, ({ api, nodes, pods, leases }) => [
    new NodeLifecycleController({
      api,
      nodes,
      pods,
      leases,
      recorder: NO_EVENTS,
      nodeMonitorPeriodMs: 200,
      nodeMonitorGracePeriodMs: 1_000,
    }),
  ]);
  await agents.get("solo")?.stop();
  agents.delete("solo");
  let node: Node | undefined;
  await eventually("solo Unknown with the NoSchedule taint", async () => {
    node = await client.get(NodeSchema, "solo");
    return (
      readyCondition(node)?.status === "Unknown" &&
      (node.spec?.taints ?? []).some((t) => t.key === UNREACHABLE && t.effect === "NoSchedule")
    );
  });
  // Several monitor periods later, still no NoExecute taint.
  await new Promise((r) => setTimeout(r, 1_000));
  node = await client.get(NodeSchema, "solo");
  expect((node.spec?.taints ?? []).filter((t) => t.effect === "NoExecute")).toEqual([]);
  expect(controllers.errors).toEqual([]);
}, 60_000);
