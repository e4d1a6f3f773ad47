// Two tug-controller-manager instances elect a leader on the Lease
// kube-system/kube-controller-manager; the leader is stopped mid-rollout and the standby takes
// over and finishes it, and no ReplicaSet ever creates more pods than it needs.

import { clone } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { DeploymentSchema, LeaseSchema } from "@tug/api";
import { afterEach, beforeEach, expect, it } from "vitest";
import { ControllerManager } from "../../src/index.js";
import {
  type Cluster,
  eventually,
  type FakeKubelet,
  startCluster,
  startFakeKubelet,
} from "../support/cluster.js";
import { deployment, observePods, type PodObserver } from "../support/workloads.js";

/** Short election timings so that failover takes seconds (same ratios as Kubernetes' 15/10/2). */
const TIMINGS = { leaseDurationMs: 1_500, renewDeadlineMs: 1_000, retryPeriodMs: 200 };
/** Only the controllers under test, so that others' work cannot blur what is counted. */
const CONTROLLERS = ["replicaset", "deployment"] as const;

let cluster: Cluster;
let kubelet: FakeKubelet;
let observer: PodObserver | undefined;
const managers: ControllerManager[] = [];

beforeEach(async () => {
  cluster = await startCluster();
  kubelet = await startFakeKubelet(cluster.address);
});

afterEach(async () => {
  await observer?.stop();
  observer = undefined;
  await Promise.all(managers.splice(0).map((m) => m.stop()));
  await kubelet?.stop();
  await cluster?.stop();
});

it("the standby takes over a rollout in flight when the leader stops; no pod is created twice", async () => {
  const { client } = cluster;
  for (const identity of ["cm-1", "cm-2"]) {
    const m = new ControllerManager({
      servers: [cluster.address],
      identity,
      controllers: CONTROLLERS,
      ...TIMINGS,
    });
    managers.push(m);
    m.start();
  }
  await eventually("a leader", () => managers.some((m) => m.isLeading()));
  const leader = managers.find((m) => m.isLeading()) as ControllerManager;
  const standby = managers.find((m) => m !== leader) as ControllerManager;
  const lease = await client.get(LeaseSchema, "kube-controller-manager", {
    namespace: "kube-system",
  });
  expect(lease.spec?.holderIdentity).toBe(leader.identity);
  expect(standby.isLeading()).toBe(false);

  observer = await observePods(client, "failover");
  await client.create(
    DeploymentSchema,
    deployment("failover", { replicas: 6, maxSurge: 2, maxUnavailable: 1 }),
  );
  await eventually("6 ready pods", async () => {
    const d = await client.get(DeploymentSchema, "failover", { namespace: "default" });
    return d.status?.availableReplicas === 6 && d.status.updatedReplicas === 6;
  });
  observer.checkBounds({ maxTotal: 8, minAvailable: 5 });
  const d = clone(
    DeploymentSchema,
    await client.get(DeploymentSchema, "failover", { namespace: "default" }),
  );
  const container = d.spec?.template?.spec?.containers[0];
  if (container !== undefined) container.image = "busybox:2";
  await client.update(DeploymentSchema, d);
  // Mid-rollout: the new ReplicaSet has started creating pods.
  await eventually("first new pods", () => observer?.createdPerHash.size === 2, 10_000);
  await leader.stop();
  await eventually("the standby leads", () => standby.isLeading(), 15_000);
  await eventually(
    "rollout finished by the new leader",
    async () => {
      const now = await client.get(DeploymentSchema, "failover", { namespace: "default" });
      const s = now.status;
      return (
        s !== undefined &&
        s.observedGeneration >= (now.metadata?.generation ?? 0) &&
        s.updatedReplicas === 6 &&
        s.availableReplicas === 6 &&
        s.replicas === 6
      );
    },
    30_000,
  );
  await eventually("old pods gone", () => observer?.live().length === 6);
  expect(observer.violations).toEqual([]);
  // Each ReplicaSet created exactly its 6 pods, across both leaders.
  expect([...observer.createdPerHash.values()].map((s) => s.size)).toEqual([6, 6]);
  const after = await client.get(LeaseSchema, "kube-controller-manager", {
    namespace: "kube-system",
  });
  expect(after.spec?.holderIdentity).toBe(standby.identity);
});

it("a leader that loses its lease stops its controllers and campaigns again from fresh caches", async () => {
  const { client } = cluster;
  const m = new ControllerManager({
    servers: [cluster.address],
    identity: "cm-1",
    controllers: CONTROLLERS,
    ...TIMINGS,
  });
  managers.push(m);
  m.start();
  await eventually("leading", () => m.isLeading());
  // Another holder writes itself into the lease (as a partitioned leader's successor would).
  const lease = clone(
    LeaseSchema,
    await client.get(LeaseSchema, "kube-controller-manager", { namespace: "kube-system" }),
  );
  if (lease.spec !== undefined) {
    lease.spec.holderIdentity = "usurper";
    lease.spec.renewTime = timestampFromDate(new Date());
  }
  await client.update(LeaseSchema, lease);
  await eventually("leadership lost", () => !m.isLeading(), 10_000);
  await eventually("leading again after the usurper's lease expired", () => m.isLeading(), 15_000);
  expect(m.stats.terms).toBe(2);
  await client.create(DeploymentSchema, deployment("again", { replicas: 2 }));
  await eventually("the new term reconciles", async () => {
    const d = await client.get(DeploymentSchema, "again", { namespace: "default" });
    return d.status?.availableReplicas === 2;
  });
});
