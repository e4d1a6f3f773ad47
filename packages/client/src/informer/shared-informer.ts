// One reflector, one cache, many event handlers (client-go's sharedIndexInformer).
import type { Indexers } from "../cache/index-funcs.js";
import { createIndexer, type Indexer, type Store } from "../cache/indexer.js";
import { type KeyFunc, metaNamespaceKeyFunc } from "../cache/key-func.js";
import type { CacheObject } from "../cache/object.js";
import { DeletedFinalStateUnknown } from "../cache/tombstone.js";
import { type Clock, realClock, type TimerHandle } from "../workqueue/clock.js";
import type { BackoffOptions } from "./backoff.js";
import type { ListerWatcher } from "./lister-watcher.js";
import {
  type ErrorReporter,
  logErrorAsJson,
  Reflector,
  type ReflectorCounts,
} from "./reflector.js";

/**
 * Shortest resync period a handler may ask for (client-go's minimumResyncPeriod): resyncing
 * faster floods the workqueue with no-op reconciles.
 */
export const MIN_RESYNC_PERIOD_MS = 1_000;

/**
 * Reactions to cache changes (client-go's ResourceEventHandler). They run synchronously, in
 * event order, one handler after another: a handler must be quick and should only enqueue a key
 * (metaNamespaceKeyFunc works on objects and tombstones alike). Objects passed in are the
 * cache's own, shared by every handler: never mutate them. An exception thrown by a handler is
 * reported and does not reach other handlers or the cache.
 */
export interface ResourceEventHandler<T extends CacheObject> {
  /** A new object; `isInInitialList` when it came from a list rather than a watch event. */
  onAdd?(obj: T, isInInitialList: boolean): void;
  /**
   * An object changed, or was relisted, or is being resynced: then `oldObj === newObj`, or both
   * carry the same resourceVersion. Handlers that only care about real changes compare
   * resourceVersions.
   */
  onUpdate?(oldObj: T, newObj: T): void;
  /**
   * An object was deleted. Its final state, or a DeletedFinalStateUnknown tombstone when the
   * deletion was noticed only by a relist (the object vanished while the watch was down).
   */
  onDelete?(obj: T | DeletedFinalStateUnknown<T>): void;
}

export interface HandlerOptions {
  /**
   * Every this many ms the handler gets onUpdate(obj, obj) for every cached object, to retry
   * work that failed silently. 0 turns resync off; otherwise at least MIN_RESYNC_PERIOD_MS.
   * Default: the informer's resyncPeriodMs.
   */
  resyncPeriodMs?: number;
}

/** A handler's place in an informer. */
export interface HandlerRegistration {
  /** True once the handler has been told about every object of the initial list. */
  hasSynced(): boolean;
  /** Stops calls to the handler. */
  remove(): void;
}

export interface SharedInformerOptions<T extends CacheObject> {
  listerWatcher: ListerWatcher<T>;
  /** For messages: the resource, e.g. "pods". */
  name?: string;
  indexers?: Indexers<T>;
  keyFunc?: KeyFunc<T>;
  /** Default resync period of handlers, ms; 0 (the default) for none. */
  resyncPeriodMs?: number;
  /** See IndexerOptions.freezeObjects; default true. */
  freezeObjects?: boolean;
  clock?: Clock;
  random?: () => number;
  pageSize?: number;
  backoff?: BackoffOptions;
  /** Failures the informer recovers from (list/watch errors, throwing handlers). */
  onError?: ErrorReporter;
}

class Registration<T extends CacheObject> implements HandlerRegistration {
  nextResyncAt = Number.POSITIVE_INFINITY;
  removed = false;

  constructor(
    readonly handler: ResourceEventHandler<T>,
    readonly resyncPeriodMs: number,
    private readonly informerSynced: () => boolean,
    private readonly onRemove: (registration: Registration<T>) => void,
  ) {}

  hasSynced(): boolean {
    return !this.removed && this.informerSynced();
  }

  remove(): void {
    if (this.removed) return;
    this.removed = true;
    this.onRemove(this);
  }
}

/**
 * A reflector feeding an indexer, and every registered handler told of each change in order.
 * run() once, stop() once: a stopped informer cannot be restarted (make a new one).
 */
export class SharedIndexInformer<T extends CacheObject> {
  private readonly indexer: Indexer<T>;
  private readonly keyFunc: KeyFunc<T>;
  private readonly reflector: Reflector<T>;
  private readonly name: string;
  private readonly clock: Clock;
  private readonly onError: ErrorReporter;
  private readonly defaultResyncMs: number;
  private registrations: Registration<T>[] = [];
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private state: "new" | "running" | "stopped" = "new";
  private readonly stopper = new AbortController();
  private running: Promise<void> | undefined;
  private resyncTimer: TimerHandle | undefined;

  constructor(options: SharedInformerOptions<T>) {
    this.name = options.name ?? "informer";
    this.clock = options.clock ?? realClock;
    this.onError = options.onError ?? logErrorAsJson;
    this.keyFunc = options.keyFunc ?? metaNamespaceKeyFunc;
    this.defaultResyncMs = checkResyncPeriod(options.resyncPeriodMs ?? 0, "resyncPeriodMs");
    const indexerOptions = {
      keyFunc: this.keyFunc,
      ...(options.indexers !== undefined && { indexers: options.indexers }),
      ...(options.freezeObjects !== undefined && { freezeObjects: options.freezeObjects }),
    };
    this.indexer = createIndexer(indexerOptions);
    this.reflector = new Reflector({
      listerWatcher: options.listerWatcher,
      store: this.notifyingStore(),
      name: this.name,
      clock: this.clock,
      onError: this.onError,
      ...(options.random !== undefined && { random: options.random }),
      ...(options.pageSize !== undefined && { pageSize: options.pageSize }),
      ...(options.backoff !== undefined && { backoff: options.backoff }),
    });
  }

  /**
   * Registers a handler. If the informer already holds objects, the handler is first told of
   * each as onAdd(obj, true), synchronously, before this returns.
   */
  addEventHandler(
    handler: ResourceEventHandler<T>,
    options: HandlerOptions = {},
  ): HandlerRegistration {
    if (this.state === "stopped") {
      throw new Error(`${this.name} informer is stopped; handlers can no longer be added`);
    }
    const resyncMs =
      options.resyncPeriodMs === undefined
        ? this.defaultResyncMs
        : checkResyncPeriod(options.resyncPeriodMs, "resyncPeriodMs");
    const registration = new Registration(
      handler,
      resyncMs,
      () => this.synced,
      (removed) => {
        this.registrations = this.registrations.filter((r) => r !== removed);
        this.scheduleResync();
      },
    );
    this.registrations = [...this.registrations, registration];
    for (const obj of this.indexer.list())
      this.call(registration, "onAdd", () => handler.onAdd?.(obj, true));
    if (resyncMs > 0) {
      registration.nextResyncAt = this.clock.now() + resyncMs;
      this.scheduleResync();
    }
    return registration;
  }

  /** The cache. Read it freely; change it never (the reflector owns it). */
  getIndexer(): Indexer<T> {
    return this.indexer;
  }

  /** Adds indexes; existing objects are indexed at once. */
  addIndexers(indexers: Indexers<T>): void {
    this.indexer.addIndexers(indexers);
  }

  /** True once the first list has been applied to the cache and delivered to handlers. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** The resourceVersion the cache reflects. */
  lastSyncResourceVersion(): string {
    return this.reflector.lastSyncResourceVersion();
  }

  /** Lists, watches and watch events of its reflector so far (for metrics). */
  reflectorCounts(): ReflectorCounts {
    return this.reflector.counts();
  }

  /**
   * Resolves true once hasSynced(), false if `signal` aborts or the informer stops first.
   * Start controller workers only after this resolves true.
   */
  waitForCacheSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    if (this.state === "stopped" || signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => resolve(false);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.syncWaiters.push(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve(this.synced);
      });
    });
  }

  /** Starts listing and watching. Resolves when the informer has stopped. */
  run(): Promise<void> {
    if (this.state === "running") throw new Error(`${this.name} informer is already running`);
    if (this.state === "stopped") {
      throw new Error(`${this.name} informer was stopped and cannot run again; create a new one`);
    }
    this.state = "running";
    this.scheduleResync();
    this.running = this.reflector.run(this.stopper.signal);
    return this.running;
  }

  /** True between run() and stop(). */
  isRunning(): boolean {
    return this.state === "running";
  }

  /** Stops the reflector and resync; resolves when the reflector has returned. */
  async stop(): Promise<void> {
    if (this.state === "stopped") return this.running;
    this.state = "stopped";
    this.stopper.abort();
    if (this.resyncTimer !== undefined) this.clock.clearTimeout(this.resyncTimer);
    this.resyncTimer = undefined;
    this.releaseSyncWaiters();
    await this.running;
  }

  /** The Store the reflector writes: updates the indexer, then tells the handlers. */
  private notifyingStore(): Store<T> {
    const indexer = this.indexer;
    return {
      add: (obj) => this.upsert(obj),
      update: (obj) => this.upsert(obj),
      delete: (obj) => {
        const key = this.keyFunc(obj);
        if (indexer.getByKey(key) !== undefined) indexer.delete(obj);
        this.notify("onDelete", (h) => h.onDelete?.(obj));
      },
      replace: (items, resourceVersion) => this.replace(items, resourceVersion),
      list: () => indexer.list(),
      listKeys: () => indexer.listKeys(),
      get: (obj) => indexer.get(obj),
      getByKey: (key) => indexer.getByKey(key),
    };
  }

  private upsert(obj: T): void {
    const old = this.indexer.getByKey(this.keyFunc(obj));
    this.indexer.update(obj);
    if (old === undefined) this.notify("onAdd", (h) => h.onAdd?.(obj, false));
    else this.notify("onUpdate", (h) => h.onUpdate?.(old, obj));
  }

  /**
   * A (re)list: objects new to the cache are added, known ones updated, and ones the list no
   * longer has are deleted with a DeletedFinalStateUnknown tombstone (their last known state).
   */
  private replace(items: readonly T[], resourceVersion: string): void {
    const isInitialList = !this.synced;
    const previous = new Map(
      this.indexer.listKeys().map((key) => [key, this.indexer.getByKey(key)]),
    );
    this.indexer.replace(items, resourceVersion);
    const seen = new Set<string>();
    for (const item of items) {
      const key = this.keyFunc(item);
      seen.add(key);
      const old = previous.get(key);
      if (old === undefined) this.notify("onAdd", (h) => h.onAdd?.(item, isInitialList));
      else this.notify("onUpdate", (h) => h.onUpdate?.(old, item));
    }
    for (const [key, old] of previous) {
      if (seen.has(key) || old === undefined) continue;
      const tombstone = new DeletedFinalStateUnknown(key, old);
      this.notify("onDelete", (h) => h.onDelete?.(tombstone));
    }
    if (!this.synced) {
      this.synced = true;
      this.releaseSyncWaiters();
    }
  }

  private notify(what: string, deliver: (handler: ResourceEventHandler<T>) => void): void {
    // A snapshot: a handler that adds another handler must not have it see this event twice.
    for (const registration of this.registrations) {
      if (!registration.removed) this.call(registration, what, () => deliver(registration.handler));
    }
  }

  private call(registration: Registration<T>, what: string, deliver: () => void): void {
    if (registration.removed) return;
    try {
      deliver();
    } catch (error) {
      this.onError(error, `${this.name}: event handler ${what} threw`);
    }
  }

  private releaseSyncWaiters(): void {
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Keeps one timer armed for the earliest handler resync while running. */
  private scheduleResync(): void {
    if (this.resyncTimer !== undefined) this.clock.clearTimeout(this.resyncTimer);
    this.resyncTimer = undefined;
    if (this.state !== "running") return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const r of this.registrations) earliest = Math.min(earliest, r.nextResyncAt);
    if (earliest === Number.POSITIVE_INFINITY) return;
    this.resyncTimer = this.clock.setTimeout(
      () => this.resync(),
      Math.max(0, earliest - this.clock.now()),
    );
  }

  private resync(): void {
    this.resyncTimer = undefined;
    const now = this.clock.now();
    for (const registration of this.registrations) {
      if (registration.nextResyncAt > now) continue;
      registration.nextResyncAt = now + registration.resyncPeriodMs;
      for (const obj of this.indexer.list()) {
        this.call(registration, "onUpdate", () => registration.handler.onUpdate?.(obj, obj));
      }
    }
    this.scheduleResync();
  }
}

function checkResyncPeriod(ms: number, field: string): number {
  if (ms === 0) return 0;
  if (!(Number.isFinite(ms) && ms >= MIN_RESYNC_PERIOD_MS)) {
    throw new RangeError(
      `${field} must be 0 (no resync) or at least ${MIN_RESYNC_PERIOD_MS} ms, got ${ms}`,
    );
  }
  return ms;
}

/**
 * Resolves true once every informer has synced; false if `signal` aborts or one stops first
 * (client-go's cache.WaitForCacheSync).
 */
export async function waitForCacheSync(
  informers: readonly { waitForCacheSync(signal?: AbortSignal): Promise<boolean> }[],
  signal?: AbortSignal,
): Promise<boolean> {
  const results = await Promise.all(informers.map((i) => i.waitForCacheSync(signal)));
  return results.every(Boolean);
}
