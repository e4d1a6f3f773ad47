// Validation of every kind but Pod: table-driven, one row per common mistake, with
// Kubernetes' exact messages; and every example manifest validates clean after defaults.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { create, type Message } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { applyDefaults } from "../../src/defaults/apply-defaults.js";
import { PodListSchema } from "../../src/gen/tug/core/v1/pod_pb.js";
import type { KindInfo } from "../../src/scheme/kinds.js";
import { parseManifests } from "../../src/scheme/manifest.js";
import { validateObject } from "../../src/validation/validate-object.js";
import { createErrors, type Json, template, updateErrors, workload } from "./validation-helpers.js";

const selector = { matchLabels: { app: "web" } };

describe.each<[string, Json, string[]]>([
  // Service
  [
    "valid Service",
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "default" },
      spec: { selector: { app: "web" }, ports: [{ port: 80 }] },
    },
    [],
  ],
  [
    "Service name not DNS-1035",
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "1web", namespace: "default" },
      spec: { ports: [{ port: 80 }] },
    },
    [
      "metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name', or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    ],
  ],
  [
    "Service without ports",
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "default" },
      spec: {},
    },
    ["spec.ports: Required value"],
  ],
  [
    "Service ports without names, out of range, bad nodePort",
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "default" },
      spec: {
        type: "NodePort",
        ports: [
          { port: 80, nodePort: 80 },
          { port: 70000, name: "b" },
        ],
      },
    },
    [
      "spec.ports[0].name: Required value",
      "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767",
      "spec.ports[1].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
      "spec.ports[1].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
    ],
  ],
  [
    "Service type and nodePort on ClusterIP",
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "default" },
      spec: { type: "Internal", ports: [{ port: 80, nodePort: 30080 }] },
    },
    [
      'spec.type: Unsupported value: "Internal": supported values: "ClusterIP", "NodePort", "LoadBalancer", "ExternalName"',
    ],
  ],
  [
    "ClusterIP Service with a nodePort",
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "default" },
      spec: { ports: [{ port: 80, nodePort: 30080 }], clusterIP: "10.0.0.300" },
    },
    [
      "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
      "spec.clusterIP: Invalid value: \"10.0.0.300\": must be empty, 'None', or a valid IP address",
    ],
  ],
  [
    "ExternalName Service",
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "db", namespace: "default" },
      spec: { type: "ExternalName", externalName: "db.example.com." },
    },
    [],
  ],
  // Deployment
  ["valid Deployment", workload("apps/v1", "Deployment", { selector, template: template() }), []],
  [
    "Deployment selector not matching the template",
    workload("apps/v1", "Deployment", {
      selector: { matchLabels: { app: "api" } },
      template: template(),
    }),
    [
      'spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`',
    ],
  ],
  [
    "Deployment without selector",
    workload("apps/v1", "Deployment", { template: template() }),
    ["spec.selector: Required value"],
  ],
  [
    "Deployment with negative replicas, bad strategy, wrong restartPolicy",
    workload("apps/v1", "Deployment", {
      replicas: -1,
      selector,
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: "110%" } },
      template: template({ restartPolicy: "Never" }),
    }),
    [
      "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "110%": must not be greater than 100%',
    ],
  ],
  [
    "Deployment with both surge and unavailable 0, and a bad percent",
    workload("apps/v1", "Deployment", {
      selector,
      strategy: { rollingUpdate: { maxSurge: "1 %", maxUnavailable: 0 } },
      template: template(),
    }),
    [
      "spec.strategy.rollingUpdate.maxSurge: Invalid value: \"1 %\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%', or '93%', regex used for validation is '[0-9]+%')",
      "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0",
    ],
  ],
  [
    "Recreate Deployment with rollingUpdate",
    workload("apps/v1", "Deployment", {
      selector,
      strategy: { type: "Recreate", rollingUpdate: { maxSurge: 1 } },
      template: template(),
    }),
    [
      "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'",
    ],
  ],
  [
    "Deployment with an empty selector",
    workload("apps/v1", "Deployment", { selector: {}, template: template() }),
    ["spec.selector: Invalid value: {}: empty selector is invalid for deployment"],
  ],
  // ReplicaSet, DaemonSet, StatefulSet
  ["valid ReplicaSet", workload("apps/v1", "ReplicaSet", { selector, template: template() }), []],
  [
    "DaemonSet with a bad update strategy",
    workload("apps/v1", "DaemonSet", {
      selector,
      template: template(),
      updateStrategy: { type: "Rolling" },
    }),
    [
      'spec.updateStrategy.type: Unsupported value: "Rolling": supported values: "OnDelete", "RollingUpdate"',
    ],
  ],
  [
    "DaemonSet surging and unavailable at once",
    workload("apps/v1", "DaemonSet", {
      selector,
      template: template(),
      updateStrategy: {
        type: "RollingUpdate",
        rollingUpdate: { maxUnavailable: 1, maxSurge: "10%" },
      },
    }),
    [
      'spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "10%": may not be set when maxUnavailable is non-zero',
    ],
  ],
  [
    "DaemonSet neither surging nor unavailable",
    workload("apps/v1", "DaemonSet", {
      selector,
      template: template(),
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } },
    }),
    [
      "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0",
    ],
  ],
  [
    "StatefulSet mounting a claim template",
    workload("apps/v1", "StatefulSet", {
      selector,
      serviceName: "web",
      template: template({
        containers: [
          { name: "db", image: "tug/db:1", volumeMounts: [{ name: "data", mountPath: "/data" }] },
        ],
      }),
      volumeClaimTemplates: [
        {
          metadata: { name: "data" },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
        },
      ],
    }),
    [],
  ],
  [
    "StatefulSet with a bad policy and claim template",
    workload("apps/v1", "StatefulSet", {
      selector,
      podManagementPolicy: "Random",
      template: template(),
      volumeClaimTemplates: [
        { metadata: { name: "data" }, spec: { resources: { requests: { storage: "0" } } } },
      ],
    }),
    [
      "spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'",
      "spec.volumeClaimTemplates[0].spec.accessModes: Required value: at least 1 access mode is required",
      'spec.volumeClaimTemplates[0].spec.resources.requests[storage]: Invalid value: "0": must be greater than zero',
    ],
  ],
  // Job, CronJob
  [
    "valid Job",
    workload("batch/v1", "Job", { template: template({ restartPolicy: "Never" }) }),
    [],
  ],
  [
    "Job with restartPolicy Always and negative parallelism",
    workload("batch/v1", "Job", { parallelism: -1, template: template() }),
    [
      "spec.parallelism: Invalid value: -1: must be greater than or equal to 0",
      'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
    ],
  ],
  [
    "Indexed Job without completions",
    workload("batch/v1", "Job", {
      completionMode: "Indexed",
      parallelism: 2,
      template: template({ restartPolicy: "Never" }),
    }),
    ["spec.completions: Required value: when completion mode is Indexed"],
  ],
  [
    "valid CronJob",
    workload("batch/v1", "CronJob", {
      schedule: "*/5 * * * MON-FRI",
      jobTemplate: { spec: { template: template({ restartPolicy: "OnFailure" }) } },
    }),
    [],
  ],
  [
    "CronJob with a bad schedule, time zone and policy",
    workload("batch/v1", "CronJob", {
      schedule: "61 * * * *",
      timeZone: "Mars/Olympus",
      concurrencyPolicy: "Sometimes",
      jobTemplate: { spec: { template: template({ restartPolicy: "OnFailure" }) } },
    }),
    [
      'spec.schedule: Invalid value: "61 * * * *": minute: end of range (61) above maximum (59): "61"',
      'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus',
      'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
    ],
  ],
  [
    "CronJob with a name over 52 characters",
    workload(
      "batch/v1",
      "CronJob",
      {
        schedule: "@hourly",
        jobTemplate: { spec: { template: template({ restartPolicy: "Never" }) } },
      },
      "x".repeat(53),
    ),
    [`metadata.name: Invalid value: "${"x".repeat(53)}": must be no more than 52 characters`],
  ],
  // ConfigMap, Secret
  [
    "ConfigMap with a bad key",
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "c", namespace: "default" },
      data: { "a/b": "1" },
    },
    [
      "data[a/b]: Invalid value: \"a/b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name', or 'KEY_NAME', or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
    ],
  ],
  [
    "ConfigMap over 1 MiB",
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "c", namespace: "default" },
      data: { a: "x".repeat(1024 * 1024 + 1) },
    },
    [": Too long: must have at most 1048576 bytes"],
  ],
  [
    "TLS Secret without its keys",
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "s", namespace: "default" },
      type: "kubernetes.io/tls",
      data: { "tls.crt": "eA==" },
    },
    ["data[tls.key]: Required value"],
  ],
  // Namespace, Node, Lease, Event, Binding
  [
    "Namespace with a dot",
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "my.ns" } },
    ['metadata.name: Invalid value: "my.ns": must not contain dots'],
  ],
  [
    "Namespace with a namespace",
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "ns", namespace: "default" } },
    ["metadata.namespace: Forbidden: not allowed on this type"],
  ],
  [
    "Node with a bad CIDR and taint",
    {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "n1" },
      spec: {
        podCIDR: "10.0.0.0/33",
        podCIDRs: ["10.0.0.0/33"],
        taints: [{ key: "k", effect: "Sometimes" }],
      },
    },
    [
      'spec.podCIDRs[0]: Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
      'spec.podCIDR: Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
      'spec.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
    ],
  ],
  [
    "Lease with a zero duration",
    {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: "l", namespace: "default" },
      spec: { leaseDurationSeconds: 0 },
    },
    ["spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"],
  ],
  [
    "Event about another namespace",
    {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "e", namespace: "default" },
      involvedObject: { kind: "Pod", name: "p", namespace: "other" },
      type: "Info",
    },
    [
      'involvedObject.namespace: Invalid value: "other": does not match event.namespace',
      'type: Unsupported value: "Info": supported values: "Normal", "Warning"',
    ],
  ],
  [
    "Binding to a non-node",
    {
      apiVersion: "v1",
      kind: "Binding",
      metadata: { name: "p", namespace: "default" },
      target: { kind: "Pod" },
    },
    [
      'target.kind: Unsupported value: "Pod": supported values: "Node", "<empty>"',
      "target.name: Required value",
    ],
  ],
  // ResourceQuota, LimitRange, PV, PVC, StorageClass
  [
    "ResourceQuota with bad quantities",
    {
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: { name: "q", namespace: "default" },
      spec: { hard: { pods: "1.5", "requests.cpu": "-1", memory: "lots" } },
    },
    [
      'spec.hard[pods]: Invalid value: "1500m": must be an integer',
      'spec.hard[requests.cpu]: Invalid value: "-1": must be greater than or equal to 0',
      `spec.hard[memory]: Invalid value: "lots": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
    ],
  ],
  [
    "LimitRange with min above max",
    {
      apiVersion: "v1",
      kind: "LimitRange",
      metadata: { name: "l", namespace: "default" },
      spec: {
        limits: [
          { type: "Container", min: { cpu: "2" }, max: { cpu: "1" }, default: { cpu: "1" } },
        ],
      },
    },
    [
      'spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1',
      'spec.limits[0].defaultRequest[cpu]: Invalid value: "2": min value 2 is greater than default request value 1',
      'spec.limits[0].default[cpu]: Invalid value: "2": min value 2 is greater than default value 1',
    ],
  ],
  [
    "PersistentVolume without access modes and with two sources",
    {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: "pv" },
      spec: {
        capacity: { storage: "1Gi" },
        hostPath: { path: "/d" },
        nfs: { server: "s", path: "/e" },
      },
    },
    [
      "spec.accessModes: Required value",
      "spec.nfs: Forbidden: may not specify more than 1 volume type",
    ],
  ],
  [
    "PersistentVolumeClaim with a bad access mode and no storage request",
    {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "c", namespace: "default" },
      spec: { accessModes: ["ReadWriteSometimes"] },
    },
    [
      'spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
      "spec.resources.requests[storage]: Required value",
    ],
  ],
  [
    "StorageClass without provisioner",
    {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "sc" },
      volumeBindingMode: "Later",
    },
    [
      "provisioner: Required value",
      'volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"',
    ],
  ],
  // RBAC
  [
    "Role rule without verbs",
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "r", namespace: "default" },
      rules: [
        { apiGroups: [""], resources: ["pods"] },
        { verbs: ["get"], nonResourceURLs: ["/healthz"] },
      ],
    },
    [
      "rules[0].verbs: Required value: verbs must contain at least one value",
      'rules[1].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules cannot apply to non-resource URLs',
    ],
  ],
  [
    "ClusterRoleBinding to a Role, with a bad subject",
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "b" },
      subjects: [
        { kind: "ServiceAccount", name: "sa" },
        { kind: "Robot", name: "r2" },
      ],
      roleRef: { kind: "Role", name: "r" },
    },
    [
      'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
      "subjects[0].namespace: Required value",
      'subjects[1].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
    ],
  ],
  [
    "RBAC name with a slash",
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "a/b" } },
    ["metadata.name: Invalid value: \"a/b\": may not contain '/'"],
  ],
  // NetworkPolicy, PodDisruptionBudget
  [
    "NetworkPolicy with a bad CIDR and endPort below port",
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "n", namespace: "default" },
      spec: {
        podSelector: {},
        ingress: [
          { from: [{ ipBlock: { cidr: "10.0.0.0" } }, {}], ports: [{ port: 80, endPort: 79 }] },
        ],
      },
    },
    [
      "spec.ingress[0].ports[0].endPort: Invalid value: 79: must be greater than or equal to `port`",
      'spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "10.0.0.0": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
      "spec.ingress[0].from[1]: Required value: must specify a peer",
    ],
  ],
  [
    "PodDisruptionBudget with both bounds",
    {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "p", namespace: "default" },
      spec: { minAvailable: 1, maxUnavailable: "150%", selector },
    },
    [
      'spec: Invalid value: "spec": minAvailable and maxUnavailable cannot be both set',
      'spec.maxUnavailable: Invalid value: "150%": must not be greater than 100%',
    ],
  ],
])("%s", (_name, json, expected) => {
  it("gives exactly the expected errors", () => {
    expect(createErrors(json)).toEqual(expected);
  });
});

describe("updates", () => {
  const deployment = workload("apps/v1", "Deployment", { selector, template: template() });
  it.each<[string, Json, Json, string[]]>([
    [
      "Deployment selector change",
      workload("apps/v1", "Deployment", {
        selector: { matchLabels: { app: "web", tier: "a" } },
        template: { ...template(), metadata: { labels: { app: "web", tier: "a" } } },
      }),
      deployment,
      [
        'spec.selector: Invalid value: {"matchLabels":{"app":"web","tier":"a"}}: field is immutable',
      ],
    ],
    [
      "Deployment scale and new image",
      workload("apps/v1", "Deployment", {
        replicas: 5,
        selector,
        template: template({ containers: [{ name: "app", image: "tug/app:2" }] }),
      }),
      deployment,
      [],
    ],
    [
      "Service clusterIP change",
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "web", namespace: "default" },
        spec: { clusterIP: "10.96.0.2", ports: [{ port: 80 }] },
      },
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "web", namespace: "default" },
        spec: { clusterIP: "10.96.0.1", ports: [{ port: 80 }] },
      },
      [
        'spec.clusterIP: Invalid value: "10.96.0.2": field is immutable',
        'spec.clusterIPs[0]: Invalid value: "10.96.0.2": field is immutable',
      ],
    ],
    [
      "StatefulSet serviceName change",
      workload("apps/v1", "StatefulSet", { selector, template: template(), serviceName: "b" }),
      workload("apps/v1", "StatefulSet", { selector, template: template(), serviceName: "a" }),
      [
        "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      ],
    ],
    [
      "immutable ConfigMap data change",
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "c", namespace: "default" },
        immutable: true,
        data: { a: "2" },
      },
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "c", namespace: "default" },
        immutable: true,
        data: { a: "1" },
      },
      ["data: Forbidden: field is immutable when `immutable` is set"],
    ],
    [
      "RoleBinding roleRef change",
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "b", namespace: "default" },
        roleRef: { kind: "Role", name: "b" },
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "b", namespace: "default" },
        roleRef: { kind: "Role", name: "a" },
      },
      [
        'roleRef: Invalid value: {"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"b"}: cannot change roleRef',
      ],
    ],
    [
      "Job template change",
      workload("batch/v1", "Job", {
        template: template({
          restartPolicy: "Never",
          containers: [{ name: "app", image: "tug/app:2" }],
        }),
      }),
      workload("batch/v1", "Job", { template: template({ restartPolicy: "Never" }) }),
      ['spec.template: Invalid value: "template": field is immutable'],
    ],
    [
      "suspended Job template change",
      workload("batch/v1", "Job", {
        suspend: false,
        template: template({
          restartPolicy: "Never",
          containers: [{ name: "app", image: "tug/app:2" }],
        }),
      }),
      workload("batch/v1", "Job", {
        suspend: true,
        template: template({ restartPolicy: "Never" }),
      }),
      [],
    ],
    [
      "Job completions change",
      workload("batch/v1", "Job", {
        completions: 3,
        template: template({ restartPolicy: "Never" }),
      }),
      workload("batch/v1", "Job", {
        completions: 2,
        template: template({ restartPolicy: "Never" }),
      }),
      ["spec.completions: Invalid value: 3: field is immutable"],
    ],
    [
      "bound PVC resize",
      {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: "c", namespace: "default" },
        spec: {
          accessModes: ["ReadWriteOnce"],
          resources: { requests: { storage: "2Gi" } },
          volumeName: "pv1",
        },
      },
      {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: "c", namespace: "default" },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
      },
      [],
    ],
    [
      "PVC access mode change",
      {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: "c", namespace: "default" },
        spec: { accessModes: ["ReadWriteMany"], resources: { requests: { storage: "1Gi" } } },
      },
      {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: "c", namespace: "default" },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
      },
      [
        "spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
      ],
    ],
    [
      "Namespace rename",
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "b" } },
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "a" } },
      ['metadata.name: Invalid value: "b": field is immutable'],
    ],
  ])("%s", (_name, next, old, expected) => {
    expect(updateErrors(next, old)).toEqual(expected);
  });
});

describe("objects that are not API objects", () => {
  it("a list is an internal error, not a crash", () => {
    const list = create(PodListSchema, {});
    expect(validateObject(list).map((e) => e.message)).toEqual([
      ": Internal error: tug.core.v1.PodList is not an API object; validate each item of a list",
    ]);
  });
});

describe("fixtures", () => {
  const fixtures = join(import.meta.dirname, "..", "fixtures");
  const objects = readdirSync(fixtures)
    .filter((name) => name.endsWith(".yaml"))
    .flatMap((name) =>
      parseManifests(readFileSync(join(fixtures, name), "utf8")).map(
        (m): [string, string, KindInfo, Message] => [
          name,
          `${name} ${m.kind.kind} ${m.path}`,
          m.kind,
          m.object,
        ],
      ),
    );

  /** Defaults, the request's namespace ("default") as the API server sets it, then validation. */
  function errorsOf(kind: KindInfo, object: Message): string[] {
    const meta = (object as Message & { metadata?: { namespace: string } }).metadata;
    if (kind.namespaced && meta !== undefined && meta.namespace === "") meta.namespace = "default";
    return validateObject(applyDefaults(object)).map((e) => e.message);
  }

  const examples = objects.filter(([file]) => file !== "kitchen-sink.yaml");
  it("has the examples", () => {
    expect(examples.length).toBeGreaterThanOrEqual(6);
  });

  it.each(examples.map(([, name, kind, object]) => [name, kind, object] as const))(
    "%s validates clean",
    (_name, kind, object) => {
      expect(errorsOf(kind, object)).toEqual([]);
    },
  );

  it("the kitchen sink breaks exactly the rules Kubernetes would reject it for", () => {
    const errors = objects
      .filter(([file]) => file === "kitchen-sink.yaml")
      .flatMap(([, , kind, object]) => errorsOf(kind, object).map((e) => `${kind.kind}: ${e}`));
    expect(errors).toEqual([
      "Pod: spec.containers[0].livenessProbe.terminationGracePeriodSeconds: Invalid value: 0: must be greater than 0",
      "Pod: spec.tolerations[1].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set",
      "Pod: spec.containers[0].ports[0].containerPort: Invalid value: 8080: must match `hostPort` when `hostNetwork` is true",
      "NetworkPolicy: spec.ingress[0].ports[1].endPort: Forbidden: may not be specified when `port` is non-numeric",
    ]);
  });
});
