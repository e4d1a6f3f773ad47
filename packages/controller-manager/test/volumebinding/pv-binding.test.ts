// PersistentVolume binding end to end against a real tug-apiserver: a claim binds to the
// smallest volume of its class with its access modes and enough capacity, both sides written
// (claimRef, volumeName, phases Bound); a claim nothing fits stays Pending until a volume that
// fits is created; a volume whose claim is deleted is Released (Retain) or deleted (Delete).

import { create } from "@bufbuild/protobuf";
import {
  type PersistentVolume,
  type PersistentVolumeClaim,
  PersistentVolumeClaimSchema,
  PersistentVolumeSchema,
} from "@tug/api";
import { apiListerWatcher, isApiError } from "@tug/client";
import { afterEach, beforeEach, expect, it } from "vitest";
import { NO_EVENTS } from "../../src/index.js";
import { PersistentVolumeBinder } from "../../src/volumebinding/persistent-volume-binder.js";
import { type RunningControllers, runControllers } from "../nodelifecycle/run-controllers.js";
import { type Cluster, eventually, startCluster } from "../support/cluster.js";

let cluster: Cluster;
let controllers: RunningControllers | undefined;

beforeEach(async () => {
  cluster = await startCluster();
});

afterEach(async () => {
  await controllers?.stop();
  await cluster?.stop();
});

function volume(
  name: string,
  size: string,
  options: { modes?: string[]; storageClass?: string; reclaim?: string } = {},
): PersistentVolume {
  return create(PersistentVolumeSchema, {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name },
    spec: {
      capacity: { storage: size },
      accessModes: options.modes ?? ["ReadWriteOnce"],
      storageClassName: options.storageClass ?? "",
      persistentVolumeReclaimPolicy: options.reclaim ?? "Retain",
      hostPath: { path: `/tmp/tug-pv/${name}` },
    },
  });
}

function claim(name: string, size: string): PersistentVolumeClaim {
  return create(PersistentVolumeClaimSchema, {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace: "default" },
    spec: {
      accessModes: ["ReadWriteOnce"],
      storageClassName: "",
      resources: { requests: { storage: size } },
    },
  });
}

it("binds claims to the smallest matching volume, waits for one, and reclaims", async () => {
  const { client } = cluster;
  controllers = await runControllers(cluster.address, ({ api, factory }) => [
    new PersistentVolumeBinder({
      api,
      recorder: NO_EVENTS,
      volumes: factory.informerFor<PersistentVolume>({
        key: "v1/persistentvolumes",
        newListerWatcher: () => apiListerWatcher(api, PersistentVolumeSchema),
      }),
      claims: factory.informerFor<PersistentVolumeClaim>({
        key: "v1/persistentvolumeclaims",
        newListerWatcher: () => apiListerWatcher(api, PersistentVolumeClaimSchema),
      }),
    }),
  ]);
  for (const pv of [
    volume("small", "1Gi"),
    volume("medium", "5Gi"),
    volume("large", "10Gi", { reclaim: "Delete" }),
    volume("shared", "3Gi", { modes: ["ReadWriteMany"] }),
    volume("fast", "2Gi", { storageClass: "fast" }),
  ]) {
    await client.create(PersistentVolumeSchema, pv);
  }
  await client.create(PersistentVolumeClaimSchema, claim("data", "2Gi"));
  await client.create(PersistentVolumeClaimSchema, claim("logs", "500Mi"));
  await client.create(PersistentVolumeClaimSchema, claim("huge", "20Gi"));
  const getClaim = (name: string) =>
    client.get(PersistentVolumeClaimSchema, name, { namespace: "default" });
  const getVolume = (name: string) => client.get(PersistentVolumeSchema, name);
  const boundTo = async (c: string, v: string) => {
    const pvc = await getClaim(c);
    const pv = await getVolume(v);
    return (
      pvc.spec?.volumeName === v &&
      pvc.status?.phase === "Bound" &&
      pv.spec?.claimRef?.uid === pvc.metadata?.uid &&
      pv.status?.phase === "Bound"
    );
  };
  // 2Gi RWO with no class: not "shared" (RWX only), not "fast" (another class): medium.
  await eventually("data bound to medium", () => boundTo("data", "medium"));
  await eventually("logs bound to small", () => boundTo("logs", "small"));
  const data = await getClaim("data");
  expect(data.status?.capacity).toEqual({ storage: "5Gi" });
  expect(data.status?.accessModes).toEqual(["ReadWriteOnce"]);
  expect(data.metadata?.annotations["pv.kubernetes.io/bind-completed"]).toBe("yes");
  const medium = await getVolume("medium");
  expect(medium.spec?.claimRef?.name).toBe("data");
  expect(medium.spec?.claimRef?.namespace).toBe("default");
  expect(medium.spec?.claimRef?.kind).toBe("PersistentVolumeClaim");

  // Nothing holds 20Gi: Pending, and the free volumes stay Available.
  await eventually(
    "huge Pending",
    async () => (await getClaim("huge")).status?.phase === "Pending",
  );
  await eventually("large and shared Available", async () => {
    return (
      (await getVolume("large")).status?.phase === "Available" &&
      (await getVolume("shared")).status?.phase === "Available"
    );
  });
  await client.create(PersistentVolumeSchema, volume("giant", "30Gi", { reclaim: "Delete" }));
  await eventually("huge bound to the new giant volume", () => boundTo("huge", "giant"));

  // Claims deleted: Retain keeps the volume as Released, Delete removes it.
  await client.delete(PersistentVolumeClaimSchema, "data", { namespace: "default" });
  await client.delete(PersistentVolumeClaimSchema, "huge", { namespace: "default" });
  await eventually(
    "medium Released",
    async () => (await getVolume("medium")).status?.phase === "Released",
  );
  await eventually("giant deleted", async () => {
    try {
      await getVolume("giant");
      return false;
    } catch (error) {
      if (isApiError(error, "NotFound")) return true;
      throw error;
    }
  });
  // A Released volume is not bound again.
  await client.create(PersistentVolumeClaimSchema, claim("again", "4Gi"));
  await eventually("again bound to large, not the Released medium", () =>
    boundTo("again", "large"),
  );
}, 60_000);
