// Every kind can be found by apiVersion+kind, group+resource, message, and every name a user
// types; scopes and status subresources are Kubernetes'.

import { create, isMessage } from "@bufbuild/protobuf";
import { anyPack, anyUnpack } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { DeploymentListSchema, DeploymentSchema } from "../../src/gen/tug/apps/v1/deployment_pb.js";
import { PodSchema, PodSpecSchema } from "../../src/gen/tug/core/v1/pod_pb.js";
import { intOrString, makeIntOrString } from "../../src/scheme/int-or-string.js";
import { allKinds } from "../../src/scheme/kinds.js";
import {
  kindFor,
  kindForMessage,
  kindForResource,
  requireKind,
  resolveKindName,
} from "../../src/scheme/lookup.js";
import { objectToJson } from "../../src/scheme/object-codec.js";
import { apiRegistry } from "../../src/scheme/registry.js";
import { SchemeError } from "../../src/scheme/scheme-error.js";

describe("kind table", () => {
  it("finds every kind by apiVersion+kind, group+resource and its message", () => {
    for (const info of allKinds) {
      expect(kindFor(info.apiVersion, info.kind)).toBe(info);
      expect(requireKind(info.apiVersion, info.kind)).toBe(info);
      expect(kindForResource(info.group, info.resource)).toBe(info);
      expect(kindForMessage(create(info.schema))).toBe(info);
      if (info.listSchema !== undefined) expect(kindForMessage(create(info.listSchema))).toBe(info);
    }
  });

  it("serves the kinds of the design", () => {
    expect(allKinds.map((info) => `${info.apiVersion} ${info.kind}`).sort()).toEqual(
      [
        "v1 Binding",
        "v1 ConfigMap",
        "v1 Endpoints",
        "v1 Event",
        "v1 LimitRange",
        "v1 Namespace",
        "v1 Node",
        "v1 PersistentVolume",
        "v1 PersistentVolumeClaim",
        "v1 Pod",
        "v1 ResourceQuota",
        "v1 Secret",
        "v1 Service",
        "v1 ServiceAccount",
        "apps/v1 ControllerRevision",
        "apps/v1 DaemonSet",
        "apps/v1 Deployment",
        "apps/v1 ReplicaSet",
        "apps/v1 StatefulSet",
        "batch/v1 CronJob",
        "batch/v1 Job",
        "coordination.k8s.io/v1 Lease",
        "networking.k8s.io/v1 NetworkPolicy",
        "policy/v1 Eviction",
        "policy/v1 PodDisruptionBudget",
        "rbac.authorization.k8s.io/v1 ClusterRole",
        "rbac.authorization.k8s.io/v1 ClusterRoleBinding",
        "rbac.authorization.k8s.io/v1 Role",
        "rbac.authorization.k8s.io/v1 RoleBinding",
        "storage.k8s.io/v1 StorageClass",
      ].sort(),
    );
  });

  it("has Kubernetes' cluster-scoped kinds and status subresources", () => {
    expect(
      allKinds
        .filter((info) => !info.namespaced)
        .map((info) => info.resource)
        .sort(),
    ).toEqual([
      "clusterrolebindings",
      "clusterroles",
      "namespaces",
      "nodes",
      "persistentvolumes",
      "storageclasses",
    ]);
    const withStatus = new Set(
      allKinds.filter((info) => info.hasStatus).map((info) => info.resource),
    );
    for (const resource of ["pods", "nodes", "services", "deployments", "replicasets", "jobs"]) {
      expect(withStatus.has(resource), resource).toBe(true);
    }
    for (const resource of ["configmaps", "secrets", "events", "leases", "roles"]) {
      expect(withStatus.has(resource), resource).toBe(false);
    }
  });

  it("gives lists their List kind", () => {
    const info = kindFor("apps/v1", "Deployment");
    expect(info?.listKind).toBe("DeploymentList");
    const list = create(DeploymentListSchema, { items: [create(DeploymentSchema)] });
    expect(objectToJson(list)).toEqual({
      apiVersion: "apps/v1",
      kind: "DeploymentList",
      items: [{}],
    });
  });

  it("does not take a part of an object for a kind", () => {
    expect(kindForMessage(create(PodSpecSchema))).toBeUndefined();
    expect(() => objectToJson(create(PodSpecSchema))).toThrow(
      "tug.core.v1.PodSpec is not an API kind; encode the object that holds it (a Pod, not its PodSpec)",
    );
  });
});

describe("resolveKindName", () => {
  const cases: [string, string][] = [
    ["pods", "Pod"],
    ["pod", "Pod"],
    ["po", "Pod"],
    ["Pod", "Pod"],
    ["PODS", "Pod"],
    ["svc", "Service"],
    ["deploy", "Deployment"],
    ["deployments.apps", "Deployment"],
    ["deployment.apps", "Deployment"],
    ["deployments.v1.apps", "Deployment"],
    ["rs", "ReplicaSet"],
    ["ds", "DaemonSet"],
    ["sts", "StatefulSet"],
    ["ns", "Namespace"],
    ["no", "Node"],
    ["cm", "ConfigMap"],
    ["ep", "Endpoints"],
    ["ev", "Event"],
    ["sa", "ServiceAccount"],
    ["quota", "ResourceQuota"],
    ["limits", "LimitRange"],
    ["pv", "PersistentVolume"],
    ["pvc", "PersistentVolumeClaim"],
    ["cj", "CronJob"],
    ["jobs.batch", "Job"],
    ["netpol", "NetworkPolicy"],
    ["sc", "StorageClass"],
    ["pdb", "PodDisruptionBudget"],
    ["leases.coordination.k8s.io", "Lease"],
    ["clusterrolebindings", "ClusterRoleBinding"],
    ["roles.rbac.authorization.k8s.io", "Role"],
    ["secrets.core", "Secret"],
    ["ClusterRole", "ClusterRole"],
  ];
  for (const [name, kind] of cases) {
    it(`resolves ${name} to ${kind}`, () => {
      expect(resolveKindName(name).kind).toBe(kind);
    });
  }

  it("every resource, singular, short name and kind resolves to its own kind", () => {
    for (const info of allKinds.filter((k) => !k.subresourceBody)) {
      for (const name of [info.resource, info.singular, info.kind, ...info.shortNames]) {
        expect(resolveKindName(name), name).toBe(info);
        expect(resolveKindName(`${name}.${info.group || "core"}`), name).toBe(info);
      }
    }
  });

  it("rejects names it does not know, in kubectl's words", () => {
    expect(() => resolveKindName("podz")).toThrow(
      'the server doesn\'t have a resource type "podz"; list the known types with `tug api-resources`',
    );
    expect(() => resolveKindName("deployments.batch")).toThrow(SchemeError);
    expect(() => resolveKindName("eviction")).toThrow(SchemeError);
  });
});

describe("IntOrString", () => {
  it("reads and makes numbers and strings", () => {
    expect(intOrString(makeIntOrString(8080))).toBe(8080);
    expect(intOrString(makeIntOrString("25%"))).toBe("25%");
    expect(intOrString(undefined)).toBeUndefined();
    expect(() => makeIntOrString(1.5)).toThrow(RangeError);
  });
});

describe("apiRegistry", () => {
  it("packs and unpacks every kind in google.protobuf.Any", () => {
    for (const info of allKinds) {
      expect(apiRegistry.getMessage(info.schema.typeName), info.kind).toBeDefined();
    }
    const pod = create(PodSchema, { metadata: { name: "p" }, spec: { nodeName: "n" } });
    const unpacked = anyUnpack(anyPack(PodSchema, pod), apiRegistry);
    expect(
      unpacked !== undefined && isMessage(unpacked, PodSchema) && unpacked.spec?.nodeName,
    ).toBe("n");
  });
});
