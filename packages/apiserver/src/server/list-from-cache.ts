// Which lists the watch cache serves, as kube-apiserver's cacher decides it
// (k8s.io/apiserver/pkg/storage/cacher, shouldDelegateList, with ConsistentListFromCache on,
// the default since Kubernetes 1.31; https://kubernetes.io/docs/reference/using-api/api-concepts/#semantics-for-get-and-list):
//   - resourceVersion "0" and resourceVersionMatch NotOlderThan: from the cache as it is (or
//     once it has reached the given revision);
//   - resourceVersion "" (a consistent read, the default): from the cache once it has caught
//     up with the store's current revision, learned by one cheap read;
//   - a continue token, resourceVersionMatch Exact, or a limit with a resourceVersion other
//     than "0" and no match (which Kubernetes reads as Exact): from the store.
// A first page with a limit is served from the cache too (Kubernetes 1.33 does it from cache
// snapshots); its continue token is the store's, at the cache's revision, so the following
// pages come from the store and all pages are one snapshot. The store serves instead while the
// cache is still filling, and when a consistent read finds the cache behind for longer than
// its freshness timeout (Kubernetes falls back to etcd the same way).

import type { ApiObject } from "../registry/api-object.js";
import { isApiError } from "../storage/errors.js";
import type { CacheListResult } from "../storage/watch-cache.js";
import type { ServedResource } from "./served-resource.js";

export interface CacheListRequest {
  readonly namespace: string | undefined;
  readonly filter: ((obj: ApiObject) => boolean) | undefined;
  readonly resourceVersion: string;
  readonly resourceVersionMatch: string;
  readonly limit: number;
  readonly continue: string;
  /** false: consistent reads ("") go to the store (the feature gate off). */
  readonly consistentListFromCache: boolean;
}

/** The list from the watch cache, or undefined when the store must serve it. */
export async function listFromCache(
  res: ServedResource,
  req: CacheListRequest,
): Promise<CacheListResult<ApiObject> | undefined> {
  if (req.continue !== "" || req.resourceVersionMatch === "Exact") return undefined;
  if (req.resourceVersion === "" && !req.consistentListFromCache) return undefined;
  // A limit with a resourceVersion and no match asks for that exact revision (legacy paging).
  const rv = req.resourceVersion;
  if (req.limit > 0 && rv !== "" && rv !== "0" && req.resourceVersionMatch === "") return undefined;
  const cache = res.readyWatchCache();
  if (cache === undefined) return undefined;
  try {
    return await cache.list({
      ...(req.namespace === undefined ? {} : { namespace: req.namespace }),
      resourceVersion: req.resourceVersion,
      ...(req.filter === undefined ? {} : { filter: req.filter }),
      limit: req.limit,
    });
  } catch (e) {
    // The cache did not catch up with the store in time: the store answers a consistent read.
    if (req.resourceVersion === "" && isApiError(e, "Timeout")) return undefined;
    throw e;
  }
}
