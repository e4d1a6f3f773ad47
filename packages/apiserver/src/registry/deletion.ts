// The delete decision: given the stored object and the request's DeleteOptions, remove the
// object now, write it back marked for deletion, or leave it as it is. Kubernetes' generic
// registry Store.Delete with rest.BeforeDelete (preconditions, graceful deletion, only-shorten
// rule), deletionFinalizersForGarbageCollection (orphan / foregroundDeletion finalizers) and
// the namespace registry's two-step delete.
// https://kubernetes.io/docs/concepts/overview/working-with-objects/finalizers/
// https://kubernetes.io/docs/concepts/architecture/garbage-collection/
// https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination

import type { Namespace, Pod } from "@tug/api";
import { ApiError } from "../storage/errors.js";
import {
  type ApiObject,
  addSeconds,
  cloneObject,
  metaOf,
  type Timestamp,
  timestampAtSeconds,
  timestampMillis,
} from "./api-object.js";
import type { PropagationPolicy, Strategy } from "./strategy.js";

/** Kubernetes' finalizer that makes the garbage collector orphan the dependents first. */
export const FINALIZER_ORPHAN_DEPENDENTS = "orphan";
/** Kubernetes' finalizer that keeps an owner until its blocking dependents are gone. */
export const FINALIZER_DELETE_DEPENDENTS = "foregroundDeletion";

const PROPAGATION_POLICIES: readonly PropagationPolicy[] = ["Foreground", "Background", "Orphan"];

/** Kubernetes' answer to deleting a namespace again while its content is still being removed. */
export const NAMESPACE_TERMINATING_CONFLICT =
  "The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.";

/** The parts of a DeleteRequest (api.proto) that decide what happens. */
export interface DeleteOptions {
  /** Unset: the kind's default (a pod's terminationGracePeriodSeconds); 0: at once. */
  readonly gracePeriodSeconds?: number | undefined;
  /** "Orphan", "Background", "Foreground"; "" or unset: the kind's default. */
  readonly propagationPolicy?: string | undefined;
  readonly preconditions?:
    | { readonly uid?: string | undefined; readonly resourceVersion?: string | undefined }
    | undefined;
}

/** Why the decision is what it is. */
export type DeleteReason =
  /** Nothing holds the object back. */
  | "immediate"
  /** A pod bound to a node and not terminal: deletionTimestamp = now + grace. */
  | "graceful"
  /** A second delete with a shorter grace period moved deletionTimestamp earlier. */
  | "graceful-shortened"
  /** Graceful deletion already pending; a longer or no grace period changes nothing. */
  | "graceful-pending"
  /** Finalizers remain: deletionTimestamp is set and the object stays until they are removed. */
  | "finalizers"
  /** A namespace: phase Terminating until its content is gone and spec.finalizers is empty. */
  | "namespace-terminating";

/**
 * What to do. "remove": delete the object from storage now (`object` is the stored object, to
 * return to the client); "update": store `object` (marked for deletion) and return it; "keep":
 * write nothing and return `object` unchanged.
 */
export type DeleteDecision<T extends ApiObject> =
  | { readonly action: "remove"; readonly reason: "immediate"; readonly object: T }
  | { readonly action: "update"; readonly reason: DeleteReason; readonly object: T }
  | { readonly action: "keep"; readonly reason: DeleteReason; readonly object: T };

/**
 * Decides a delete of `stored` (the current object, not mutated). Throws ApiError Conflict when
 * a precondition fails (`Precondition failed: UID in precondition: x, UID in object meta: y`)
 * or when a terminating namespace still has spec.finalizers, BadRequest for an unknown
 * propagationPolicy.
 */
export function decideDelete<T extends ApiObject>(
  strategy: Strategy,
  stored: T,
  options: DeleteOptions,
  now: Date,
): DeleteDecision<T> {
  const kind = strategy.kind;
  checkPreconditions(strategy, stored, options);
  const policy = options.propagationPolicy ?? "";
  if (policy !== "" && !(PROPAGATION_POLICIES as readonly string[]).includes(policy)) {
    throw ApiError.badRequest(
      `propagationPolicy: Unsupported value: "${policy}": supported values: ${PROPAGATION_POLICIES.map((p) => `"${p}"`).join(", ")}`,
    );
  }
  const obj = cloneObject(kind, stored);
  const meta = metaOf(kind, obj);
  const nowTs = timestampAtSeconds(now);

  if (kind.group === "" && kind.kind === "Namespace") {
    const ns = obj as unknown as Namespace;
    const specFinalizers = ns.spec?.finalizers ?? [];
    if (meta.deletionTimestamp === undefined) {
      meta.deletionTimestamp = nowTs;
      if (ns.status !== undefined) ns.status.phase = "Terminating";
      meta.finalizers = finalizersForPropagation(strategy, meta.finalizers, policy);
      if (specFinalizers.length > 0 || meta.finalizers.length > 0) {
        return { action: "update", reason: "namespace-terminating", object: obj };
      }
      return { action: "remove", reason: "immediate", object: stored };
    }
    if (specFinalizers.length > 0) {
      throw ApiError.conflict(
        { group: kind.group, resource: kind.resource },
        meta.name,
        NAMESPACE_TERMINATING_CONFLICT,
      );
    }
  }

  // rest.BeforeDelete: is deletion graceful, already pending, or shortened?
  let graceful = false;
  const requested = normalizeGrace(options.gracePeriodSeconds);
  if (meta.deletionTimestamp !== undefined) {
    // With no grace period left (finalizers pending, or a graceless delete that did not get to
    // remove the object), the object goes as soon as its finalizers are gone: fall through.
    const current = meta.deletionGracePeriodSeconds;
    if (current !== undefined && current > 0) {
      if (requested === undefined || requested >= current) {
        return { action: "keep", reason: "graceful-pending", object: stored };
      }
      meta.deletionTimestamp = addSeconds(meta.deletionTimestamp, requested - current);
      meta.deletionGracePeriodSeconds = requested;
      // Grace 0 (the node agent's last delete, or --force): remove now unless finalizers remain.
      if (requested > 0) return { action: "update", reason: "graceful-shortened", object: obj };
    }
  } else if (strategy.gracefulDeletion) {
    const grace = podGracePeriod(strategy, obj, requested);
    if (grace > 0) {
      graceful = true;
      meta.deletionTimestamp = addSeconds(nowTs, grace);
      meta.deletionGracePeriodSeconds = grace;
      if (meta.generation > 0) meta.generation += 1;
    }
  }

  const before = [...meta.finalizers];
  meta.finalizers = finalizersForPropagation(strategy, meta.finalizers, policy);
  if (meta.finalizers.length > 0 && !graceful) {
    const wasDeleting = meta.deletionTimestamp !== undefined;
    markAsDeleting(meta, nowTs);
    if (
      wasDeleting &&
      sameSet(before, meta.finalizers) &&
      stored.metadata?.deletionGracePeriodSeconds === 0
    ) {
      return { action: "keep", reason: "finalizers", object: stored };
    }
    return { action: "update", reason: "finalizers", object: obj };
  }
  if (graceful) return { action: "update", reason: "graceful", object: obj };
  return { action: "remove", reason: "immediate", object: stored };
}

/**
 * Whether an update leaves `updated` ready to be removed: it is marked for deletion, its last
 * finalizer was just removed (`old` had some) and no graceful deletion is pending — the
 * registry then deletes it instead of storing it (Store.shouldDeleteDuringUpdate). A namespace
 * also waits for its spec.finalizers.
 */
export function removeAfterUpdate(updated: ApiObject, old: ApiObject): boolean {
  const meta = updated.metadata;
  if (meta === undefined || meta.deletionTimestamp === undefined) return false;
  if (meta.finalizers.length > 0) return false;
  if ((old.metadata?.finalizers.length ?? 0) === 0) return false;
  if ((meta.deletionGracePeriodSeconds ?? 0) > 0) return false;
  if (updated.$typeName === "tug.core.v1.Namespace") {
    return ((updated as unknown as Namespace).spec?.finalizers.length ?? 0) === 0;
  }
  return true;
}

/** When a graceful deletion is due: deletionTimestamp in milliseconds, if set. */
export function deletionDueMillis(obj: ApiObject): number | undefined {
  const ts: Timestamp | undefined = obj.metadata?.deletionTimestamp;
  return ts === undefined ? undefined : timestampMillis(ts);
}

function checkPreconditions(strategy: Strategy, obj: ApiObject, options: DeleteOptions): void {
  const p = options.preconditions;
  if (p === undefined) return;
  const gr = { group: strategy.kind.group, resource: strategy.kind.resource };
  const name = obj.metadata?.name ?? "";
  const uid = obj.metadata?.uid ?? "";
  const rv = obj.metadata?.resourceVersion ?? "";
  if (p.uid !== undefined && p.uid !== uid) {
    throw ApiError.conflict(
      gr,
      name,
      `Precondition failed: UID in precondition: ${p.uid}, UID in object meta: ${uid}`,
    );
  }
  if (p.resourceVersion !== undefined && p.resourceVersion !== rv) {
    throw ApiError.conflict(
      gr,
      name,
      `Precondition failed: ResourceVersion in precondition: ${p.resourceVersion}, ResourceVersion in object meta: ${rv}`,
    );
  }
}

/** Kubernetes treats a negative grace period as 1 second. */
function normalizeGrace(grace: number | undefined): number | undefined {
  return grace === undefined ? undefined : grace < 0 ? 1 : grace;
}

/** A pod's grace period (the pod strategy's CheckGracefulDelete): 0 if unbound or terminal. */
function podGracePeriod(strategy: Strategy, obj: ApiObject, requested: number | undefined): number {
  const pod = obj as unknown as Pod;
  if ((pod.spec?.nodeName ?? "") === "") return 0;
  const phase = pod.status?.phase ?? "";
  if (phase === "Succeeded" || phase === "Failed") return 0;
  const grace = requested ?? strategy.defaultGracePeriodSeconds(obj);
  return grace < 0 ? 1 : grace;
}

/**
 * The finalizers after a delete with `policy`: an explicit policy wins; else an orphan or
 * foregroundDeletion finalizer already present; else the kind's default (Orphan adds "orphan").
 */
function finalizersForPropagation(
  strategy: Strategy,
  finalizers: readonly string[],
  policy: string,
): string[] {
  let orphan: boolean;
  let foreground: boolean;
  if (policy !== "") {
    orphan = policy === "Orphan";
    foreground = policy === "Foreground";
  } else {
    const hasOrphan = finalizers.includes(FINALIZER_ORPHAN_DEPENDENTS);
    const hasForeground = finalizers.includes(FINALIZER_DELETE_DEPENDENTS);
    orphan = hasOrphan || (!hasForeground && strategy.defaultPropagationPolicy === "Orphan");
    foreground = !orphan && hasForeground;
  }
  const next = finalizers.filter(
    (f) => f !== FINALIZER_ORPHAN_DEPENDENTS && f !== FINALIZER_DELETE_DEPENDENTS,
  );
  if (orphan) next.push(FINALIZER_ORPHAN_DEPENDENTS);
  if (foreground) next.push(FINALIZER_DELETE_DEPENDENTS);
  return sameSet(finalizers, next) ? [...finalizers] : next;
}

/** Marks an object without graceful deletion as deleting (Kubernetes' markAsDeleting). */
function markAsDeleting(meta: NonNullable<ApiObject["metadata"]>, now: Timestamp): void {
  if (meta.deletionTimestamp === undefined && meta.generation > 0) meta.generation += 1;
  if (
    meta.deletionTimestamp === undefined ||
    timestampMillis(meta.deletionTimestamp) > timestampMillis(now)
  ) {
    meta.deletionTimestamp = now;
  }
  meta.deletionGracePeriodSeconds = 0;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((v) => y.has(v));
}
