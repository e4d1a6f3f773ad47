// A DaemonSet's status from its nodes and pods (updateDaemonSetStatus in Kubernetes'
// pkg/controller/daemon/daemon_controller.go).
// https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/daemon-set-v1/#DaemonSetStatus

import { create, equals } from "@bufbuild/protobuf";
import { type DaemonSet, type DaemonSetStatus, DaemonSetStatusSchema, type Pod } from "@tug/api";
import { isPodAvailable, isPodReady } from "../framework/pod-state.js";
import { CONTROLLER_REVISION_HASH_LABEL } from "./daemon-pod.js";
import { byScheduledThenAge } from "./daemon-set-plan.js";

export interface StatusInput {
  /** Every node's name and whether the daemon pod should run there. */
  readonly nodes: readonly { readonly name: string; readonly shouldRun: boolean }[];
  /** The DaemonSet's pods that are not being deleted, by target node. */
  readonly podsByNode: ReadonlyMap<string, readonly Pod[]>;
  readonly hash: string;
  readonly minReadySeconds: number;
  readonly nowMs: number;
}

/**
 * desiredNumberScheduled counts nodes that should run the pod; currentNumberScheduled those of
 * them that have one; numberMisscheduled nodes that have one but should not; numberReady,
 * numberAvailable (ready for minReadySeconds) and updatedNumberScheduled (the current
 * revision's hash) look at the oldest pod of each node that should run one; numberUnavailable
 * is desired − available. observedGeneration and collisionCount are left to the caller.
 */
export function calculateDaemonSetStatus(ds: DaemonSet, input: StatusInput): DaemonSetStatus {
  let desired = 0;
  let current = 0;
  let misscheduled = 0;
  let ready = 0;
  let available = 0;
  let updated = 0;
  for (const node of input.nodes) {
    const pods = [...(input.podsByNode.get(node.name) ?? [])].sort(byScheduledThenAge);
    const pod = pods[0];
    if (!node.shouldRun) {
      if (pod !== undefined) misscheduled++;
      continue;
    }
    desired++;
    if (pod === undefined) continue;
    current++;
    if (isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, input.minReadySeconds, input.nowMs)) available++;
    }
    if (pod.metadata?.labels[CONTROLLER_REVISION_HASH_LABEL] === input.hash) updated++;
  }
  return create(DaemonSetStatusSchema, {
    desiredNumberScheduled: desired,
    currentNumberScheduled: current,
    numberMisscheduled: misscheduled,
    numberReady: ready,
    numberAvailable: available,
    updatedNumberScheduled: updated,
    numberUnavailable: desired - available,
    observedGeneration: ds.status?.observedGeneration ?? 0,
    conditions: [...(ds.status?.conditions ?? [])],
    ...(ds.status?.collisionCount === undefined
      ? {}
      : { collisionCount: ds.status.collisionCount }),
  });
}

/** True when writing `next` would change nothing but observedGeneration catching up. */
export function daemonSetStatusUnchanged(ds: DaemonSet, next: DaemonSetStatus): boolean {
  const current = ds.status ?? create(DaemonSetStatusSchema, {});
  return (
    equals(DaemonSetStatusSchema, current, next) &&
    current.observedGeneration === Number(ds.metadata?.generation ?? 0)
  );
}
