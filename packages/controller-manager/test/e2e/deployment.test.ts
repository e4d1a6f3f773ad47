// The Deployment and ReplicaSet controllers against a real tug-apiserver and tug-store, with
// simulated nodes: rollout, rolling update within its bounds at every observed moment, scaling,
// rollback, pause/resume.

import { clone } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { type Deployment, DeploymentSchema, type ReplicaSet, ReplicaSetSchema } from "@tug/api";
import type { ApiClient } from "@tug/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ControllerManager,
  getControllerOf,
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
  rollbackDeployment,
} from "../../src/index.js";
import {
  type Cluster,
  eventually,
  type FakeKubelet,
  NEVER_READY_IMAGE,
  startCluster,
  startFakeKubelet,
} from "../support/cluster.js";
import { deployment, observePods, type PodObserver } from "../support/workloads.js";

let cluster: Cluster;
let kubelet: FakeKubelet;
let manager: ControllerManager;
let observer: PodObserver | undefined;

beforeEach(async () => {
  cluster = await startCluster();
  kubelet = await startFakeKubelet(cluster.address);
  manager = new ControllerManager({
    servers: [cluster.address],
    leaderElect: false,
    controllers: ["replicaset", "deployment"],
  });
  manager.start();
});

afterEach(async () => {
  await observer?.stop();
  observer = undefined;
  await manager?.stop();
  await kubelet?.stop();
  await cluster?.stop();
});

async function getDeployment(client: ApiClient, name: string): Promise<Deployment> {
  return client.get(DeploymentSchema, name, { namespace: "default" });
}

async function replicaSetsOf(client: ApiClient, d: Deployment): Promise<ReplicaSet[]> {
  const list = await client.list(ReplicaSetSchema, { namespace: "default" });
  return list.items.filter((rs) => getControllerOf(rs.metadata)?.uid === d.metadata?.uid);
}

/** Waits until the Deployment's status says every replica is updated and available. */
async function rolledOut(client: ApiClient, name: string, replicas: number): Promise<Deployment> {
  let d = await getDeployment(client, name);
  await eventually(`deployment ${name} rolled out with ${replicas} replicas`, async () => {
    d = await getDeployment(client, name);
    const s = d.status;
    return (
      s !== undefined &&
      s.observedGeneration >= (d.metadata?.generation ?? 0) &&
      s.replicas === replicas &&
      s.updatedReplicas === replicas &&
      s.availableReplicas === replicas &&
      s.conditions.some((c) => c.type === "Progressing" && c.reason === "NewReplicaSetAvailable")
    );
  });
  return d;
}

async function changeImage(client: ApiClient, name: string, image: string): Promise<void> {
  for (;;) {
    const d = clone(DeploymentSchema, await getDeployment(client, name));
    const container = d.spec?.template?.spec?.containers[0];
    if (container === undefined) throw new Error("no container");
    container.image = image;
    try {
      await client.update(DeploymentSchema, d);
      return;
    } catch (e) {
      if ((e as { reason?: string }).reason !== "Conflict") throw e;
    }
  }
}

describe("Deployment controller end to end", () => {
  it("brings a Deployment of 3 up: one ReplicaSet named by pod-template-hash, revision 1, conditions", async () => {
    const { client } = cluster;
    await client.create(DeploymentSchema, deployment("web"));
    const d = await rolledOut(client, "web", 3);
    expect(d.metadata?.annotations[REVISION_ANNOTATION]).toBe("1");
    const rss = await replicaSetsOf(client, d);
    expect(rss).toHaveLength(1);
    const rs = rss[0] as ReplicaSet;
    const hash = rs.metadata?.labels[POD_TEMPLATE_HASH_LABEL] ?? "";
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(rs.metadata?.name).toBe(`web-${hash}`);
    expect(rs.metadata?.annotations[REVISION_ANNOTATION]).toBe("1");
    expect(rs.metadata?.annotations["deployment.kubernetes.io/desired-replicas"]).toBe("3");
    expect(rs.metadata?.annotations["deployment.kubernetes.io/max-replicas"]).toBe("4");
    expect(rs.status?.readyReplicas).toBe(3);
    const available = d.status?.conditions.find((c) => c.type === "Available");
    expect(available?.status).toBe("True");
    expect(available?.reason).toBe("MinimumReplicasAvailable");
    // Condition times are wall time (the workqueue's monotonic clock once put them near 1970).
    const written = available?.lastUpdateTime;
    expect(written).toBeDefined();
    expect(Math.abs(timestampDate(written!).getTime() - Date.now())).toBeLessThan(10 * 60_000);
  });

  it("rolls a template change with live pods ≤ replicas+maxSurge and ready ≥ replicas−maxUnavailable at every observed moment", async () => {
    const { client } = cluster;
    observer = await observePods(client, "roll");
    await client.create(
      DeploymentSchema,
      deployment("roll", { replicas: 4, maxSurge: 1, maxUnavailable: 1 }),
    );
    await rolledOut(client, "roll", 4);
    observer.checkBounds({ maxTotal: 5, minAvailable: 3 });
    await changeImage(client, "roll", "busybox:2");
    await eventually("new pods", () => observer?.createdPerHash.size === 2);
    const d = await rolledOut(client, "roll", 4);
    expect(observer.violations).toEqual([]);
    expect(d.metadata?.annotations[REVISION_ANNOTATION]).toBe("2");
    const rss = await replicaSetsOf(client, d);
    expect(rss.map((rs) => rs.spec?.replicas).sort()).toEqual([0, 4]);
    // Every ReplicaSet created exactly the pods it needed: none twice.
    expect([...observer.createdPerHash.values()].map((s) => s.size).sort()).toEqual([4, 4]);
    await eventually("old pods gone", () => observer?.live().length === 4);
  });

  it("scales 3 → 5 → 1", async () => {
    const { client } = cluster;
    observer = await observePods(client, "scale");
    await client.create(DeploymentSchema, deployment("scale"));
    await rolledOut(client, "scale", 3);
    for (const replicas of [5, 1]) {
      const d = clone(DeploymentSchema, await getDeployment(client, "scale"));
      if (d.spec !== undefined) d.spec.replicas = replicas;
      await client.update(DeploymentSchema, d);
      await rolledOut(client, "scale", replicas);
      await eventually(`${replicas} live pods`, () => observer?.live().length === replicas);
    }
    const total = [...observer.createdPerHash.values()].reduce((n, s) => n + s.size, 0);
    expect(total).toBe(5);
  });

  it("rolls back to the previous revision (tug rollout undo), reusing its ReplicaSet", async () => {
    const { client } = cluster;
    await client.create(DeploymentSchema, deployment("undo"));
    await rolledOut(client, "undo", 3);
    await changeImage(client, "undo", "busybox:2");
    let d = await rolledOut(client, "undo", 3);
    expect(d.metadata?.annotations[REVISION_ANNOTATION]).toBe("2");
    const before = await replicaSetsOf(client, d);
    const result = await rollbackDeployment(client, "default", "undo");
    expect(result).toMatchObject({ revision: 1, rolledBack: true });
    d = await rolledOut(client, "undo", 3);
    expect(d.spec?.template?.spec?.containers[0]?.image).toBe("busybox:1");
    expect(d.metadata?.annotations[REVISION_ANNOTATION]).toBe("3");
    const after = await replicaSetsOf(client, d);
    expect(after.map((rs) => rs.metadata?.uid).sort()).toEqual(
      before.map((rs) => rs.metadata?.uid).sort(),
    );
    const current = after.find((rs) => rs.spec?.replicas === 3);
    expect(current?.metadata?.annotations[REVISION_ANNOTATION]).toBe("3");
    expect(current?.metadata?.annotations["deployment.kubernetes.io/revision-history"]).toBe("1");
    const again = await rollbackDeployment(client, "default", "undo", 3);
    expect(again.rolledBack).toBe(false);
    expect(again.message).toBe("skipped rollback (current template already matches revision 3)");
  });

  it("pauses (no rollout of template changes, Progressing Unknown DeploymentPaused) and resumes", async () => {
    const { client } = cluster;
    await client.create(DeploymentSchema, deployment("pause"));
    await rolledOut(client, "pause", 3);
    let d = clone(DeploymentSchema, await getDeployment(client, "pause"));
    if (d.spec !== undefined) d.spec.paused = true;
    await client.update(DeploymentSchema, d);
    await eventually("paused condition", async () => {
      d = await getDeployment(client, "pause");
      return d.status?.conditions.some((c) => c.reason === "DeploymentPaused") === true;
    });
    await changeImage(client, "pause", "busybox:2");
    await eventually("observed", async () => {
      d = await getDeployment(client, "pause");
      return (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
    });
    // Give the controller time to (wrongly) act.
    await new Promise((r) => setTimeout(r, 300));
    expect(await replicaSetsOf(client, d)).toHaveLength(1);
    const progressing = d.status?.conditions.find((c) => c.type === "Progressing");
    expect(progressing).toMatchObject({
      status: "Unknown",
      reason: "DeploymentPaused",
      message: "Deployment is paused",
    });
    d = clone(DeploymentSchema, await getDeployment(client, "pause"));
    if (d.spec !== undefined) d.spec.paused = false;
    await client.update(DeploymentSchema, d);
    d = await rolledOut(client, "pause", 3);
    expect(d.spec?.template?.spec?.containers[0]?.image).toBe("busybox:2");
    expect(await replicaSetsOf(client, d)).toHaveLength(2);
  });

  it("Recreate: the new ReplicaSet starts only after every old pod is gone", async () => {
    const { client } = cluster;
    observer = await observePods(client, "recreate");
    await client.create(DeploymentSchema, deployment("recreate", { strategy: "Recreate" }));
    await rolledOut(client, "recreate", 3);
    const firstHash = [...observer.createdPerHash.keys()][0];
    let mixed = false;
    const poll = setInterval(() => {
      const hashes = new Set(
        observer?.live().map((p) => p.metadata?.labels[POD_TEMPLATE_HASH_LABEL]),
      );
      if (hashes.size > 1) mixed = true;
    }, 5);
    try {
      await changeImage(client, "recreate", "busybox:2");
      await rolledOut(client, "recreate", 3);
    } finally {
      clearInterval(poll);
    }
    expect(mixed).toBe(false);
    expect(
      observer.live().every((p) => p.metadata?.labels[POD_TEMPLATE_HASH_LABEL] !== firstHash),
    ).toBe(true);
  });

  it("reports ProgressDeadlineExceeded when a rollout makes no progress for progressDeadlineSeconds", async () => {
    const { client } = cluster;
    await client.create(
      DeploymentSchema,
      deployment("stuck", {
        replicas: 2,
        progressDeadlineSeconds: 2,
        maxSurge: 1,
        maxUnavailable: 0,
      }),
    );
    await rolledOut(client, "stuck", 2);
    await changeImage(client, "stuck", NEVER_READY_IMAGE);
    let d = await getDeployment(client, "stuck");
    await eventually(
      "Progressing=False",
      async () => {
        d = await getDeployment(client, "stuck");
        return (
          d.status?.conditions.some((c) => c.type === "Progressing" && c.status === "False") ===
          true
        );
      },
      20_000,
    );
    const rss = await replicaSetsOf(client, d);
    const newRS = rss.find(
      (rs) => rs.spec?.template?.spec?.containers[0]?.image === NEVER_READY_IMAGE,
    );
    const progressing = d.status?.conditions.find((c) => c.type === "Progressing");
    expect(progressing).toMatchObject({
      reason: "ProgressDeadlineExceeded",
      message: `ReplicaSet "${newRS?.metadata?.name}" has timed out progressing.`,
    });
    // maxUnavailable 0: the old pods all stay while the new one never becomes ready.
    expect(d.status?.availableReplicas).toBe(2);
    expect(d.status?.conditions.find((c) => c.type === "Available")?.status).toBe("True");
  });

  it("keeps revisionHistoryLimit old ReplicaSets", async () => {
    const { client } = cluster;
    await client.create(
      DeploymentSchema,
      deployment("history", { replicas: 1, revisionHistoryLimit: 1 }),
    );
    await rolledOut(client, "history", 1);
    for (const image of ["busybox:2", "busybox:3", "busybox:4"]) {
      await changeImage(client, "history", image);
      await rolledOut(client, "history", 1);
    }
    let rss: ReplicaSet[] = [];
    await eventually("old ReplicaSets cleaned up", async () => {
      rss = await replicaSetsOf(client, await getDeployment(client, "history"));
      return rss.length === 2;
    });
    expect(rss.map((rs) => rs.metadata?.annotations[REVISION_ANNOTATION]).sort()).toEqual([
      "3",
      "4",
    ]);
  });

  it("docs' proportional scaling: 10 replicas (maxSurge 3, maxUnavailable 2) stuck mid-rollout at 8+5, scaled to 15 → 11+7", async () => {
    const { client } = cluster;
    await client.create(
      DeploymentSchema,
      deployment("prop", { replicas: 10, maxSurge: 3, maxUnavailable: 2 }),
    );
    await rolledOut(client, "prop", 10);
    await changeImage(client, "prop", NEVER_READY_IMAGE);
    const sizes = async () => {
      const d = await getDeployment(client, "prop");
      const rss = await replicaSetsOf(client, d);
      const image = (rs: ReplicaSet) => rs.spec?.template?.spec?.containers[0]?.image;
      const oldRS = rss.find((rs) => image(rs) !== NEVER_READY_IMAGE);
      const newRS = rss.find((rs) => image(rs) === NEVER_READY_IMAGE);
      return [oldRS?.spec?.replicas, newRS?.spec?.replicas];
    };
    await eventually("stuck at 8 old + 5 new", async () => {
      const [o, n] = await sizes();
      return o === 8 && n === 5;
    });
    for (;;) {
      const d = clone(DeploymentSchema, await getDeployment(client, "prop"));
      if (d.spec !== undefined) d.spec.replicas = 15;
      try {
        await client.update(DeploymentSchema, d);
        break;
      } catch (e) {
        if ((e as { reason?: string }).reason !== "Conflict") throw e;
      }
    }
    await eventually("3 more to the old ReplicaSet, 2 to the new", async () => {
      const [o, n] = await sizes();
      return o === 11 && n === 7;
    });
  });
});
