// The table of every API kind tug serves: its group, version and kind, the resource it is
// stored and addressed under, the names kubectl accepts for it, its scope and whether it has a
// status subresource. Names, short names and scopes are Kubernetes' (`kubectl api-resources`,
// https://kubernetes.io/docs/reference/kubectl/#resource-types).

import type { DescMessage } from "@bufbuild/protobuf";
import {
  ControllerRevisionListSchema,
  ControllerRevisionSchema,
} from "../gen/tug/apps/v1/controller_revision_pb.js";
import { DaemonSetListSchema, DaemonSetSchema } from "../gen/tug/apps/v1/daemon_set_pb.js";
import { DeploymentListSchema, DeploymentSchema } from "../gen/tug/apps/v1/deployment_pb.js";
import { ReplicaSetListSchema, ReplicaSetSchema } from "../gen/tug/apps/v1/replica_set_pb.js";
import { StatefulSetListSchema, StatefulSetSchema } from "../gen/tug/apps/v1/stateful_set_pb.js";
import { CronJobListSchema, CronJobSchema } from "../gen/tug/batch/v1/cron_job_pb.js";
import { JobListSchema, JobSchema } from "../gen/tug/batch/v1/job_pb.js";
import { LeaseListSchema, LeaseSchema } from "../gen/tug/coordination/v1/lease_pb.js";
import { BindingSchema } from "../gen/tug/core/v1/binding_pb.js";
import {
  ConfigMapListSchema,
  ConfigMapSchema,
  SecretListSchema,
  SecretSchema,
} from "../gen/tug/core/v1/config_pb.js";
import { EventListSchema, EventSchema } from "../gen/tug/core/v1/event_pb.js";
import { NamespaceListSchema, NamespaceSchema } from "../gen/tug/core/v1/namespace_pb.js";
import { NodeListSchema, NodeSchema } from "../gen/tug/core/v1/node_pb.js";
import {
  PersistentVolumeClaimListSchema,
  PersistentVolumeClaimSchema,
  PersistentVolumeListSchema,
  PersistentVolumeSchema,
} from "../gen/tug/core/v1/persistent_volume_pb.js";
import { PodListSchema, PodSchema } from "../gen/tug/core/v1/pod_pb.js";
import {
  LimitRangeListSchema,
  LimitRangeSchema,
  ResourceQuotaListSchema,
  ResourceQuotaSchema,
} from "../gen/tug/core/v1/resource_quota_pb.js";
import {
  ServiceAccountListSchema,
  ServiceAccountSchema,
} from "../gen/tug/core/v1/service_account_pb.js";
import {
  EndpointsListSchema,
  EndpointsSchema,
  ServiceListSchema,
  ServiceSchema,
} from "../gen/tug/core/v1/service_pb.js";
import {
  NetworkPolicyListSchema,
  NetworkPolicySchema,
} from "../gen/tug/networking/v1/network_policy_pb.js";
import {
  EvictionSchema,
  PodDisruptionBudgetListSchema,
  PodDisruptionBudgetSchema,
} from "../gen/tug/policy/v1/policy_pb.js";
import {
  ClusterRoleBindingListSchema,
  ClusterRoleBindingSchema,
  ClusterRoleListSchema,
  ClusterRoleSchema,
  RoleBindingListSchema,
  RoleBindingSchema,
  RoleListSchema,
  RoleSchema,
} from "../gen/tug/rbac/v1/rbac_pb.js";
import {
  StorageClassListSchema,
  StorageClassSchema,
} from "../gen/tug/storage/v1/storage_class_pb.js";

/** Everything the scheme knows about one kind. Entries are frozen; never mutate them. */
export interface KindInfo {
  /** The API group; "" for the core group. */
  readonly group: string;
  readonly version: string;
  /** What objects carry in apiVersion: "v1" for core, else "<group>/<version>". */
  readonly apiVersion: string;
  /** UpperCamelCase, as in manifests: "Deployment". */
  readonly kind: string;
  /**
   * The resource: plural, lower-case ("deployments"), the name in URLs and in the store key
   * /registry/<group>/<resource>/<namespace>/<name>. For a kind that exists only as the body
   * of a subresource call, "<resource>/<subresource>" ("pods/eviction").
   */
  readonly resource: string;
  /** Lower-case singular name: "deployment". */
  readonly singular: string;
  /** kubectl's short names: ["deploy"]. */
  readonly shortNames: readonly string[];
  /** False for cluster-scoped kinds (Node, Namespace, PersistentVolume, ClusterRole, ...). */
  readonly namespaced: boolean;
  /** True if status is written through the status subresource (UpdateStatus), not Update. */
  readonly hasStatus: boolean;
  /** True for kinds that are only the body of a subresource call (Eviction); not listable. */
  readonly subresourceBody: boolean;
  /** The message of one object. */
  readonly schema: DescMessage;
  /** The list kind ("DeploymentList") and its message, for kinds that can be listed. */
  readonly listKind: string | undefined;
  readonly listSchema: DescMessage | undefined;
}

interface KindSpec {
  readonly group: string;
  readonly kind: string;
  readonly resource: string;
  readonly shortNames?: readonly string[];
  readonly clusterScoped?: boolean;
  readonly hasStatus?: boolean;
  readonly subresourceBody?: boolean;
  readonly schema: DescMessage;
  readonly listSchema?: DescMessage;
}

function kindInfo(spec: KindSpec): KindInfo {
  const version = "v1";
  return Object.freeze({
    group: spec.group,
    version,
    apiVersion: spec.group === "" ? version : `${spec.group}/${version}`,
    kind: spec.kind,
    resource: spec.resource,
    singular: spec.kind.toLowerCase(),
    shortNames: Object.freeze([...(spec.shortNames ?? [])]),
    namespaced: spec.clusterScoped !== true,
    hasStatus: spec.hasStatus === true,
    subresourceBody: spec.subresourceBody === true,
    schema: spec.schema,
    listKind: spec.listSchema === undefined ? undefined : `${spec.kind}List`,
    listSchema: spec.listSchema,
  });
}

const RBAC = "rbac.authorization.k8s.io";

/** Every kind tug serves, core group first, in the order `tug api-resources` lists them. */
export const allKinds: readonly KindInfo[] = Object.freeze(
  [
    // core/v1
    { group: "", kind: "Binding", resource: "bindings", schema: BindingSchema },
    {
      group: "",
      kind: "ConfigMap",
      resource: "configmaps",
      shortNames: ["cm"],
      schema: ConfigMapSchema,
      listSchema: ConfigMapListSchema,
    },
    {
      group: "",
      kind: "Endpoints",
      resource: "endpoints",
      shortNames: ["ep"],
      schema: EndpointsSchema,
      listSchema: EndpointsListSchema,
    },
    {
      group: "",
      kind: "Event",
      resource: "events",
      shortNames: ["ev"],
      schema: EventSchema,
      listSchema: EventListSchema,
    },
    {
      group: "",
      kind: "LimitRange",
      resource: "limitranges",
      shortNames: ["limits"],
      schema: LimitRangeSchema,
      listSchema: LimitRangeListSchema,
    },
    {
      group: "",
      kind: "Namespace",
      resource: "namespaces",
      shortNames: ["ns"],
      clusterScoped: true,
      hasStatus: true,
      schema: NamespaceSchema,
      listSchema: NamespaceListSchema,
    },
    {
      group: "",
      kind: "Node",
      resource: "nodes",
      shortNames: ["no"],
      clusterScoped: true,
      hasStatus: true,
      schema: NodeSchema,
      listSchema: NodeListSchema,
    },
    {
      group: "",
      kind: "PersistentVolumeClaim",
      resource: "persistentvolumeclaims",
      shortNames: ["pvc"],
      hasStatus: true,
      schema: PersistentVolumeClaimSchema,
      listSchema: PersistentVolumeClaimListSchema,
    },
    {
      group: "",
      kind: "PersistentVolume",
      resource: "persistentvolumes",
      shortNames: ["pv"],
      clusterScoped: true,
      hasStatus: true,
      schema: PersistentVolumeSchema,
      listSchema: PersistentVolumeListSchema,
    },
    {
      group: "",
      kind: "Pod",
      resource: "pods",
      shortNames: ["po"],
      hasStatus: true,
      schema: PodSchema,
      listSchema: PodListSchema,
    },
    {
      group: "",
      kind: "ResourceQuota",
      resource: "resourcequotas",
      shortNames: ["quota"],
      hasStatus: true,
      schema: ResourceQuotaSchema,
      listSchema: ResourceQuotaListSchema,
    },
    {
      group: "",
      kind: "Secret",
      resource: "secrets",
      schema: SecretSchema,
      listSchema: SecretListSchema,
    },
    {
      group: "",
      kind: "ServiceAccount",
      resource: "serviceaccounts",
      shortNames: ["sa"],
      schema: ServiceAccountSchema,
      listSchema: ServiceAccountListSchema,
    },
    {
      group: "",
      kind: "Service",
      resource: "services",
      shortNames: ["svc"],
      hasStatus: true,
      schema: ServiceSchema,
      listSchema: ServiceListSchema,
    },
    // apps/v1
    {
      group: "apps",
      kind: "ControllerRevision",
      resource: "controllerrevisions",
      schema: ControllerRevisionSchema,
      listSchema: ControllerRevisionListSchema,
    },
    {
      group: "apps",
      kind: "DaemonSet",
      resource: "daemonsets",
      shortNames: ["ds"],
      hasStatus: true,
      schema: DaemonSetSchema,
      listSchema: DaemonSetListSchema,
    },
    {
      group: "apps",
      kind: "Deployment",
      resource: "deployments",
      shortNames: ["deploy"],
      hasStatus: true,
      schema: DeploymentSchema,
      listSchema: DeploymentListSchema,
    },
    {
      group: "apps",
      kind: "ReplicaSet",
      resource: "replicasets",
      shortNames: ["rs"],
      hasStatus: true,
      schema: ReplicaSetSchema,
      listSchema: ReplicaSetListSchema,
    },
    {
      group: "apps",
      kind: "StatefulSet",
      resource: "statefulsets",
      shortNames: ["sts"],
      hasStatus: true,
      schema: StatefulSetSchema,
      listSchema: StatefulSetListSchema,
    },
    // batch/v1
    {
      group: "batch",
      kind: "CronJob",
      resource: "cronjobs",
      shortNames: ["cj"],
      hasStatus: true,
      schema: CronJobSchema,
      listSchema: CronJobListSchema,
    },
    {
      group: "batch",
      kind: "Job",
      resource: "jobs",
      hasStatus: true,
      schema: JobSchema,
      listSchema: JobListSchema,
    },
    // coordination.k8s.io/v1
    {
      group: "coordination.k8s.io",
      kind: "Lease",
      resource: "leases",
      schema: LeaseSchema,
      listSchema: LeaseListSchema,
    },
    // networking.k8s.io/v1
    {
      group: "networking.k8s.io",
      kind: "NetworkPolicy",
      resource: "networkpolicies",
      shortNames: ["netpol"],
      schema: NetworkPolicySchema,
      listSchema: NetworkPolicyListSchema,
    },
    // policy/v1
    {
      group: "policy",
      kind: "Eviction",
      resource: "pods/eviction",
      subresourceBody: true,
      schema: EvictionSchema,
    },
    {
      group: "policy",
      kind: "PodDisruptionBudget",
      resource: "poddisruptionbudgets",
      shortNames: ["pdb"],
      hasStatus: true,
      schema: PodDisruptionBudgetSchema,
      listSchema: PodDisruptionBudgetListSchema,
    },
    // rbac.authorization.k8s.io/v1
    {
      group: RBAC,
      kind: "ClusterRoleBinding",
      resource: "clusterrolebindings",
      clusterScoped: true,
      schema: ClusterRoleBindingSchema,
      listSchema: ClusterRoleBindingListSchema,
    },
    {
      group: RBAC,
      kind: "ClusterRole",
      resource: "clusterroles",
      clusterScoped: true,
      schema: ClusterRoleSchema,
      listSchema: ClusterRoleListSchema,
    },
    {
      group: RBAC,
      kind: "RoleBinding",
      resource: "rolebindings",
      schema: RoleBindingSchema,
      listSchema: RoleBindingListSchema,
    },
    {
      group: RBAC,
      kind: "Role",
      resource: "roles",
      schema: RoleSchema,
      listSchema: RoleListSchema,
    },
    // storage.k8s.io/v1
    {
      group: "storage.k8s.io",
      kind: "StorageClass",
      resource: "storageclasses",
      shortNames: ["sc"],
      clusterScoped: true,
      schema: StorageClassSchema,
      listSchema: StorageClassListSchema,
    },
  ].map(kindInfo),
);
