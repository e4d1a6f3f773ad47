// The DaemonSet controller's decisions, pure: which nodes need a daemon pod and which pods go
// (Kubernetes' daemon_controller.go podsShouldBeOnNode / getUnscheduledPodsWithoutNode), and
// the steps of a rolling update (update.go rollingUpdate, for maxSurge 0 and above).
// https://kubernetes.io/docs/tasks/manage-daemon/update-daemon-set/

import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Node, Pod } from "@tug/api";
import { scaledValue } from "../deployment/deployment-util.js";
import { isPodAvailable, isPodReady } from "../framework/pod-state.js";
import { CONTROLLER_REVISION_HASH_LABEL, type NodeDecision } from "./daemon-pod.js";

/** Oldest first, pods bound to a node before unbound ones, ties by name (podByCreationTimestampAndPhase). */
export function byScheduledThenAge(a: Pod, b: Pod): number {
  const boundA = (a.spec?.nodeName ?? "") !== "";
  const boundB = (b.spec?.nodeName ?? "") !== "";
  if (boundA !== boundB) return boundA ? -1 : 1;
  const ta = a.metadata?.creationTimestamp;
  const tb = b.metadata?.creationTimestamp;
  const ma = ta === undefined ? 0 : timestampMs(ta);
  const mb = tb === undefined ? 0 : timestampMs(tb);
  if (ma !== mb) return ma - mb;
  const na = a.metadata?.name ?? "";
  const nb = b.metadata?.name ?? "";
  return na < nb ? -1 : na > nb ? 1 : 0;
}

function isDeleting(pod: Pod): boolean {
  return pod.metadata?.deletionTimestamp !== undefined;
}

export interface ManageInput {
  /** Every node, with where the DaemonSet stands on it. */
  readonly nodes: readonly { readonly node: Node; readonly decision: NodeDecision }[];
  /** The DaemonSet's pods (terminating ones included) by target node name. */
  readonly podsByNode: ReadonlyMap<string, readonly Pod[]>;
  /** The current revision's hash (the controller-revision-hash of up-to-date pods). */
  readonly hash: string;
  /** maxSurge > 0 under RollingUpdate: a node may briefly hold an old and a new pod. */
  readonly allowsSurge: boolean;
  readonly minReadySeconds: number;
  readonly nowMs: number;
  /** True while failed pods on `node` must not be replaced yet (failed-pod back-off). */
  readonly inBackoff: (nodeName: string) => boolean;
}

export interface ManagePlan {
  /** Nodes to create a daemon pod for. */
  readonly createOn: string[];
  /** Pods to delete: failed or succeeded, duplicates, on nodes they may not stay on. */
  readonly remove: Pod[];
  /** The failed pods among `remove` (an event each, and back-off for their node). */
  readonly failed: Pod[];
  /** Nodes whose failed pod waits out its back-off (sync again later). */
  readonly backingOff: string[];
}

/**
 * What to create and delete so that every node that should run the daemon pod has exactly one
 * (two while surging), and none runs where it may not stay (podsShouldBeOnNode). A node with a
 * terminating pod gets its new pod only once that one is gone. Pods whose node does not exist
 * are deleted.
 */
export function planManage(input: ManageInput): ManagePlan {
  const createOn: string[] = [];
  const remove: Pod[] = [];
  const failed: Pod[] = [];
  const backingOff: string[] = [];
  const known = new Set<string>();
  for (const { node, decision } of input.nodes) {
    const nodeName = node.metadata?.name ?? "";
    known.add(nodeName);
    const pods = input.podsByNode.get(nodeName) ?? [];
    if (decision.shouldRun && pods.length === 0) {
      createOn.push(nodeName);
      continue;
    }
    if (!decision.shouldContinueRunning) {
      remove.push(...pods.filter((p) => !isDeleting(p)));
      continue;
    }
    const running: Pod[] = [];
    for (const pod of pods) {
      if (isDeleting(pod)) continue;
      const phase = pod.status?.phase ?? "";
      if (phase === "Failed") {
        if (input.inBackoff(nodeName)) {
          backingOff.push(nodeName);
          continue;
        }
        failed.push(pod);
        remove.push(pod);
      } else if (phase === "Succeeded") {
        remove.push(pod);
      } else {
        running.push(pod);
      }
    }
    running.sort(byScheduledThenAge);
    if (!input.allowsSurge) {
      remove.push(...running.slice(1));
      continue;
    }
    if (running.length === 0) {
      // Surging: a node must keep one pod that is not being deleted.
      if (decision.shouldRun) createOn.push(nodeName);
      continue;
    }
    // Surging: an old and a new pod may share the node only while the old one is ready and the
    // new one not yet available; otherwise the new one stays alone.
    let oldestNew: Pod | undefined;
    let oldestOld: Pod | undefined;
    for (const pod of running) {
      const isNew = pod.metadata?.labels[CONTROLLER_REVISION_HASH_LABEL] === input.hash;
      if (isNew && oldestNew === undefined) oldestNew = pod;
      else if (!isNew && oldestOld === undefined) oldestOld = pod;
      else remove.push(pod);
    }
    if (oldestNew !== undefined && oldestOld !== undefined) {
      if (!isPodReady(oldestOld) || isPodAvailable(oldestNew, input.minReadySeconds, input.nowMs)) {
        remove.push(oldestOld);
      }
    }
  }
  for (const [nodeName, pods] of input.podsByNode) {
    if (!known.has(nodeName)) remove.push(...pods.filter((p) => !isDeleting(p)));
  }
  return { createOn, remove, failed, backingOff };
}

/**
 * The up-to-date and the old pod on a node, ignoring terminating ones (findUpdatedPodsOnNode);
 * undefined when the node holds two of either kind (the manage step must clean it up first).
 */
export function updatedPodsOnNode(
  pods: readonly Pod[],
  hash: string,
): { newPod: Pod | undefined; oldPod: Pod | undefined } | undefined {
  let newPod: Pod | undefined;
  let oldPod: Pod | undefined;
  for (const pod of pods) {
    if (isDeleting(pod)) continue;
    if (pod.metadata?.labels[CONTROLLER_REVISION_HASH_LABEL] === hash) {
      if (newPod !== undefined) return undefined;
      newPod = pod;
    } else {
      if (oldPod !== undefined) return undefined;
      oldPod = pod;
    }
  }
  return { newPod, oldPod };
}

export interface RollingUpdateInput {
  /** The DaemonSet's pods by target node name (only nodes that have some). */
  readonly podsByNode: ReadonlyMap<string, readonly Pod[]>;
  readonly hash: string;
  /** Resolved against desiredNumberScheduled (see `rollingUpdateBounds`). */
  readonly maxSurge: number;
  readonly maxUnavailable: number;
  readonly minReadySeconds: number;
  readonly nowMs: number;
  /** Whether a daemon pod should run on the node now. */
  readonly shouldRun: (nodeName: string) => boolean;
}

export interface RollingUpdatePlan {
  /** Old pods to delete now. */
  readonly remove: Pod[];
  /** Nodes to create an up-to-date pod on next to the old one (surge). */
  readonly createOn: string[];
}

/**
 * One step of a RollingUpdate (rollingUpdate). Without surge: delete old pods that are not
 * available, and old available ones while fewer than maxUnavailable nodes are unavailable — the
 * manage step then creates their replacements once they are gone. With surge: create a new pod
 * next to each old one that is unavailable, and next to up to maxSurge more; delete an old pod
 * once its new neighbour is available. Nodes are visited in name order, so the plan is the same
 * in every process.
 */
export function planRollingUpdate(input: RollingUpdateInput): RollingUpdatePlan {
  const nodes = [...input.podsByNode.keys()].sort();
  const available = (pod: Pod) => isPodAvailable(pod, input.minReadySeconds, input.nowMs);
  if (input.maxSurge === 0) {
    let unavailable = 0;
    const replace: Pod[] = [];
    const candidates: Pod[] = [];
    for (const nodeName of nodes) {
      const found = updatedPodsOnNode(input.podsByNode.get(nodeName) ?? [], input.hash);
      if (found === undefined) {
        unavailable++;
        continue;
      }
      const { newPod, oldPod } = found;
      if ((newPod === undefined) === (oldPod === undefined)) {
        // Nothing, or both: the manage step creates or deletes; count it unavailable.
        unavailable++;
      } else if (newPod !== undefined) {
        if (!available(newPod)) unavailable++;
      } else if (oldPod !== undefined) {
        if (!available(oldPod)) replace.push(oldPod);
        else if (unavailable < input.maxUnavailable) candidates.push(oldPod);
      }
    }
    const room = Math.min(Math.max(0, input.maxUnavailable - unavailable), candidates.length);
    return { remove: [...replace, ...candidates.slice(0, room)], createOn: [] };
  }
  const remove: Pod[] = [];
  const allowed: string[] = [];
  const candidates: string[] = [];
  let surging = 0;
  for (const nodeName of nodes) {
    const found = updatedPodsOnNode(input.podsByNode.get(nodeName) ?? [], input.hash);
    if (found === undefined) {
      surging++;
      continue;
    }
    const { newPod, oldPod } = found;
    if (oldPod === undefined) continue;
    if (newPod === undefined) {
      if (!available(oldPod)) {
        if (!input.shouldRun(nodeName)) remove.push(oldPod);
        else allowed.push(nodeName);
      } else if (surging < input.maxSurge) {
        candidates.push(nodeName);
      }
      continue;
    }
    if (!available(newPod)) {
      surging++;
      continue;
    }
    remove.push(oldPod);
  }
  const room = Math.min(Math.max(0, input.maxSurge - surging), candidates.length);
  return { remove, createOn: [...allowed, ...candidates.slice(0, room)] };
}

/**
 * maxSurge and maxUnavailable of a DaemonSet's rolling update as pod counts for `desired`
 * scheduled nodes (both rounded up; defaults 0 and 1); when both come out 0, maxUnavailable is 1.
 */
export function rollingUpdateBounds(
  maxSurge: number | string | undefined,
  maxUnavailable: number | string | undefined,
  desired: number,
): { maxSurge: number; maxUnavailable: number } {
  const surge = scaledValue(
    maxSurge,
    "0%",
    desired,
    true,
    "spec.updateStrategy.rollingUpdate.maxSurge",
  );
  let unavailable =
    maxUnavailable === undefined
      ? 1
      : scaledValue(
          maxUnavailable,
          "0%",
          desired,
          true,
          "spec.updateStrategy.rollingUpdate.maxUnavailable",
        );
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { maxSurge: surge, maxUnavailable: unavailable };
}
