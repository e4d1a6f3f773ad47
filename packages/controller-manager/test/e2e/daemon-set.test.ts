// The DaemonSet controller end to end, as tug-controller-manager runs it ("daemonset"), against
// a real tug-apiserver and tug-store with simulated nodes (agents that register a Node and report
// their pods Running and Ready without running anything) and a binder that honours the daemon
// pods' `metadata.name In [node]` affinity as the default scheduler does.

import { clone, create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  ControllerRevisionSchema,
  type DaemonSet,
  DaemonSetSchema,
  makeIntOrString,
  NodeSchema,
  type NodeSpecSchema,
  type Pod,
  PodSchema,
} from "@tug/api";
import { apiListerWatcher, isApiError, SharedIndexInformer } from "@tug/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CONTROLLER_REVISION_HASH_LABEL, targetNodeName } from "../../src/daemonset/daemon-pod.js";
import { ControllerManager, getControllerOf, isPodActive, isPodReady } from "../../src/index.js";
import {
  type FakeNodeAgent,
  startBinder,
  startFakeNodeAgent,
} from "../nodelifecycle/fake-node-agent.js";
import { type Cluster, eventually, startCluster } from "../support/cluster.js";

let cluster: Cluster;
let manager: ControllerManager | undefined;
let binder: { stop(): Promise<void> } | undefined;
const agents: FakeNodeAgent[] = [];

/** Starts a simulated node; with `spec`, its Node is created with that spec first. */
async function addNode(
  name: string,
  spec?: MessageInitShape<typeof NodeSpecSchema>,
): Promise<void> {
  if (spec !== undefined) {
    await cluster.client.create(
      NodeSchema,
      create(NodeSchema, { apiVersion: "v1", kind: "Node", metadata: { name }, spec }),
    );
  }
  agents.push(
    await startFakeNodeAgent(cluster.address, name, {
      subnet: agents.length + 1,
      // Heartbeats do not matter here (no node lifecycle controller): keep the load low.
      renewIntervalMs: 60_000,
    }),
  );
}

beforeEach(async () => {
  cluster = await startCluster();
  for (const name of ["node-a", "node-b", "node-c"]) await addNode(name);
  // The default scheduler binds a daemon pod to the one node its affinity names.
  binder = startBinder(cluster.address, (pod) => targetNodeName(pod) ?? "");
  manager = new ControllerManager({
    servers: [cluster.address],
    leaderElect: false,
    controllers: ["daemonset"],
  });
  manager.start();
});

afterEach(async () => {
  await manager?.stop();
  await binder?.stop();
  for (const agent of agents.splice(0)) await agent.stop();
  await cluster?.stop();
});

function daemonSet(name: string, maxUnavailable = 1): DaemonSet {
  return create(DaemonSetSchema, {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name, namespace: "default" },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "main", image: "busybox:1" }] },
      },
      updateStrategy: {
        type: "RollingUpdate",
        rollingUpdate: { maxUnavailable: makeIntOrString(maxUnavailable) },
      },
    },
  });
}

async function livePods(app: string): Promise<Pod[]> {
  const list = await cluster.client.list(PodSchema, {
    namespace: "default",
    labelSelector: `app=${app}`,
  });
  return list.items.filter(isPodActive);
}

async function status(name: string) {
  return (await cluster.client.get(DaemonSetSchema, name, { namespace: "default" })).status;
}

/**
 * Changes the image of DaemonSet `app` (3 nodes) and waits for the rollout to finish, watching
 * every pod event: the most nodes ever seen without a ready pod, and the most pods ever seen
 * beyond one per node.
 */
async function rollOut(
  app: string,
  bounds: { maxUnavailable: number; maxSurge?: number },
): Promise<{ unavailable: number; extra: number }> {
  const { client } = cluster;
  const ds = daemonSet(app, bounds.maxUnavailable);
  const rolling = ds.spec?.updateStrategy?.rollingUpdate;
  if (rolling !== undefined && bounds.maxSurge !== undefined) {
    rolling.maxSurge = makeIntOrString(bounds.maxSurge);
  }
  await client.create(DaemonSetSchema, ds);
  await eventually("3 ready pods", async () => (await status(app))?.numberAvailable === 3);
  const observer = new SharedIndexInformer<Pod>({
    listerWatcher: apiListerWatcher(client, PodSchema, { labelSelector: `app=${app}` }),
    name: `observer-${app}`,
  });
  const nodes = ["node-a", "node-b", "node-c"];
  const worst = { unavailable: 0, extra: 0 };
  const check = () => {
    const live = observer.getIndexer().list().filter(isPodActive);
    const unavailable = nodes.filter(
      (n) => !live.some((p) => p.spec?.nodeName === n && isPodReady(p)),
    ).length;
    worst.unavailable = Math.max(worst.unavailable, unavailable);
    worst.extra = Math.max(worst.extra, live.length - nodes.length);
  };
  observer.addEventHandler({ onAdd: check, onUpdate: check, onDelete: check });
  const running = observer.run();
  try {
    await observer.waitForCacheSync();
    expect(worst).toEqual({ unavailable: 0, extra: 0 });
    for (;;) {
      const current = clone(
        DaemonSetSchema,
        await client.get(DaemonSetSchema, app, { namespace: "default" }),
      );
      const container = current.spec?.template?.spec?.containers[0];
      if (container !== undefined) container.image = "busybox:2";
      try {
        await client.update(DaemonSetSchema, current);
        break;
      } catch (error) {
        if (!isApiError(error, "Conflict")) throw error;
      }
    }
    await eventually("every node updated and available", async () => {
      const s = await status(app);
      const pods = await livePods(app);
      return (
        s?.updatedNumberScheduled === 3 &&
        s.numberAvailable === 3 &&
        pods.length === 3 &&
        pods.every((p) => p.spec?.containers[0]?.image === "busybox:2")
      );
    });
    return worst;
  } finally {
    await observer.stop();
    await running;
  }
}

describe("DaemonSet controller end to end", () => {
  it("runs one pod per node, adds one for a new node, none on a node whose taint it does not tolerate, one on a cordoned node", async () => {
    const { client } = cluster;
    const ds = await client.create(DaemonSetSchema, daemonSet("agent"));
    await eventually("a ready pod on each of 3 nodes", async () => {
      const s = await status("agent");
      return s?.desiredNumberScheduled === 3 && s.numberReady === 3 && s.numberAvailable === 3;
    });
    const pods = await livePods("agent");
    expect(pods.map((p) => p.spec?.nodeName).sort()).toEqual(["node-a", "node-b", "node-c"]);
    for (const pod of pods) {
      // What `tug drain --ignore-daemonsets` looks for.
      expect(getControllerOf(pod.metadata)).toMatchObject({
        kind: "DaemonSet",
        name: "agent",
        uid: ds.metadata?.uid,
        controller: true,
      });
      const unbound = clone(PodSchema, pod);
      if (unbound.spec !== undefined) unbound.spec.nodeName = "";
      expect(targetNodeName(unbound)).toBe(pod.spec?.nodeName);
      expect(pod.spec?.tolerations.map((t) => t.key)).toContain("node.kubernetes.io/unschedulable");
    }
    const hash = pods[0]?.metadata?.labels[CONTROLLER_REVISION_HASH_LABEL] ?? "";
    expect(hash).not.toBe("");
    const revisions = (await client.list(ControllerRevisionSchema, { namespace: "default" })).items;
    expect(revisions.map((r) => r.metadata?.name)).toEqual([`agent-${hash}`]);

    await addNode("node-d");
    await eventually("a pod on the new node", async () =>
      (await livePods("agent")).some((p) => p.spec?.nodeName === "node-d" && isPodReady(p)),
    );

    // Nodes tainted before their agents start: the tainted one would take the pod but for its
    // taint; the cordoned one takes it (the automatic unschedulable toleration).
    await addNode("node-tainted", {
      taints: [{ key: "dedicated", value: "db", effect: "NoSchedule" }],
    });
    await addNode("node-cordoned", {
      unschedulable: true,
      taints: [{ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" }],
    });
    await eventually("a pod on the cordoned node, 5 in all", async () => {
      const s = await status("agent");
      return s?.desiredNumberScheduled === 5 && s.numberReady === 5;
    });
    const nodes = (await livePods("agent")).map((p) => p.spec?.nodeName).sort();
    expect(nodes).toEqual(["node-a", "node-b", "node-c", "node-cordoned", "node-d"]);
    expect((await status("agent"))?.numberMisscheduled).toBe(0);
  });

  it("rolls a template change out node by node, never more than maxUnavailable nodes without an available pod", async () => {
    const seen = await rollOut("roll", { maxUnavailable: 1 });
    // maxSurge 0: every node went through a moment without a pod, one node at a time.
    expect(seen).toEqual({ unavailable: 1, extra: 0 });
    const revisions = (
      await cluster.client.list(ControllerRevisionSchema, { namespace: "default" })
    ).items;
    expect(revisions.map((r) => r.revision).sort()).toEqual([1, 2]);
    expect((await status("roll"))?.observedGeneration).toBe(2);
  });

  it("with maxSurge 1 and maxUnavailable 0 starts each new pod beside the old one: no node is ever without a ready pod", async () => {
    const seen = await rollOut("surge", { maxUnavailable: 0, maxSurge: 1 });
    expect(seen).toEqual({ unavailable: 0, extra: 1 });
  });
});
