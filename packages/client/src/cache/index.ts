// The informer cache: keys, stores, indexes and tombstones.
export { deepFreeze } from "./deep-freeze.js";
export {
  fieldIndexFunc,
  type Indexers,
  type IndexFunc,
  labelIndexFunc,
  metaNamespaceIndexFunc,
  NAMESPACE_INDEX,
} from "./index-funcs.js";
export { createIndexer, type Indexer, type IndexerOptions, type Store } from "./indexer.js";
export { type KeyFunc, metaNamespaceKeyFunc, splitMetaNamespaceKey } from "./key-func.js";
export {
  createLister,
  EVERYTHING,
  type LabelMatcher,
  type Lister,
  type NamespaceLister,
} from "./lister.js";
export type { CacheObject, CacheObjectMeta } from "./object.js";
export { DeletedFinalStateUnknown, isDeletedFinalStateUnknown } from "./tombstone.js";
