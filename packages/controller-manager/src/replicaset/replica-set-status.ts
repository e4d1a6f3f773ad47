// A ReplicaSet's status from the pods it controls (calculateStatus in Kubernetes'
// pkg/controller/replicaset/replica_set_utils.go).
// https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/replica-set-v1/#ReplicaSetStatus

import { create, equals } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type Pod,
  type ReplicaSet,
  ReplicaSetConditionSchema,
  type ReplicaSetStatus,
  ReplicaSetStatusSchema,
} from "@tug/api";
import { isPodAvailable, isPodReady } from "../framework/pod-state.js";

/** The condition a ReplicaSet carries while it cannot create or delete pods. */
export const REPLICA_FAILURE = "ReplicaFailure";

/**
 * The status `rs` should have with `pods` (its active, claimed pods) at `now`. When
 * `manageError` is set a ReplicaFailure=True condition (reason FailedCreate or FailedDelete) is
 * added if there is none; without it any ReplicaFailure condition is removed.
 */
export function calculateReplicaSetStatus(
  rs: ReplicaSet,
  pods: readonly Pod[],
  manageError: unknown,
  now: Date,
): ReplicaSetStatus {
  const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
  const templateLabels = rs.spec?.template?.metadata?.labels ?? {};
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const pod of pods) {
    const labels = pod.metadata?.labels ?? {};
    if (Object.entries(templateLabels).every(([k, v]) => labels[k] === v)) fullyLabeled++;
    if (isPodReady(pod)) ready++;
    if (isPodAvailable(pod, minReadySeconds, now.getTime())) available++;
  }
  let conditions = [...(rs.status?.conditions ?? [])];
  const failure = conditions.find((c) => c.type === REPLICA_FAILURE);
  if (manageError !== undefined && failure === undefined) {
    const diff = pods.length - (rs.spec?.replicas ?? 1);
    conditions.push(
      create(ReplicaSetConditionSchema, {
        type: REPLICA_FAILURE,
        status: "True",
        reason: diff < 0 ? "FailedCreate" : "FailedDelete",
        message: manageError instanceof Error ? manageError.message : String(manageError),
        lastTransitionTime: timestampFromDate(now),
      }),
    );
  } else if (manageError === undefined && failure !== undefined) {
    conditions = conditions.filter((c) => c.type !== REPLICA_FAILURE);
  }
  return create(ReplicaSetStatusSchema, {
    replicas: pods.length,
    fullyLabeledReplicas: fullyLabeled,
    readyReplicas: ready,
    availableReplicas: available,
    observedGeneration: rs.status?.observedGeneration ?? 0,
    conditions,
  });
}

/** True when writing `next` would change nothing but observedGeneration catching up. */
export function replicaSetStatusUnchanged(rs: ReplicaSet, next: ReplicaSetStatus): boolean {
  const current = rs.status ?? create(ReplicaSetStatusSchema, {});
  return (
    equals(ReplicaSetStatusSchema, current, next) &&
    current.observedGeneration === (rs.metadata?.generation ?? 0)
  );
}
