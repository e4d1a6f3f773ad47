// Fields that Kubernetes writes to JSON even when they hold their zero value (Go struct fields
// without `omitempty`), such as a container status's `ready: false` and `restartCount: 0`.
// proto3 JSON leaves every zero scalar out, so objectToJson puts these back: without them a
// not-ready container would simply have no `ready` in `tug get -o yaml`. Only scalars are
// listed; Kubernetes' always-written lists and times print as null, which says nothing.
// Source: the json tags of k8s.io/api core/v1, apps/v1, rbac/v1, policy/v1, storage/v1 and
// k8s.io/apimachinery meta/v1 types.

import { type DescMessage, type JsonObject, type JsonValue, ScalarType } from "@bufbuild/protobuf";

/** Message type name (without "tug.") to the JSON names of its always-written scalars. */
const ALWAYS_WRITTEN: Readonly<Record<string, readonly string[]>> = {
  "meta.v1.OwnerReference": ["apiVersion", "kind", "name", "uid"],
  "meta.v1.LabelSelectorRequirement": ["key", "operator"],
  "meta.v1.Condition": ["type", "status", "reason", "message"],
  "core.v1.Container": ["name"],
  "core.v1.ContainerPort": ["containerPort"],
  "core.v1.EnvVar": ["name"],
  "core.v1.ObjectFieldSelector": ["fieldPath"],
  "core.v1.ResourceFieldSelector": ["resource"],
  "core.v1.ConfigMapKeySelector": ["key"],
  "core.v1.SecretKeySelector": ["key"],
  "core.v1.VolumeMount": ["name", "mountPath"],
  "core.v1.HTTPHeader": ["name", "value"],
  "core.v1.Volume": ["name"],
  "core.v1.KeyToPath": ["key", "path"],
  "core.v1.DownwardAPIVolumeFile": ["path"],
  "core.v1.NodeSelectorRequirement": ["key", "operator"],
  "core.v1.PreferredSchedulingTerm": ["weight"],
  "core.v1.WeightedPodAffinityTerm": ["weight"],
  "core.v1.TopologySpreadConstraint": ["maxSkew", "topologyKey", "whenUnsatisfiable"],
  "core.v1.Taint": ["key", "effect"],
  "core.v1.PodCondition": ["type", "status"],
  "core.v1.PodIP": ["ip"],
  "core.v1.HostIP": ["ip"],
  "core.v1.ContainerStatus": ["name", "ready", "restartCount", "image", "imageID"],
  "core.v1.ContainerStateTerminated": ["exitCode"],
  "core.v1.VolumeMountStatus": ["name", "mountPath"],
  "core.v1.NodeCondition": ["type", "status"],
  "core.v1.NodeAddress": ["type", "address"],
  "core.v1.DaemonEndpoint": ["Port"],
  "core.v1.NodeRuntimeHandler": ["name"],
  "core.v1.NodeSystemInfo": [
    "machineID",
    "systemUUID",
    "bootID",
    "kernelVersion",
    "osImage",
    "containerRuntimeVersion",
    "kubeletVersion",
    "kubeProxyVersion",
    "operatingSystem",
    "architecture",
  ],
  "core.v1.NamespaceCondition": ["type", "status"],
  "core.v1.ServicePort": ["port"],
  "core.v1.EndpointAddress": ["ip"],
  "core.v1.EndpointPort": ["port"],
  "core.v1.Event": ["reportingComponent", "reportingInstance"],
  "core.v1.PersistentVolumeClaimCondition": ["type", "status"],
  "core.v1.ScopedResourceSelectorRequirement": ["scopeName", "operator"],
  "core.v1.TopologySelectorLabelRequirement": ["key"],
  "apps.v1.DeploymentCondition": ["type", "status"],
  "apps.v1.ReplicaSetStatus": ["replicas"],
  "apps.v1.ReplicaSetCondition": ["type", "status"],
  "apps.v1.DaemonSetStatus": [
    "currentNumberScheduled",
    "numberMisscheduled",
    "desiredNumberScheduled",
    "numberReady",
  ],
  "apps.v1.DaemonSetCondition": ["type", "status"],
  "apps.v1.StatefulSetStatus": ["replicas"],
  "apps.v1.StatefulSetCondition": ["type", "status"],
  "apps.v1.ControllerRevision": ["revision"],
  "batch.v1.CronJobSpec": ["schedule"],
  "batch.v1.JobCondition": ["type", "status"],
  "batch.v1.PodFailurePolicyRule": ["action"],
  "batch.v1.PodFailurePolicyOnExitCodesRequirement": ["operator"],
  "batch.v1.PodFailurePolicyOnPodConditionsPattern": ["type", "status"],
  "rbac.v1.Subject": ["kind", "name"],
  "rbac.v1.RoleRef": ["apiGroup", "kind", "name"],
  "networking.v1.IPBlock": ["cidr"],
  "policy.v1.PodDisruptionBudgetStatus": [
    "disruptionsAllowed",
    "currentHealthy",
    "desiredHealthy",
    "expectedPods",
  ],
  "storage.v1.StorageClass": ["provisioner"],
};

function zeroOf(type: ScalarType): JsonValue {
  switch (type) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return "";
    case ScalarType.BOOL:
      return false;
    default:
      return 0;
  }
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Adds, in place, the always-written fields that proto3 JSON left out of `json` (the proto3
 * JSON of a `message`), at every depth. Returns `json`.
 */
export function addAlwaysWritten(message: DescMessage, json: JsonObject): JsonObject {
  const always = ALWAYS_WRITTEN[message.typeName.replace(/^tug\./, "")] ?? [];
  for (const field of message.fields) {
    const value = json[field.jsonName];
    if (value === undefined) {
      if (field.fieldKind === "scalar" && always.includes(field.jsonName)) {
        json[field.jsonName] = zeroOf(field.scalar);
      }
      continue;
    }
    if (field.fieldKind === "message" && isObject(value) && !isWkt(field.message)) {
      addAlwaysWritten(field.message, value);
    } else if (field.fieldKind === "list" && field.listKind === "message" && Array.isArray(value)) {
      if (isWkt(field.message)) continue;
      for (const item of value) if (isObject(item)) addAlwaysWritten(field.message, item);
    } else if (field.fieldKind === "map" && field.mapKind === "message" && isObject(value)) {
      if (isWkt(field.message)) continue;
      for (const item of Object.values(value))
        if (isObject(item)) addAlwaysWritten(field.message, item);
    }
  }
  return json;
}

function isWkt(message: DescMessage): boolean {
  return message.typeName.startsWith("google.protobuf.");
}
