// Which pods `tug drain` evicts, skips or refuses, with kubectl's reasons (k8s.io/kubectl
// pkg/drain filters.go): mirror pods and finished pods are left alone, DaemonSet pods are
// ignored with --ignore-daemonsets (else fatal), pods without a controller need --force, pods
// with emptyDir volumes need --delete-emptydir-data (their data is lost).
// https://kubernetes.io/docs/reference/kubectl/generated/kubectl_drain/

import type { JsonObject } from "@tug/api";
import { arr, obj, str } from "../printers/json-view.js";

export interface DrainFilterOptions {
  readonly force: boolean;
  readonly ignoreDaemonsets: boolean;
  readonly deleteEmptydirData: boolean;
}

/** kubectl's texts; a fatal reason lists its pods after ": ". */
export const UNMANAGED_FATAL =
  "cannot delete Pods that declare no controller (use --force to override)";
export const UNMANAGED_WARNING = "deleting Pods that declare no controller";
export const DAEMONSET_FATAL =
  "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)";
export const DAEMONSET_WARNING = "ignoring DaemonSet-managed Pods";
export const LOCAL_STORAGE_FATAL =
  "cannot delete Pods with local storage (use --delete-emptydir-data to override)";
export const LOCAL_STORAGE_WARNING = "deleting Pods with local storage";

/** The annotation a static pod's mirror carries; the agent, not the API, owns such pods. */
export const MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror";

/** A pod as "namespace/name" for messages. */
export function podKey(pod: JsonObject): string {
  return `${str(pod, "metadata", "namespace")}/${str(pod, "metadata", "name")}`;
}

export interface DrainPlan {
  /** The pods to evict, in the order listed. */
  readonly evict: JsonObject[];
  /** Warning text → pod keys (evicted or skipped anyway). */
  readonly warnings: Map<string, string[]>;
  /** Fatal text → pod keys; any entry stops the drain before the first eviction. */
  readonly errors: Map<string, string[]>;
}

function controllerKind(pod: JsonObject): string | undefined {
  for (const ref of arr(pod, "metadata", "ownerReferences")) {
    if (typeof ref === "object" && ref !== null && !Array.isArray(ref) && ref.controller === true) {
      return str(ref, "kind");
    }
  }
  return undefined;
}

function hasEmptyDir(pod: JsonObject): boolean {
  return arr(pod, "spec", "volumes").some(
    (v) =>
      typeof v === "object" && v !== null && !Array.isArray(v) && obj(v, "emptyDir") !== undefined,
  );
}

function add(map: Map<string, string[]>, reason: string, key: string): void {
  const list = map.get(reason);
  if (list === undefined) map.set(reason, [key]);
  else list.push(key);
}

/**
 * Sorts the pods bound to a node into those to evict, warnings and fatal errors, applying
 * kubectl's filters in kubectl's order (mirror, already deleting, DaemonSet, unmanaged, local
 * storage). Pure: the pods are read, never changed.
 */
export function planDrain(pods: readonly JsonObject[], options: DrainFilterOptions): DrainPlan {
  const plan: DrainPlan = { evict: [], warnings: new Map(), errors: new Map() };
  for (const pod of pods) {
    const key = podKey(pod);
    if (str(pod, "metadata", "annotations", MIRROR_POD_ANNOTATION) !== "") continue;
    if (str(pod, "metadata", "deletionTimestamp") !== "") continue;
    const phase = str(pod, "status", "phase");
    const finished = phase === "Succeeded" || phase === "Failed";
    const controller = controllerKind(pod);
    if (controller === "DaemonSet") {
      if (options.ignoreDaemonsets) add(plan.warnings, DAEMONSET_WARNING, key);
      else add(plan.errors, DAEMONSET_FATAL, key);
      continue;
    }
    if (controller === undefined && !finished) {
      if (!options.force) {
        add(plan.errors, UNMANAGED_FATAL, key);
        continue;
      }
      add(plan.warnings, UNMANAGED_WARNING, key);
    }
    if (hasEmptyDir(pod) && !finished) {
      if (!options.deleteEmptydirData) {
        add(plan.errors, LOCAL_STORAGE_FATAL, key);
        continue;
      }
      add(plan.warnings, LOCAL_STORAGE_WARNING, key);
    }
    plan.evict.push(pod);
  }
  return plan;
}

/** "reason: ns/a, ns/b; reason2: ..." as kubectl joins its filter messages. */
export function formatReasons(map: ReadonlyMap<string, readonly string[]>): string {
  return [...map.entries()].map(([reason, keys]) => `${reason}: ${keys.join(", ")}`).join("; ");
}
