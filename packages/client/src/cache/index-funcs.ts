// Ready-made index functions for an Indexer.
import type { CacheObject } from "./object.js";

/**
 * Maps an object to the index values it is filed under (zero, one or many), as client-go's
 * cache.IndexFunc. Must be a pure function of the object.
 */
export type IndexFunc<T extends CacheObject> = (obj: T) => readonly string[];

/** Named index functions: index name -> function. */
export type Indexers<T extends CacheObject> = Readonly<Record<string, IndexFunc<T>>>;

/** The conventional name of the by-namespace index (client-go's cache.NamespaceIndex). */
export const NAMESPACE_INDEX = "namespace";

/** Files an object under its namespace ("" for cluster-scoped objects), as MetaNamespaceIndexFunc. */
export function metaNamespaceIndexFunc<T extends CacheObject>(obj: T): readonly string[] {
  return [obj.metadata?.namespace ?? ""];
}

/**
 * An index over one field: files an object under `field(obj)` unless it is undefined or "".
 * Example: `fieldIndexFunc((pod: Pod) => pod.spec?.nodeName)` indexes pods by node.
 */
export function fieldIndexFunc<T extends CacheObject>(
  field: (obj: T) => string | undefined,
): IndexFunc<T> {
  return (obj) => {
    const value = field(obj);
    return value === undefined || value === "" ? [] : [value];
  };
}

/** An index over one label: files an object under the value of label `key`, if it has it. */
export function labelIndexFunc<T extends CacheObject>(key: string): IndexFunc<T> {
  return (obj) => {
    const labels = obj.metadata?.labels;
    if (labels === undefined || !Object.hasOwn(labels, key)) return [];
    const value = labels[key];
    return value === undefined ? [] : [value];
  };
}
