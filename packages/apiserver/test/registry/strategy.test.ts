import { fields, type Namespace, type Pod } from "@tug/api";
import { describe, expect, it } from "vitest";
import { generateName, NAME_SUFFIX_ALPHABET } from "../../src/registry/name-generator.js";
import { strategyFor } from "../../src/registry/strategy.js";
import { isApiError } from "../../src/storage/errors.js";
import { json, kind, NOW_SECONDS, obj, testEnv } from "./support.js";

const podJson = (extra: Record<string, unknown> = {}) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web", namespace: "default", ...((extra.metadata as object) ?? {}) },
  spec: { containers: [{ name: "c", image: "busybox" }], ...((extra.spec as object) ?? {}) },
  ...(extra.status === undefined ? {} : { status: extra.status }),
});

describe("generateName", () => {
  it.each([
    { base: "web-", randoms: [0], want: "web-bbbbb" },
    { base: "web-", randoms: [0.9999], want: "web-99999" },
    { base: "", randoms: [0, 0.2, 0.4, 0.6, 0.8], want: "bhnv4" },
    { base: "a".repeat(70), randoms: [0], want: `${"a".repeat(58)}bbbbb` },
  ])("$base with $randoms -> $want", ({ base, randoms, want }) => {
    let i = 0;
    expect(generateName(base, () => randoms[i++ % randoms.length] as number)).toBe(want);
  });

  it("draws only from Kubernetes' alphabet", () => {
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    for (let n = 0; n < 200; n++) {
      const suffix = generateName("x-", random).slice(2);
      expect(suffix).toHaveLength(5);
      for (const ch of suffix) expect(NAME_SUFFIX_ALPHABET).toContain(ch);
    }
  });
});

describe("prepareForCreate", () => {
  it("sets system metadata and clears what a client may not set", () => {
    const strategy = strategyFor(kind("pods"), testEnv());
    const pod = obj<Pod>(
      podJson({
        metadata: {
          uid: "client-uid",
          resourceVersion: "42",
          generation: 7,
          selfLink: "/x",
          creationTimestamp: "2000-01-01T00:00:00Z",
          deletionTimestamp: "2000-01-01T00:00:00Z",
          deletionGracePeriodSeconds: 5,
        },
      }),
    );
    strategy.prepareForCreate(pod);
    const meta = pod.metadata!;
    expect(meta.uid).toBe("uid-1");
    expect(meta.resourceVersion).toBe("");
    expect(meta.selfLink).toBe("");
    expect(meta.generation).toBe(1);
    expect(meta.creationTimestamp?.seconds).toBe(NOW_SECONDS);
    expect(meta.creationTimestamp?.nanos).toBe(0);
    expect(meta.deletionTimestamp).toBeUndefined();
    expect(meta.deletionGracePeriodSeconds).toBeUndefined();
  });

  it.each([
    { name: "", generateName: "web-", want: "web-bbbbb" },
    { name: "given", generateName: "web-", want: "given" },
  ])("name $name with generateName $generateName -> $want", ({ name, generateName, want }) => {
    const strategy = strategyFor(kind("configmaps"), testEnv());
    const cm = obj({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, generateName } });
    strategy.prepareForCreate(cm);
    expect(cm.metadata?.name).toBe(want);
  });

  it("clears the namespace of a cluster-scoped object", () => {
    const node = obj({ apiVersion: "v1", kind: "Node", metadata: { name: "n", namespace: "x" } });
    strategyFor(kind("nodes"), testEnv()).prepareForCreate(node);
    expect(node.metadata?.namespace).toBe("");
  });

  it("creates metadata for an object that has none", () => {
    const cm = obj({ apiVersion: "v1", kind: "ConfigMap" });
    expect(cm.metadata).toBeUndefined();
    strategyFor(kind("configmaps"), testEnv()).prepareForCreate(cm);
    expect(cm.metadata?.uid).toBe("uid-1");
    expect(json(cm).metadata).toEqual({ uid: "uid-1", creationTimestamp: "2026-01-02T03:04:05Z" });
  });

  it("gives kinds without a spec generation 0", () => {
    const cm = obj({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", generation: 3 } });
    strategyFor(kind("configmaps"), testEnv()).prepareForCreate(cm);
    expect(cm.metadata?.generation).toBe(0);
  });

  const resources = (requests?: object, limits?: object) => ({
    ...(requests === undefined ? {} : { requests }),
    ...(limits === undefined ? {} : { limits }),
  });
  it.each([
    { name: "no resources", containers: [{}], want: "BestEffort" },
    {
      name: "equal requests and limits",
      containers: [
        { resources: resources({ cpu: "1", memory: "1Gi" }, { cpu: "1000m", memory: "1024Mi" }) },
      ],
      want: "Guaranteed",
    },
    {
      name: "limits only (requests will default to them)",
      containers: [{ resources: resources(undefined, { cpu: "1", memory: "1Gi" }) }],
      want: "Guaranteed",
    },
    {
      name: "limits on cpu only",
      containers: [{ resources: resources(undefined, { cpu: "1" }) }],
      want: "Burstable",
    },
    {
      name: "request below limit",
      containers: [
        { resources: resources({ cpu: "500m", memory: "1Gi" }, { cpu: "1", memory: "1Gi" }) },
      ],
      want: "Burstable",
    },
    {
      name: "one container without limits",
      containers: [
        { resources: resources({ cpu: "1", memory: "1Gi" }, { cpu: "1", memory: "1Gi" }) },
        {},
      ],
      want: "Burstable",
    },
    {
      name: "zero amounts count as unset",
      containers: [{ resources: resources({ cpu: "0" }, { memory: "0" }) }],
      want: "BestEffort",
    },
    {
      name: "other resources do not count",
      containers: [{ resources: resources({ "ephemeral-storage": "1Gi" }) }],
      want: "BestEffort",
    },
  ])("Pod status: phase Pending, qosClass $want ($name)", ({ containers, want }) => {
    const pod = obj<Pod>(
      podJson({
        spec: { containers: containers.map((c, i) => ({ name: `c${i}`, image: "i", ...c })) },
        status: { phase: "Running", podIP: "10.0.0.1" },
      }),
    );
    strategyFor(kind("pods"), testEnv()).prepareForCreate(pod);
    expect(json(pod).status).toEqual({ phase: "Pending", qosClass: want });
  });

  it.each([
    { spec: {}, want: ["kubernetes"] },
    { spec: { finalizers: ["example.com/x"] }, want: ["example.com/x", "kubernetes"] },
    { spec: { finalizers: ["kubernetes"] }, want: ["kubernetes"] },
  ])("Namespace: phase Active, finalizers $want", ({ spec, want }) => {
    const ns = obj<Namespace>({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "team" },
      spec,
      status: { phase: "Terminating" },
    });
    strategyFor(kind("namespaces"), testEnv()).prepareForCreate(ns);
    expect(json(ns).status).toEqual({ phase: "Active" });
    expect(ns.spec?.finalizers).toEqual(want);
  });

  it.each([
    {
      kind: "deployments",
      json: { apiVersion: "apps/v1", kind: "Deployment", status: { replicas: 3 } },
      want: {},
    },
    {
      kind: "jobs",
      json: { apiVersion: "batch/v1", kind: "Job", status: { succeeded: 1 } },
      want: {},
    },
    {
      kind: "services",
      json: { apiVersion: "v1", kind: "Service", status: { loadBalancer: {} } },
      want: {},
    },
    {
      kind: "persistentvolumes",
      json: { apiVersion: "v1", kind: "PersistentVolume", status: { phase: "Bound" } },
      want: { phase: "Pending" },
    },
    {
      kind: "nodes",
      json: { apiVersion: "v1", kind: "Node", status: { capacity: { cpu: "4" } } },
      want: { capacity: { cpu: "4" } },
    },
  ])("$kind: status on create is $want", ({ kind: resource, json: body, want }) => {
    const o = obj({ ...body, metadata: { name: "x" } });
    strategyFor(kind(resource), testEnv()).prepareForCreate(o);
    expect(json(o).status).toEqual(want);
  });
});

describe("prepareForUpdate", () => {
  const created = () => {
    const pod = obj<Pod>(podJson({ metadata: { labels: { a: "1" } } }));
    strategyFor(kind("pods"), testEnv()).prepareForCreate(pod);
    pod.metadata!.resourceVersion = "10";
    pod.status!.phase = "Running";
    return pod;
  };

  it("keeps uid, creationTimestamp, deletion fields and status from the stored object", () => {
    const old = created();
    old.metadata!.deletionTimestamp = {
      $typeName: "google.protobuf.Timestamp",
      seconds: 99n,
      nanos: 0,
    };
    old.metadata!.deletionGracePeriodSeconds = 30;
    const next = obj<Pod>({
      ...podJson({
        metadata: { uid: "forged", generation: 40, resourceVersion: "10" },
        status: { phase: "Failed" },
      }),
    });
    strategyFor(kind("pods"), testEnv()).prepareForUpdate(next, old);
    expect(next.metadata?.uid).toBe("uid-1");
    expect(next.metadata?.creationTimestamp?.seconds).toBe(NOW_SECONDS);
    expect(next.metadata?.deletionTimestamp?.seconds).toBe(99n);
    expect(next.metadata?.deletionGracePeriodSeconds).toBe(30);
    expect(next.metadata?.resourceVersion).toBe("10");
    expect(next.status?.phase).toBe("Running");
    expect(next.metadata?.generation).toBe(1);
    // Nothing is shared with the stored object.
    next.status!.phase = "Unknown";
    expect(old.status?.phase).toBe("Running");
  });

  it.each([
    {
      name: "labels only",
      change: (p: Pod) => {
        p.metadata!.labels = { a: "2" };
      },
      want: 1,
    },
    {
      name: "image",
      change: (p: Pod) => {
        p.spec!.containers[0]!.image = "nginx";
      },
      want: 2,
    },
    {
      name: "status only",
      change: (p: Pod) => {
        p.status!.phase = "Succeeded";
      },
      want: 1,
    },
  ])("Pod generation after a change to $name is $want", ({ change, want }) => {
    const old = created();
    const next = created();
    change(next);
    strategyFor(kind("pods"), testEnv()).prepareForUpdate(next, old);
    expect(next.metadata?.generation).toBe(want);
  });

  it("compares maps by content, not by key order", () => {
    const make = (selector: Record<string, string>) => {
      const pod = obj<Pod>(podJson({ spec: { nodeSelector: selector } }));
      pod.metadata!.generation = 4;
      return pod;
    };
    const old = make({ a: "1", b: "2" });
    const next = make({ b: "2", a: "1" });
    strategyFor(kind("pods"), testEnv()).prepareForUpdate(next, old);
    expect(next.metadata?.generation).toBe(4);
  });

  it.each([
    { name: "annotations", annotations: { note: "x" }, replicas: 1, want: 3 },
    { name: "replicas", annotations: {} as Record<string, string>, replicas: 2, want: 3 },
    { name: "nothing", annotations: {} as Record<string, string>, replicas: 1, want: 2 },
  ])(
    "Deployment generation after a change to $name is $want",
    ({ annotations, replicas, want }) => {
      const deploy = (a: Record<string, string>, r: number) => {
        const d = obj({
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name: "d", namespace: "default", annotations: a, generation: 2 },
          spec: { replicas: r },
          status: { replicas: 1 },
        });
        return d;
      };
      const next = deploy(annotations, replicas);
      strategyFor(kind("deployments"), testEnv()).prepareForUpdate(next, deploy({}, 1));
      expect(next.metadata?.generation).toBe(want);
    },
  );

  it("keeps a Namespace's spec (finalizers change only through finalize) and status", () => {
    const ns = (finalizers: string[], phase: string) =>
      obj<Namespace>({
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "team" },
        spec: { finalizers },
        status: { phase },
      });
    const next = ns([], "Active");
    strategyFor(kind("namespaces"), testEnv()).prepareForUpdate(
      next,
      ns(["kubernetes"], "Terminating"),
    );
    expect(next.spec?.finalizers).toEqual(["kubernetes"]);
    expect(next.status?.phase).toBe("Terminating");
  });
});

describe("prepareForStatusUpdate", () => {
  it("takes everything but status from the stored object", () => {
    const old = obj<Pod>(
      podJson({ metadata: { labels: { a: "1" }, uid: "u", resourceVersion: "5" } }),
    );
    const req = obj<Pod>(
      podJson({
        metadata: { labels: { a: "2" }, uid: "u", resourceVersion: "5", finalizers: ["x/y"] },
        spec: { nodeName: "elsewhere" },
        status: { phase: "Running", podIP: "10.0.0.7" },
      }),
    );
    const next = strategyFor(kind("pods"), testEnv()).prepareForStatusUpdate(req, old);
    expect(json(next)).toEqual({
      ...json(old),
      status: { phase: "Running", podIP: "10.0.0.7" },
    });
    expect(next.metadata?.resourceVersion).toBe("5");
  });

  it("keeps the request's resourceVersion for the concurrency check", () => {
    const old = obj<Pod>(podJson({ metadata: { resourceVersion: "9" } }));
    const req = obj<Pod>(podJson({ metadata: { resourceVersion: "7" } }));
    expect(
      strategyFor(kind("pods"), testEnv()).prepareForStatusUpdate(req, old).metadata
        ?.resourceVersion,
    ).toBe("7");
  });
});

describe("prepareForFinalize", () => {
  const ns = (finalizers: string[], rv: string, labels: Record<string, string>) =>
    obj<Namespace>({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name: "team",
        resourceVersion: rv,
        labels,
        deletionTimestamp: "2026-01-01T00:00:00Z",
      },
      spec: { finalizers },
      status: { phase: "Terminating" },
    });

  it("takes only spec.finalizers from the request", () => {
    const old = ns(["kubernetes", "example.com/x"], "8", { a: "1" });
    const req = ns(["example.com/x"], "8", { a: "changed" });
    req.status!.phase = "Active";
    const next = strategyFor(kind("namespaces"), testEnv()).prepareForFinalize(req, old);
    expect(next.spec?.finalizers).toEqual(["example.com/x"]);
    expect(next.metadata?.labels).toEqual({ a: "1" });
    expect(next.status?.phase).toBe("Terminating");
    expect(old.spec?.finalizers).toEqual(["kubernetes", "example.com/x"]);
  });

  it("exists only for namespaces", () => {
    const pod = obj<Pod>(podJson());
    expect(() => strategyFor(kind("pods"), testEnv()).prepareForFinalize(pod, pod)).toThrow(
      "pods have no finalize subresource",
    );
  });
});

describe("field selectors", () => {
  it.each([
    {
      resource: "pods",
      body: podJson({
        spec: {
          nodeName: "n1",
          restartPolicy: "Always",
          schedulerName: "s",
          serviceAccountName: "sa",
          hostNetwork: true,
        },
        status: { phase: "Running", podIP: "10.1.0.3", nominatedNodeName: "n2" },
      }),
      want: {
        "metadata.name": "web",
        "metadata.namespace": "default",
        "spec.nodeName": "n1",
        "spec.restartPolicy": "Always",
        "spec.schedulerName": "s",
        "spec.serviceAccountName": "sa",
        "spec.hostNetwork": "true",
        "status.phase": "Running",
        "status.podIP": "10.1.0.3",
        "status.nominatedNodeName": "n2",
      },
    },
    {
      resource: "nodes",
      body: {
        apiVersion: "v1",
        kind: "Node",
        metadata: { name: "n1" },
        spec: { unschedulable: true },
      },
      want: { "metadata.name": "n1", "spec.unschedulable": "true" },
    },
    {
      resource: "namespaces",
      body: {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "ns" },
        status: { phase: "Active" },
      },
      want: { "metadata.name": "ns", "status.phase": "Active" },
    },
    {
      resource: "secrets",
      body: {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "s", namespace: "d" },
        type: "Opaque",
      },
      want: { "metadata.name": "s", "metadata.namespace": "d", type: "Opaque" },
    },
    {
      resource: "replicasets",
      body: {
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        metadata: { name: "r", namespace: "d" },
        status: { replicas: 3 },
      },
      want: { "metadata.name": "r", "metadata.namespace": "d", "status.replicas": "3" },
    },
    {
      resource: "jobs",
      body: {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name: "j", namespace: "d" },
        status: { succeeded: 2 },
      },
      want: { "metadata.name": "j", "metadata.namespace": "d", "status.successful": "2" },
    },
    {
      resource: "configmaps",
      body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "d" } },
      want: { "metadata.name": "c", "metadata.namespace": "d" },
    },
    {
      resource: "events",
      body: {
        apiVersion: "v1",
        kind: "Event",
        metadata: { name: "e", namespace: "d" },
        involvedObject: {
          kind: "Pod",
          namespace: "d",
          name: "web",
          uid: "u1",
          apiVersion: "v1",
          resourceVersion: "3",
          fieldPath: "spec.containers{c}",
        },
        reason: "Pulled",
        type: "Normal",
        reportingComponent: "tug-agent",
      },
      want: {
        "metadata.name": "e",
        "metadata.namespace": "d",
        "involvedObject.kind": "Pod",
        "involvedObject.namespace": "d",
        "involvedObject.name": "web",
        "involvedObject.uid": "u1",
        "involvedObject.apiVersion": "v1",
        "involvedObject.resourceVersion": "3",
        "involvedObject.fieldPath": "spec.containers{c}",
        reason: "Pulled",
        reportingComponent: "tug-agent",
        source: "tug-agent",
        type: "Normal",
      },
    },
  ])("$resource", ({ resource, body, want }) => {
    const strategy = strategyFor(kind(resource), testEnv());
    expect(strategy.fieldSet(obj(body))).toEqual(want);
    expect([...strategy.selectableFields].sort()).toEqual(Object.keys(want).sort());
  });

  it("an unset field reads as empty, so spec.nodeName= selects unbound pods", () => {
    const strategy = strategyFor(kind("pods"), testEnv());
    const unbound = strategy.fieldSet(obj(podJson()));
    expect(fields.Selector.parse("spec.nodeName=").matches(unbound)).toBe(true);
  });

  it.each([
    { resource: "pods", selector: "spec.nodeName=n1,status.phase!=Failed", error: undefined },
    {
      resource: "pods",
      selector: "spec.nodename=n1",
      error:
        "field label not supported: spec.nodename; supported field labels: metadata.name, metadata.namespace, spec.nodeName, spec.restartPolicy, spec.schedulerName, spec.serviceAccountName, spec.hostNetwork, status.phase, status.podIP, status.nominatedNodeName",
    },
    {
      resource: "nodes",
      selector: "metadata.namespace=x",
      error:
        "field label not supported: metadata.namespace; supported field labels: metadata.name, spec.unschedulable",
    },
  ])("checkFieldSelector($resource, $selector)", ({ resource, selector, error }) => {
    const check = () =>
      strategyFor(kind(resource), testEnv()).checkFieldSelector(fields.Selector.parse(selector));
    if (error === undefined) {
      expect(check).not.toThrow();
      return;
    }
    try {
      check();
      expect.unreachable();
    } catch (err) {
      expect(isApiError(err, "BadRequest")).toBe(true);
      expect((err as Error).message).toBe(error);
    }
  });
});

describe("delete defaults and TTL", () => {
  it.each([
    { resource: "pods", body: podJson(), grace: 30, graceful: true, policy: "Background" },
    {
      resource: "pods",
      body: podJson({ spec: { terminationGracePeriodSeconds: 5 } }),
      grace: 5,
      graceful: true,
      policy: "Background",
    },
    {
      resource: "deployments",
      body: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d" } },
      grace: 0,
      graceful: false,
      policy: "Background",
    },
    {
      resource: "jobs",
      body: { apiVersion: "batch/v1", kind: "Job", metadata: { name: "j" } },
      grace: 0,
      graceful: false,
      policy: "Orphan",
    },
  ])(
    "$resource: grace $grace, graceful $graceful, propagation $policy",
    ({ resource, body, grace, graceful, policy }) => {
      const strategy = strategyFor(kind(resource), testEnv());
      expect(strategy.defaultGracePeriodSeconds(obj(body))).toBe(grace);
      expect(strategy.gracefulDeletion).toBe(graceful);
      expect(strategy.defaultPropagationPolicy).toBe(policy);
    },
  );

  it.each([
    { resource: "events", ttl: undefined, want: 3600 },
    { resource: "events", ttl: 120, want: 120 },
    { resource: "pods", ttl: 120, want: undefined },
  ])("$resource with event TTL $ttl lives $want s", ({ resource, ttl, want }) => {
    const env = testEnv([0], ttl === undefined ? {} : { eventTtlSeconds: ttl });
    const o = obj({
      apiVersion: "v1",
      kind: resource === "events" ? "Event" : "Pod",
      metadata: { name: "x" },
    });
    expect(strategyFor(kind(resource), env).ttlSeconds(o)).toBe(want);
  });
});
