// applyDefaults sets Kubernetes' defaults (pkg/apis/*/v1/defaults.go) on every kind that has
// them, fills only unset fields, and is idempotent.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { clone, type Message, toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { applyDefaults } from "../../src/defaults/apply-defaults.js";
import { imageTag } from "../../src/defaults/pod-defaults.js";
import { parseManifests } from "../../src/scheme/manifest.js";
import { objectFromJson, objectToJson } from "../../src/scheme/object-codec.js";
import { apiRegistry } from "../../src/scheme/registry.js";

/** Decodes `json`, defaults it and returns its Kubernetes JSON. */
function defaulted(json: object): Record<string, unknown> {
  return objectToJson(applyDefaults(objectFromJson(json))) as Record<string, unknown>;
}

const meta = { name: "x", namespace: "default" };

describe("pod defaults", () => {
  const pod = defaulted({
    apiVersion: "v1",
    kind: "Pod",
    metadata: meta,
    spec: {
      hostNetwork: true,
      volumes: [
        { name: "none" },
        { name: "s", secret: { secretName: "s" } },
        { name: "c", configMap: { name: "c", defaultMode: 0o400 } },
        { name: "t", projected: { sources: [{ serviceAccountToken: { path: "token" } }] } },
      ],
      containers: [
        {
          name: "a",
          image: "busybox",
          ports: [{ containerPort: 80 }, { containerPort: 53, protocol: "UDP", hostPort: 5353 }],
          resources: { limits: { cpu: "1", memory: "1Gi" }, requests: { memory: "512Mi" } },
          livenessProbe: { httpGet: { port: 80 } },
          readinessProbe: { exec: { command: ["true"] }, periodSeconds: 2 },
          env: [{ name: "N", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
        },
        { name: "b", image: "registry:5000/app:1.2" },
        { name: "c", image: "app@sha256:abc", imagePullPolicy: "Never" },
      ],
    },
  });
  const spec = pod.spec as Record<string, unknown>;
  const containers = spec.containers as Record<string, unknown>[];

  it("sets the pod spec's defaults", () => {
    expect(spec).toMatchObject({
      restartPolicy: "Always",
      dnsPolicy: "ClusterFirst",
      schedulerName: "default-scheduler",
      terminationGracePeriodSeconds: 30,
      securityContext: {},
      enableServiceLinks: true,
    });
    expect(spec.serviceAccountName).toBeUndefined();
  });

  it("sets the containers' defaults", () => {
    expect(containers[0]).toMatchObject({
      imagePullPolicy: "Always",
      terminationMessagePath: "/dev/termination-log",
      terminationMessagePolicy: "File",
      ports: [
        { containerPort: 80, protocol: "TCP", hostPort: 80 },
        { containerPort: 53, protocol: "UDP", hostPort: 5353 },
      ],
      resources: {
        limits: { cpu: "1", memory: "1Gi" },
        requests: { cpu: "1", memory: "512Mi" },
      },
      livenessProbe: {
        httpGet: { port: 80, path: "/", scheme: "HTTP" },
        timeoutSeconds: 1,
        periodSeconds: 10,
        successThreshold: 1,
        failureThreshold: 3,
      },
      readinessProbe: { periodSeconds: 2, timeoutSeconds: 1 },
      env: [
        { name: "N", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } } },
      ],
    });
    expect(containers[1]?.imagePullPolicy).toBe("IfNotPresent");
    expect(containers[2]?.imagePullPolicy).toBe("Never");
  });

  it("sets the volumes' defaults", () => {
    expect(spec.volumes).toEqual([
      { name: "none", emptyDir: {} },
      { name: "s", secret: { secretName: "s", defaultMode: 420 } },
      { name: "c", configMap: { name: "c", defaultMode: 0o400 } },
      {
        name: "t",
        projected: {
          defaultMode: 420,
          sources: [{ serviceAccountToken: { path: "token", expirationSeconds: 3600 } }],
        },
      },
    ]);
  });

  it("reads image tags as Kubernetes' ParseImageName does", () => {
    expect(imageTag("busybox")).toBe("latest");
    expect(imageTag("busybox:latest")).toBe("latest");
    expect(imageTag("localhost:5000/busybox")).toBe("latest");
    expect(imageTag("localhost:5000/busybox:1.36")).toBe("1.36");
    expect(imageTag("busybox@sha256:00")).toBe("");
    expect(imageTag("busybox:1@sha256:00")).toBe("1");
  });

  it("does not copy limits to requests in a template", () => {
    const deployment = defaulted({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta,
      spec: {
        selector: { matchLabels: { a: "b" } },
        template: {
          metadata: { labels: { a: "b" } },
          spec: { containers: [{ name: "a", image: "i:1", resources: { limits: { cpu: "1" } } }] },
        },
      },
    });
    const template = (deployment.spec as { template: { spec: Record<string, unknown> } }).template;
    expect(template.spec.containers).toEqual([
      expect.objectContaining({ resources: { limits: { cpu: "1" } } }),
    ]);
    expect(template.spec.enableServiceLinks).toBeUndefined();
    expect(template.spec.restartPolicy).toBe("Always");
  });
});

const template = {
  metadata: { labels: { a: "b" } },
  spec: { containers: [{ name: "a", image: "i:1" }] },
};

describe.each<[string, object, object]>([
  [
    "Service",
    { apiVersion: "v1", kind: "Service", metadata: meta, spec: { ports: [{ port: 80 }] } },
    {
      spec: {
        type: "ClusterIP",
        sessionAffinity: "None",
        internalTrafficPolicy: "Cluster",
        ipFamilyPolicy: "SingleStack",
        ipFamilies: ["IPv4"],
        ports: [{ port: 80, protocol: "TCP", targetPort: 80 }],
      },
    },
  ],
  [
    "NodePort Service with ClientIP affinity",
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta,
      spec: {
        type: "NodePort",
        sessionAffinity: "ClientIP",
        ports: [{ port: 80, targetPort: "http" }],
      },
    },
    {
      spec: {
        externalTrafficPolicy: "Cluster",
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
        ports: [{ port: 80, protocol: "TCP", targetPort: "http" }],
      },
    },
  ],
  [
    "Service with an IPv6 clusterIP",
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta,
      spec: { clusterIP: "fd00::10", ports: [{ port: 80 }] },
    },
    { spec: { ipFamilies: ["IPv6"], clusterIPs: ["fd00::10"] } },
  ],
  [
    "ExternalName Service",
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta,
      spec: { type: "ExternalName", externalName: "db.example.com" },
    },
    { spec: { type: "ExternalName", sessionAffinity: "None" } },
  ],
  [
    "Deployment",
    { apiVersion: "apps/v1", kind: "Deployment", metadata: meta, spec: { template } },
    {
      spec: {
        replicas: 1,
        strategy: {
          type: "RollingUpdate",
          rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" },
        },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
        template: { spec: { restartPolicy: "Always", dnsPolicy: "ClusterFirst" } },
      },
    },
  ],
  [
    "ReplicaSet",
    { apiVersion: "apps/v1", kind: "ReplicaSet", metadata: meta, spec: { template } },
    { spec: { replicas: 1, template: { spec: { schedulerName: "default-scheduler" } } } },
  ],
  [
    "DaemonSet",
    { apiVersion: "apps/v1", kind: "DaemonSet", metadata: meta, spec: { template } },
    {
      spec: {
        updateStrategy: {
          type: "RollingUpdate",
          rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
        },
        revisionHistoryLimit: 10,
      },
    },
  ],
  [
    "StatefulSet",
    {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: meta,
      spec: {
        template,
        volumeClaimTemplates: [
          { metadata: { name: "d" }, spec: { accessModes: ["ReadWriteOnce"] } },
        ],
      },
    },
    {
      spec: {
        replicas: 1,
        podManagementPolicy: "OrderedReady",
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } },
        revisionHistoryLimit: 10,
        persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
        volumeClaimTemplates: [
          { spec: { volumeMode: "Filesystem" }, status: { phase: "Pending" } },
        ],
      },
    },
  ],
  [
    "Job",
    { apiVersion: "batch/v1", kind: "Job", metadata: meta, spec: { template } },
    {
      spec: {
        completions: 1,
        parallelism: 1,
        backoffLimit: 6,
        completionMode: "NonIndexed",
        suspend: false,
        podReplacementPolicy: "TerminatingOrFailed",
      },
    },
  ],
  [
    "CronJob",
    {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: meta,
      spec: { schedule: "@hourly", jobTemplate: { spec: { template } } },
    },
    {
      spec: {
        concurrencyPolicy: "Allow",
        suspend: false,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 1,
        jobTemplate: { spec: { template: { spec: { restartPolicy: "Always" } } } },
      },
    },
  ],
  ["Secret", { apiVersion: "v1", kind: "Secret", metadata: meta }, { type: "Opaque" }],
  [
    "Namespace",
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "n" } },
    { status: { phase: "Active" } },
  ],
  [
    "Node",
    { apiVersion: "v1", kind: "Node", metadata: { name: "n" }, status: { capacity: { cpu: "2" } } },
    { status: { capacity: { cpu: "2" }, allocatable: { cpu: "2" } } },
  ],
  [
    "PersistentVolume",
    {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: "p" },
      spec: { capacity: { storage: "1Gi" } },
    },
    {
      spec: { persistentVolumeReclaimPolicy: "Retain", volumeMode: "Filesystem" },
      status: { phase: "Pending" },
    },
  ],
  [
    "PersistentVolumeClaim",
    { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: meta, spec: {} },
    { spec: { volumeMode: "Filesystem" }, status: { phase: "Pending" } },
  ],
  [
    "LimitRange",
    {
      apiVersion: "v1",
      kind: "LimitRange",
      metadata: meta,
      spec: { limits: [{ type: "Container", max: { cpu: "2" }, min: { memory: "1Mi" } }] },
    },
    {
      spec: {
        limits: [
          {
            type: "Container",
            default: { cpu: "2" },
            defaultRequest: { cpu: "2", memory: "1Mi" },
          },
        ],
      },
    },
  ],
  [
    "RoleBinding",
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: meta,
      subjects: [
        { kind: "User", name: "u" },
        { kind: "ServiceAccount", name: "s", namespace: "default" },
      ],
      roleRef: { kind: "Role", name: "r" },
    },
    {
      subjects: [
        { kind: "User", name: "u", apiGroup: "rbac.authorization.k8s.io" },
        { kind: "ServiceAccount", name: "s", namespace: "default" },
      ],
      roleRef: { apiGroup: "rbac.authorization.k8s.io" },
    },
  ],
  [
    "NetworkPolicy",
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: meta,
      spec: { podSelector: {}, egress: [{ ports: [{ port: 53 }] }] },
    },
    {
      spec: {
        policyTypes: ["Ingress", "Egress"],
        egress: [{ ports: [{ port: 53, protocol: "TCP" }] }],
      },
    },
  ],
  [
    "StorageClass",
    {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "s" },
      provisioner: "p",
    },
    { reclaimPolicy: "Delete", volumeBindingMode: "Immediate" },
  ],
])("%s defaults", (_name, input, expected) => {
  it("are set", () => {
    expect(defaulted(input)).toMatchObject(expected);
  });
  it("leave set fields alone", () => {
    const once = defaulted(input);
    expect(defaulted(once)).toEqual(once);
  });
});

describe("Job defaults", () => {
  it("keep completions unset when only parallelism is set", () => {
    const job = defaulted({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: meta,
      spec: { parallelism: 3, template },
    });
    expect(job.spec).toMatchObject({ parallelism: 3, backoffLimit: 6 });
    expect((job.spec as Record<string, unknown>).completions).toBeUndefined();
  });

  it("leave a Recreate deployment without rollingUpdate", () => {
    const deployment = defaulted({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta,
      spec: { strategy: { type: "Recreate" }, template },
    });
    expect((deployment.spec as Record<string, unknown>).strategy).toEqual({ type: "Recreate" });
  });
});

describe("fixtures", () => {
  const fixtures = join(import.meta.dirname, "..", "fixtures");
  const objects = readdirSync(fixtures)
    .filter((name) => name.endsWith(".yaml"))
    .flatMap((name) =>
      parseManifests(readFileSync(join(fixtures, name), "utf8")).map(
        (m) => [`${name} ${m.kind.kind}`, m.object] as [string, Message],
      ),
    );

  it.each(objects)("%s: defaults are idempotent", (_name, object) => {
    const once = applyDefaults(clone(apiRegistryDesc(object), object));
    const twice = applyDefaults(clone(apiRegistryDesc(object), once));
    expect(toJson(apiRegistryDesc(object), twice, { registry: apiRegistry })).toEqual(
      toJson(apiRegistryDesc(object), once, { registry: apiRegistry }),
    );
  });
});

function apiRegistryDesc(object: Message) {
  const desc = apiRegistry.getMessage(object.$typeName);
  if (desc === undefined) throw new Error(`no descriptor for ${object.$typeName}`);
  return desc;
}
