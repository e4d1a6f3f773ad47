// What controllers ask of a pod: active, ready, available, and its rank among pods to delete
// (k8s.io/kubernetes/pkg/api/v1/pod/util.go and pkg/controller/controller_utils.go).
// https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/

import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Pod, PodCondition } from "@tug/api";

/** A pod that counts towards its owner: not finished and not being deleted (IsPodActive). */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase ?? "";
  return (
    phase !== "Succeeded" && phase !== "Failed" && pod.metadata?.deletionTimestamp === undefined
  );
}

/** The pod's Ready condition, if it has one. */
export function podReadyCondition(pod: Pod): PodCondition | undefined {
  return pod.status?.conditions.find((c) => c.type === "Ready");
}

/** Ready=True (IsPodReady). */
export function isPodReady(pod: Pod): boolean {
  return podReadyCondition(pod)?.status === "True";
}

/**
 * Ready for at least `minReadySeconds` at `nowMs` (IsPodAvailable). With minReadySeconds 0 a
 * ready pod is available at once.
 */
export function isPodAvailable(pod: Pod, minReadySeconds: number, nowMs: number): boolean {
  const ready = podReadyCondition(pod);
  if (ready?.status !== "True") return false;
  if (minReadySeconds <= 0) return true;
  const since = ready.lastTransitionTime;
  return since !== undefined && timestampMs(since) + minReadySeconds * 1000 <= nowMs;
}

const PHASE_ORDER: Readonly<Record<string, number>> = { Pending: 0, Unknown: 1, Running: 2 };

function creationMs(pod: Pod): number | undefined {
  const t = pod.metadata?.creationTimestamp;
  return t === undefined ? undefined : timestampMs(t);
}

/** A pod with the number of its owner's active pods on the same node (counting itself). */
export interface RankedPod {
  readonly pod: Pod;
  readonly rank: number;
}

/**
 * Orders pods for deletion, most deletable first (Kubernetes' ActivePodsWithRanks.Less):
 * unassigned before assigned; Pending before Unknown before Running; not ready before ready;
 * more of the owner's pods on the same node (higher rank) first; ready for less time first;
 * more container restarts first; newer before older (no creation time first). Ties fall back
 * to the name, so the order is total and the same in every process.
 */
export function compareForDeletion(a: RankedPod, b: RankedPod): number {
  const pa = a.pod;
  const pb = b.pod;
  const nodeA = pa.spec?.nodeName ?? "";
  const nodeB = pb.spec?.nodeName ?? "";
  if ((nodeA === "") !== (nodeB === "")) return nodeA === "" ? -1 : 1;
  const phaseA = PHASE_ORDER[pa.status?.phase ?? ""] ?? 0;
  const phaseB = PHASE_ORDER[pb.status?.phase ?? ""] ?? 0;
  if (phaseA !== phaseB) return phaseA - phaseB;
  const readyA = isPodReady(pa);
  const readyB = isPodReady(pb);
  if (readyA !== readyB) return readyA ? 1 : -1;
  if (a.rank !== b.rank) return b.rank - a.rank;
  if (readyA && readyB) {
    const sinceA = podReadyCondition(pa)?.lastTransitionTime;
    const sinceB = podReadyCondition(pb)?.lastTransitionTime;
    const msA = sinceA === undefined ? 0 : timestampMs(sinceA);
    const msB = sinceB === undefined ? 0 : timestampMs(sinceB);
    if (msA !== msB) return msB - msA;
  }
  const restartsA = maxRestarts(pa);
  const restartsB = maxRestarts(pb);
  if (restartsA !== restartsB) return restartsB - restartsA;
  const createdA = creationMs(pa);
  const createdB = creationMs(pb);
  if (createdA !== createdB) {
    if (createdA === undefined) return -1;
    if (createdB === undefined) return 1;
    return createdB - createdA;
  }
  const nameA = pa.metadata?.name ?? "";
  const nameB = pb.metadata?.name ?? "";
  return nameA < nameB ? -1 : nameA > nameB ? 1 : 0;
}

function maxRestarts(pod: Pod): number {
  let max = 0;
  for (const s of pod.status?.containerStatuses ?? []) max = Math.max(max, s.restartCount);
  return max;
}

/**
 * The `count` pods of `pods` to delete first (getPodsToDelete): each ranked by how many of
 * `related` (the owner's active pods, or all pods of its deployment) share its node.
 */
export function podsToDelete(pods: readonly Pod[], related: readonly Pod[], count: number): Pod[] {
  if (count >= pods.length) return [...pods];
  const perNode = new Map<string, number>();
  for (const p of related) {
    const node = p.spec?.nodeName ?? "";
    if (node !== "" && isPodActive(p)) perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  const ranked = pods.map((pod) => {
    const node = pod.spec?.nodeName ?? "";
    return { pod, rank: node === "" ? 0 : (perNode.get(node) ?? 0) };
  });
  ranked.sort(compareForDeletion);
  return ranked.slice(0, count).map((r) => r.pod);
}
