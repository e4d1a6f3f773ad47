// The Endpoints controller end to end against a real tug-apiserver with simulated nodes:
// Endpoints named as the Service, ready and not-ready addresses following pod readiness, named
// target ports resolved per pod, subsets split by port set, pods leaving, the Service leaving;
// a Service without a selector is left to its owner.

import { create } from "@bufbuild/protobuf";
import {
  type Endpoints,
  EndpointsSchema,
  makeIntOrString,
  PodSchema,
  ServiceSchema,
} from "@tug/api";
import { apiListerWatcher, isApiError } from "@tug/client";
import { afterEach, beforeEach, expect, it } from "vitest";
import { ensureDefaultServiceAccount } from "../../../apiserver/test/support/default-service-account.js";
import { EndpointsController } from "../../src/endpoints/endpoints-controller.js";
import { type FakeNodeAgent, startFakeNodeAgent } from "../nodelifecycle/fake-node-agent.js";
import { type RunningControllers, runControllers } from "../nodelifecycle/run-controllers.js";
import { type Cluster, eventually, startCluster } from "../support/cluster.js";

let cluster: Cluster;
const agents: FakeNodeAgent[] = [];
let controllers: RunningControllers | undefined;

beforeEach(async () => {
  cluster = await startCluster();
  await ensureDefaultServiceAccount(cluster.client, "default");
});

afterEach(async () => {
  await controllers?.stop();
  for (const agent of agents.splice(0)) await agent.stop();
  await cluster?.stop();
});

function pod(name: string, node: string, httpPort: number | undefined) {
  return create(PodSchema, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels: { app: "web" } },
    spec: {
      nodeName: node,
      containers: [
        {
          name: "main",
          image: "busybox:1",
          ports:
            httpPort === undefined
              ? []
              : [{ name: "http", containerPort: httpPort, protocol: "TCP" }],
        },
      ],
    },
  });
}

/** The Endpoints as "subset ports | ready pods | not-ready pods" lines. */
function summary(ep: Endpoints | undefined): string[] {
  return (ep?.subsets ?? []).map((s) => {
    const ports = s.ports.map((p) => `${p.name}:${p.port}/${p.protocol}`).join(",");
    const names = (list: typeof s.addresses) =>
      list.map((a) => `${a.targetRef?.name}@${a.nodeName}`).join(",");
    return `${ports} | ${names(s.addresses)} | ${names(s.notReadyAddresses)}`;
  });
}

it("keeps Endpoints in step with the pods a Service selects and their readiness", async () => {
  const { client } = cluster;
  agents.push(await startFakeNodeAgent(cluster.address, "node-a", { subnet: 1 }));
  agents.push(await startFakeNodeAgent(cluster.address, "node-b", { subnet: 2 }));
  const [agentA, agentB] = agents as [FakeNodeAgent, FakeNodeAgent];
  controllers = await runControllers(cluster.address, ({ api, pods, factory }) => [
    new EndpointsController({
      api,
      pods,
      services: factory.informerFor({
        key: "v1/services",
        newListerWatcher: () => apiListerWatcher(api, ServiceSchema),
      }),
      endpoints: factory.informerFor({
        key: "v1/endpoints",
        newListerWatcher: () => apiListerWatcher(api, EndpointsSchema),
      }),
    }),
  ]);
  agentB.setPodReady("default", "b1", false);
  await client.create(PodSchema, pod("a1", "node-a", 8080));
  await client.create(PodSchema, pod("b1", "node-b", 8080));
  await client.create(PodSchema, pod("a2", "node-a", undefined));
  await client.create(
    ServiceSchema,
    create(ServiceSchema, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "default", labels: { tier: "front" } },
      spec: {
        selector: { app: "web" },
        ports: [
          { name: "http", port: 80, targetPort: makeIntOrString("http") },
          { name: "metrics", port: 9000, targetPort: makeIntOrString(9100) },
        ],
      },
    }),
  );
  await client.create(
    ServiceSchema,
    create(ServiceSchema, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "manual", namespace: "default" },
      spec: { ports: [{ name: "http", port: 80 }] },
    }),
  );
  const get = async (): Promise<Endpoints | undefined> => {
    try {
      return await client.get(EndpointsSchema, "web", { namespace: "default" });
    } catch (error) {
      if (isApiError(error, "NotFound")) return undefined;
      throw error;
    }
  };
  // a2 has no port named http: it serves only the metrics port, in a subset of its own.
  const expected = [
    "http:8080/TCP,metrics:9100/TCP | a1@node-a | b1@node-b",
    "metrics:9100/TCP | a2@node-a | ",
  ];
  await eventually("Endpoints web with ready a1 and a2, not-ready b1", async () => {
    return JSON.stringify(summary(await get())) === JSON.stringify(expected);
  });
  const ep = await get();
  expect(ep?.metadata?.labels).toEqual({ tier: "front" });
  const a1 = ep?.subsets[0]?.addresses[0];
  expect(a1?.ip).toMatch(/^10\.244\.1\.\d+$/);
  expect(a1?.targetRef?.kind).toBe("Pod");
  expect(a1?.targetRef?.uid).toBe(
    (await client.get(PodSchema, "a1", { namespace: "default" })).metadata?.uid,
  );

  // b1 becomes ready; a1 stops being ready.
  agentB.setPodReady("default", "b1", true);
  agentA.setPodReady("default", "a1", false);
  await eventually("readiness followed", async () => {
    return summary(await get())[0] === "http:8080/TCP,metrics:9100/TCP | b1@node-b | a1@node-a";
  });

  // a pod that goes away leaves the Endpoints.
  await client.delete(PodSchema, "a2", { namespace: "default" });
  await eventually("a2 removed", async () => {
    return (
      JSON.stringify(summary(await get())) ===
      JSON.stringify(["http:8080/TCP,metrics:9100/TCP | b1@node-b | a1@node-a"])
    );
  });

  // The Service goes, and its Endpoints with it; the selector-less one never had any.
  await client.delete(ServiceSchema, "web", { namespace: "default" });
  await eventually("Endpoints web deleted", async () => (await get()) === undefined);
  await expect(client.get(EndpointsSchema, "manual", { namespace: "default" })).rejects.toThrow(
    /not found/,
  );
  expect(controllers.errors).toEqual([]);
}, 60_000);
