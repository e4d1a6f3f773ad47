// The ReplicaSet controller against a real tug-apiserver with simulated nodes: creation with
// owner references, adoption of matching orphans, release of pods that stop matching,
// scale-down choosing the most deletable pods, status, and events.

import { clone, create } from "@bufbuild/protobuf";
import { EventSchema, type Pod, PodSchema, type ReplicaSet, ReplicaSetSchema } from "@tug/api";
import { isApiError } from "@tug/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ControllerManager, getControllerOf } from "../../src/index.js";
import {
  type Cluster,
  eventually,
  type FakeKubelet,
  startCluster,
  startFakeKubelet,
} from "../support/cluster.js";

let cluster: Cluster;
let kubelet: FakeKubelet;
let manager: ControllerManager;

beforeEach(async () => {
  cluster = await startCluster();
  kubelet = await startFakeKubelet(cluster.address);
  manager = new ControllerManager({
    servers: [cluster.address],
    leaderElect: false,
    controllers: ["replicaset"],
  });
  manager.start();
});

afterEach(async () => {
  await manager?.stop();
  await kubelet?.stop();
  await cluster?.stop();
});

function replicaSet(name: string, replicas: number): ReplicaSet {
  return create(ReplicaSetSchema, {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name, namespace: "default" },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "main", image: "busybox:1" }] },
      },
    },
  });
}

function orphan(name: string, labels: Record<string, string>): Pod {
  return create(PodSchema, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels },
    spec: { containers: [{ name: "main", image: "busybox:1" }] },
  });
}

async function podsOf(rs: ReplicaSet): Promise<Pod[]> {
  const pods = await cluster.client.list(PodSchema, { namespace: "default" });
  return pods.items.filter(
    (p) =>
      getControllerOf(p.metadata)?.uid === rs.metadata?.uid &&
      p.metadata?.deletionTimestamp === undefined,
  );
}

/** Sets spec.replicas, retrying on Conflict (the controller writes status meanwhile). */
async function scaleTo(name: string, replicas: number): Promise<void> {
  for (;;) {
    const rs = clone(ReplicaSetSchema, await rsStatus(name));
    if (rs.spec !== undefined) rs.spec.replicas = replicas;
    try {
      await cluster.client.update(ReplicaSetSchema, rs);
      return;
    } catch (e) {
      if (!isApiError(e, "Conflict")) throw e;
    }
  }
}

async function rsStatus(name: string): Promise<ReplicaSet> {
  return cluster.client.get(ReplicaSetSchema, name, { namespace: "default" });
}

describe("ReplicaSet controller end to end", () => {
  it("creates pods with a controller reference and generateName, adopting a matching orphan first", async () => {
    const { client } = cluster;
    await client.create(PodSchema, orphan("stray", { app: "rs" }));
    const rs = await client.create(ReplicaSetSchema, replicaSet("rs", 3));
    await eventually("3 ready replicas", async () => {
      const s = (await rsStatus("rs")).status;
      return s?.readyReplicas === 3 && s.availableReplicas === 3 && s.fullyLabeledReplicas === 3;
    });
    const pods = await podsOf(rs);
    expect(pods).toHaveLength(3);
    const names = pods.map((p) => p.metadata?.name ?? "");
    expect(names).toContain("stray");
    for (const p of pods.filter((p) => p.metadata?.name !== "stray")) {
      expect(p.metadata?.generateName).toBe("rs-");
      expect(p.metadata?.name).toMatch(/^rs-[a-z0-9]{5}$/);
    }
    const ref = getControllerOf(pods[0]?.metadata);
    expect(ref).toMatchObject({
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      name: "rs",
      controller: true,
      blockOwnerDeletion: true,
    });
    expect((await rsStatus("rs")).status?.observedGeneration).toBe(rs.metadata?.generation);
    await eventually("SuccessfulCreate events", async () => {
      const events = (await client.list(EventSchema, { namespace: "default" })).items;
      const created = events.filter(
        (e) => e.reason === "SuccessfulCreate" && e.involvedObject?.name === "rs",
      );
      return (
        created.length === 2 &&
        created.every(
          (e) =>
            /^Created pod: rs-/.test(e.message) && e.source?.component === "replicaset-controller",
        )
      );
    });
  });

  it("releases a pod whose labels stop matching and replaces it", async () => {
    const { client } = cluster;
    const rs = await client.create(ReplicaSetSchema, replicaSet("rel", 2));
    await eventually("2 ready", async () => (await rsStatus("rel")).status?.readyReplicas === 2);
    const [first] = await podsOf(rs);
    const relabelled = clone(PodSchema, first as Pod);
    if (relabelled.metadata !== undefined) relabelled.metadata.labels = { app: "elsewhere" };
    await client.update(PodSchema, relabelled);
    await eventually("released and replaced", async () => {
      const pod = await client.get(PodSchema, first?.metadata?.name ?? "", {
        namespace: "default",
      });
      return getControllerOf(pod.metadata) === undefined && (await podsOf(rs)).length === 2;
    });
  });

  it("scales down by deleting not-ready pods before ready ones", async () => {
    const { client } = cluster;
    // Pods on a node the fake kubelet does not run stay Pending and not ready.
    await kubelet.stop();
    const rs = await client.create(ReplicaSetSchema, replicaSet("down", 2));
    await eventually("2 pending pods", async () => (await podsOf(rs)).length === 2);
    kubelet = await startFakeKubelet(cluster.address);
    await eventually("2 ready", async () => (await rsStatus("down")).status?.readyReplicas === 2);
    await kubelet.stop();
    await scaleTo("down", 4);
    await eventually("4 pods, 2 ready", async () => (await podsOf(rs)).length === 4);
    const ready = new Set(
      (await podsOf(rs)).filter((p) => p.status?.phase === "Running").map((p) => p.metadata?.name),
    );
    expect(ready.size).toBe(2);
    await scaleTo("down", 2);
    // Deleted pods wait for their (stopped) kubelet, with a deletionTimestamp.
    await eventually("2 pods left", async () => (await podsOf(rs)).length === 2);
    const left = (await podsOf(rs)).map((p) => p.metadata?.name);
    expect(new Set(left)).toEqual(ready);
    kubelet = await startFakeKubelet(cluster.address);
    await eventually("status: 2 replicas", async () => {
      const s = (await rsStatus("down")).status;
      return s?.replicas === 2 && s.readyReplicas === 2;
    });
  });
});
