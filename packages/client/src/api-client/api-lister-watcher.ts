// A ListerWatcher (../informer/lister-watcher.ts) over tug-apiserver: what a reflector and a
// SharedIndexInformer need to follow one resource, in a namespace or all, with selectors.

import type { CacheObject } from "../cache/object.js";
import type {
  ListerWatcher,
  ListOptions,
  ListResult,
  WatchEvent,
  WatchOptions,
} from "../informer/lister-watcher.js";
import type { ApiClient, KindArg, ObjectOf } from "./api-client.js";

export interface ListerWatcherScope {
  /** One namespace; unset or "" for all namespaces (and for cluster-scoped kinds). */
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

/**
 * Lists and watches `kind` through `client`. An Expired watch (the version was compacted) is
 * thrown as the client's ApiError with reason Expired and code 410, which the reflector's
 * isExpiredError recognises and answers with a relist.
 */
export function apiListerWatcher<K extends KindArg>(
  client: ApiClient,
  kind: K,
  scope: ListerWatcherScope = {},
): ListerWatcher<ObjectOf<K> & CacheObject> {
  type T = ObjectOf<K> & CacheObject;
  return {
    async list(options: ListOptions): Promise<ListResult<T>> {
      const res = await client.list(kind, {
        ...scope,
        resourceVersion: options.resourceVersion ?? "",
        limit: options.limit ?? 0,
        continue: options.continue ?? "",
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      return {
        items: res.items as T[],
        resourceVersion: res.resourceVersion,
        ...(res.continue === "" ? {} : { continue: res.continue }),
      };
    },
    watch(options: WatchOptions): AsyncIterable<WatchEvent<T>> {
      const stream = client.watch(kind, {
        ...scope,
        resourceVersion: options.resourceVersion,
        allowWatchBookmarks: options.allowWatchBookmarks,
        timeoutSeconds: options.timeoutSeconds ?? 0,
        signal: options.signal,
      });
      return stream as AsyncIterable<WatchEvent<T>>;
    },
  };
}
