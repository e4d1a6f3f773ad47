// The arithmetic of Deployments (Kubernetes' pkg/controller/deployment/util/deployment_util.go):
// annotations, revisions, surge and unavailability bounds, which ReplicaSet is new, and how
// many replicas each ReplicaSet gets. Pure functions over API objects, never mutating them.
// https://kubernetes.io/docs/concepts/workloads/controllers/deployment/

import { timestampMs } from "@bufbuild/protobuf/wkt";
import { type Deployment, intOrString, type ReplicaSet } from "@tug/api";
import { equalIgnoreHash } from "./pod-template-hash.js";

export const REVISION_ANNOTATION = "deployment.kubernetes.io/revision";
export const REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history";
export const DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas";
export const MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas";
/** kubectl apply's record of the applied manifest: never copied to ReplicaSets. */
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";
/** The longest revision-history annotation kept (Kubernetes' default, 2000 characters). */
export const MAX_REVISION_HISTORY_CHARS = 2000;

/** Deployment annotations that belong to the Deployment alone (skipCopyAnnotation). */
export const ANNOTATIONS_NOT_COPIED: ReadonlySet<string> = new Set([
  LAST_APPLIED_ANNOTATION,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  "deprecated.deployment.rollback.to",
]);

export const ROLLING_UPDATE = "RollingUpdate";
export const RECREATE = "Recreate";

/** spec.replicas of a Deployment or ReplicaSet (default 1, as the API server defaults it). */
export function specReplicas(obj: Deployment | ReplicaSet): number {
  return obj.spec?.replicas ?? 1;
}

/** The revision annotation of an object as a number; 0 when absent or not a number. */
export function revisionOf(obj: {
  metadata?: { annotations: Record<string, string> } | undefined;
}): number {
  const text = obj.metadata?.annotations[REVISION_ANNOTATION];
  if (text === undefined || !/^\d+$/.test(text)) return 0;
  return Number(text);
}

/** The highest revision among `rss` (MaxRevision); 0 for none. */
export function maxRevision(rss: readonly ReplicaSet[]): number {
  let max = 0;
  for (const rs of rss) max = Math.max(max, revisionOf(rs));
  return max;
}

export function isRollingUpdate(d: Deployment): boolean {
  return (d.spec?.strategy?.type || ROLLING_UPDATE) === ROLLING_UPDATE;
}

/**
 * An IntOrString count against `total` (GetScaledValueFromIntOrPercent): an integer as is, a
 * percentage of `total` rounded up or down. Throws naming `field` for anything else.
 */
export function scaledValue(
  value: number | string | undefined,
  fallback: string,
  total: number,
  roundUp: boolean,
  field: string,
): number {
  const v = value ?? fallback;
  if (typeof v === "number") return v;
  const m = /^(\d+)%$/.exec(v);
  if (m === null) {
    throw new RangeError(
      `${field}: invalid value ${JSON.stringify(v)}: must be an integer or a percentage such as "25%"`,
    );
  }
  const scaled = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

/**
 * maxSurge (rounded up) and maxUnavailable (rounded down) as pod counts for `desired` replicas
 * (ResolveFenceposts); when both come out 0, maxUnavailable is 1 so that a rollout can progress.
 */
export function resolveFenceposts(
  maxSurge: number | string | undefined,
  maxUnavailable: number | string | undefined,
  desired: number,
): { surge: number; unavailable: number } {
  const surge = scaledValue(maxSurge, "25%", desired, true, "spec.strategy.rollingUpdate.maxSurge");
  let unavailable = scaledValue(
    maxUnavailable,
    "25%",
    desired,
    false,
    "spec.strategy.rollingUpdate.maxUnavailable",
  );
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

function fenceposts(d: Deployment): { surge: number; unavailable: number } {
  const ru = d.spec?.strategy?.rollingUpdate;
  return resolveFenceposts(
    intOrString(ru?.maxSurge),
    intOrString(ru?.maxUnavailable),
    specReplicas(d),
  );
}

/** Pods a rolling update may run above spec.replicas (MaxSurge); 0 for Recreate. */
export function maxSurge(d: Deployment): number {
  return isRollingUpdate(d) ? fenceposts(d).surge : 0;
}

/** Pods a rolling update may have unavailable (MaxUnavailable), at most spec.replicas. */
export function maxUnavailable(d: Deployment): number {
  const replicas = specReplicas(d);
  if (!isRollingUpdate(d) || replicas === 0) return 0;
  return Math.min(fenceposts(d).unavailable, replicas);
}

function createdMs(rs: ReplicaSet): number {
  const t = rs.metadata?.creationTimestamp;
  return t === undefined ? 0 : timestampMs(t);
}

function byName(a: ReplicaSet, b: ReplicaSet): number {
  const x = a.metadata?.name ?? "";
  const y = b.metadata?.name ?? "";
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Oldest first, ties by name (ReplicaSetsByCreationTimestamp). */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  return createdMs(a) - createdMs(b) || byName(a, b);
}

/** Lowest revision first, ties by creation (ReplicaSetsByRevision). */
export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  return revisionOf(a) - revisionOf(b) || byCreation(a, b);
}

/** Largest first; ties newer first (ReplicaSetsBySizeNewer): who gets replicas added first. */
export function bySizeNewer(a: ReplicaSet, b: ReplicaSet): number {
  return specReplicas(b) - specReplicas(a) || byCreation(b, a);
}

/** Largest first; ties older first (ReplicaSetsBySizeOlder): who gives replicas back first. */
export function bySizeOlder(a: ReplicaSet, b: ReplicaSet): number {
  return specReplicas(b) - specReplicas(a) || byCreation(a, b);
}

/** ReplicaSets with spec.replicas > 0 (FilterActiveReplicaSets). */
export function activeReplicaSets(rss: readonly (ReplicaSet | undefined)[]): ReplicaSet[] {
  return rss.filter((rs): rs is ReplicaSet => rs !== undefined && specReplicas(rs) > 0);
}

/** The oldest ReplicaSet whose template equals the Deployment's (FindNewReplicaSet). */
export function findNewReplicaSet(
  d: Deployment,
  rss: readonly ReplicaSet[],
): ReplicaSet | undefined {
  return [...rss]
    .sort(byCreation)
    .find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

/** Every ReplicaSet but the new one (FindOldReplicaSets' allOldRSs). */
export function findOldReplicaSets(
  rss: readonly ReplicaSet[],
  newRS: ReplicaSet | undefined,
): ReplicaSet[] {
  const newUid = newRS?.metadata?.uid;
  return rss.filter((rs) => newUid === undefined || rs.metadata?.uid !== newUid);
}

/** Sum of spec.replicas. */
export function replicaCount(rss: readonly (ReplicaSet | undefined)[]): number {
  let n = 0;
  for (const rs of rss) if (rs !== undefined) n += specReplicas(rs);
  return n;
}

/** Sum of status.replicas: pods that exist (GetActualReplicaCountForReplicaSets). */
export function actualReplicaCount(rss: readonly (ReplicaSet | undefined)[]): number {
  let n = 0;
  for (const rs of rss) if (rs !== undefined) n += rs.status?.replicas ?? 0;
  return n;
}

export function readyReplicaCount(rss: readonly (ReplicaSet | undefined)[]): number {
  let n = 0;
  for (const rs of rss) if (rs !== undefined) n += rs.status?.readyReplicas ?? 0;
  return n;
}

export function availableReplicaCount(rss: readonly (ReplicaSet | undefined)[]): number {
  let n = 0;
  for (const rs of rss) if (rs !== undefined) n += rs.status?.availableReplicas ?? 0;
  return n;
}

/**
 * Pods the ReplicaSets may have at once, for the surge bound: per ReplicaSet the larger of
 * spec.replicas and status.replicas. Kubernetes counts spec.replicas only; a ReplicaSet just
 * scaled down still has its pods until its controller has deleted them, and counting them keeps
 * the number of live pods within replicas + maxSurge at every moment, not only eventually.
 */
export function podCountUpperBound(rss: readonly (ReplicaSet | undefined)[]): number {
  let n = 0;
  for (const rs of rss) {
    if (rs !== undefined) n += Math.max(specReplicas(rs), rs.status?.replicas ?? 0);
  }
  return n;
}

/**
 * Available pods the ReplicaSets are sure to keep, for the unavailability bound: per ReplicaSet
 * the smaller of status.availableReplicas and spec.replicas. A ReplicaSet just scaled down may
 * still report pods it is about to delete as available; Kubernetes counts them, which can let
 * two quick scale-downs go below the bound.
 */
export function availableLowerBound(rss: readonly (ReplicaSet | undefined)[]): number {
  let n = 0;
  for (const rs of rss) {
    if (rs !== undefined) n += Math.min(rs.status?.availableReplicas ?? 0, specReplicas(rs));
  }
  return n;
}

/**
 * spec.replicas the new ReplicaSet should have next (NewRSNewReplicas): for a rolling update as
 * many more as the surge bound allows, up to spec.replicas; for Recreate spec.replicas.
 */
export function newReplicaSetReplicas(
  d: Deployment,
  allRSs: readonly (ReplicaSet | undefined)[],
  newRS: ReplicaSet,
): number {
  const replicas = specReplicas(d);
  if (!isRollingUpdate(d)) return replicas;
  const current = podCountUpperBound(allRSs);
  const maxTotal = replicas + maxSurge(d);
  const now = specReplicas(newRS);
  if (current >= maxTotal) return now;
  return now + Math.max(0, Math.min(maxTotal - current, replicas - now));
}

/** One ReplicaSet's new spec.replicas. */
export interface ScaleStep {
  readonly rs: ReplicaSet;
  readonly replicas: number;
}

/**
 * cleanupUnhealthyReplicas: scale old ReplicaSets down by their unavailable pods, oldest first,
 * at most `maxCleanup` in all. Returns the steps and the ReplicaSets as they will be.
 */
export function cleanupUnhealthyReplicas(
  oldRSs: readonly ReplicaSet[],
  maxCleanup: number,
): { steps: ScaleStep[]; scaledDown: number } {
  const steps: ScaleStep[] = [];
  let total = 0;
  for (const rs of [...oldRSs].sort(byCreation)) {
    if (total >= maxCleanup) break;
    const replicas = specReplicas(rs);
    const available = Math.min(rs.status?.availableReplicas ?? 0, replicas);
    if (replicas === 0 || replicas === available) continue;
    const down = Math.min(maxCleanup - total, replicas - available);
    steps.push({ rs, replicas: replicas - down });
    total += down;
  }
  return { steps, scaledDown: total };
}

/**
 * How the old ReplicaSets are scaled down in one step of a rolling update
 * (reconcileOldReplicaSets: unhealthy replicas first, then healthy ones down to
 * spec.replicas - maxUnavailable available pods, oldest ReplicaSets first).
 */
export function planOldReplicaSetsScaleDown(
  d: Deployment,
  oldRSs: readonly ReplicaSet[],
  newRS: ReplicaSet | undefined,
): ScaleStep[] {
  const active = activeReplicaSets(oldRSs);
  if (replicaCount(active) === 0) return [];
  const allCount = replicaCount([...oldRSs, newRS]);
  const minAvailable = specReplicas(d) - maxUnavailable(d);
  const newUnavailable =
    newRS === undefined
      ? 0
      : specReplicas(newRS) - Math.min(newRS.status?.availableReplicas ?? 0, specReplicas(newRS));
  const maxScaledDown = allCount - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return [];
  const cleanup = cleanupUnhealthyReplicas(active, maxScaledDown);
  const after = new Map(cleanup.steps.map((s) => [s.rs.metadata?.uid ?? "", s.replicas]));
  // The old ReplicaSets as they will be once cleaned up, for the second phase.
  const cleaned = active.map((rs) => {
    const replicas = after.get(rs.metadata?.uid ?? "");
    return replicas === undefined ? rs : withReplicas(rs, replicas);
  });
  const available = availableLowerBound([...cleaned, newRS]);
  const steps = new Map(cleanup.steps.map((s) => [s.rs.metadata?.uid ?? "", s]));
  if (available > minAvailable) {
    const toScaleDown = available - minAvailable;
    let total = 0;
    for (const rs of [...cleaned].sort(byCreation)) {
      if (total >= toScaleDown) break;
      const replicas = specReplicas(rs);
      if (replicas === 0) continue;
      const down = Math.min(replicas, toScaleDown - total);
      const original = oldRSs.find((o) => o.metadata?.uid === rs.metadata?.uid) ?? rs;
      steps.set(rs.metadata?.uid ?? "", { rs: original, replicas: replicas - down });
      total += down;
    }
  }
  return [...steps.values()];
}

/** A shallow view of `rs` with another spec.replicas, for planning (never written). */
function withReplicas(rs: ReplicaSet, replicas: number): ReplicaSet {
  return {
    ...rs,
    spec: rs.spec === undefined ? undefined : { ...rs.spec, replicas },
  } as ReplicaSet;
}

/**
 * True when every replica is updated and available and the status is current
 * (DeploymentComplete).
 */
export function deploymentComplete(
  d: Deployment,
  status: {
    updatedReplicas: number;
    replicas: number;
    availableReplicas: number;
    observedGeneration: number;
  },
): boolean {
  const replicas = specReplicas(d);
  return (
    status.updatedReplicas === replicas &&
    status.replicas === replicas &&
    status.availableReplicas === replicas &&
    status.observedGeneration >= (d.metadata?.generation ?? 0)
  );
}

/**
 * The new ReplicaSet runs spec.replicas available pods with the annotation saying so
 * (IsSaturated): old ReplicaSets can all go.
 */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (rs === undefined) return false;
  const desired = rs.metadata?.annotations[DESIRED_REPLICAS_ANNOTATION];
  const replicas = specReplicas(d);
  return (
    specReplicas(rs) === replicas &&
    desired === String(replicas) &&
    (rs.status?.availableReplicas ?? 0) === replicas
  );
}

/**
 * The replicas `rs` should gain (or lose, negative) of `toAdd` when the Deployment is resized
 * mid-rollout (GetProportion): its share by the max-replicas annotation, within what is left.
 */
export function proportion(rs: ReplicaSet, d: Deployment, toAdd: number, added: number): number {
  if (specReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

function replicaSetFraction(rs: ReplicaSet, d: Deployment): number {
  const replicas = specReplicas(d);
  if (replicas === 0) return -specReplicas(rs);
  const deploymentReplicas = replicas + maxSurge(d);
  const annotated = Number(rs.metadata?.annotations[MAX_REPLICAS_ANNOTATION] ?? Number.NaN);
  const base = Number.isInteger(annotated) && annotated > 0 ? annotated : (d.status?.replicas ?? 0);
  if (base === 0) return 0;
  const size = (specReplicas(rs) * deploymentReplicas) / base;
  return Math.round(size) - specReplicas(rs);
}

/**
 * New sizes of the active ReplicaSets when the Deployment is scaled mid-rollout (the
 * proportional part of Kubernetes' scale()): the difference to replicas + maxSurge spread in
 * proportion to their sizes, the leftover to the largest.
 */
export function proportionalSizes(
  d: Deployment,
  rss: readonly ReplicaSet[],
): Map<ReplicaSet, number> {
  const active = activeReplicaSets(rss);
  const replicas = specReplicas(d);
  const allowed = replicas > 0 ? replicas + maxSurge(d) : 0;
  const toAdd = allowed - replicaCount(active);
  active.sort(toAdd > 0 ? bySizeNewer : bySizeOlder);
  const sizes = new Map<ReplicaSet, number>();
  let added = 0;
  for (const rs of active) {
    if (toAdd !== 0) {
      const p = proportion(rs, d, toAdd, added);
      sizes.set(rs, specReplicas(rs) + p);
      added += p;
    } else sizes.set(rs, specReplicas(rs));
  }
  const first = active[0];
  if (toAdd !== 0 && first !== undefined) {
    sizes.set(first, Math.max(0, (sizes.get(first) ?? 0) + toAdd - added));
  }
  return sizes;
}

/** The annotations a Deployment passes on to its ReplicaSets (all but ANNOTATIONS_NOT_COPIED). */
export function copiedAnnotations(d: Deployment): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) {
    if (!ANNOTATIONS_NOT_COPIED.has(k)) out[k] = v;
  }
  return out;
}

/**
 * The annotations the new ReplicaSet should have (SetNewReplicaSetAnnotations): the
 * Deployment's copyable ones, the revision raised to `newRevision` (the previous one appended to
 * the revision history), and for a ReplicaSet being created the desired- and max-replicas.
 * Returns undefined when nothing changes.
 */
export function newReplicaSetAnnotations(
  d: Deployment,
  current: Readonly<Record<string, string>>,
  newRevision: number,
  exists: boolean,
): Record<string, string> | undefined {
  const next: Record<string, string> = { ...current, ...copiedAnnotations(d) };
  const old = current[REVISION_ANNOTATION];
  const oldRevision = old !== undefined && /^\d+$/.test(old) ? Number(old) : 0;
  if (oldRevision < newRevision) {
    next[REVISION_ANNOTATION] = String(newRevision);
    if (old !== undefined && old !== "") {
      const history = current[REVISION_HISTORY_ANNOTATION];
      let entries = history === undefined || history === "" ? [old] : [...history.split(","), old];
      while (entries.join(",").length > MAX_REVISION_HISTORY_CHARS) entries = entries.slice(1);
      next[REVISION_HISTORY_ANNOTATION] = entries.join(",");
    }
  }
  if (!exists) {
    next[DESIRED_REPLICAS_ANNOTATION] = String(specReplicas(d));
    next[MAX_REPLICAS_ANNOTATION] = String(specReplicas(d) + maxSurge(d));
  }
  const same =
    Object.keys(next).length === Object.keys(current).length &&
    Object.entries(next).every(([k, v]) => current[k] === v);
  return same ? undefined : next;
}
