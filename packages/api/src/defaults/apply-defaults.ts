// applyDefaults: the defaulting step of the API server's admission chain, for every kind that
// Kubernetes defaults. Reference: https://kubernetes.io/docs/reference/using-api/api-concepts/
// and the per-group defaults.go files cited in each module of this folder.

import { isMessage, type Message } from "@bufbuild/protobuf";
import { DaemonSetSchema } from "../gen/tug/apps/v1/daemon_set_pb.js";
import { DeploymentSchema } from "../gen/tug/apps/v1/deployment_pb.js";
import { ReplicaSetSchema } from "../gen/tug/apps/v1/replica_set_pb.js";
import { StatefulSetSchema } from "../gen/tug/apps/v1/stateful_set_pb.js";
import { CronJobSchema } from "../gen/tug/batch/v1/cron_job_pb.js";
import { JobSchema } from "../gen/tug/batch/v1/job_pb.js";
import { SecretSchema } from "../gen/tug/core/v1/config_pb.js";
import { NamespaceSchema } from "../gen/tug/core/v1/namespace_pb.js";
import { NodeSchema } from "../gen/tug/core/v1/node_pb.js";
import {
  PersistentVolumeClaimSchema,
  PersistentVolumeSchema,
} from "../gen/tug/core/v1/persistent_volume_pb.js";
import { PodSchema } from "../gen/tug/core/v1/pod_pb.js";
import { LimitRangeSchema } from "../gen/tug/core/v1/resource_quota_pb.js";
import { EndpointsSchema, ServiceSchema } from "../gen/tug/core/v1/service_pb.js";
import { NetworkPolicySchema } from "../gen/tug/networking/v1/network_policy_pb.js";
import { ClusterRoleBindingSchema, RoleBindingSchema } from "../gen/tug/rbac/v1/rbac_pb.js";
import { StorageClassSchema } from "../gen/tug/storage/v1/storage_class_pb.js";
import {
  defaultEndpoints,
  defaultLimitRange,
  defaultNamespace,
  defaultNode,
  defaultPersistentVolume,
  defaultPersistentVolumeClaim,
  defaultSecret,
  defaultService,
} from "./core-defaults.js";
import { defaultNetworkPolicy, defaultRoleBinding, defaultStorageClass } from "./group-defaults.js";
import { defaultPod } from "./pod-defaults.js";
import {
  defaultCronJob,
  defaultDaemonSet,
  defaultDeployment,
  defaultJob,
  defaultReplicaSet,
  defaultStatefulSet,
} from "./workload-defaults.js";

/**
 * Sets Kubernetes' defaults on a decoded API object, in place, and returns it. Only unset
 * fields are filled, so applying defaults twice gives the same object as applying them once.
 * Objects of kinds without defaults (ConfigMap, Event, Lease, ...) are left as they are.
 * The caller owns `obj`: never pass an object shared with an informer cache.
 */
export function applyDefaults<T extends Message>(obj: T): T {
  if (isMessage(obj, PodSchema)) defaultPod(obj);
  else if (isMessage(obj, ServiceSchema)) defaultService(obj);
  else if (isMessage(obj, EndpointsSchema)) defaultEndpoints(obj);
  else if (isMessage(obj, SecretSchema)) defaultSecret(obj);
  else if (isMessage(obj, NamespaceSchema)) defaultNamespace(obj);
  else if (isMessage(obj, NodeSchema)) defaultNode(obj);
  else if (isMessage(obj, PersistentVolumeSchema)) defaultPersistentVolume(obj);
  else if (isMessage(obj, PersistentVolumeClaimSchema)) defaultPersistentVolumeClaim(obj);
  else if (isMessage(obj, LimitRangeSchema)) defaultLimitRange(obj);
  else if (isMessage(obj, DeploymentSchema)) defaultDeployment(obj);
  else if (isMessage(obj, ReplicaSetSchema)) defaultReplicaSet(obj);
  else if (isMessage(obj, DaemonSetSchema)) defaultDaemonSet(obj);
  else if (isMessage(obj, StatefulSetSchema)) defaultStatefulSet(obj);
  else if (isMessage(obj, JobSchema)) defaultJob(obj);
  else if (isMessage(obj, CronJobSchema)) defaultCronJob(obj);
  else if (isMessage(obj, RoleBindingSchema) || isMessage(obj, ClusterRoleBindingSchema)) {
    defaultRoleBinding(obj);
  } else if (isMessage(obj, NetworkPolicySchema)) defaultNetworkPolicy(obj);
  else if (isMessage(obj, StorageClassSchema)) defaultStorageClass(obj);
  return obj;
}
