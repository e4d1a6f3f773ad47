// Controller references and their claiming (Kubernetes' ControllerRefManager,
// k8s.io/kubernetes/pkg/controller/controller_ref_manager.go): an owner adopts orphans its
// selector matches, keeps the objects it controls that still match, and releases those that no
// longer do. https://kubernetes.io/docs/concepts/overview/working-with-objects/owners-dependents/

import { create } from "@bufbuild/protobuf";
import { type ObjectMeta, type OwnerReference, OwnerReferenceSchema } from "@tug/api";

/** What a controller reference names: the owner's kind and identity. */
export interface OwnerIdentity {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
}

/** The one owner reference with controller=true, if any. */
export function getControllerOf(meta: ObjectMeta | undefined): OwnerReference | undefined {
  return meta?.ownerReferences.find((ref) => ref.controller === true);
}

/**
 * The controller reference an owner puts on what it creates or adopts: controller=true (it
 * manages the object) and blockOwnerDeletion=true (foreground deletion of the owner waits for it).
 */
export function newControllerRef(owner: OwnerIdentity): OwnerReference {
  return create(OwnerReferenceSchema, {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.name,
    uid: owner.uid,
    controller: true,
    blockOwnerDeletion: true,
  });
}

/** How claimObjects changes an object's controller reference. */
export interface ClaimActions<T> {
  /**
   * Makes `obj` controlled by the owner (adds the controller reference). Rejects with NotFound
   * when it is gone, Conflict when it changed: the claim then skips it.
   */
  adopt(obj: T): Promise<void>;
  /** Removes the owner's controller reference from `obj`. */
  release(obj: T): Promise<void>;
  /**
   * Checked once before the first adoption: false when the owner, read fresh from the API
   * server, is being deleted or is another object of the same name (a stale cache must not make
   * a dying owner adopt). Kubernetes' RecheckDeletionTimestamp.
   */
  canAdopt(): Promise<boolean>;
}

export interface ClaimOwner {
  readonly uid: string;
  /** True when the owner has a deletionTimestamp: it adopts nothing and releases nothing. */
  readonly deleting: boolean;
  /** The owner's selector. */
  matches(labels: Readonly<Record<string, string>>): boolean;
}

/**
 * The objects `owner` controls after claiming `candidates`: those it already controls and that
 * still match, plus orphans that match and are adopted. Controlled objects that stopped matching
 * are released. Objects another controller owns are left alone. An adoption or release that
 * fails because the object is gone is ignored; other failures reject (the owner is retried).
 */
export async function claimObjects<T extends { readonly metadata?: ObjectMeta | undefined }>(
  owner: ClaimOwner,
  candidates: readonly T[],
  actions: ClaimActions<T>,
  isGone: (error: unknown) => boolean,
): Promise<T[]> {
  const claimed: T[] = [];
  const errors: unknown[] = [];
  let adoptable: Promise<boolean> | undefined;
  for (const obj of candidates) {
    const meta = obj.metadata;
    const labels = meta?.labels ?? {};
    const ref = getControllerOf(meta);
    if (ref !== undefined) {
      if (ref.uid !== owner.uid) continue;
      if (owner.matches(labels)) {
        claimed.push(obj);
        continue;
      }
      if (owner.deleting) continue;
      try {
        await actions.release(obj);
      } catch (error) {
        if (!isGone(error)) errors.push(error);
      }
      continue;
    }
    if (owner.deleting || !owner.matches(labels)) continue;
    // A pod being deleted is not adopted: it is on its way out.
    if (meta?.deletionTimestamp !== undefined) continue;
    adoptable ??= actions.canAdopt();
    if (!(await adoptable)) continue;
    try {
      await actions.adopt(obj);
      claimed.push(obj);
    } catch (error) {
      if (!isGone(error)) errors.push(error);
    }
  }
  if (errors.length > 0) {
    throw new AggregateError(errors, `claiming objects failed: ${errors.map(String).join("; ")}`);
  }
  return claimed;
}
