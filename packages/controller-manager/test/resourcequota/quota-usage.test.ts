// The resource quota controller against a real tug-apiserver: a quota made after its
// namespace's objects exist gets their usage in status.used; deleting a pod and a pod finishing
// give the room back; scoped quotas count only the pods their scope selects.

import { clone, create } from "@bufbuild/protobuf";
import {
  ConfigMapSchema,
  PodSchema,
  type ResourceQuota,
  ResourceQuotaSchema,
  type Service,
  ServiceSchema,
} from "@tug/api";
import { apiListerWatcher } from "@tug/client";
import { afterEach, beforeEach, expect, it } from "vitest";
import { ensureDefaultServiceAccount } from "../../../apiserver/test/support/default-service-account.js";
import { ResourceQuotaController } from "../../src/resourcequota/resource-quota-controller.js";
import { type RunningControllers, runControllers } from "../nodelifecycle/run-controllers.js";
import { type Cluster, eventually, startCluster } from "../support/cluster.js";

let cluster: Cluster;
let controllers: RunningControllers | undefined;

beforeEach(async () => {
  cluster = await startCluster();
  await ensureDefaultServiceAccount(cluster.client, "default");
});

afterEach(async () => {
  await controllers?.stop();
  await cluster?.stop();
});

function pod(name: string, cpu: string | undefined) {
  return create(PodSchema, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: {
      containers: [
        {
          name: "c",
          image: "busybox:1",
          ...(cpu === undefined ? {} : { resources: { requests: { cpu }, limits: { cpu } } }),
        },
      ],
    },
  });
}

it("fills status.hard and status.used and follows deletions and finished pods", async () => {
  const { client } = cluster;
  await client.create(PodSchema, pod("a", "200m"));
  await client.create(PodSchema, pod("b", "300m"));
  await client.create(PodSchema, pod("besteffort", undefined));
  await client.create(
    ConfigMapSchema,
    create(ConfigMapSchema, { metadata: { name: "c1", namespace: "default" } }),
  );
  controllers = await runControllers(cluster.address, ({ api, pods, factory }) => [
    new ResourceQuotaController({
      api,
      pods,
      replenishWith: [
        factory.informerFor<Service>({
          key: "v1/services",
          newListerWatcher: () => apiListerWatcher(api, ServiceSchema),
        }),
      ],
      quotas: factory.informerFor<ResourceQuota>({
        key: "v1/resourcequotas",
        newListerWatcher: () => apiListerWatcher(api, ResourceQuotaSchema),
      }),
    }),
  ]);
  const hard = {
    pods: "10",
    "requests.cpu": "2",
    "limits.cpu": "4",
    "count/configmaps": "5",
    services: "3",
  };
  await client.create(
    ResourceQuotaSchema,
    create(ResourceQuotaSchema, {
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: { name: "compute", namespace: "default" },
      spec: { hard },
    }),
  );
  await client.create(
    ResourceQuotaSchema,
    create(ResourceQuotaSchema, {
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: { name: "besteffort", namespace: "default" },
      spec: { hard: { pods: "5" }, scopes: ["BestEffort"] },
    }),
  );
  const status = async (name: string) =>
    (await client.get(ResourceQuotaSchema, name, { namespace: "default" })).status;
  const usedIs = async (name: string, want: Record<string, string>) =>
    JSON.stringify((await status(name))?.used ?? {}, Object.keys(want).sort()) ===
    JSON.stringify(want, Object.keys(want).sort());
  await eventually("usage of the objects that existed before the quota", () =>
    usedIs("compute", {
      pods: "3",
      "requests.cpu": "500m",
      "limits.cpu": "500m",
      "count/configmaps": "1",
      services: "1", // the API server's own `kubernetes` Service
    }),
  );
  expect((await status("compute"))?.hard).toEqual(hard);
  // The scoped quota counts only the pod without requests or limits.
  await eventually("BestEffort scope", () => usedIs("besteffort", { pods: "1" }));

  // A deleted pod gives its share back.
  await client.delete(PodSchema, "a", { namespace: "default" });
  await eventually("after deleting a", () =>
    usedIs("compute", {
      pods: "2",
      "requests.cpu": "300m",
      "limits.cpu": "300m",
      "count/configmaps": "1",
      services: "1", // the API server's own `kubernetes` Service
    }),
  );
  // A finished pod no longer uses compute resources or "pods" (it is still an object).
  const b = clone(PodSchema, await client.get(PodSchema, "b", { namespace: "default" }));
  if (b.status !== undefined) b.status.phase = "Succeeded";
  await client.updateStatus(PodSchema, b);
  await eventually("after b finished", () =>
    usedIs("compute", {
      pods: "1",
      "requests.cpu": "0",
      "limits.cpu": "0",
      "count/configmaps": "1",
      services: "1", // the API server's own `kubernetes` Service
    }),
  );
  // A service: charged by admission on creation, given back by the controller on deletion.
  await client.create(
    ServiceSchema,
    create(ServiceSchema, {
      metadata: { name: "web", namespace: "default" },
      spec: { ports: [{ port: 80 }] },
    }),
  );
  await eventually(
    "the service counted",
    async () => (await status("compute"))?.used.services === "2",
  );
  await client.delete(ServiceSchema, "web", { namespace: "default" });
  await eventually(
    "the service given back",
    async () => (await status("compute"))?.used.services === "1",
  );
  expect(controllers.errors).toEqual([]);
}, 60_000);
