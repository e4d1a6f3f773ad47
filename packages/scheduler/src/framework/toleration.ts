// Whether a pod's tolerations tolerate a node's taint (core/v1 Toleration.ToleratesTaint).
// Reference: https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/

import type { Taint, Toleration } from "@tug/api";

/**
 * A toleration matches a taint when the effects match (an empty toleration effect matches
 * all), the keys match (an empty key with operator Exists matches every key), and, for
 * operator Equal (the default), the values are equal; Exists ignores the value.
 */
export function toleratesTaint(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect !== "" && toleration.effect !== taint.effect) return false;
  if (toleration.key !== "" && toleration.key !== taint.key) return false;
  switch (toleration.operator) {
    case "":
    case "Equal":
      return toleration.value === taint.value;
    case "Exists":
      return true;
    default:
      return false;
  }
}

/** Whether any of `tolerations` tolerates `taint`. */
export function tolerated(tolerations: readonly Toleration[], taint: Taint): boolean {
  for (const t of tolerations) if (toleratesTaint(t, taint)) return true;
  return false;
}

/** The first taint of `taints` that `tolerations` do not tolerate, or undefined. */
export function firstUntolerated(
  taints: readonly Taint[],
  tolerations: readonly Toleration[],
): Taint | undefined {
  for (const taint of taints) if (!tolerated(tolerations, taint)) return taint;
  return undefined;
}
