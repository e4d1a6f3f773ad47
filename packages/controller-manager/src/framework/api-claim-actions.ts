// ClaimActions (controller-ref.ts) over the API: adoption and release are updates of the
// dependent's ownerReferences, guarded by its resourceVersion, so that a claim based on a stale
// cache fails with Conflict instead of overwriting a newer owner.

import { clone, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import type { ObjectMeta } from "@tug/api";
import { type ApiClient, isApiError, type ObjectOf } from "@tug/client";
import { type ClaimActions, newControllerRef, type OwnerIdentity } from "./controller-ref.js";

/** An owner as claiming needs it: identity, namespace and its kind's schema (for the recheck). */
export interface ApiClaimOwner extends OwnerIdentity {
  readonly namespace: string;
  readonly schema: DescMessage;
}

type WithMeta = { metadata?: ObjectMeta | undefined };

/**
 * Claim actions for dependents of kind `schema` (PodSchema, ReplicaSetSchema) owned by `owner`.
 */
export function apiClaimActions<S extends DescMessage>(
  api: Pick<ApiClient, "get" | "update">,
  schema: S,
  owner: ApiClaimOwner,
): ClaimActions<MessageShape<S>> {
  const write = async (obj: MessageShape<S>, change: (meta: ObjectMeta) => void) => {
    const copy = clone(schema, obj) as MessageShape<S> & WithMeta;
    if (copy.metadata === undefined) throw new TypeError("claim: object has no metadata");
    change(copy.metadata);
    await api.update(schema, copy as unknown as ObjectOf<S>);
  };
  return {
    adopt: (obj) =>
      write(obj, (meta) => {
        meta.ownerReferences = [
          ...meta.ownerReferences.filter((r) => r.uid !== owner.uid),
          newControllerRef(owner),
        ];
      }),
    release: (obj) =>
      write(obj, (meta) => {
        meta.ownerReferences = meta.ownerReferences.filter((r) => r.uid !== owner.uid);
      }),
    async canAdopt() {
      try {
        const fresh = (await api.get(owner.schema, owner.name, {
          namespace: owner.namespace,
        })) as WithMeta;
        return fresh.metadata?.uid === owner.uid && fresh.metadata.deletionTimestamp === undefined;
      } catch (error) {
        if (isApiError(error, "NotFound")) return false;
        throw error;
      }
    },
  };
}

/** True for the API errors that mean "the object is gone": the claim skips it. */
export function isGone(error: unknown): boolean {
  return isApiError(error, "NotFound");
}
