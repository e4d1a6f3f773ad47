// Cascading deletion end to end against a real tug-apiserver, with the Deployment and
// ReplicaSet controllers building the chain Deployment → ReplicaSet → pods: background deletion
// removes the chain after the owner; orphan deletion leaves the ReplicaSet and its pods, freed
// of the Deployment; foreground deletion removes pods, then the ReplicaSet, then the Deployment.
// A dependent whose owner never existed is collected.

import { create } from "@bufbuild/protobuf";
import {
  ConfigMapSchema,
  type Deployment,
  DeploymentSchema,
  type Pod,
  PodSchema,
  type ReplicaSet,
  ReplicaSetSchema,
} from "@tug/api";
import { type ApiClient, apiListerWatcher, isApiError, SharedIndexInformer } from "@tug/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ensureDefaultServiceAccount } from "../../../apiserver/test/support/default-service-account.js";
import { GarbageCollector } from "../../src/garbagecollector/garbage-collector.js";
import {
  ApiPodControl,
  DeploymentController,
  NO_EVENTS,
  ReplicaSetController,
} from "../../src/index.js";
import { type RunningControllers, runControllers } from "../nodelifecycle/run-controllers.js";
import { type Cluster, eventually, startCluster } from "../support/cluster.js";
import { deployment } from "../support/workloads.js";

let cluster: Cluster;
let controllers: RunningControllers | undefined;

beforeEach(async () => {
  cluster = await startCluster();
  await ensureDefaultServiceAccount(cluster.client, "default");
  controllers = await runControllers(cluster.address, ({ api, factory, pods }) => {
    const replicaSets = factory.informerFor<ReplicaSet>({
      key: "apps/v1/replicasets",
      newListerWatcher: () => apiListerWatcher(api, ReplicaSetSchema),
    });
    const deployments = factory.informerFor<Deployment>({
      key: "apps/v1/deployments",
      newListerWatcher: () => apiListerWatcher(api, DeploymentSchema),
    });
    return [
      new DeploymentController({ api, deployments, replicaSets, pods, recorder: NO_EVENTS }),
      new ReplicaSetController({
        api,
        replicaSets,
        pods,
        podControl: new ApiPodControl(api, NO_EVENTS),
        recorder: NO_EVENTS,
      }),
      new GarbageCollector({ api, factory, client: api }),
    ];
  });
});

afterEach(async () => {
  await controllers?.stop();
  await cluster?.stop();
});

async function chain(client: ApiClient) {
  const rs = (await client.list(ReplicaSetSchema, { namespace: "default" })).items;
  const pods = (await client.list(PodSchema, { namespace: "default" })).items;
  return { rs, pods };
}

async function deployed(client: ApiClient, replicas: number) {
  await client.create(DeploymentSchema, deployment("web", { replicas }));
  await eventually(`a ReplicaSet with ${replicas} pods`, async () => {
    const { rs, pods } = await chain(client);
    return rs.length === 1 && pods.length === replicas;
  });
  return chain(client);
}

async function gone(client: ApiClient, name: string): Promise<boolean> {
  try {
    await client.get(DeploymentSchema, name, { namespace: "default" });
    return false;
  } catch (error) {
    if (isApiError(error, "NotFound")) return true;
    throw error;
  }
}

describe("garbage collector", () => {
  it("background: deleting a Deployment removes its ReplicaSet and their pods", async () => {
    const { client } = cluster;
    await deployed(client, 2);
    await client.delete(DeploymentSchema, "web", {
      namespace: "default",
      propagationPolicy: "Background",
    });
    expect(await gone(client, "web")).toBe(true);
    await eventually("ReplicaSet and pods collected", async () => {
      const { rs, pods } = await chain(client);
      return rs.length === 0 && pods.length === 0;
    });
  }, 60_000);

  it("orphan: the ReplicaSet and pods stay, without the Deployment's reference", async () => {
    const { client } = cluster;
    const before = await deployed(client, 2);
    await client.delete(DeploymentSchema, "web", {
      namespace: "default",
      propagationPolicy: "Orphan",
    });
    await eventually("Deployment removed after orphaning", () => gone(client, "web"));
    const { rs, pods } = await chain(client);
    expect(rs.map((r) => r.metadata?.uid)).toEqual(before.rs.map((r) => r.metadata?.uid));
    expect(rs[0]?.metadata?.ownerReferences).toEqual([]);
    // The pods still belong to the ReplicaSet, which the GC has no reason to touch.
    expect(pods.map((p) => p.metadata?.uid).sort()).toEqual(
      before.pods.map((p) => p.metadata?.uid).sort(),
    );
    for (const pod of pods) {
      expect(pod.metadata?.ownerReferences.map((o) => o.uid)).toEqual([rs[0]?.metadata?.uid]);
    }
    await new Promise((r) => setTimeout(r, 300));
    expect((await chain(client)).pods).toHaveLength(2);
  }, 60_000);

  it("foreground: pods go first, then the ReplicaSet, then the Deployment", async () => {
    const { client } = cluster;
    await deployed(client, 2);
    const order: string[] = [];
    const watchers = [
      [PodSchema, "pod"],
      [ReplicaSetSchema, "replicaset"],
      [DeploymentSchema, "deployment"],
    ] as const;
    const informers = watchers.map(([schema, what]) => {
      const informer = new SharedIndexInformer<Pod | ReplicaSet | Deployment>({
        listerWatcher: apiListerWatcher(client, schema),
        name: `order-${what}`,
      });
      informer.addEventHandler({ onDelete: () => order.push(what) });
      return informer;
    });
    const runs = informers.map((i) => i.run());
    try {
      await Promise.all(informers.map((i) => i.waitForCacheSync()));
      const deleting = await client.delete(DeploymentSchema, "web", {
        namespace: "default",
        propagationPolicy: "Foreground",
      });
      expect(deleting.metadata?.finalizers).toContain("foregroundDeletion");
      await eventually("Deployment removed after its dependents", () => gone(client, "web"));
      await eventually("every deletion seen", () => order.length === 4);
      expect(order).toEqual(["pod", "pod", "replicaset", "deployment"]);
    } finally {
      await Promise.all(informers.map((i) => i.stop()));
      await Promise.all(runs);
    }
  }, 60_000);

  it("collects an object whose owner does not exist, and keeps one whose owner does", async () => {
    const { client } = cluster;
    const owner = await client.create(
      ConfigMapSchema,
      create(ConfigMapSchema, { metadata: { name: "owner", namespace: "default" } }),
    );
    const ref = (name: string, uid: string) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      name,
      uid,
    });
    await client.create(
      ConfigMapSchema,
      create(ConfigMapSchema, {
        metadata: {
          name: "kept",
          namespace: "default",
          ownerReferences: [ref("owner", owner.metadata?.uid ?? ""), ref("ghost", "no-such-uid")],
        },
      }),
    );
    await client.create(
      ConfigMapSchema,
      create(ConfigMapSchema, {
        metadata: {
          name: "orphaned",
          namespace: "default",
          ownerReferences: [ref("ghost", "no-such-uid")],
        },
      }),
    );
    await eventually("the dependent of a missing owner collected", async () => {
      const names = (await client.list(ConfigMapSchema, { namespace: "default" })).items.map(
        (c) => c.metadata?.name,
      );
      return !names.includes("orphaned");
    });
    // The one with a live owner stays; its dangling reference is dropped.
    await eventually("the dangling reference dropped", async () => {
      const kept = await client.get(ConfigMapSchema, "kept", { namespace: "default" });
      return kept.metadata?.ownerReferences.map((o) => o.name).join() === "owner";
    });
  }, 60_000);
});
