// Cache keys: how the store names an object (client-go's MetaNamespaceKeyFunc).
import type { CacheObject } from "./object.js";
import { DeletedFinalStateUnknown } from "./tombstone.js";

/** Computes the key an object is stored under; throws when the object cannot be keyed. */
export type KeyFunc<T extends CacheObject> = (obj: T | DeletedFinalStateUnknown<T>) => string;

/**
 * "namespace/name" for namespaced objects, "name" for cluster-scoped ones (empty namespace),
 * as client-go's MetaNamespaceKeyFunc. A DeletedFinalStateUnknown tombstone keys as the key it
 * carries, so onDelete handlers can key whatever they receive.
 */
export function metaNamespaceKeyFunc<T extends CacheObject>(
  obj: T | DeletedFinalStateUnknown<T>,
): string {
  if (obj instanceof DeletedFinalStateUnknown) return obj.key;
  const meta = obj.metadata;
  if (meta === undefined) {
    throw new TypeError("cache key: object has no metadata; set metadata.name (and namespace)");
  }
  if (meta.name === "") {
    throw new TypeError("cache key: metadata.name is empty; every cached object needs a name");
  }
  return meta.namespace === "" ? meta.name : `${meta.namespace}/${meta.name}`;
}

/**
 * Splits a key from metaNamespaceKeyFunc into namespace ("" when cluster-scoped) and name, as
 * client-go's SplitMetaNamespaceKey. Throws on a key with more than one "/".
 */
export function splitMetaNamespaceKey(key: string): { namespace: string; name: string } {
  const parts = key.split("/");
  if (parts.length === 1) return { namespace: "", name: key };
  if (parts.length === 2) return { namespace: parts[0] ?? "", name: parts[1] ?? "" };
  throw new TypeError(
    `cache key ${JSON.stringify(key)}: expected "namespace/name" or "name", got ${parts.length - 1} slashes`,
  );
}
