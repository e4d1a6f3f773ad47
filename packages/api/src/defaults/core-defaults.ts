// Defaults of the core/v1 kinds other than Pod (k8s.io/kubernetes/pkg/apis/core/v1/defaults.go:
// SetDefaults_Service, SetDefaults_Secret, SetDefaults_PersistentVolume(Claim),
// SetDefaults_NamespaceStatus, SetDefaults_NodeStatus, SetDefaults_Endpoints,
// SetDefaults_LimitRangeItem). Only unset fields are filled: idempotent.
// Events, ConfigMaps, ServiceAccounts, ResourceQuotas and Bindings have no defaults.

import { create } from "@bufbuild/protobuf";
import type { Secret } from "../gen/tug/core/v1/config_pb.js";
import { type Namespace, NamespaceStatusSchema } from "../gen/tug/core/v1/namespace_pb.js";
import { type Node, NodeStatusSchema } from "../gen/tug/core/v1/node_pb.js";
import {
  type PersistentVolume,
  type PersistentVolumeClaim,
  PersistentVolumeClaimStatusSchema,
  PersistentVolumeStatusSchema,
} from "../gen/tug/core/v1/persistent_volume_pb.js";
import type { LimitRange } from "../gen/tug/core/v1/resource_quota_pb.js";
import {
  ClientIPConfigSchema,
  type Endpoints,
  type Service,
  SessionAffinityConfigSchema,
} from "../gen/tug/core/v1/service_pb.js";
import { intOrString, makeIntOrString } from "../scheme/int-or-string.js";

/** SetDefaults_Service: how long a ClientIP session sticks: 3 hours. */
export const DEFAULT_CLIENT_IP_SERVICE_AFFINITY_SECONDS = 10800;

/**
 * SetDefaults_Service: sessionAffinity None (ClientIP gets a 10800 s timeout), type ClusterIP,
 * each port protocol TCP and targetPort = port, externalTrafficPolicy Cluster for NodePort
 * and LoadBalancer, internalTrafficPolicy Cluster for all but ExternalName,
 * allocateLoadBalancerNodePorts true for LoadBalancer. Then what kube-apiserver's service
 * storage fills on create in a single-stack cluster (initIPFamilyFields, normalizeClusterIPs):
 * for all but ExternalName, ipFamilyPolicy SingleStack and ipFamilies the family of clusterIP
 * (IPv4 while none is allocated), and clusterIPs [clusterIP].
 */
export function defaultService(service: Service): void {
  const spec = service.spec;
  if (spec === undefined) return;
  if (spec.sessionAffinity === "") spec.sessionAffinity = "None";
  if (spec.sessionAffinity === "ClientIP") {
    spec.sessionAffinityConfig ??= create(SessionAffinityConfigSchema, {});
    spec.sessionAffinityConfig.clientIp ??= create(ClientIPConfigSchema, {});
    spec.sessionAffinityConfig.clientIp.timeoutSeconds ??=
      DEFAULT_CLIENT_IP_SERVICE_AFFINITY_SECONDS;
  }
  if (spec.type === "") spec.type = "ClusterIP";
  for (const port of spec.ports) {
    if (port.protocol === "") port.protocol = "TCP";
    const target = intOrString(port.targetPort);
    if (target === undefined || target === 0 || target === "") {
      port.targetPort = makeIntOrString(port.port);
    }
  }
  if (
    (spec.type === "NodePort" || spec.type === "LoadBalancer") &&
    spec.externalTrafficPolicy === ""
  ) {
    spec.externalTrafficPolicy = "Cluster";
  }
  if (spec.type !== "ExternalName") spec.internalTrafficPolicy ??= "Cluster";
  if (spec.type === "LoadBalancer") spec.allocateLoadBalancerNodePorts ??= true;
  if (spec.type !== "ExternalName") {
    spec.ipFamilyPolicy ??= "SingleStack";
    if (spec.ipFamilies.length === 0) {
      spec.ipFamilies.push(spec.clusterIp.includes(":") ? "IPv6" : "IPv4");
    }
    if (spec.clusterIps.length === 0 && spec.clusterIp !== "") spec.clusterIps.push(spec.clusterIp);
  }
}

/** SetDefaults_Endpoints: each port's protocol TCP. */
export function defaultEndpoints(endpoints: Endpoints): void {
  for (const subset of endpoints.subsets) {
    for (const port of subset.ports) if (port.protocol === "") port.protocol = "TCP";
  }
}

/** SetDefaults_Secret: type Opaque. */
export function defaultSecret(secret: Secret): void {
  if (secret.type === "") secret.type = "Opaque";
}

/** SetDefaults_NamespaceStatus: phase Active. */
export function defaultNamespace(namespace: Namespace): void {
  namespace.status ??= create(NamespaceStatusSchema, {});
  if (namespace.status.phase === "") namespace.status.phase = "Active";
}

/** SetDefaults_NodeStatus: allocatable is the capacity when the agent reports none. */
export function defaultNode(node: Node): void {
  node.status ??= create(NodeStatusSchema, {});
  const status = node.status;
  if (Object.keys(status.allocatable).length === 0) {
    for (const [name, quantity] of Object.entries(status.capacity)) {
      status.allocatable[name] = quantity;
    }
  }
}

/**
 * SetDefaults_PersistentVolume: persistentVolumeReclaimPolicy Retain, volumeMode Filesystem,
 * status.phase Pending.
 */
export function defaultPersistentVolume(volume: PersistentVolume): void {
  const spec = volume.spec;
  if (spec !== undefined) {
    if (spec.persistentVolumeReclaimPolicy === "") spec.persistentVolumeReclaimPolicy = "Retain";
    spec.volumeMode ??= "Filesystem";
  }
  volume.status ??= create(PersistentVolumeStatusSchema, {});
  if (volume.status.phase === "") volume.status.phase = "Pending";
}

/** SetDefaults_PersistentVolumeClaim(Spec): volumeMode Filesystem, status.phase Pending. */
export function defaultPersistentVolumeClaim(claim: PersistentVolumeClaim): void {
  if (claim.spec !== undefined) claim.spec.volumeMode ??= "Filesystem";
  claim.status ??= create(PersistentVolumeClaimStatusSchema, {});
  if (claim.status.phase === "") claim.status.phase = "Pending";
}

/**
 * SetDefaults_LimitRangeItem, for type Container: the default limit is the max where unset;
 * the default request is the default limit, else the min, where unset.
 */
export function defaultLimitRange(limitRange: LimitRange): void {
  for (const item of limitRange.spec?.limits ?? []) {
    if (item.type !== "Container") continue;
    for (const [name, quantity] of Object.entries(item.max)) {
      if (!(name in item.default)) item.default[name] = quantity;
    }
    for (const [name, quantity] of Object.entries(item.default)) {
      if (!(name in item.defaultRequest)) item.defaultRequest[name] = quantity;
    }
    for (const [name, quantity] of Object.entries(item.min)) {
      if (!(name in item.defaultRequest)) item.defaultRequest[name] = quantity;
    }
  }
}
