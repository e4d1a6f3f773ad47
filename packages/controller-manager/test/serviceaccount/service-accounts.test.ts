// The service accounts controller against a real tug-apiserver: "default" appears in every
// namespace, old and new, comes back when deleted, and lets pods be admitted.

import { create } from "@bufbuild/protobuf";
import { NamespaceSchema, PodSchema, ServiceAccountSchema } from "@tug/api";
import { apiListerWatcher, isApiError } from "@tug/client";
import { afterEach, beforeEach, expect, it } from "vitest";
import { ServiceAccountsController } from "../../src/serviceaccount/service-accounts-controller.js";
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

it("creates the default ServiceAccount in every namespace and recreates it", async () => {
  const { client } = cluster;
  const exists = async (namespace: string) => {
    try {
      await client.get(ServiceAccountSchema, "default", { namespace });
      return true;
    } catch (error) {
      if (isApiError(error, "NotFound")) return false;
      throw error;
    }
  };
  await client.create(
    NamespaceSchema,
    create(NamespaceSchema, { apiVersion: "v1", kind: "Namespace", metadata: { name: "old" } }),
  );
  expect(await exists("old")).toBe(false);
  controllers = await runControllers(cluster.address, ({ api, factory }) => [
    new ServiceAccountsController({
      api,
      namespaces: factory.informerFor({
        key: "v1/namespaces",
        newListerWatcher: () => apiListerWatcher(api, NamespaceSchema),
      }),
      serviceAccounts: factory.informerFor({
        key: "v1/serviceaccounts",
        newListerWatcher: () => apiListerWatcher(api, ServiceAccountSchema),
      }),
    }),
  ]);
  await client.create(
    NamespaceSchema,
    create(NamespaceSchema, { apiVersion: "v1", kind: "Namespace", metadata: { name: "team" } }),
  );
  for (const ns of ["default", "kube-system", "kube-public", "kube-node-lease", "old", "team"]) {
    await eventually(`ServiceAccount default in ${ns}`, () => exists(ns));
  }
  // Pods in the new namespace are admitted now.
  const pod = await client.create(
    PodSchema,
    create(PodSchema, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", namespace: "team" },
      spec: { containers: [{ name: "c", image: "busybox:1" }] },
    }),
  );
  expect(pod.spec?.serviceAccountName).toBe("default");

  const before = await client.get(ServiceAccountSchema, "default", { namespace: "team" });
  await client.delete(ServiceAccountSchema, "default", { namespace: "team" });
  await eventually("default recreated in team", async () => {
    try {
      const now = await client.get(ServiceAccountSchema, "default", { namespace: "team" });
      return now.metadata?.uid !== before.metadata?.uid;
    } catch (error) {
      if (isApiError(error, "NotFound")) return false;
      throw error;
    }
  });
  expect(controllers.errors).toEqual([]);
}, 60_000);
