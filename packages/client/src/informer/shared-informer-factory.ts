// One informer per resource per process, however many controllers watch it (client-go's
// SharedInformerFactory): one list, one watch stream and one cache instead of one per controller.
import type { Indexers } from "../cache/index-funcs.js";
import type { CacheObject } from "../cache/object.js";
import type { Clock } from "../workqueue/clock.js";
import type { BackoffOptions } from "./backoff.js";
import type { ListerWatcher } from "./lister-watcher.js";
import type { ErrorReporter } from "./reflector.js";
import { SharedIndexInformer } from "./shared-informer.js";

/** What a controller asks the factory for. */
export interface InformerSpec<T extends CacheObject> {
  /**
   * Identifies the informer: the same key always yields the same informer. Include whatever
   * the ListerWatcher is bound to: "apps/v1/deployments", "v1/pods?fieldSelector=spec.nodeName=n1".
   */
  key: string;
  /** Called once, when the key is first asked for. */
  newListerWatcher: () => ListerWatcher<T>;
  /** Indexes this controller needs; merged into the shared informer's. */
  indexers?: Indexers<T>;
}

export interface SharedInformerFactoryOptions {
  /** Default handler resync period for every informer, ms; 0 (the default) for none. */
  resyncPeriodMs?: number;
  freezeObjects?: boolean;
  clock?: Clock;
  random?: () => number;
  pageSize?: number;
  backoff?: BackoffOptions;
  onError?: ErrorReporter;
}

export class SharedInformerFactory {
  private readonly informers = new Map<string, SharedIndexInformer<CacheObject>>();
  private shuttingDown = false;

  constructor(private readonly options: SharedInformerFactoryOptions = {}) {}

  /**
   * The informer for `spec.key`, created on first use. The caller vouches that every spec with
   * one key describes one object type T. Indexers not yet registered are added; an index name
   * already registered with a different function is an error.
   */
  informerFor<T extends CacheObject>(spec: InformerSpec<T>): SharedIndexInformer<T> {
    if (this.shuttingDown) throw new Error("informer factory is shut down; create a new one");
    const existing = this.informers.get(spec.key) as SharedIndexInformer<T> | undefined;
    if (existing !== undefined) {
      if (spec.indexers !== undefined) mergeIndexers(existing, spec.indexers, spec.key);
      return existing;
    }
    const o = this.options;
    const informer = new SharedIndexInformer<T>({
      listerWatcher: spec.newListerWatcher(),
      name: spec.key,
      ...(spec.indexers !== undefined && { indexers: spec.indexers }),
      ...(o.resyncPeriodMs !== undefined && { resyncPeriodMs: o.resyncPeriodMs }),
      ...(o.freezeObjects !== undefined && { freezeObjects: o.freezeObjects }),
      ...(o.clock !== undefined && { clock: o.clock }),
      ...(o.random !== undefined && { random: o.random }),
      ...(o.pageSize !== undefined && { pageSize: o.pageSize }),
      ...(o.backoff !== undefined && { backoff: o.backoff }),
      ...(o.onError !== undefined && { onError: o.onError }),
    });
    this.informers.set(spec.key, informer as unknown as SharedIndexInformer<CacheObject>);
    return informer;
  }

  /** Starts every informer not yet running; informers asked for later need another start(). */
  start(): void {
    if (this.shuttingDown) throw new Error("informer factory is shut down; create a new one");
    for (const informer of this.informers.values()) {
      if (!informer.isRunning()) void informer.run();
    }
  }

  /** Waits for every started informer's first list; the result says which synced, by key. */
  async waitForCacheSync(signal?: AbortSignal): Promise<Map<string, boolean>> {
    const entries = [...this.informers].filter(([, informer]) => informer.isRunning());
    const synced = await Promise.all(
      entries.map(([, informer]) => informer.waitForCacheSync(signal)),
    );
    return new Map(entries.map(([key], i) => [key, synced[i] ?? false]));
  }

  /** Stops every informer and waits for their reflectors to return. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    await Promise.all([...this.informers.values()].map((informer) => informer.stop()));
  }
}

function mergeIndexers<T extends CacheObject>(
  informer: SharedIndexInformer<T>,
  indexers: Indexers<T>,
  key: string,
): void {
  const registered = informer.getIndexer().getIndexers();
  const missing: Record<string, Indexers<T>[string]> = {};
  for (const [name, indexFunc] of Object.entries(indexers)) {
    const current = registered[name];
    if (current === undefined) missing[name] = indexFunc;
    else if (current !== indexFunc) {
      throw new Error(
        `informer ${key}: index ${JSON.stringify(name)} is already registered with another function; use one shared function or another name`,
      );
    }
  }
  if (Object.keys(missing).length > 0) informer.addIndexers(missing);
}
