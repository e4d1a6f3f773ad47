// Read-only views of an informer's cache in the shape controllers ask questions (client-go's
// generated listers: List(selector), Get(name), Pods(namespace).List/Get).
import { NAMESPACE_INDEX } from "./index-funcs.js";
import type { Indexer } from "./indexer.js";
import type { CacheObject } from "./object.js";

/** Anything that matches label sets: @tug/api's labels.Selector, for one. */
export interface LabelMatcher {
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
}

/** Matches every object (labels.Everything()). */
export const EVERYTHING: LabelMatcher = { matches: () => true };

/**
 * Queries over the cache. Objects returned are the cache's, shared and frozen: clone before
 * changing one. Lists are fresh arrays in no particular order.
 */
export interface Lister<T extends CacheObject> {
  /** Objects in every namespace whose labels `selector` matches. */
  list(selector?: LabelMatcher): T[];
  /** A cluster-scoped object by name. */
  get(name: string): T | undefined;
  /** The same questions within one namespace. */
  namespace(namespace: string): NamespaceLister<T>;
}

export interface NamespaceLister<T extends CacheObject> {
  list(selector?: LabelMatcher): T[];
  get(name: string): T | undefined;
}

/**
 * A Lister over an indexer keyed by metaNamespaceKeyFunc. A namespace's list uses the
 * NAMESPACE_INDEX when the indexer has one, and scans the cache otherwise.
 */
export function createLister<T extends CacheObject>(indexer: Indexer<T>): Lister<T> {
  const select = (objects: T[], selector: LabelMatcher) =>
    selector === EVERYTHING ? objects : objects.filter((o) => selector.matches(o.metadata?.labels));
  return {
    list: (selector = EVERYTHING) => select(indexer.list(), selector),
    get: (name) => indexer.getByKey(name),
    namespace: (namespace) => ({
      list: (selector = EVERYTHING) => {
        const inNamespace =
          indexer.getIndexers()[NAMESPACE_INDEX] !== undefined
            ? indexer.byIndex(NAMESPACE_INDEX, namespace)
            : indexer.list().filter((o) => (o.metadata?.namespace ?? "") === namespace);
        return select(inNamespace, selector);
      },
      get: (name) => indexer.getByKey(namespace === "" ? name : `${namespace}/${name}`),
    }),
  };
}
