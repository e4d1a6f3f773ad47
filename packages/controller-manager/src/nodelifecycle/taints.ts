// Node taints the controllers manage and how a pod's tolerations match them (Kubernetes'
// k8s.io/api/core/v1 well-known taints and v1helper.TolerationsTolerateTaint).
// https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/
// https://kubernetes.io/docs/reference/labels-annotations-taints/

import type { Taint, Toleration } from "@tug/api";

/** The node's Ready condition is False. */
export const TAINT_NODE_NOT_READY = "node.kubernetes.io/not-ready";
/** The node's Ready condition is Unknown: the node controller lost contact with it. */
export const TAINT_NODE_UNREACHABLE = "node.kubernetes.io/unreachable";
/** spec.unschedulable (a cordoned node). */
export const TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
export const TAINT_NODE_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure";
export const TAINT_NODE_DISK_PRESSURE = "node.kubernetes.io/disk-pressure";
export const TAINT_NODE_PID_PRESSURE = "node.kubernetes.io/pid-pressure";
export const TAINT_NODE_NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable";

export type TaintEffect = "NoSchedule" | "PreferNoSchedule" | "NoExecute";

/** Whether `toleration` tolerates `taint` (ToleratesTaint): effect, key, then operator. */
export function toleratesTaint(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect !== "" && toleration.effect !== taint.effect) return false;
  if (toleration.key !== "" && toleration.key !== taint.key) return false;
  switch (toleration.operator) {
    case "Exists":
      return true;
    case "":
    case "Equal":
      return toleration.value === taint.value;
    default:
      return false;
  }
}

/**
 * The tolerations that let a pod stay despite `taints` (GetMatchingTolerations), one per taint
 * (the first that matches); undefined when some taint is tolerated by none.
 */
export function matchingTolerations(
  taints: readonly Taint[],
  tolerations: readonly Toleration[],
): Toleration[] | undefined {
  const used: Toleration[] = [];
  for (const taint of taints) {
    const match = tolerations.find((t) => toleratesTaint(t, taint));
    if (match === undefined) return undefined;
    used.push(match);
  }
  return used;
}

/**
 * How long a pod may stay, in ms, given the tolerations it uses (getMinTolerationTime): the
 * smallest tolerationSeconds among them, a negative one counting as 0; Infinity when none sets
 * tolerationSeconds (tolerated forever).
 */
export function minTolerationMs(used: readonly Toleration[]): number {
  let min = Number.POSITIVE_INFINITY;
  for (const t of used) {
    if (t.tolerationSeconds === undefined) continue;
    min = Math.min(min, Math.max(0, t.tolerationSeconds) * 1000);
  }
  return min;
}

/** Same key and effect (Taint.MatchTaint): a node holds at most one taint per pair. */
export function sameTaint(a: Pick<Taint, "key" | "effect">, b: Pick<Taint, "key" | "effect">) {
  return a.key === b.key && a.effect === b.effect;
}
