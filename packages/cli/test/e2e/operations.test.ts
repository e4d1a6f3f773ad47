// The operations commands end to end: rollout (status, history, undo, restart), cordon, drain
// and `delete all` against a real tug-apiserver on an in-process tug-store, with the
// Deployment and ReplicaSet controllers running in this process and a polling stand-in for
// the node agent (binds pods to n1, reports them Running and Ready, finishes deletions).

import {
  type Deployment,
  DeploymentSchema,
  type JsonObject,
  kindForMessage,
  objectFromJson,
  objectToJson,
  type Pod,
  PodSchema,
  type ReplicaSet,
  ReplicaSetSchema,
  resolveKindName,
  ServiceAccountSchema,
} from "@tug/api";
import { ApiServer } from "@tug/apiserver";
import {
  ApiClient,
  apiListerWatcher,
  isApiError,
  metaNamespaceIndexFunc,
  NAMESPACE_INDEX,
  SharedInformerFactory,
} from "@tug/client";
import {
  ApiPodControl,
  DeploymentController,
  NO_EVENTS,
  ReplicaSetController,
  runController,
} from "@tug/controller-manager";
import { LocalBackend, startEtcdGrpcServer } from "@tug/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliIo } from "../../src/cli-io.js";
import { connectApiClient } from "../../src/client/api-client-adapter.js";
import { runTug } from "../../src/program.js";

let backend: LocalBackend;
let store: Awaited<ReturnType<typeof startEtcdGrpcServer>>;
let server: ApiServer;
let api: ApiClient;
const stopper = new AbortController();
let background: Promise<unknown> = Promise.resolve();
let factory: SharedInformerFactory;

/** The node agent's part, by polling: bind to n1, report Running and Ready, finish deletions. */
async function fakeAgent(signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      for (const pod of (await api.list(PodSchema, {})).items) {
        const namespace = pod.metadata?.namespace ?? "";
        const name = pod.metadata?.name ?? "";
        if (pod.metadata?.deletionTimestamp !== undefined) {
          await api.delete(PodSchema, name, { namespace, gracePeriodSeconds: 0 });
        } else if ((pod.spec?.nodeName ?? "") === "") {
          await api.bind(namespace, name, "n1");
        } else if (pod.status?.phase !== "Running") {
          const now = new Date().toISOString();
          const running = objectToJson(pod);
          running.status = {
            phase: "Running",
            conditions: ["Ready", "ContainersReady"].map((type) => ({
              type,
              status: "True",
              lastTransitionTime: now,
            })),
          };
          await api.updateStatus(PodSchema, objectFromJson(running) as Pod);
        }
      }
    } catch (err) {
      if (!isApiError(err, "NotFound") && !isApiError(err, "Conflict") && !signal.aborted) {
        throw err;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  backend = new LocalBackend({ name: "cli-operations-e2e" });
  store = await startEtcdGrpcServer({ backend, listen: "127.0.0.1:0" });
  server = await ApiServer.start({
    etcdServers: [`http://127.0.0.1:${store.port}`],
    listen: "127.0.0.1:0",
    compactionIntervalMs: 0,
  });
  api = new ApiClient({ servers: [server.address], requestTimeoutMs: 10_000 });
  await api.create(
    ServiceAccountSchema,
    objectFromJson({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "default", namespace: "default" },
    }) as never,
  );
  factory = new SharedInformerFactory();
  const indexers = { [NAMESPACE_INDEX]: metaNamespaceIndexFunc };
  const pods = factory.informerFor<Pod>({
    key: "v1/pods",
    newListerWatcher: () => apiListerWatcher(api, PodSchema),
    indexers,
  });
  const replicaSets = factory.informerFor<ReplicaSet>({
    key: "apps/v1/replicasets",
    newListerWatcher: () => apiListerWatcher(api, ReplicaSetSchema),
  });
  const deployments = factory.informerFor<Deployment>({
    key: "apps/v1/deployments",
    newListerWatcher: () => apiListerWatcher(api, DeploymentSchema),
  });
  const controllers = [
    new DeploymentController({ api, deployments, replicaSets, pods, recorder: NO_EVENTS }),
    new ReplicaSetController({
      api,
      replicaSets,
      pods,
      podControl: new ApiPodControl(api, NO_EVENTS),
      recorder: NO_EVENTS,
    }),
  ];
  factory.start();
  background = Promise.all([
    ...controllers.map((c) => runController(c, { workers: 1, signal: stopper.signal })),
    fakeAgent(stopper.signal),
  ]);
}, 60_000);

afterAll(async () => {
  stopper.abort();
  await background.catch(() => undefined);
  await factory?.shutdown();
  api?.close();
  await server?.stop();
  await store?.close();
  backend?.close();
});

/** `tug --server <the test server> ARGS`, output captured. */
async function tug(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIo = {
    stdout: {
      write: (t) => {
        out += t;
      },
    },
    stderr: {
      write: (t) => {
        err += t;
      },
    },
    readStdin: async () => "",
    env: { TUGCONFIG: "/nonexistent/tug-config" },
    now: () => new Date(),
    connect: connectApiClient,
    runEditor: async () => {
      throw new Error("no editor in this test");
    },
    signal: stopper.signal,
  };
  const code = await runTug(["--server", server.address, "--request-timeout", "10s", ...args], io);
  return { code, out, err };
}

function webDeployment(image: string): Deployment {
  const json: JsonObject = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default" },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: { containers: [{ name: "main", image }] },
      },
    },
  };
  return objectFromJson(json) as Deployment;
}

const imageOf = async () =>
  (await api.get(DeploymentSchema, "web", { namespace: "default" })).spec?.template?.spec
    ?.containers[0]?.image;

describe("tug rollout against a real apiserver and controllers", () => {
  it("follows rollouts, lists history, undoes and restarts", async () => {
    await api.create(DeploymentSchema, webDeployment("tug/web:v1"));
    const first = await tug("rollout", "status", "deployment/web", "--timeout", "30s");
    expect(first.err).toBe("");
    expect(first.code).toBe(0);
    expect(first.out.trim().split("\n").at(-1)).toBe('deployment "web" successfully rolled out');

    const next = await api.get(DeploymentSchema, "web", { namespace: "default" });
    const container = next.spec?.template?.spec?.containers[0];
    if (container !== undefined) container.image = "tug/web:v2";
    await api.update(DeploymentSchema, next);
    expect((await tug("rollout", "status", "deploy/web", "--timeout", "30s")).code).toBe(0);

    expect(await tug("rollout", "history", "deployment/web")).toEqual({
      code: 0,
      out: "deployment.apps/web \nREVISION   CHANGE-CAUSE\n1          <none>\n2          <none>\n\n",
      err: "",
    });

    expect((await tug("rollout", "undo", "deployment/web")).out).toBe(
      "deployment.apps/web rolled back\n",
    );
    expect(await imageOf()).toBe("tug/web:v1");
    expect((await tug("rollout", "status", "deploy/web", "--timeout", "30s")).code).toBe(0);

    expect((await tug("rollout", "restart", "deployment/web")).out).toBe(
      "deployment.apps/web restarted\n",
    );
    const restarted = await api.get(DeploymentSchema, "web", { namespace: "default" });
    expect(
      restarted.spec?.template?.metadata?.annotations["kubectl.kubernetes.io/restartedAt"],
    ).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect((await tug("rollout", "status", "deploy/web", "--timeout", "30s")).code).toBe(0);
  }, 120_000);
});

/** Creates an object from its Kubernetes JSON through the API. */
async function createJson(json: JsonObject): Promise<void> {
  const message = objectFromJson(json);
  const kind = kindForMessage(message);
  if (kind === undefined) throw new Error(`no kind for ${message.$typeName}`);
  await api.create(kind, message);
}

function podOn(name: string, node: string, labels: Record<string, string> = {}): JsonObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels },
    spec: { nodeName: node, containers: [{ name: "main", image: "tug/busybox" }] },
  };
}

describe("tug cordon and drain against a real apiserver", () => {
  it("refuses unmanaged pods, retries a budget's refusals until --timeout, then drains", async () => {
    await createJson({ apiVersion: "v1", kind: "Node", metadata: { name: "n2" } });
    await createJson(podOn("bare", "n2"));
    const refused = await tug("drain", "n2");
    expect(refused.code).toBe(1);
    expect(refused.out).toBe("node/n2 cordoned\n");
    expect(refused.err).toContain(
      'error: unable to drain node "n2" due to error: cannot delete Pods that declare no controller (use --force to override): default/bare, continuing command...',
    );
    expect((await tug("uncordon", "n2")).out).toBe("node/n2 uncordoned\n");
    expect((await tug("cordon", "n2")).out).toBe("node/n2 cordoned\n");

    await createJson({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "db", namespace: "default" },
      spec: { minAvailable: 1, selector: { matchLabels: { app: "db" } } },
    });
    await createJson(podOn("db-0", "n2", { app: "db" }));
    // Wait until the stand-in agent reports db-0 Running: only running pods ask the budget.
    for (let i = 0; i < 100; i++) {
      const pod = await api.get(PodSchema, "db-0", { namespace: "default" });
      if (pod.status?.phase === "Running") break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const blocked = await tug("drain", "n2", "--force", "--grace-period=0", "--timeout=2s");
    expect(blocked.code).toBe(1);
    expect(blocked.out).toContain("node/n2 already cordoned\n");
    expect(blocked.out).toContain("evicting pod default/db-0\n");
    expect(blocked.out).toContain("pod/bare evicted\n");
    expect(blocked.out).not.toContain("drained");
    expect(blocked.err).toContain(
      "Warning: deleting Pods that declare no controller: default/bare",
    );
    expect(blocked.err).toContain(
      'error when evicting pods/"db-0" -n "default" (will retry after 5s)',
    );
    expect(blocked.err).toContain(
      'error when evicting pods/"db-0" -n "default": global timeout reached: 2s',
    );

    await api.delete(resolveKindName("poddisruptionbudgets"), "db", { namespace: "default" });
    expect(await tug("drain", "n2", "--force", "--grace-period=0")).toEqual({
      code: 0,
      out: "node/n2 already cordoned\nevicting pod default/db-0\npod/db-0 evicted\nnode/n2 drained\n",
      err: "Warning: deleting Pods that declare no controller: default/db-0\n",
    });
  }, 60_000);
});

describe("tug delete all", () => {
  it("deletes kubectl's 'all' kinds that match the selector, not configmaps", async () => {
    await createJson(podOn("ops-pod", "n1", { tier: "ops" }));
    await createJson({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "ops-svc", namespace: "default", labels: { tier: "ops" } },
      spec: { selector: { tier: "ops" }, ports: [{ port: 80 }] },
    });
    await createJson({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "ops-cm", namespace: "default", labels: { tier: "ops" } },
    });
    expect(await tug("delete", "all", "-l", "tier=ops", "--timeout=30s")).toEqual({
      code: 0,
      out: 'pod "ops-pod" deleted\nservice "ops-svc" deleted\n',
      err: "",
    });
    expect((await tug("get", "configmap", "ops-cm", "-o", "name")).out).toBe("configmap/ops-cm\n");
  }, 60_000);
});
