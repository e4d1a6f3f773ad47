// One resource as the API server serves it: its kind, its strategy, its storage and its watch
// cache (created on first use, so a resource nobody lists or watches costs no store watch).

import type { KindInfo } from "@tug/api";
import type { ApiObject } from "../registry/api-object.js";
import { type RegistryEnv, type Strategy, strategyFor } from "../registry/strategy.js";
import type { EtcdClient } from "../storage/etcd-client.js";
import type { LeaseManager } from "../storage/lease-manager.js";
import { ObjectStore } from "../storage/object-store.js";
import { WatchCache, type WatchCacheOptions } from "../storage/watch-cache.js";
import { objectCodecFor } from "./object-codec.js";

export class ServedResource {
  readonly strategy: Strategy;
  readonly store: ObjectStore<ApiObject>;
  private cache: WatchCache<ApiObject> | undefined;

  constructor(
    readonly kind: KindInfo,
    etcd: EtcdClient,
    registryPrefix: string,
    leases: LeaseManager,
    env: RegistryEnv,
    private readonly cacheOptions: WatchCacheOptions,
  ) {
    this.strategy = strategyFor(kind, env);
    this.store = new ObjectStore(
      etcd,
      { group: kind.group, resource: kind.resource, namespaced: kind.namespaced },
      objectCodecFor(kind),
      { registryPrefix, leases },
    );
  }

  /** The resource's watch cache, started on first use. */
  watchCache(): WatchCache<ApiObject> {
    if (this.cache === undefined) {
      this.cache = new WatchCache(this.store, objectCodecFor(this.kind), this.cacheOptions);
    }
    return this.cache;
  }

  /**
   * The watch cache when it can serve reads now; otherwise undefined, and the cache is started
   * in the background so that later reads find it ready (kube-apiserver, too, serves from
   * the store until a resource's cache has initialized).
   */
  readyWatchCache(): WatchCache<ApiObject> | undefined {
    const cache = this.watchCache();
    if (cache.synced) return cache;
    cache.start().catch(() => {
      // Retried by the next read; the store serves meanwhile.
    });
    return undefined;
  }

  /** True once the watch cache exists (for metrics and readiness). */
  get hasWatchCache(): boolean {
    return this.cache !== undefined;
  }

  /** False while the watch cache (if one was made) has not finished its first list. */
  get watchCacheSynced(): boolean {
    return this.cache === undefined || this.cache.revision > 0;
  }

  /** Open client watches on this resource. */
  get watcherCount(): number {
    return this.cache?.watcherCount ?? 0;
  }

  stop(): void {
    this.cache?.stop();
  }
}
