// validateObject and validateUpdate: the validation step of the API server's admission chain,
// for every kind, after defaults (Kubernetes validates defaulted objects: a field that
// defaults fill, such as a container's imagePullPolicy, is Required when validation sees it
// empty). Errors name the field path and the rule in Kubernetes' words, e.g.
//   spec.containers[0].name: Required value
// Reference: https://kubernetes.io/docs/reference/using-api/api-concepts/ and the per-group
// validation packages cited by each module of this folder.

import { isMessage, type Message } from "@bufbuild/protobuf";
import { ControllerRevisionSchema } from "../gen/tug/apps/v1/controller_revision_pb.js";
import { DaemonSetSchema } from "../gen/tug/apps/v1/daemon_set_pb.js";
import { DeploymentSchema } from "../gen/tug/apps/v1/deployment_pb.js";
import { ReplicaSetSchema } from "../gen/tug/apps/v1/replica_set_pb.js";
import { StatefulSetSchema } from "../gen/tug/apps/v1/stateful_set_pb.js";
import { CronJobSchema } from "../gen/tug/batch/v1/cron_job_pb.js";
import { JobSchema } from "../gen/tug/batch/v1/job_pb.js";
import { LeaseSchema } from "../gen/tug/coordination/v1/lease_pb.js";
import { BindingSchema } from "../gen/tug/core/v1/binding_pb.js";
import { ConfigMapSchema, SecretSchema } from "../gen/tug/core/v1/config_pb.js";
import { EventSchema } from "../gen/tug/core/v1/event_pb.js";
import { NamespaceSchema } from "../gen/tug/core/v1/namespace_pb.js";
import { NodeSchema } from "../gen/tug/core/v1/node_pb.js";
import {
  PersistentVolumeClaimSchema,
  PersistentVolumeSchema,
} from "../gen/tug/core/v1/persistent_volume_pb.js";
import { PodSchema } from "../gen/tug/core/v1/pod_pb.js";
import { LimitRangeSchema, ResourceQuotaSchema } from "../gen/tug/core/v1/resource_quota_pb.js";
import { ServiceAccountSchema } from "../gen/tug/core/v1/service_account_pb.js";
import { EndpointsSchema, ServiceSchema } from "../gen/tug/core/v1/service_pb.js";
import type { ObjectMeta } from "../gen/tug/meta/v1/meta_pb.js";
import { NetworkPolicySchema } from "../gen/tug/networking/v1/network_policy_pb.js";
import { PodDisruptionBudgetSchema } from "../gen/tug/policy/v1/policy_pb.js";
import {
  ClusterRoleBindingSchema,
  ClusterRoleSchema,
  RoleBindingSchema,
  RoleSchema,
} from "../gen/tug/rbac/v1/rbac_pb.js";
import { StorageClassSchema } from "../gen/tug/storage/v1/storage_class_pb.js";
import { kindForMessage } from "../scheme/lookup.js";
import {
  validateBindingBody,
  validateEventBody,
  validateLeaseBody,
  validateNamespaceBody,
  validateNodeBody,
  validateNodeUpdate,
  validateServiceAccountBody,
} from "./cluster-validation.js";
import {
  validateConfigMapBody,
  validateConfigMapUpdate,
  validateSecretBody,
  validateSecretUpdate,
} from "./config-validation.js";
import { FieldError, root } from "./field-error.js";
import { validateCronJobBody, validateJobBody, validateJobSpecUpdate } from "./job-validation.js";
import {
  type NameValidator,
  nameIsDns1035Label,
  nameIsDnsLabel,
  nameIsDnsSubdomain,
} from "./names.js";
import { validateObjectMeta, validateObjectMetaUpdate } from "./object-meta.js";
import { validatePodBody, validatePodSpecUpdate } from "./pod-validation.js";
import {
  validateLimitRangeBody,
  validateNetworkPolicyBody,
  validatePodDisruptionBudgetBody,
  validateResourceQuotaBody,
} from "./policy-validation.js";
import {
  rbacName,
  validateClusterRoleBody,
  validateRoleBindingBody,
  validateRoleBindingUpdate,
  validateRoleBody,
} from "./rbac-validation.js";
import {
  validateEndpointsSubsets,
  validateServiceSpec,
  validateServiceSpecUpdate,
} from "./service-validation.js";
import {
  validatePersistentVolumeClaimBody,
  validatePersistentVolumeClaimUpdate,
  validatePersistentVolumeSpec,
  validateStorageClassBody,
  validateStorageClassUpdate,
} from "./storage-validation.js";
import {
  validateControllerRevisionBody,
  validateDaemonSetSpec,
  validateDeploymentSpec,
  validateReplicaSetSpec,
  validateSelectorUpdate,
  validateStatefulSetSpec,
  validateStatefulSetSpecUpdate,
} from "./workload-validation.js";

/** The rule for metadata.name of each kind: Kubernetes' per-kind Validate<Kind>Name. */
function nameRule(message: Message): NameValidator {
  if (isMessage(message, NamespaceSchema)) return nameIsDnsLabel;
  if (isMessage(message, ServiceSchema)) return nameIsDns1035Label;
  if (
    isMessage(message, RoleSchema) ||
    isMessage(message, ClusterRoleSchema) ||
    isMessage(message, RoleBindingSchema) ||
    isMessage(message, ClusterRoleBindingSchema)
  ) {
    return rbacName;
  }
  return nameIsDnsSubdomain;
}

/** Every API object message has `metadata`. */
function metadataOf(message: Message): ObjectMeta | undefined {
  return (message as Message & { metadata?: ObjectMeta }).metadata;
}

/** The kind-specific rules of an object's body (everything but metadata). */
function validateBody(obj: Message): FieldError[] {
  if (isMessage(obj, PodSchema)) return validatePodBody(obj);
  if (isMessage(obj, ServiceSchema)) return validateServiceSpec(obj);
  if (isMessage(obj, EndpointsSchema)) return validateEndpointsSubsets(obj);
  if (isMessage(obj, ConfigMapSchema)) return validateConfigMapBody(obj);
  if (isMessage(obj, SecretSchema)) return validateSecretBody(obj);
  if (isMessage(obj, NodeSchema)) return validateNodeBody(obj);
  if (isMessage(obj, NamespaceSchema)) return validateNamespaceBody(obj);
  if (isMessage(obj, EventSchema)) return validateEventBody(obj);
  if (isMessage(obj, BindingSchema)) return validateBindingBody(obj);
  if (isMessage(obj, ServiceAccountSchema)) return validateServiceAccountBody(obj);
  if (isMessage(obj, ResourceQuotaSchema)) return validateResourceQuotaBody(obj);
  if (isMessage(obj, LimitRangeSchema)) return validateLimitRangeBody(obj);
  if (isMessage(obj, PersistentVolumeSchema)) return validatePersistentVolumeSpec(obj);
  if (isMessage(obj, PersistentVolumeClaimSchema)) return validatePersistentVolumeClaimBody(obj);
  if (isMessage(obj, DeploymentSchema)) return validateDeploymentSpec(obj);
  if (isMessage(obj, ReplicaSetSchema)) return validateReplicaSetSpec(obj);
  if (isMessage(obj, DaemonSetSchema)) return validateDaemonSetSpec(obj);
  if (isMessage(obj, StatefulSetSchema)) return validateStatefulSetSpec(obj);
  if (isMessage(obj, ControllerRevisionSchema)) return validateControllerRevisionBody(obj);
  if (isMessage(obj, JobSchema)) return validateJobBody(obj);
  if (isMessage(obj, CronJobSchema)) return validateCronJobBody(obj);
  if (isMessage(obj, LeaseSchema)) return validateLeaseBody(obj);
  if (isMessage(obj, RoleSchema)) return validateRoleBody(obj);
  if (isMessage(obj, ClusterRoleSchema)) return validateClusterRoleBody(obj);
  if (isMessage(obj, RoleBindingSchema)) return validateRoleBindingBody(obj, true);
  if (isMessage(obj, ClusterRoleBindingSchema)) return validateRoleBindingBody(obj, false);
  if (isMessage(obj, NetworkPolicySchema)) return validateNetworkPolicyBody(obj);
  if (isMessage(obj, PodDisruptionBudgetSchema)) return validatePodDisruptionBudgetBody(obj);
  if (isMessage(obj, StorageClassSchema)) return validateStorageClassBody(obj);
  // Eviction: its metadata (the pod's name and namespace) is all there is to check.
  return [];
}

/** The kind-specific rules of an update, beyond validating the new object. */
function validateBodyUpdate(next: Message, old: Message): FieldError[] {
  if (isMessage(next, PodSchema) && isMessage(old, PodSchema))
    return validatePodSpecUpdate(next, old);
  if (isMessage(next, ServiceSchema) && isMessage(old, ServiceSchema))
    return validateServiceSpecUpdate(next, old);
  if (isMessage(next, ConfigMapSchema) && isMessage(old, ConfigMapSchema))
    return validateConfigMapUpdate(next, old);
  if (isMessage(next, SecretSchema) && isMessage(old, SecretSchema))
    return validateSecretUpdate(next, old);
  if (isMessage(next, NodeSchema) && isMessage(old, NodeSchema))
    return validateNodeUpdate(next, old);
  if (isMessage(next, PersistentVolumeClaimSchema) && isMessage(old, PersistentVolumeClaimSchema)) {
    return validatePersistentVolumeClaimUpdate(next, old);
  }
  if (isMessage(next, DeploymentSchema) && isMessage(old, DeploymentSchema)) {
    return validateSelectorUpdate(next.spec?.selector, old.spec?.selector);
  }
  if (isMessage(next, ReplicaSetSchema) && isMessage(old, ReplicaSetSchema)) {
    return validateSelectorUpdate(next.spec?.selector, old.spec?.selector);
  }
  if (isMessage(next, DaemonSetSchema) && isMessage(old, DaemonSetSchema)) {
    return validateSelectorUpdate(next.spec?.selector, old.spec?.selector);
  }
  if (isMessage(next, StatefulSetSchema) && isMessage(old, StatefulSetSchema)) {
    return validateStatefulSetSpecUpdate(next, old);
  }
  if (isMessage(next, JobSchema) && isMessage(old, JobSchema))
    return validateJobSpecUpdate(next, old);
  if (
    (isMessage(next, RoleBindingSchema) && isMessage(old, RoleBindingSchema)) ||
    (isMessage(next, ClusterRoleBindingSchema) && isMessage(old, ClusterRoleBindingSchema))
  ) {
    return validateRoleBindingUpdate(next, old);
  }
  if (isMessage(next, StorageClassSchema) && isMessage(old, StorageClassSchema)) {
    return validateStorageClassUpdate(next, old);
  }
  return [];
}

/**
 * Validates an object to be created, after defaults: its metadata (name by the kind's rule,
 * namespace required or forbidden by the kind's scope, labels, annotations, owner
 * references, finalizers) and its body. Returns every error found, empty when valid. A
 * message that is not an API object (a PodSpec, a List) gives one InternalError.
 */
export function validateObject(obj: Message): FieldError[] {
  const kind = kindForMessage(obj);
  if (kind === undefined || kind.schema.typeName !== obj.$typeName) {
    return [
      FieldError.internal(
        root(""),
        `${obj.$typeName} is not an API object; validate each item of a list`,
      ),
    ];
  }
  return [
    ...validateObjectMeta(
      metadataOf(obj),
      { namespaced: kind.namespaced, nameRule: nameRule(obj) },
      root("metadata"),
    ),
    ...validateBody(obj),
  ];
}

/**
 * Validates an update of `old` to `obj`, after defaults: metadata's immutable fields
 * (name, namespace, uid, creationTimestamp) kept, the new object valid, and the kind's update
 * rules (pod spec immutability, immutable selectors, clusterIP, roleRef, ...). `obj` and
 * `old` must be of the same kind.
 */
export function validateUpdate(obj: Message, old: Message): FieldError[] {
  const kind = kindForMessage(obj);
  if (kind === undefined || kind.schema.typeName !== obj.$typeName) {
    return [
      FieldError.internal(
        root(""),
        `${obj.$typeName} is not an API object; validate each item of a list`,
      ),
    ];
  }
  if (old.$typeName !== obj.$typeName) {
    return [
      FieldError.internal(root(""), `cannot update a ${old.$typeName} to a ${obj.$typeName}`),
    ];
  }
  return [
    ...validateObjectMetaUpdate(metadataOf(obj), metadataOf(old), root("metadata")),
    ...validateBody(obj),
    ...validateBodyUpdate(obj, old),
  ];
}
