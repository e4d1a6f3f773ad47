// ControllerRevisions: the immutable snapshots of a pod template that DaemonSets and
// StatefulSets keep for their rolling updates and rollback (Kubernetes'
// pkg/controller/history and the constructHistory / truncateHistory of both controllers).
// https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/controller-revision-v1/
//
// The revision's data is the patch Kubernetes stores: {"spec":{"template":{…,"$patch":"replace"}}}.
// Its name is `<owner>-<hash>`, the hash being tug's pod-template hash (FNV-1a of the template's
// canonical JSON, plus the owner's status.collisionCount when set) — stable across processes.

import type { JsonObject } from "@bufbuild/protobuf";
import { clone, create, toJson } from "@bufbuild/protobuf";
import {
  type ControllerRevision,
  ControllerRevisionSchema,
  type PodTemplateSpec,
  PodTemplateSpecSchema,
} from "@tug/api";
import { type ApiClient, isApiError } from "@tug/client";
import { CONTROLLER_REVISION_HASH_LABEL } from "../daemonset/daemon-pod.js";
import { canonicalJson, computePodTemplateHash } from "../deployment/pod-template-hash.js";
import {
  getControllerOf,
  newControllerRef,
  type OwnerIdentity,
} from "../framework/controller-ref.js";

/** spec.revisionHistoryLimit when unset (the API server defaults it to 10 as well). */
export const DEFAULT_REVISION_HISTORY_LIMIT = 10;

/** How many hash collisions in a row are tolerated before giving up (each bumps collisionCount). */
export const MAX_REVISION_COLLISIONS = 10;

/** The data of a revision of `template`: Kubernetes' replace patch of spec.template. */
export function revisionData(template: PodTemplateSpec | undefined): JsonObject {
  const json =
    template === undefined ? {} : (toJson(PodTemplateSpecSchema, template) as JsonObject);
  return { spec: { template: { ...json, $patch: "replace" } } };
}

/** True when two revisions hold the same data (history.EqualRevision). */
export function sameRevisionData(a: JsonObject | undefined, b: JsonObject | undefined): boolean {
  return canonicalJson(a ?? {}) === canonicalJson(b ?? {});
}

/** The hash naming a revision of `template` (`<owner>-<hash>`), with the owner's collisionCount. */
export function revisionHash(template: PodTemplateSpec | undefined, collisionCount?: number) {
  return computePodTemplateHash(template, collisionCount);
}

/** The highest revision number among `revisions`; 0 for none. */
export function maxRevisionNumber(revisions: readonly ControllerRevision[]): number {
  return revisions.reduce((max, r) => Math.max(max, r.revision), 0);
}

/** Revisions by revision number, then name: oldest first. */
export function byRevisionNumber(a: ControllerRevision, b: ControllerRevision): number {
  const an = a.metadata?.name ?? "";
  const bn = b.metadata?.name ?? "";
  return a.revision - b.revision || (an < bn ? -1 : an > bn ? 1 : 0);
}

/**
 * The revisions to delete to keep at most `limit` old ones (truncateHistory): revisions that are
 * not `current` and whose name no live pod uses, oldest first.
 */
export function revisionsToPrune(
  revisions: readonly ControllerRevision[],
  inUse: ReadonlySet<string>,
  limit: number,
): ControllerRevision[] {
  const old = revisions.filter((r) => !inUse.has(r.metadata?.name ?? "")).sort(byRevisionNumber);
  return old.slice(0, Math.max(0, old.length - limit));
}

/**
 * Deletes what `revisionsToPrune` picks (truncateHistory); a revision already gone is fine.
 * `limit` is the owner's spec.revisionHistoryLimit (Kubernetes' default 10 when unset).
 */
export async function pruneHistory(
  api: Pick<ApiClient, "delete">,
  revisions: readonly ControllerRevision[],
  inUse: ReadonlySet<string>,
  limit = DEFAULT_REVISION_HISTORY_LIMIT,
): Promise<void> {
  for (const r of revisionsToPrune(revisions, inUse, limit)) {
    try {
      await api.delete(ControllerRevisionSchema, r.metadata?.name ?? "", {
        namespace: r.metadata?.namespace ?? "",
      });
    } catch (error) {
      if (!isApiError(error, "NotFound")) throw error;
    }
  }
}

/** Who owns the revisions: identity, namespace and the labels revisions carry. */
export interface RevisionOwner extends OwnerIdentity {
  readonly namespace: string;
  /** Labels of the pod template: revisions carry them (so the owner's selector finds them). */
  readonly labels: Readonly<Record<string, string>>;
}

/** The outcome of ensuring the current revision exists. */
export interface CurrentRevision {
  readonly revision: ControllerRevision;
  /** The hash in its name (the pods' controller-revision-hash for a DaemonSet). */
  readonly hash: string;
  /** The owner's collisionCount after any collision was resolved (write it to status). */
  readonly collisionCount: number | undefined;
}

/**
 * Makes sure a revision of `template` exists and is the newest (constructHistory): an equal
 * revision already owned is reused — renumbered to max+1 if an older one (a rollback); else
 * `<owner>-<hash>` is created as max+1. A name taken by a revision with other data (a hash
 * collision) bumps collisionCount and tries again. `owned` are the revisions the owner controls.
 */
export async function ensureCurrentRevision(
  api: Pick<ApiClient, "create" | "get" | "update">,
  owner: RevisionOwner,
  owned: readonly ControllerRevision[],
  template: PodTemplateSpec | undefined,
  collisionCount: number | undefined,
): Promise<CurrentRevision> {
  const data = revisionData(template);
  const max = maxRevisionNumber(owned);
  const equal = owned.filter((r) => sameRevisionData(r.data, data)).sort(byRevisionNumber);
  const existing = equal[equal.length - 1];
  if (existing !== undefined) {
    const hash =
      existing.metadata?.labels[CONTROLLER_REVISION_HASH_LABEL] ?? hashOf(existing, owner);
    if (existing.revision === max) return { revision: existing, hash, collisionCount };
    const renumbered = clone(ControllerRevisionSchema, existing);
    renumbered.revision = max + 1;
    return {
      revision: await api.update(ControllerRevisionSchema, renumbered),
      hash,
      collisionCount,
    };
  }
  let count = collisionCount;
  for (let attempt = 0; attempt <= MAX_REVISION_COLLISIONS; attempt++) {
    const hash = revisionHash(template, count);
    const revision = create(ControllerRevisionSchema, {
      apiVersion: "apps/v1",
      kind: "ControllerRevision",
      metadata: {
        name: `${owner.name}-${hash}`,
        namespace: owner.namespace,
        labels: { ...owner.labels, [CONTROLLER_REVISION_HASH_LABEL]: hash },
        ownerReferences: [newControllerRef(owner)],
      },
      data,
      revision: max + 1,
    });
    try {
      return {
        revision: await api.create(ControllerRevisionSchema, revision),
        hash,
        collisionCount: count,
      };
    } catch (error) {
      if (!isApiError(error, "AlreadyExists")) throw error;
    }
    const taken = await api.get(ControllerRevisionSchema, `${owner.name}-${hash}`, {
      namespace: owner.namespace,
    });
    if (getControllerOf(taken.metadata)?.uid === owner.uid && sameRevisionData(taken.data, data)) {
      // Our own creation, not yet in the cache.
      return { revision: taken, hash, collisionCount: count };
    }
    count = (count ?? 0) + 1;
  }
  throw new Error(
    `${owner.kind} ${owner.namespace}/${owner.name}: ${MAX_REVISION_COLLISIONS} ControllerRevision name collisions in a row; delete stale ControllerRevisions named ${owner.name}-*`,
  );
}

/** The hash part of a revision's name `<owner>-<hash>`. */
function hashOf(revision: ControllerRevision, owner: OwnerIdentity): string {
  const name = revision.metadata?.name ?? "";
  return name.startsWith(`${owner.name}-`) ? name.slice(owner.name.length + 1) : name;
}
