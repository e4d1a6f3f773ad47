// A StatefulSet pod's sticky identity (Kubernetes' pkg/controller/statefulset/stateful_set_utils.go):
// its name `<set>-<ordinal>`, the labels naming it, its hostname and subdomain under the governing
// Service, and its claims `<template>-<set>-<ordinal>` from the volumeClaimTemplates.
// https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#pod-identity

import { clone, create, fromJson, type JsonValue } from "@bufbuild/protobuf";
import {
  type ControllerRevision,
  type OwnerReference,
  type PersistentVolumeClaim,
  PersistentVolumeClaimSchema,
  type Pod,
  type PodTemplateSpec,
  PodTemplateSpecSchema,
  type StatefulSet,
  VolumeSchema,
} from "@tug/api";
import { CONTROLLER_REVISION_HASH_LABEL } from "../daemonset/daemon-pod.js";
import { newControllerRef, type OwnerIdentity } from "../framework/controller-ref.js";
import { podFromTemplate } from "../framework/pod-control.js";

/** The label naming the pod, so a Service can select one pod of the set. */
export const STATEFUL_SET_POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name";
/** The label holding the pod's ordinal (Kubernetes 1.28+). */
export const POD_INDEX_LABEL = "apps.kubernetes.io/pod-index";

/** The first ordinal: spec.ordinals.start, 0 by default. */
export function startOrdinal(set: StatefulSet): number {
  return set.spec?.ordinals?.start ?? 0;
}

/** `<set>-<ordinal>`. */
export function statefulPodName(setName: string, ordinal: number): string {
  return `${setName}-${ordinal}`;
}

/** The ordinal in a pod name `<set>-<ordinal>`; undefined for a name that is not of the set. */
export function podOrdinal(setName: string, podName: string): number | undefined {
  const prefix = `${setName}-`;
  if (!podName.startsWith(prefix)) return undefined;
  const rest = podName.slice(prefix.length);
  if (!/^(0|[1-9]\d*)$/.test(rest)) return undefined;
  const ordinal = Number(rest);
  return Number.isSafeInteger(ordinal) ? ordinal : undefined;
}

/** `<claim template>-<set>-<ordinal>`: the claim a pod keeps across restarts and rescheduling. */
export function claimName(templateName: string, setName: string, ordinal: number): string {
  return `${templateName}-${setName}-${ordinal}`;
}

/** The revision a pod was made from (its controller-revision-hash label: a revision name). */
export function podRevision(pod: Pod): string {
  return pod.metadata?.labels[CONTROLLER_REVISION_HASH_LABEL] ?? "";
}

/**
 * The pod template a revision holds (the inverse of `revisionData`: spec.template without the
 * `$patch` marker). Throws for data that is not a pod template.
 */
export function templateOfRevision(revision: ControllerRevision): PodTemplateSpec {
  const spec = revision.data?.spec as { template?: Record<string, JsonValue> } | undefined;
  const { $patch: _marker, ...template } = spec?.template ?? {};
  return fromJson(PodTemplateSpecSchema, template as JsonValue);
}

/**
 * An owner reference that lets the garbage collector delete a claim once `owner` is gone
 * (persistentVolumeClaimRetentionPolicy Delete). Not a controller reference: a claim may have
 * its set and its pod as owners at once.
 */
export function retentionOwnerRef(owner: OwnerIdentity): OwnerReference {
  const ref = newControllerRef(owner);
  ref.controller = false;
  return ref;
}

/** True when `set`'s claims go with the set (whenDeleted) or with a scaled-away pod (whenScaled). */
export function claimsDeletedWhen(set: StatefulSet, event: "deleted" | "scaled"): boolean {
  const policy = set.spec?.persistentVolumeClaimRetentionPolicy;
  return (event === "deleted" ? policy?.whenDeleted : policy?.whenScaled) === "Delete";
}

/**
 * The claims a pod of `set` at `ordinal` uses: one per volumeClaimTemplate, named
 * `<template>-<set>-<ordinal>`, with the template's labels plus the set's matchLabels (so the set
 * finds them). With the default retention policy (Retain) they have no owner and outlive the pod
 * and the set; with whenDeleted: Delete the set owns them.
 */
export function claimsFor(set: StatefulSet, ordinal: number): PersistentVolumeClaim[] {
  const setName = set.metadata?.name ?? "";
  const matchLabels = set.spec?.selector?.matchLabels ?? {};
  return (set.spec?.volumeClaimTemplates ?? []).map((template) => {
    const claim = clone(PersistentVolumeClaimSchema, template);
    claim.apiVersion = "v1";
    claim.kind = "PersistentVolumeClaim";
    claim.status = undefined;
    const meta = claim.metadata ?? create(PersistentVolumeClaimSchema).metadata;
    if (meta !== undefined) {
      meta.name = claimName(template.metadata?.name ?? "", setName, ordinal);
      meta.namespace = set.metadata?.namespace ?? "";
      meta.labels = { ...meta.labels, ...matchLabels };
      meta.resourceVersion = "";
      meta.uid = "";
      meta.ownerReferences = claimsDeletedWhen(set, "deleted")
        ? [
            retentionOwnerRef({
              apiVersion: "apps/v1",
              kind: "StatefulSet",
              name: setName,
              uid: set.metadata?.uid ?? "",
            }),
          ]
        : [];
      claim.metadata = meta;
    }
    return claim;
  });
}

/**
 * The pod at `ordinal` from `template` (newStatefulSetPod): named `<set>-<ordinal>`, labelled
 * with its name, index and `revision`, hostname its name and subdomain spec.serviceName, each
 * claim template mounted as the volume of the same name (replacing a template volume so named).
 */
export function statefulPod(
  set: StatefulSet,
  owner: OwnerIdentity,
  template: PodTemplateSpec | undefined,
  ordinal: number,
  revision: string,
): Pod {
  const setName = set.metadata?.name ?? "";
  const pod = podFromTemplate(set.metadata?.namespace ?? "", template, owner);
  const name = statefulPodName(setName, ordinal);
  if (pod.metadata !== undefined) {
    pod.metadata.name = name;
    pod.metadata.generateName = "";
    pod.metadata.ownerReferences = [newControllerRef(owner)];
    pod.metadata.labels = {
      ...pod.metadata.labels,
      [STATEFUL_SET_POD_NAME_LABEL]: name,
      [POD_INDEX_LABEL]: String(ordinal),
      [CONTROLLER_REVISION_HASH_LABEL]: revision,
    };
  }
  const spec = pod.spec;
  if (spec !== undefined) {
    spec.hostname = name;
    spec.subdomain = set.spec?.serviceName ?? "";
    for (const claim of set.spec?.volumeClaimTemplates ?? []) {
      const volumeName = claim.metadata?.name ?? "";
      const volume = create(VolumeSchema, {
        name: volumeName,
        persistentVolumeClaim: { claimName: claimName(volumeName, setName, ordinal) },
      });
      const at = spec.volumes.findIndex((v) => v.name === volumeName);
      if (at === -1) spec.volumes.push(volume);
      else spec.volumes[at] = volume;
    }
  }
  return pod;
}
