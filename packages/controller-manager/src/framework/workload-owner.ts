// What a workload controller (DaemonSet, StatefulSet) asks about the object it reconciles: its
// identity as an owner, its selector (an empty one selects nothing: Kubernetes refuses to act on
// it), the owner a pod's controller reference names, and the write of its status.

import { clone, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { type LabelSelector, labels, type ObjectMeta, type Pod } from "@tug/api";
import {
  type ApiClient,
  type CacheObject,
  isApiError,
  type Lister,
  type ObjectOf,
} from "@tug/client";
import { getControllerOf, type OwnerIdentity } from "./controller-ref.js";
import type { InvolvedObject } from "./event-recorder.js";

type WithMeta = { metadata?: ObjectMeta | undefined };

/** The owner reference fields and event subject of `obj` of kind `kind`. */
export function ownerIdentity(
  apiVersion: string,
  kind: string,
  meta: ObjectMeta | undefined,
): OwnerIdentity & InvolvedObject {
  return { apiVersion, kind, name: meta?.name ?? "", uid: meta?.uid ?? "", metadata: meta };
}

/** The parsed selector; undefined for an empty one (selects everything) or one that does not parse. */
export function nonEmptySelector(selector: LabelSelector | undefined): labels.Selector | undefined {
  try {
    const parsed = labels.Selector.fromObject(selector);
    return parsed.isEverything() ? undefined : parsed;
  } catch {
    return undefined;
  }
}

/** The object of kind `kind` that the pod's controller reference names, if the cache has that very one. */
export function resolveControllerOf<T extends CacheObject>(
  lister: Lister<T>,
  kind: string,
  pod: Pod,
): T | undefined {
  const ref = getControllerOf(pod.metadata);
  if (ref?.kind !== kind) return undefined;
  const owner = lister.namespace(pod.metadata?.namespace ?? "").get(ref.name);
  return owner?.metadata?.uid === ref.uid ? owner : undefined;
}

/**
 * Writes `obj`'s status: `setStatus` puts it on a copy. On Conflict it is retried once on a fresh
 * read; an object already gone is left alone.
 */
export async function writeStatus<S extends DescMessage>(
  api: Pick<ApiClient, "get" | "updateStatus">,
  schema: S,
  obj: MessageShape<S> & WithMeta,
  setStatus: (copy: MessageShape<S> & WithMeta) => void,
): Promise<void> {
  let target = obj;
  for (let attempt = 0; ; attempt++) {
    const copy = clone(schema, target) as MessageShape<S> & WithMeta;
    setStatus(copy);
    try {
      await api.updateStatus(schema, copy as unknown as ObjectOf<S>);
      return;
    } catch (error) {
      if (isApiError(error, "NotFound")) return;
      if (attempt > 0 || !isApiError(error, "Conflict")) throw error;
      target = (await api.get(schema, obj.metadata?.name ?? "", {
        namespace: obj.metadata?.namespace ?? "",
      })) as unknown as MessageShape<S> & WithMeta;
    }
  }
}
