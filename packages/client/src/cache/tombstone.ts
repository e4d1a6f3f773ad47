// The stand-in an informer hands to onDelete when it learns of a deletion only by relisting.
import type { CacheObject } from "./object.js";

/**
 * client-go's cache.DeletedFinalStateUnknown: the object vanished while the watch was broken
 * (a relist no longer returned it), so its final state is unknown. `obj` is the last state the
 * cache held, which may be stale. onDelete handlers receive either the object or this
 * tombstone and must handle both (`isDeletedFinalStateUnknown`).
 */
export class DeletedFinalStateUnknown<T extends CacheObject> {
  constructor(
    /** The cache key of the vanished object ("namespace/name", or "name"). */
    readonly key: string,
    /** The last state of the object the cache held; may be stale. */
    readonly obj: T,
  ) {
    Object.freeze(this);
  }
}

export function isDeletedFinalStateUnknown<T extends CacheObject>(
  value: T | DeletedFinalStateUnknown<T>,
): value is DeletedFinalStateUnknown<T> {
  return value instanceof DeletedFinalStateUnknown;
}
