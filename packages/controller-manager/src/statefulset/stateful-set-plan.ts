// The StatefulSet controller's decisions, pure (Kubernetes' stateful_set_control.go
// updateStatefulSet): which ordinal to create, which pod to delete, in what order, and one step
// of a RollingUpdate.
// https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#deployment-and-scaling-guarantees
// https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#rolling-updates

import type { Pod } from "@tug/api";
import { isPodAvailable, isPodReady } from "../framework/pod-state.js";
import { podRevision } from "./stateful-pod-identity.js";

/** A pod with its ordinal. */
export interface OrdinalPod {
  readonly ordinal: number;
  readonly pod: Pod;
}

export interface SetPlanInput {
  /** spec.ordinals.start. */
  readonly start: number;
  /** spec.replicas. */
  readonly replicas: number;
  /** podManagementPolicy OrderedReady: one pod at a time, each healthy before the next. */
  readonly ordered: boolean;
  /** The set's pods (terminating ones included), with parseable ordinals. */
  readonly pods: readonly OrdinalPod[];
  readonly updateRevision: string;
  /** RollingUpdate's partition; undefined for OnDelete (no automatic replacement). */
  readonly partition: number | undefined;
  readonly minReadySeconds: number;
  readonly nowMs: number;
}

/** A step: ordinals to create (claims first), pods to delete. Empty when nothing is to do now. */
export interface SetPlan {
  readonly create: number[];
  readonly remove: Pod[];
}

function isTerminating(pod: Pod): boolean {
  return pod.metadata?.deletionTimestamp !== undefined;
}

function isFinished(pod: Pod): boolean {
  const phase = pod.status?.phase ?? "";
  return phase === "Failed" || phase === "Succeeded";
}

/** Running, ready for minReadySeconds, and not terminating (isHealthy with availability). */
export function isStatefulPodHealthy(pod: Pod, minReadySeconds: number, nowMs: number): boolean {
  return (
    !isTerminating(pod) &&
    pod.status?.phase === "Running" &&
    isPodReady(pod) &&
    isPodAvailable(pod, minReadySeconds, nowMs)
  );
}

/**
 * The next step towards spec.replicas pods at ordinals [start, start+replicas), the update
 * revision on ordinals ≥ partition:
 * - a failed or succeeded pod is deleted (it is recreated once gone);
 * - a missing ordinal is created — under OrderedReady only once every lower ordinal is healthy,
 *   and one at a time;
 * - pods beyond the range are deleted from the highest ordinal down — under OrderedReady one at a
 *   time, and only while every pod in range is healthy (or the unhealthy one is the pod deleted);
 * - then, with a partition, from the highest ordinal down to the partition, the first pod not of
 *   the update revision is deleted (recreated at the update revision), waiting at any unhealthy
 *   pod on the way.
 */
export function planStatefulSet(input: SetPlanInput): SetPlan {
  const { start, replicas, ordered } = input;
  const end = start + replicas;
  const healthy = (pod: Pod) => isStatefulPodHealthy(pod, input.minReadySeconds, input.nowMs);
  const byOrdinal = new Map<number, Pod>();
  for (const p of input.pods) byOrdinal.set(p.ordinal, p.pod);
  const condemned = input.pods
    .filter((p) => p.ordinal < start || p.ordinal >= end)
    .sort((a, b) => b.ordinal - a.ordinal);
  const create: number[] = [];
  const remove: Pod[] = [];
  let firstUnhealthy: Pod | undefined;
  for (let ordinal = start; ordinal < end; ordinal++) {
    const pod = byOrdinal.get(ordinal);
    if (pod === undefined) {
      create.push(ordinal);
      if (ordered) return { create, remove };
      continue;
    }
    if (isFinished(pod) && !isTerminating(pod)) {
      remove.push(pod);
      if (ordered) return { create, remove };
      continue;
    }
    if (!healthy(pod)) {
      firstUnhealthy ??= pod;
      if (ordered) return { create, remove };
    }
  }
  for (const { pod } of condemned) {
    if (isTerminating(pod)) {
      if (ordered) return { create, remove };
      continue;
    }
    if (ordered && firstUnhealthy !== undefined && firstUnhealthy !== pod) {
      return { create, remove };
    }
    remove.push(pod);
    if (ordered) return { create, remove };
  }
  if (input.partition === undefined || create.length > 0 || remove.length > 0) {
    return { create, remove };
  }
  const floor = Math.max(start, start + input.partition);
  for (let ordinal = end - 1; ordinal >= floor; ordinal--) {
    const pod = byOrdinal.get(ordinal);
    if (pod === undefined) break;
    if (podRevision(pod) !== input.updateRevision && !isTerminating(pod)) {
      return { create, remove: [pod] };
    }
    if (!healthy(pod)) break;
  }
  return { create, remove };
}

/**
 * The revision a new pod at `ordinal` gets (newVersionedStatefulSetPod): under RollingUpdate,
 * the current revision below the partition; the update revision otherwise.
 */
export function revisionForOrdinal(
  ordinal: number,
  start: number,
  partition: number | undefined,
  currentRevision: string,
  updateRevision: string,
): string {
  if (partition !== undefined && ordinal < start + partition) return currentRevision;
  return updateRevision;
}
