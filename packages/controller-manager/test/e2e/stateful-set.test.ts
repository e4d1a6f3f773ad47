// The StatefulSet controller end to end, as tug-controller-manager runs it ("statefulset"),
// against a real tug-apiserver and tug-store with a simulated node whose pods report Ready only
// when the test says so: ordered creation (each pod only after the previous is Ready), claims
// from volumeClaimTemplates made before their pod and kept on scale-down, scale-down from the
// highest ordinal, Parallel creation, and a rolling update from the highest ordinal down.

import { clone, create } from "@bufbuild/protobuf";
import {
  PersistentVolumeClaimSchema,
  type Pod,
  PodSchema,
  type StatefulSet,
  StatefulSetPersistentVolumeClaimRetentionPolicySchema,
  StatefulSetSchema,
} from "@tug/api";
import {
  type ApiClient,
  apiListerWatcher,
  isApiError,
  isDeletedFinalStateUnknown,
  SharedIndexInformer,
} from "@tug/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ControllerManager, isPodActive, isPodReady } from "../../src/index.js";
import {
  type FakeNodeAgent,
  startBinder,
  startFakeNodeAgent,
} from "../nodelifecycle/fake-node-agent.js";
import { type Cluster, eventually, startCluster } from "../support/cluster.js";

let cluster: Cluster;
let manager: ControllerManager | undefined;
let binder: { stop(): Promise<void> } | undefined;
let agent: FakeNodeAgent | undefined;

beforeEach(async () => {
  cluster = await startCluster();
  agent = await startFakeNodeAgent(cluster.address, "node-a", {
    subnet: 1,
    renewIntervalMs: 60_000,
  });
  binder = startBinder(cluster.address, () => "node-a");
  manager = new ControllerManager({
    servers: [cluster.address],
    leaderElect: false,
    controllers: ["statefulset"],
  });
  manager.start();
});

afterEach(async () => {
  await manager?.stop();
  await binder?.stop();
  await agent?.stop();
  await cluster?.stop();
});

function statefulSet(
  name: string,
  replicas: number,
  podManagementPolicy: "OrderedReady" | "Parallel" = "OrderedReady",
): StatefulSet {
  return create(StatefulSetSchema, {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name, namespace: "default" },
    spec: {
      replicas,
      serviceName: name,
      podManagementPolicy,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "main", image: "busybox:1" }] },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: "data" },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
        },
      ],
    },
  });
}

/** Records, from a watch, the order pods are created and deleted, and who was Ready at each creation. */
async function observe(client: ApiClient, app: string) {
  const informer = new SharedIndexInformer<Pod>({
    listerWatcher: apiListerWatcher(client, PodSchema, { labelSelector: `app=${app}` }),
    name: `observer-${app}`,
  });
  const created: { name: string; readyThen: string[] }[] = [];
  const deleted: string[] = [];
  const ready = () =>
    informer
      .getIndexer()
      .list()
      .filter((p) => isPodActive(p) && isPodReady(p))
      .map((p) => p.metadata?.name ?? "")
      .sort();
  const leaving = (pod: Pod) => {
    const name = pod.metadata?.name ?? "";
    if (!deleted.includes(name)) deleted.push(name);
  };
  informer.addEventHandler({
    onAdd: (pod) => created.push({ name: pod.metadata?.name ?? "", readyThen: ready() }),
    onUpdate: (_old, pod) => {
      if (pod.metadata?.deletionTimestamp !== undefined) leaving(pod);
    },
    onDelete: (obj) => leaving(isDeletedFinalStateUnknown(obj) ? obj.obj : obj),
  });
  const running = informer.run();
  await informer.waitForCacheSync();
  return {
    created,
    deleted,
    stop: async () => {
      await informer.stop();
      await running;
    },
  };
}

async function podNames(app: string): Promise<string[]> {
  const list = await cluster.client.list(PodSchema, {
    namespace: "default",
    labelSelector: `app=${app}`,
  });
  return list.items
    .filter(isPodActive)
    .map((p) => p.metadata?.name ?? "")
    .sort();
}

async function claimNames(): Promise<string[]> {
  const list = await cluster.client.list(PersistentVolumeClaimSchema, { namespace: "default" });
  return list.items.map((c) => c.metadata?.name ?? "").sort();
}

async function change(name: string, edit: (set: StatefulSet) => void): Promise<void> {
  for (;;) {
    const set = clone(
      StatefulSetSchema,
      await cluster.client.get(StatefulSetSchema, name, { namespace: "default" }),
    );
    edit(set);
    try {
      await cluster.client.update(StatefulSetSchema, set);
      return;
    } catch (error) {
      if (!isApiError(error, "Conflict")) throw error;
    }
  }
}

async function status(name: string) {
  return (await cluster.client.get(StatefulSetSchema, name, { namespace: "default" })).status;
}

/** Holds a pod unready until released; the simulated node reports the rest Ready. */
function holdUnready(names: string[]): void {
  for (const n of names) agent?.setPodReady("default", n, false);
}

describe("StatefulSet controller end to end", () => {
  it("creates web-0, web-1, web-2 in order, each after the previous is Ready, with claims first; scales down from web-2", async () => {
    const { client } = cluster;
    holdUnready(["web-0", "web-1", "web-2"]);
    const watch = await observe(client, "web");
    try {
      await client.create(StatefulSetSchema, statefulSet("web", 3));
      await eventually("web-0 running, not ready", async () => (await podNames("web")).length > 0);
      expect(await claimNames()).toEqual(["data-web-0"]);
      const web0 = await client.get(PodSchema, "web-0", { namespace: "default" });
      expect(web0.spec?.hostname).toBe("web-0");
      expect(web0.spec?.subdomain).toBe("web");
      expect(web0.metadata?.labels).toMatchObject({
        "statefulset.kubernetes.io/pod-name": "web-0",
        "apps.kubernetes.io/pod-index": "0",
      });
      expect(
        web0.spec?.volumes.find((v) => v.name === "data")?.persistentVolumeClaim,
      ).toMatchObject({ claimName: "data-web-0" });
      // web-0 is not Ready: the controller's next syncs (status updates of web-0) make no web-1.
      await eventually("web-0 reported running", async () => {
        const p = await client.get(PodSchema, "web-0", { namespace: "default" });
        return p.status?.phase === "Running";
      });
      expect(await podNames("web")).toEqual(["web-0"]);
      for (const [release, next] of [
        ["web-0", "web-1"],
        ["web-1", "web-2"],
      ] as const) {
        agent?.setPodReady("default", release, true);
        await eventually(`${next} created`, async () => (await podNames("web")).includes(next));
      }
      agent?.setPodReady("default", "web-2", true);
      await eventually("3 ready replicas", async () => (await status("web"))?.readyReplicas === 3);
      expect(watch.created).toEqual([
        { name: "web-0", readyThen: [] },
        { name: "web-1", readyThen: ["web-0"] },
        { name: "web-2", readyThen: ["web-0", "web-1"] },
      ]);
      expect(await claimNames()).toEqual(["data-web-0", "data-web-1", "data-web-2"]);
      const s = await status("web");
      expect(s?.currentRevision).not.toBe("");
      expect(s).toMatchObject({ replicas: 3, currentReplicas: 3, updatedReplicas: 3 });
      expect(s?.updateRevision).toBe(s?.currentRevision);

      await change("web", (set) => {
        if (set.spec !== undefined) set.spec.replicas = 1;
      });
      await eventually("1 replica left", async () => {
        const st = await status("web");
        return st?.replicas === 1 && (await podNames("web")).length === 1;
      });
      expect(watch.deleted).toEqual(["web-2", "web-1"]);
      expect(await podNames("web")).toEqual(["web-0"]);
      // Claims are kept (persistentVolumeClaimRetentionPolicy whenScaled: Retain).
      expect(await claimNames()).toEqual(["data-web-0", "data-web-1", "data-web-2"]);
    } finally {
      await watch.stop();
    }
  });

  it("Parallel creates every pod at once; a template change replaces pods from the highest ordinal down", async () => {
    const { client } = cluster;
    holdUnready(["par-0", "par-1", "par-2"]);
    const watch = await observe(client, "par");
    try {
      await client.create(StatefulSetSchema, statefulSet("par", 3, "Parallel"));
      await eventually(
        "3 pods while none is ready",
        async () => (await podNames("par")).length === 3,
      );
      for (const n of ["par-0", "par-1", "par-2"]) agent?.setPodReady("default", n, true);
      await eventually("3 ready", async () => (await status("par"))?.readyReplicas === 3);
      const before = (await status("par"))?.currentRevision ?? "";
      await change("par", (set) => {
        const c = set.spec?.template?.spec?.containers[0];
        if (c !== undefined) c.image = "busybox:2";
      });
      await eventually("rollout complete", async () => {
        const s = await status("par");
        return (
          s?.updatedReplicas === 3 &&
          s.readyReplicas === 3 &&
          s.currentRevision === s.updateRevision &&
          s.currentRevision !== before
        );
      });
      expect(watch.deleted).toEqual(["par-2", "par-1", "par-0"]);
      const pods = await client.list(PodSchema, { namespace: "default", labelSelector: "app=par" });
      expect(pods.items.map((p) => p.spec?.containers[0]?.image)).toEqual([
        "busybox:2",
        "busybox:2",
        "busybox:2",
      ]);
    } finally {
      await watch.stop();
    }
  });

  it("whenScaled: Delete — a scaled-away pod's claims are owned by it and go with it; the others stay", async () => {
    const { client } = cluster;
    const gc = new ControllerManager({
      servers: [cluster.address],
      leaderElect: false,
      controllers: ["garbagecollector"],
    });
    gc.start();
    try {
      const set = statefulSet("db", 2, "Parallel");
      if (set.spec !== undefined) {
        set.spec.persistentVolumeClaimRetentionPolicy = create(
          StatefulSetPersistentVolumeClaimRetentionPolicySchema,
          { whenDeleted: "Retain", whenScaled: "Delete" },
        );
      }
      await client.create(StatefulSetSchema, set);
      await eventually("2 ready", async () => (await status("db"))?.readyReplicas === 2);
      expect(await claimNames()).toEqual(["data-db-0", "data-db-1"]);
      await change("db", (s) => {
        if (s.spec !== undefined) s.spec.replicas = 1;
      });
      await eventually("data-db-1 deleted with db-1", async () => {
        const names = await claimNames();
        return names.length === 1 && (await podNames("db")).length === 1;
      });
      expect(await claimNames()).toEqual(["data-db-0"]);
      const kept = await client.get(PersistentVolumeClaimSchema, "data-db-0", {
        namespace: "default",
      });
      expect(kept.metadata?.ownerReferences).toEqual([]);
    } finally {
      await gc.stop();
    }
  });
});
