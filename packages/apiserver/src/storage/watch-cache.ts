// The watch cache (Kubernetes' cacher, k8s.io/apiserver/pkg/storage/cacher): one store watch
// per resource, fed from an initial list, that keeps the current objects and a bounded window
// of recent events, serves List from memory and fans every change out to any number of client
// watches, each with its own filter.

import { ApiError, isApiError } from "./errors.js";
import { DEFAULT_EVENT_FRESH_MS, DEFAULT_MAX_EVENT_WINDOW, EventWindow } from "./event-window.js";
import type {
  ObjectCodec,
  ObjectRef,
  ObjectStore,
  ObjectWatch,
  WatchEventType,
} from "./object-store.js";

/**
 * Events always kept for watches that resume from a past resourceVersion; beyond these, every
 * event of the last 75 s is kept too, up to 100 * 1024 (event-window.ts, as kube-apiserver).
 */
export const DEFAULT_EVENT_WINDOW = 1000;

/**
 * Events a client watch may have waiting before it is closed as too slow (the client then
 * watches again from the last resourceVersion it saw), so that one slow reader never holds
 * up the others or grows memory without bound. kube-apiserver sizes a watcher's channel to
 * about one second of the resource's events, at most 1000 (suggestedWatchChannelSize's
 * maxChanSize); tug takes that bound for every watch: the events are shared, a waiting one
 * costs a reference, and a watch closed under a burst of a few hundred events per second
 * (bench:scheduler) costs its client a re-watch.
 */
export const DEFAULT_WATCHER_BUFFER = 1000;

/**
 * How often watches that asked for bookmarks get one. Kubernetes sends each watcher a
 * bookmark about once a minute (cacher's bookmarkFrequency).
 */
export const DEFAULT_BOOKMARK_INTERVAL_MS = 60_000;

/**
 * How long a request for a resourceVersion the cache has not reached yet waits before failing
 * with "Too large resource version" (Kubernetes' blockTimeout: 3 s).
 */
export const DEFAULT_FRESHNESS_TIMEOUT_MS = 3_000;

/**
 * While a request waits for the cache to catch up, the store is asked for a progress
 * notification this often, so the cache learns the store's revision even when the resource
 * itself does not change (Kubernetes' progressRequestPeriod: 100 ms).
 */
export const PROGRESS_REQUEST_INTERVAL_MS = 100;

/** Pause before listing again after the store watch failed. */
export const RELIST_BACKOFF_MS = 1_000;

/** An event a client watch receives. */
export type CacheEvent<T> =
  | { readonly type: WatchEventType; readonly object: T; readonly revision: number }
  /** All events up to `revision` have been delivered (Kubernetes' BOOKMARK). */
  | { readonly type: "BOOKMARK"; readonly revision: number };

/** Why a client watch ended. */
export type WatchCloseReason =
  | "stopped"
  /** Its buffer filled up: the client should watch again from its last resourceVersion. */
  | "slow"
  /** The cache lost its store watch and listed again; watch again (from "0" if Expired). */
  | "resync"
  | "cache-stopped";

export interface CacheWatchOptions<T> {
  /** Only objects of this namespace; absent: all. */
  readonly namespace?: string;
  /**
   * "" or "0": the current objects as ADDED events, then changes. A number: the changes after
   * it (Expired 410 if it is older than the window; waits for the cache to reach it).
   */
  readonly resourceVersion: string;
  /** Label and field selectors, as a predicate. Not called on BOOKMARKs. */
  readonly filter?: (obj: T) => boolean;
  /** Send BOOKMARK events (Kubernetes' allowWatchBookmarks). */
  readonly allowBookmarks?: boolean;
}

export interface CacheListOptions<T> {
  readonly namespace?: string;
  /**
   * "0": whatever the cache holds now. "": the store's latest revision (the cache waits to
   * reach it). A number: not older than it (NotOlderThan).
   */
  readonly resourceVersion?: string;
  readonly filter?: (obj: T) => boolean;
  /**
   * At most this many items (after the filter); 0 or absent: all. When more keys follow the
   * last item, the result carries the store's continue token for them at the cache's revision
   * (ObjectStore.continueAfter): the next pages come from the store, at the same revision.
   */
  readonly limit?: number;
}

/** A list served from the cache; the fields mean what they mean in ObjectStore's ListResult. */
export interface CacheListResult<T> {
  readonly items: T[];
  readonly resourceVersion: string;
  readonly continue?: string;
  /** Keys after the page (filtered or not), when the list is unfiltered and has a next page. */
  readonly remainingItemCount?: number;
}

export interface WatchCacheOptions {
  /** Events always kept (DEFAULT_EVENT_WINDOW). */
  readonly eventWindow?: number;
  /** Events younger than this are kept beyond eventWindow (75 s; 0: keep only eventWindow). */
  readonly eventFreshMs?: number;
  /** The most events kept (100 * 1024). */
  readonly maxEventWindow?: number;
  readonly watcherBuffer?: number;
  readonly bookmarkIntervalMs?: number;
  readonly freshnessTimeoutMs?: number;
  /** Called when the store watch fails and the cache lists again. */
  readonly onResync?: (cause: unknown) => void;
}

interface StoredEvent<T> {
  readonly type: WatchEventType;
  readonly key: string;
  /** For DELETED: the last state, at the deletion's revision. */
  readonly object: T;
  /** The state before this event, for MODIFIED (filter transitions). */
  readonly prev: T | undefined;
  readonly revision: number;
}

/** A client watch: iterate for events; stop() ends it. */
export class CacheWatcher<T> implements AsyncIterable<CacheEvent<T>> {
  private readonly items: CacheEvent<T>[] = [];
  /** How many of `items` (at the front) are the start replay. */
  private replayLeft = 0;
  private waiter: ((r: IteratorResult<CacheEvent<T>>) => void) | undefined;
  /** Set once the watch has ended. */
  closeReason: WatchCloseReason | undefined;
  /** Revision of the last event (or bookmark) queued for this watcher. */
  lastRevision: number;
  /** The revision the watch started after: it gets only later events. */
  readonly startRevision: number;

  /** @internal */
  constructor(
    readonly prefix: string,
    readonly filter: (obj: T) => boolean,
    readonly allowBookmarks: boolean,
    private readonly limit: number,
    startRevision: number,
    private readonly onStop: (w: CacheWatcher<T>) => void,
  ) {
    this.lastRevision = startRevision;
    this.startRevision = startRevision;
  }

  /** Events waiting to be read. */
  get pending(): number {
    return this.items.length;
  }

  /** @internal Queues an event; false if the watcher is closed or its buffer is full. */
  offer(event: CacheEvent<T>, replay = false): boolean {
    if (this.closeReason !== undefined) return false;
    // The replay at the start (initial objects, window events) is not held against the limit.
    if (!replay && this.items.length - this.replayLeft >= this.limit) return false;
    this.lastRevision = event.revision;
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      waiter({ value: event, done: false });
    } else {
      this.items.push(event);
      if (replay) this.replayLeft++;
    }
    return true;
  }

  /** @internal Ends the watch; events already queued are still delivered. */
  close(reason: WatchCloseReason): void {
    if (this.closeReason !== undefined) return;
    this.closeReason = reason;
    this.onStop(this);
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.({ value: undefined, done: true });
  }

  stop(): void {
    this.close("stopped");
  }

  [Symbol.asyncIterator](): AsyncIterator<CacheEvent<T>> {
    return {
      next: () => {
        const item = this.items.shift();
        if (item !== undefined) {
          if (this.replayLeft > 0) this.replayLeft--;
          return Promise.resolve({ value: item, done: false });
        }
        if (this.closeReason !== undefined)
          return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.waiter = resolve;
        });
      },
      return: async () => {
        this.items.length = 0;
        this.replayLeft = 0;
        this.stop();
        return { value: undefined, done: true };
      },
    };
  }
}

const always = () => true;

/**
 * The cache of one resource. start() lists and begins the one store watch; list() and watch()
 * are then served from memory. Objects handed out are shared with the cache: callers must not
 * mutate them.
 */
export class WatchCache<T> {
  private readonly objects = new Map<string, T>();
  /** Callers waiting for the next read of the store's revision (see storeRevision). */
  private nextRevisionRead:
    | { promise: Promise<number>; resolve: (rev: number) => void; reject: (e: unknown) => void }
    | undefined;
  private revisionReadInFlight = false;
  /** The keys of `objects` in order, made when a list needs them after a key came or went. */
  private sortedKeys: string[] | undefined;
  private readonly window: EventWindow<StoredEvent<T>>;
  private currentRevision = 0;
  private readonly watchers = new Set<CacheWatcher<T>>();
  private readonly waiters = new Set<{
    revision: number;
    resolve: () => void;
    reject: (e: unknown) => void;
  }>();
  private storeWatch: ObjectWatch<T> | undefined;
  private bookmarkTimer: NodeJS.Timeout | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private verifyingProgress = false;
  private started: Promise<void> | undefined;
  private readonly watcherBuffer: number;
  private readonly bookmarkIntervalMs: number;
  private readonly freshnessTimeoutMs: number;

  constructor(
    private readonly store: ObjectStore<T>,
    private readonly codec: Pick<ObjectCodec<T>, "withResourceVersion" | "resourceVersionOf">,
    private readonly options: WatchCacheOptions = {},
  ) {
    this.window = new EventWindow({
      minEvents: options.eventWindow ?? DEFAULT_EVENT_WINDOW,
      freshMs: options.eventFreshMs ?? DEFAULT_EVENT_FRESH_MS,
      maxEvents: options.maxEventWindow ?? DEFAULT_MAX_EVENT_WINDOW,
    });
    this.watcherBuffer = options.watcherBuffer ?? DEFAULT_WATCHER_BUFFER;
    this.bookmarkIntervalMs = options.bookmarkIntervalMs ?? DEFAULT_BOOKMARK_INTERVAL_MS;
    this.freshnessTimeoutMs = options.freshnessTimeoutMs ?? DEFAULT_FRESHNESS_TIMEOUT_MS;
  }

  /** The revision the cache is current to. */
  get revision(): number {
    return this.currentRevision;
  }

  /** How many client watches are open. */
  get watcherCount(): number {
    return this.watchers.size;
  }

  /**
   * Lists, starts the store watch and the bookmark timer; resolves once the cache is filled.
   * `fromRevision`: the first watch that starts the cache asks for changes after this
   * revision, so the cache lists at it (when the store still has it) and catches up by its
   * store watch: a cache started after the client's list could otherwise begin past the
   * client's revision and answer its watch with Expired.
   */
  start(fromRevision?: number): Promise<void> {
    this.started ??= (async () => {
      try {
        await this.relist(fromRevision);
      } catch (e) {
        this.started = undefined;
        throw e;
      }
      if (this.stopped) return;
      this.bookmarkTimer = setInterval(() => this.sendBookmarks(), this.bookmarkIntervalMs);
      this.bookmarkTimer.unref();
    })();
    return this.started;
  }

  private async relist(atRevision?: number): Promise<void> {
    let list: Awaited<ReturnType<ObjectStore<T>["listEntries"]>>;
    try {
      list = await this.store.listEntries(
        atRevision === undefined ? {} : { resourceVersion: String(atRevision) },
      );
    } catch (e) {
      // Compacted: that revision is gone; start from the latest (the watch will be Expired).
      if (atRevision === undefined || !isApiError(e, "Expired")) throw e;
      list = await this.store.listEntries();
    }
    if (this.stopped) return;
    this.objects.clear();
    this.sortedKeys = undefined;
    for (const { key, object } of list.entries) this.objects.set(key, object);
    this.currentRevision = Number(list.resourceVersion);
    this.window.reset(this.currentRevision);
    this.wakeWaiters();
    const watch = this.store.watch({ resourceVersion: list.resourceVersion, progressNotify: true });
    this.storeWatch = watch;
    void this.consume(watch);
  }

  private async consume(watch: ObjectWatch<T>): Promise<void> {
    try {
      for await (const e of watch) {
        if (e.type === "PROGRESS") void this.onProgress(e.revision);
        else this.apply(e.type, e.key, e.object, e.revision);
      }
      if (this.stopped || watch !== this.storeWatch) return;
      throw new Error("the store watch ended");
    } catch (cause) {
      if (this.stopped || watch !== this.storeWatch) return;
      this.options.onResync?.(cause);
      // Events were lost (compaction) or the watch failed: watchers cannot be continued
      // consistently; close them (they watch again) and list again.
      for (const w of [...this.watchers]) w.close("resync");
      for (;;) {
        await new Promise((r) => setTimeout(r, RELIST_BACKOFF_MS));
        if (this.stopped) return;
        try {
          await this.relist();
          return;
        } catch (e) {
          this.options.onResync?.(e);
        }
      }
    }
  }

  /**
   * A progress notification says nothing under the prefix changed up to `revision`. etcd 3.4
   * answers a progress request at once with its current revision, even while the watch is
   * still catching up or events are on their way (fixed in later releases; see the comment on
   * tug-store's maybeSendRequestedProgress), so the claim is checked: the cache advances only
   * if its objects are exactly the store's keys and mod revisions at `revision`. Otherwise a
   * later notification (requested again while someone waits) advances it.
   */
  private async onProgress(revision: number): Promise<void> {
    if (revision <= this.currentRevision || this.verifyingProgress) return;
    this.verifyingProgress = true;
    try {
      const keys = await this.store.keyRevisions(revision);
      if (revision <= this.currentRevision || this.stopped) return;
      if (keys.size !== this.objects.size) return;
      for (const [key, obj] of this.objects) {
        if (keys.get(key) !== Number(this.codec.resourceVersionOf(obj))) return;
      }
      this.advance(revision);
    } catch {
      // Unverifiable (compacted, store unavailable): wait for events or the next notification.
    } finally {
      this.verifyingProgress = false;
    }
  }

  private advance(revision: number): void {
    if (revision <= this.currentRevision) return;
    this.currentRevision = revision;
    this.wakeWaiters();
  }

  private apply(type: WatchEventType, key: string, object: T, revision: number): void {
    const prev = this.objects.get(key);
    const kind: WatchEventType = type === "ADDED" && prev !== undefined ? "MODIFIED" : type;
    if (kind === "DELETED" || prev === undefined) this.sortedKeys = undefined;
    if (kind === "DELETED") this.objects.delete(key);
    else this.objects.set(key, object);
    const event: StoredEvent<T> = { type: kind, key, object, prev, revision };
    this.window.push(event);
    for (const w of this.watchers) this.dispatch(w, event);
    this.advance(revision);
  }

  /** Kubernetes' cacheWatcher.convertToWatchEvent: filter transitions become ADDED/DELETED. */
  private convert(w: CacheWatcher<T>, e: StoredEvent<T>): CacheEvent<T> | undefined {
    if (!e.key.startsWith(w.prefix)) return undefined;
    const cur = w.filter(e.object);
    switch (e.type) {
      case "ADDED":
        return cur ? { type: "ADDED", object: e.object, revision: e.revision } : undefined;
      case "DELETED":
        return cur ? { type: "DELETED", object: e.object, revision: e.revision } : undefined;
      case "MODIFIED": {
        const old = e.prev !== undefined && w.filter(e.prev);
        if (cur && old) return { type: "MODIFIED", object: e.object, revision: e.revision };
        if (cur) return { type: "ADDED", object: e.object, revision: e.revision };
        if (old && e.prev !== undefined) {
          // The previous state, at this event's resourceVersion.
          const last = this.codec.withResourceVersion(e.prev, String(e.revision));
          return { type: "DELETED", object: last, revision: e.revision };
        }
        return undefined;
      }
    }
  }

  private dispatch(w: CacheWatcher<T>, e: StoredEvent<T>): void {
    // An event the watcher's start already covers (it arrived after a verified progress).
    if (e.revision <= w.startRevision) return;
    const out = this.convert(w, e);
    if (out !== undefined && !w.offer(out)) w.close("slow");
  }

  private sendBookmarks(): void {
    // Learn the store's revision first, so bookmarks carry it even when this resource is quiet.
    this.storeWatch?.requestProgress();
    for (const w of this.watchers) {
      if (w.allowBookmarks && w.pending === 0 && this.currentRevision > w.lastRevision) {
        w.offer({ type: "BOOKMARK", revision: this.currentRevision });
      }
    }
  }

  /** Waits until the cache has reached `revision`; Timeout "Too large resource version" if not in time. */
  private async waitUntilFresh(revision: number): Promise<void> {
    if (revision <= this.currentRevision) return;
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        revision,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e: unknown) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        this.updateProgressTimer();
        reject(ApiError.tooLargeResourceVersion(revision, this.currentRevision));
      }, this.freshnessTimeoutMs);
      this.waiters.add(waiter);
      this.storeWatch?.requestProgress();
      this.updateProgressTimer();
    });
  }

  private wakeWaiters(): void {
    for (const w of [...this.waiters]) {
      if (w.revision <= this.currentRevision) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
    this.updateProgressTimer();
  }

  private updateProgressTimer(): void {
    if (this.waiters.size > 0 && this.progressTimer === undefined) {
      this.progressTimer = setInterval(
        () => this.storeWatch?.requestProgress(),
        PROGRESS_REQUEST_INTERVAL_MS,
      );
      this.progressTimer.unref();
    } else if (this.waiters.size === 0 && this.progressTimer !== undefined) {
      clearInterval(this.progressTimer);
      this.progressTimer = undefined;
    }
  }

  private async ready(fromRevision?: number): Promise<void> {
    if (this.stopped) throw ApiError.serviceUnavailable("the watch cache is stopped");
    await this.start(fromRevision);
  }

  /**
   * The store's current revision, read after this call began, with one read in flight at a
   * time for all callers: callers that arrive while a read is out share the next one, which
   * starts when it returns (etcd batches ReadIndex requests the same way). So a burst of
   * consistent lists costs the store a few reads, not one each, and every caller still gets a
   * revision at least as new as the store's when it asked.
   */
  private storeRevision(): Promise<number> {
    let batch = this.nextRevisionRead;
    if (batch === undefined) {
      let resolve: (rev: number) => void = () => undefined;
      let reject: (e: unknown) => void = () => undefined;
      const promise = new Promise<number>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      batch = { promise, resolve, reject };
      this.nextRevisionRead = batch;
      if (!this.revisionReadInFlight) this.startRevisionRead();
    }
    return batch.promise;
  }

  private startRevisionRead(): void {
    const batch = this.nextRevisionRead;
    if (batch === undefined) return;
    this.nextRevisionRead = undefined;
    this.revisionReadInFlight = true;
    this.store
      .currentRevision()
      .then(batch.resolve, batch.reject)
      .finally(() => {
        this.revisionReadInFlight = false;
        this.startRevisionRead();
      });
  }

  /** True once the first list has filled the cache (it may serve reads). */
  get synced(): boolean {
    return this.currentRevision > 0 && !this.stopped;
  }

  /**
   * Lists from memory, in key order; see CacheListOptions. With resourceVersion "" the cache
   * first learns the store's current revision (one cheap read) and waits until it has caught
   * up (Kubernetes' consistent reads from cache, KEP-2340); Timeout (504, "Too large resource
   * version") if it does not within the freshness timeout.
   */
  async list(options: CacheListOptions<T> = {}): Promise<CacheListResult<T>> {
    await this.ready();
    const rv = options.resourceVersion ?? "0";
    if (rv === "") await this.waitUntilFresh(await this.storeRevision());
    else if (rv !== "0") await this.waitUntilFresh(parseRv(rv));
    return this.listHeld(options);
  }

  /**
   * list() with resourceVersion "0", without waiting: what the cache holds now, or undefined
   * when it has not synced (then list() waits for it). For callers on a hot path that read
   * the cache as an informer would (admission).
   */
  listNow(
    options: Omit<CacheListOptions<T>, "resourceVersion"> = {},
  ): CacheListResult<T> | undefined {
    return this.synced ? this.listHeld(options) : undefined;
  }

  /** The list as the cache holds it now: one state of the cache, at currentRevision. */
  private listHeld(options: CacheListOptions<T>): CacheListResult<T> {
    const revision = this.currentRevision;
    const prefix = this.store.prefixFor(options.namespace);
    const filter = options.filter ?? always;
    const limit = options.limit ?? 0;
    this.sortedKeys ??= [...this.objects.keys()].sort();
    const keys = this.sortedKeys;
    // The keys under `prefix` are one run of the sorted keys: [first, end).
    const first = lowerBound(keys, prefix);
    let end = first;
    while (end < keys.length && (keys[end] as string).startsWith(prefix)) end++;
    const items: T[] = [];
    for (let i = first; i < end; i++) {
      const key = keys[i] as string;
      const obj = this.objects.get(key);
      if (obj === undefined || !filter(obj)) continue;
      items.push(obj);
      if (limit > 0 && items.length >= limit && i < end - 1) {
        return {
          items,
          resourceVersion: String(revision),
          continue: this.store.continueAfter(key, revision),
          ...(options.filter === undefined ? { remainingItemCount: end - 1 - i } : {}),
        };
      }
    }
    return { items, resourceVersion: String(revision) };
  }

  /**
   * Reads one object from memory ("0": as the cache holds it now; a number: not older than
   * it; "": the store's latest). NotFound if absent.
   */
  async get(ref: ObjectRef, resourceVersion = "0"): Promise<T> {
    await this.ready();
    const key = this.store.keyFor(ref);
    if (resourceVersion === "") await this.waitUntilFresh(await this.storeRevision());
    else if (resourceVersion !== "0") await this.waitUntilFresh(parseRv(resourceVersion));
    const obj = this.objects.get(key);
    if (obj === undefined) throw ApiError.notFound(this.store.resource, ref.name);
    return obj;
  }

  /**
   * The object as the cache holds it now, without waiting: undefined when the cache has not
   * synced or does not hold it. May be stale; callers that write compare on its
   * resourceVersion (ObjectStore.guaranteedUpdate's cachedExisting). Must not be mutated.
   */
  peek(ref: ObjectRef): T | undefined {
    if (!this.synced) return undefined;
    return this.objects.get(this.store.keyFor(ref));
  }

  /** Opens a client watch; see CacheWatchOptions. */
  async watch(options: CacheWatchOptions<T>): Promise<CacheWatcher<T>> {
    const rv = options.resourceVersion;
    const from = rv === "" || rv === "0" ? undefined : parseRv(rv);
    await this.ready(from);
    if (from !== undefined) await this.waitUntilFresh(from);
    if (this.stopped) throw ApiError.serviceUnavailable("the watch cache is stopped");
    // From here to the end, synchronous: no event can slip between the replay and registration.
    if (from !== undefined && from < this.window.start) {
      throw ApiError.tooOldResourceVersion(from, this.window.start);
    }
    const w = new CacheWatcher<T>(
      this.store.prefixFor(options.namespace),
      options.filter ?? always,
      options.allowBookmarks ?? false,
      this.watcherBuffer,
      from ?? this.currentRevision,
      (x) => this.watchers.delete(x),
    );
    if (from === undefined) {
      for (const [key, obj] of [...this.objects.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
        if (key.startsWith(w.prefix) && w.filter(obj)) {
          w.offer({ type: "ADDED", object: obj, revision: this.currentRevision }, true);
        }
      }
      w.lastRevision = this.currentRevision;
    } else {
      for (const e of this.window.after(from)) {
        const out = this.convert(w, e);
        if (out !== undefined) w.offer(out, true);
      }
    }
    this.watchers.add(w);
    return w;
  }

  /** Stops the store watch and timers and ends every client watch. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.bookmarkTimer);
    clearInterval(this.progressTimer);
    this.progressTimer = undefined;
    this.storeWatch?.close();
    for (const w of [...this.watchers]) w.close("cache-stopped");
    for (const w of this.waiters)
      w.reject(ApiError.serviceUnavailable("the watch cache is stopped"));
    this.waiters.clear();
  }
}

/** The first index of ascending `sorted` whose string is not below `s`. */
function lowerBound(sorted: readonly string[], s: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) < s) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function parseRv(rv: string): number {
  if (!/^\d+$/.test(rv)) {
    throw ApiError.badRequest(
      `resourceVersion: Invalid value: "${rv}": must be a resourceVersion returned by the server (a decimal number)`,
    );
  }
  return Number(rv);
}
