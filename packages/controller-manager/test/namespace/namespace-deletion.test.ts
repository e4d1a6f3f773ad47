// Namespace deletion end to end against a real tug-apiserver: deleting a namespace removes its
// pods (a running one gracefully, through its node), services, config maps and accounts; a
// finalizer on some content holds the namespace, reported in its conditions, until it is
// removed; then the namespace itself goes. Other namespaces are untouched.

import { clone, create } from "@bufbuild/protobuf";
import { ConfigMapSchema, NamespaceSchema, PodSchema, ServiceSchema } from "@tug/api";
import { apiListerWatcher, isApiError } from "@tug/client";
import { afterEach, beforeEach, expect, it } from "vitest";
import { ensureDefaultServiceAccount } from "../../../apiserver/test/support/default-service-account.js";
import { NamespaceController } from "../../src/namespace/namespace-controller.js";
import { type FakeNodeAgent, startFakeNodeAgent } from "../nodelifecycle/fake-node-agent.js";
import { type RunningControllers, runControllers } from "../nodelifecycle/run-controllers.js";
import { type Cluster, eventually, startCluster } from "../support/cluster.js";

let cluster: Cluster;
let agent: FakeNodeAgent | undefined;
let controllers: RunningControllers | undefined;

beforeEach(async () => {
  cluster = await startCluster();
});

afterEach(async () => {
  await controllers?.stop();
  await agent?.stop();
  await cluster?.stop();
});

it("deletes the content of a namespace, waits for finalizers, then the namespace", async () => {
  const { client } = cluster;
  agent = await startFakeNodeAgent(cluster.address, "node-a", { subnet: 1 });
  for (const ns of ["team", "other"]) {
    await client.create(
      NamespaceSchema,
      create(NamespaceSchema, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } }),
    );
    await ensureDefaultServiceAccount(client, ns);
    await client.create(
      ConfigMapSchema,
      create(ConfigMapSchema, {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "settings", namespace: ns },
        data: { a: "1" },
      }),
    );
  }
  await client.create(
    ConfigMapSchema,
    create(ConfigMapSchema, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "kept", namespace: "team", finalizers: ["example.com/keep"] },
    }),
  );
  for (const [name, nodeName] of [
    ["running", "node-a"],
    ["pending", ""],
  ] as const) {
    await client.create(
      PodSchema,
      create(PodSchema, {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: "team" },
        spec: {
          nodeName,
          // The controller looks again after half the grace period and a second.
          terminationGracePeriodSeconds: 2,
          containers: [{ name: "c", image: "busybox:1" }],
        },
      }),
    );
  }
  await client.create(
    ServiceSchema,
    create(ServiceSchema, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "team" },
      spec: { selector: { app: "web" }, ports: [{ port: 80 }] },
    }),
  );
  await eventually("the running pod runs", async () => {
    const p = await client.get(PodSchema, "running", { namespace: "team" });
    return p.status?.phase === "Running";
  });

  controllers = await runControllers(cluster.address, ({ api, factory }) => [
    new NamespaceController({
      api,
      namespaces: factory.informerFor({
        key: "v1/namespaces",
        newListerWatcher: () => apiListerWatcher(api, NamespaceSchema),
      }),
    }),
  ]);
  const deleting = await client.delete(NamespaceSchema, "team");
  expect(deleting.status?.phase).toBe("Terminating");
  expect(deleting.spec?.finalizers).toContain("kubernetes");

  const count = async (ns: string) => {
    let n = 0;
    for (const kind of [PodSchema, ServiceSchema, ConfigMapSchema]) {
      n += (await client.list(kind, { namespace: ns })).items.length;
    }
    return n;
  };
  // Everything but the finalized config map goes; the namespace says what holds it.
  await eventually("only the finalized config map left, reported", async () => {
    const ns = await client.get(NamespaceSchema, "team");
    const content = ns.status?.conditions.find((c) => c.type === "NamespaceContentRemaining");
    return (
      (await count("team")) === 1 &&
      content?.message.startsWith("Some resources are remaining: configmaps.") === true
    );
  });
  const ns = await client.get(NamespaceSchema, "team");
  const condition = (type: string) => ns.status?.conditions.find((c) => c.type === type);
  expect(condition("NamespaceFinalizersRemaining")?.message).toBe(
    "Some content in the namespace has finalizers remaining: example.com/keep in 1 resource instances",
  );
  expect(condition("NamespaceContentRemaining")?.reason).toBe("SomeResourcesRemain");
  expect(condition("NamespaceContentRemaining")?.message).toBe(
    "Some resources are remaining: configmaps. has 1 resource instances",
  );
  expect(condition("NamespaceDeletionDiscoveryFailure")?.status).toBe("False");

  // The finalizer's owner lets go: the namespace is removed.
  const kept = clone(
    ConfigMapSchema,
    await client.get(ConfigMapSchema, "kept", { namespace: "team" }),
  );
  if (kept.metadata !== undefined) kept.metadata.finalizers = [];
  await client.update(ConfigMapSchema, kept);
  await eventually("namespace team removed", async () => {
    try {
      await client.get(NamespaceSchema, "team");
      return false;
    } catch (error) {
      if (isApiError(error, "NotFound")) return true;
      throw error;
    }
  });
  // The other namespace keeps its content.
  expect(await count("other")).toBe(1);
  expect((await client.get(NamespaceSchema, "other")).status?.phase).toBe("Active");
}, 60_000);
