// A StatefulSet's status from its pods and revisions (Kubernetes' stateful_set_control.go
// computeReplicaStatus and completeRollingUpdate).
// https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/stateful-set-v1/#StatefulSetStatus

import { create, equals } from "@bufbuild/protobuf";
import {
  type Pod,
  type StatefulSet,
  type StatefulSetStatus,
  StatefulSetStatusSchema,
} from "@tug/api";
import { isPodAvailable, isPodReady } from "../framework/pod-state.js";
import { podRevision } from "./stateful-pod-identity.js";

export interface SetStatusInput {
  /** The set's pods that are not being deleted. */
  readonly pods: readonly Pod[];
  readonly currentRevision: string;
  readonly updateRevision: string;
  readonly collisionCount: number | undefined;
  readonly minReadySeconds: number;
  readonly nowMs: number;
}

/**
 * replicas counts the pods, readyReplicas the ready ones, availableReplicas those ready for
 * minReadySeconds, currentReplicas / updatedReplicas those of the current / update revision.
 * Under RollingUpdate, once every pod is of the update revision and ready, the update revision
 * becomes the current one (completeRollingUpdate).
 */
export function calculateStatefulSetStatus(
  set: StatefulSet,
  input: SetStatusInput,
): StatefulSetStatus {
  let ready = 0;
  let available = 0;
  let current = 0;
  let updated = 0;
  for (const pod of input.pods) {
    if (pod.status?.phase === "Running" && isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, input.minReadySeconds, input.nowMs)) available++;
    }
    const revision = podRevision(pod);
    if (revision === input.currentRevision) current++;
    if (revision === input.updateRevision) updated++;
  }
  const replicas = input.pods.length;
  let currentRevision = input.currentRevision;
  if (
    (set.spec?.updateStrategy?.type ?? "RollingUpdate") === "RollingUpdate" &&
    updated === replicas &&
    ready === replicas
  ) {
    currentRevision = input.updateRevision;
    current = updated;
  }
  return create(StatefulSetStatusSchema, {
    observedGeneration: set.status?.observedGeneration ?? 0,
    replicas,
    readyReplicas: ready,
    availableReplicas: available,
    currentReplicas: current,
    updatedReplicas: updated,
    currentRevision,
    updateRevision: input.updateRevision,
    conditions: [...(set.status?.conditions ?? [])],
    ...(input.collisionCount === undefined ? {} : { collisionCount: input.collisionCount }),
  });
}

/** True when writing `next` would change nothing but observedGeneration catching up. */
export function statefulSetStatusUnchanged(set: StatefulSet, next: StatefulSetStatus): boolean {
  const current = set.status ?? create(StatefulSetStatusSchema, {});
  return (
    equals(StatefulSetStatusSchema, current, next) &&
    current.observedGeneration === Number(set.metadata?.generation ?? 0)
  );
}
