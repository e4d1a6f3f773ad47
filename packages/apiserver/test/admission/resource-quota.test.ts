import { describe, expect, it } from "vitest";
import { objectUsage } from "../../src/admission/quota-usage.js";
import { chargedQuota, resourceQuota } from "../../src/admission/resource-quota.js";
import type { ApiObject } from "../../src/registry/api-object.js";
import { writeResourceList } from "../../src/registry/resource-list.js";
import { kind, obj } from "../registry/support.js";
import { attrs, failure, lookups, podWith } from "./support.js";

const quota = (
  name: string,
  hard: Record<string, string>,
  used: Record<string, string>,
  spec: Record<string, unknown> = {},
) => ({
  metadata: { name, resourceVersion: "17" },
  spec: { hard, ...spec },
  status: { hard, used },
});

describe("object usage", () => {
  it.each<{
    name: string;
    resource: string;
    body: Record<string, unknown>;
    want: Record<string, string>;
  }>([
    {
      name: "pod with requests and limits",
      resource: "pods",
      body: podWith([
        ["a", { cpu: "250m", memory: "64Mi" }, { cpu: "500m" }],
        ["b", { cpu: "250m" }],
      ]) as never,
      want: {
        "count/pods": "1",
        pods: "1",
        cpu: "500m",
        "requests.cpu": "500m",
        "limits.cpu": "500m",
        memory: "64Mi",
        "requests.memory": "64Mi",
      },
    },
    {
      name: "init container larger than the sum",
      resource: "pods",
      body: podWith([["a", { cpu: "100m" }]], {
        initContainers: [{ name: "i", image: "x", resources: { requests: { cpu: "1" } } }],
      }) as never,
      want: { "count/pods": "1", pods: "1", cpu: "1", "requests.cpu": "1" },
    },
    {
      name: "NodePort service",
      resource: "services",
      body: {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "s" },
        spec: { type: "NodePort", ports: [{ port: 80 }, { port: 443 }] },
      },
      want: { "count/services": "1", services: "1", "services.nodeports": "2" },
    },
    {
      name: "claim with a storage class",
      resource: "persistentvolumeclaims",
      body: {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: "d" },
        spec: { storageClassName: "fast", resources: { requests: { storage: "5Gi" } } },
      },
      want: {
        "count/persistentvolumeclaims": "1",
        persistentvolumeclaims: "1",
        "requests.storage": "5Gi",
        "fast.storageclass.storage.k8s.io/persistentvolumeclaims": "1",
        "fast.storageclass.storage.k8s.io/requests.storage": "5Gi",
      },
    },
    {
      name: "configmap",
      resource: "configmaps",
      body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } },
      want: { "count/configmaps": "1", configmaps: "1" },
    },
    {
      name: "deployment",
      resource: "deployments",
      body: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d" } },
      want: { "count/deployments.apps": "1" },
    },
  ])("$name", ({ resource, body, want }) => {
    const o = "$typeName" in body ? (body as unknown as ApiObject) : obj(body);
    expect(writeResourceList(objectUsage(kind(resource), o))).toEqual(want);
  });
});

describe("ResourceQuota admission", () => {
  const cpuPod = (cpu: string) =>
    podWith([["web", { cpu, memory: "64Mi" }, { cpu, memory: "64Mi" }]]);

  it("rejects with Kubernetes' text naming the quota and the amounts over", async () => {
    const world = lookups({
      quotas: [quota("compute-quota", { "requests.cpu": "2" }, { "requests.cpu": "1" })],
    });
    const got = await failure(() =>
      resourceQuota.validate!(attrs("CREATE", "pods", cpuPod("2")), world),
    );
    expect(got).toEqual({
      reason: "Forbidden",
      message:
        'pods "web" is forbidden: exceeded quota: compute-quota, requested: requests.cpu=2, used: requests.cpu=1, limited: requests.cpu=2',
    });
  });

  it("charges every quota it passes, with the quota's resourceVersion for compare-and-swap", async () => {
    const world = lookups({
      quotas: [
        quota(
          "compute",
          { "requests.cpu": "2", "limits.memory": "1Gi" },
          { "requests.cpu": "1", "limits.memory": "0" },
        ),
        quota(
          "counts",
          { pods: "10", "count/configmaps": "5" },
          { pods: "3", "count/configmaps": "5" },
        ),
        quota("other-ns", { pods: "0" }, { pods: "0" }, {}),
      ].map((q, i) =>
        i === 2 ? { ...q, metadata: { ...q.metadata, namespace: "elsewhere" } } : q,
      ),
    });
    const charges = await resourceQuota.validate!(attrs("CREATE", "pods", cpuPod("500m")), world);
    expect(charges).toEqual([
      {
        namespace: "default",
        name: "compute",
        resourceVersion: "17",
        delta: { "limits.memory": "64Mi", "requests.cpu": "500m" },
        used: { "requests.cpu": "1500m", "limits.memory": "64Mi" },
      },
      {
        namespace: "default",
        name: "counts",
        resourceVersion: "17",
        delta: { pods: "1" },
        used: { pods: "4", "count/configmaps": "5" },
      },
    ]);
  });

  it.each([
    { name: "under", used: "3", error: undefined },
    {
      name: "at the limit",
      used: "4",
      error:
        'configmaps "cfg" is forbidden: exceeded quota: objects, requested: count/configmaps=1, used: count/configmaps=4, limited: count/configmaps=4',
    },
  ])("object counts: $name", async ({ used, error }) => {
    const world = lookups({
      quotas: [quota("objects", { "count/configmaps": "4" }, { "count/configmaps": used })],
    });
    const cm = obj({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "cfg", namespace: "default" },
    });
    const got = await failure(() =>
      resourceQuota.validate!(attrs("CREATE", "configmaps", cm), world),
    );
    expect(got?.message).toBe(error);
  });

  it.each<{
    name: string;
    pod: ApiObject;
    hard: Record<string, string>;
    used?: Record<string, string>;
    error: string;
  }>([
    {
      name: "a container without the limited resource",
      pod: podWith([["web", { cpu: "100m" }], ["side"]]),
      hard: { "requests.cpu": "4", "limits.memory": "4Gi" },
      error:
        'pods "web" is forbidden: failed quota: q: must specify limits.memory for: side,web; requests.cpu for: side',
    },
    {
      name: "a quota without usage in its status",
      pod: podWith([["web", { cpu: "100m" }]]),
      hard: { "requests.cpu": "4" },
      used: {},
      error: 'pods "web" is forbidden: status unknown for quota: q, resources: requests.cpu',
    },
  ])("$name", async ({ pod, hard, used, error }) => {
    const world = lookups({
      quotas: [
        quota("q", hard, used ?? Object.fromEntries(Object.keys(hard).map((k) => [k, "0"]))),
      ],
    });
    expect(
      (await failure(() => resourceQuota.validate!(attrs("CREATE", "pods", pod), world)))?.message,
    ).toBe(error);
  });

  it.each([
    { scopes: ["BestEffort"], pod: () => podWith([["web"]]), counted: true },
    { scopes: ["BestEffort"], pod: () => podWith([["web", { cpu: "1" }]]), counted: false },
    { scopes: ["NotBestEffort"], pod: () => podWith([["web", { cpu: "1" }]]), counted: true },
    {
      scopes: ["Terminating"],
      pod: () => podWith([["web"]], { activeDeadlineSeconds: 60 }),
      counted: true,
    },
    {
      scopes: ["NotTerminating"],
      pod: () => podWith([["web"]], { activeDeadlineSeconds: 60 }),
      counted: false,
    },
  ])("scopes $scopes count the pod: $counted", async ({ scopes, pod, counted }) => {
    const world = lookups({ quotas: [quota("scoped", { pods: "5" }, { pods: "0" }, { scopes })] });
    const charges = await resourceQuota.validate!(attrs("CREATE", "pods", pod()), world);
    expect(charges?.length).toBe(counted ? 1 : 0);
  });

  it("a PriorityClass scope selector", async () => {
    const world = lookups({
      quotas: [
        quota(
          "high",
          { pods: "1" },
          { pods: "1" },
          {
            scopeSelector: {
              matchExpressions: [{ scopeName: "PriorityClass", operator: "In", values: ["high"] }],
            },
          },
        ),
      ],
    });
    const low = podWith([["web"]], { priorityClassName: "low" });
    const high = podWith([["web"]], { priorityClassName: "high" });
    expect(
      await failure(() => resourceQuota.validate!(attrs("CREATE", "pods", low), world)),
    ).toBeUndefined();
    expect(
      (await failure(() => resourceQuota.validate!(attrs("CREATE", "pods", high), world)))?.reason,
    ).toBe("Forbidden");
  });

  it.each([
    { name: "grows", from: "5Gi", to: "8Gi", delta: "3Gi" },
    { name: "shrinks", from: "8Gi", to: "5Gi", delta: undefined },
  ])("a claim update that $name is charged $delta", async ({ from, to, delta }) => {
    const claim = (storage: string) =>
      obj({
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: "data", namespace: "default" },
        spec: { resources: { requests: { storage } } },
      });
    const world = lookups({
      quotas: [
        quota(
          "storage",
          { "requests.storage": "20Gi", persistentvolumeclaims: "1" },
          { "requests.storage": from, persistentvolumeclaims: "1" },
        ),
      ],
    });
    const charges = await resourceQuota.validate!(
      attrs("UPDATE", "persistentvolumeclaims", claim(to), { oldObject: claim(from) }),
      world,
    );
    expect(charges?.[0]?.delta).toEqual(
      delta === undefined ? undefined : { "requests.storage": delta },
    );
  });

  it("a Service that becomes NodePort is charged its node ports", async () => {
    const svc = (type: string) =>
      obj({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "s", namespace: "default" },
        spec: { type, ports: [{ port: 80 }] },
      });
    const world = lookups({
      quotas: [
        quota(
          "ports",
          { "services.nodeports": "0", services: "5" },
          { "services.nodeports": "0", services: "1" },
        ),
      ],
    });
    const got = await failure(() =>
      resourceQuota.validate!(
        attrs("UPDATE", "services", svc("NodePort"), { oldObject: svc("ClusterIP") }),
        world,
      ),
    );
    expect(got?.message).toBe(
      'services "s" is forbidden: exceeded quota: ports, requested: services.nodeports=1, used: services.nodeports=0, limited: services.nodeports=0',
    );
  });

  it("does not charge pod updates, subresources or namespaces without quotas", async () => {
    const world = lookups({ quotas: [quota("q", { pods: "0" }, { pods: "0" })] });
    expect(
      await resourceQuota.validate!(attrs("UPDATE", "pods", cpuPod("1")), world),
    ).toBeUndefined();
    expect(
      await resourceQuota.validate!(
        attrs("CREATE", "pods", cpuPod("1"), { subresource: "binding" }),
        world,
      ),
    ).toBeUndefined();
    expect(
      await resourceQuota.validate!(attrs("CREATE", "pods", cpuPod("1")), lookups()),
    ).toBeUndefined();
  });

  it("chargedQuota writes the new usage into a copy", () => {
    const q = obj({
      apiVersion: "v1",
      kind: "ResourceQuota",
      ...quota("q", { pods: "5" }, { pods: "1" }),
    });
    const next = chargedQuota(kind("resourcequotas"), q as never, {
      namespace: "default",
      name: "q",
      resourceVersion: "17",
      delta: { pods: "1" },
      used: { pods: "2" },
    });
    expect(next.status?.used).toEqual({ pods: "2" });
    expect((q as unknown as { status: { used: unknown } }).status.used).toEqual({ pods: "1" });
  });
});
