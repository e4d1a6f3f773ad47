// The reflector: keeps a Store equal to the server's collection by listing it, then watching it
// from the list's resourceVersion (client-go's cache.Reflector).
// https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes
import type { Store } from "../cache/indexer.js";
import type { CacheObject } from "../cache/object.js";
import { type Clock, realClock } from "../workqueue/clock.js";
import { type BackoffOptions, ExponentialBackoff } from "./backoff.js";
import {
  isExpiredError,
  type ListerWatcher,
  type ListResult,
  type WatchEvent,
} from "./lister-watcher.js";
import { sleep } from "./sleep.js";

/** Page size of the reflector's list: client-go's pager default, which bounds one response. */
export const DEFAULT_LIST_PAGE_SIZE = 500;
/**
 * Watches ask the server to end them after 5-10 min (client-go's minWatchTimeout and its
 * random doubling), so that clients spread over API servers as those come and go.
 */
export const MIN_WATCH_TIMEOUT_SECONDS = 300;
/**
 * A watch that ends cleanly sooner than this without delivering a single event counts as a
 * failure ("very short watch" in client-go), so a server that closes every watch at once is
 * retried with back-off instead of in a hot loop.
 */
export const MIN_WATCH_DURATION_MS = 1_000;

/** Reports a failure the reflector recovers from by itself (it retries); for logs and metrics. */
export type ErrorReporter = (error: unknown, context: string) => void;

/** Writes one structured JSON line to stderr, as tug's daemons log. */
export const logErrorAsJson: ErrorReporter = (error, context) => {
  const message = error instanceof Error ? error.message : String(error);
  console.error(JSON.stringify({ level: "error", msg: context, error: message }));
};

export interface ReflectorOptions<T extends CacheObject> {
  listerWatcher: ListerWatcher<T>;
  /** Receives replace (each list), then add/update/delete (each watch event). */
  store: Store<T>;
  /** A name for messages, e.g. "pods". */
  name?: string;
  clock?: Clock;
  /** Uniform in [0, 1): back-off jitter and watch timeouts. */
  random?: () => number;
  pageSize?: number;
  backoff?: BackoffOptions;
  onError?: ErrorReporter;
}

type WatchOutcome = "ended" | "expired" | "stopped";

/**
 * What a reflector has done, for metrics: a watch started again after one ended (a server
 * closes a watch whose client fell behind, or at its timeout) or a relist after an Expired
 * watch shows here.
 */
export interface ReflectorCounts {
  /** Lists done (each of all its pages), the first one included. */
  readonly lists: number;
  /** Watches started. */
  readonly watches: number;
  /** Watch events applied to the store. */
  readonly events: number;
}

/**
 * Lists, replaces the store, and watches from the list's version; re-watches from the last
 * version seen when a watch ends; relists when the server says that version has expired; backs
 * off and retries on any other failure. Stops when run()'s signal aborts.
 */
export class Reflector<T extends CacheObject> {
  private readonly lw: ListerWatcher<T>;
  private readonly store: Store<T>;
  private readonly name: string;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly pageSize: number;
  private readonly backoff: ExponentialBackoff;
  private readonly onError: ErrorReporter;
  private lastSyncRv = "";
  /** The last list or watch said lastSyncRv is too old: the next list must be a fresh read. */
  private lastSyncRvUnavailable = false;
  private lists = 0;
  private watches = 0;
  private events = 0;

  constructor(options: ReflectorOptions<T>) {
    this.lw = options.listerWatcher;
    this.store = options.store;
    this.name = options.name ?? "reflector";
    this.clock = options.clock ?? realClock;
    this.random = options.random ?? Math.random;
    this.pageSize = options.pageSize ?? DEFAULT_LIST_PAGE_SIZE;
    if (!(Number.isInteger(this.pageSize) && this.pageSize >= 0)) {
      throw new RangeError(
        `pageSize must be a whole number >= 0 (0: no paging), got ${this.pageSize}`,
      );
    }
    this.backoff = new ExponentialBackoff(this.clock, this.random, options.backoff);
    this.onError = options.onError ?? logErrorAsJson;
  }

  counts(): ReflectorCounts {
    return { lists: this.lists, watches: this.watches, events: this.events };
  }

  /** The resourceVersion of the last list, watch event or bookmark applied; "" before the first. */
  lastSyncResourceVersion(): string {
    return this.lastSyncRv;
  }

  /** Runs until `signal` aborts; never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.listAndWatch(signal);
      } catch (error) {
        if (signal.aborted) break;
        this.onError(error, `${this.name}: list failed; retrying after back-off`);
        await sleep(this.clock, this.backoff.next(), signal);
      }
    }
  }

  /** One list, then watches until a watch reports the version expired (or the signal aborts). */
  private async listAndWatch(signal: AbortSignal): Promise<void> {
    await this.list(signal);
    while (!signal.aborted) {
      let outcome: WatchOutcome;
      try {
        outcome = await this.watchOnce(signal);
      } catch (error) {
        if (signal.aborted) return;
        this.onError(error, `${this.name}: watch failed; watching again after back-off`);
        await sleep(this.clock, this.backoff.next(), signal);
        continue;
      }
      if (outcome !== "ended") return;
    }
  }

  /** client-go's relistResourceVersion: "0" at first (any cached state will do), then not older than what we saw. */
  private relistResourceVersion(): string {
    if (this.lastSyncRvUnavailable) return "";
    return this.lastSyncRv === "" ? "0" : this.lastSyncRv;
  }

  private async list(signal: AbortSignal): Promise<void> {
    const resourceVersion = this.relistResourceVersion();
    let result: { items: T[]; resourceVersion: string };
    try {
      result = await this.listAllPages(resourceVersion, signal);
    } catch (error) {
      if (!isExpiredError(error) || resourceVersion === "") throw error;
      // Our last version is gone from the server's window: read the latest instead.
      this.lastSyncRvUnavailable = true;
      result = await this.listAllPages("", signal);
    }
    if (signal.aborted) return;
    this.lists++;
    this.store.replace(result.items, result.resourceVersion);
    this.lastSyncRv = result.resourceVersion;
    this.lastSyncRvUnavailable = false;
  }

  private async listAllPages(
    resourceVersion: string,
    signal: AbortSignal,
  ): Promise<{ items: T[]; resourceVersion: string }> {
    const limit = this.pageSize;
    let page: ListResult<T> = await untilAborted(
      this.lw.list({ resourceVersion, limit, signal }),
      signal,
    );
    const items = [...page.items];
    while (page.continue !== undefined && page.continue !== "" && !signal.aborted) {
      try {
        page = await untilAborted(this.lw.list({ continue: page.continue, limit, signal }), signal);
      } catch (error) {
        if (!isExpiredError(error)) throw error;
        // The continue token outlived the version it reads at: take the whole list in one
        // response instead (client-go's pager, FullListIfExpired).
        return untilAborted(this.lw.list({ resourceVersion, signal }), signal);
      }
      items.push(...page.items);
    }
    return { items, resourceVersion: page.resourceVersion };
  }

  private async watchOnce(signal: AbortSignal): Promise<WatchOutcome> {
    const started = this.clock.now();
    const cancel = new AbortController();
    const onAbort = () => cancel.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    const timeoutSeconds = Math.floor(MIN_WATCH_TIMEOUT_SECONDS * (1 + this.random()));
    let iterator: AsyncIterator<WatchEvent<T>> | undefined;
    let events = 0;
    try {
      const stream = await untilAborted(
        Promise.resolve(
          this.lw.watch({
            resourceVersion: this.lastSyncRv,
            allowWatchBookmarks: true,
            timeoutSeconds,
            signal: cancel.signal,
          }),
        ),
        signal,
      );
      iterator = stream[Symbol.asyncIterator]();
      this.watches++;
      const nextOrAbort = abortableNext(iterator, cancel.signal);
      for (;;) {
        const next = await nextOrAbort();
        if (next === ABORTED || signal.aborted) return "stopped";
        if (next.done === true) break;
        events++;
        this.events++;
        this.apply(next.value);
      }
    } catch (error) {
      if (signal.aborted) return "stopped";
      if (isExpiredError(error)) return "expired";
      throw error;
    } finally {
      signal.removeEventListener("abort", onAbort);
      cancel.abort();
      // Release the stream without waiting on it: a misbehaving iterator must not hang stop().
      iterator?.return?.().catch(() => {});
    }
    if (events === 0 && this.clock.now() - started < MIN_WATCH_DURATION_MS) {
      throw new Error(
        `very short watch: the watch from resourceVersion ${this.lastSyncRv} ended at once with no events`,
      );
    }
    return "ended";
  }

  private apply(event: WatchEvent<T>): void {
    const rv = event.object.metadata?.resourceVersion;
    try {
      switch (event.type) {
        case "ADDED":
          this.store.add(event.object);
          break;
        case "MODIFIED":
          this.store.update(event.object);
          break;
        case "DELETED":
          this.store.delete(event.object);
          break;
        case "BOOKMARK":
          break;
        default:
          throw new Error(`unexpected watch event type ${JSON.stringify(event.type)}`);
      }
    } catch (error) {
      // One object the store cannot take must not stop the stream (client-go logs and goes on).
      this.onError(error, `${this.name}: cannot apply ${event.type} watch event`);
    }
    if (rv !== undefined && rv !== "") this.lastSyncRv = rv;
  }
}

const ABORTED = Symbol("aborted");

/**
 * `iterator.next()`, settled early with ABORTED once `signal` aborts, so that an iterator that
 * ignores its signal cannot hold up stop(). One abort listener serves every call: a
 * `Promise.race([iterator.next(), aborted])` per event would instead leave one reaction per
 * event on the long-lived `aborted` promise until the watch ends (hundreds of thousands on a
 * busy watch, all kept alive and scanned by every GC).
 */
function abortableNext<T>(
  iterator: AsyncIterator<T>,
  signal: AbortSignal,
): () => Promise<IteratorResult<T> | typeof ABORTED> {
  let wake: ((value: typeof ABORTED) => void) | undefined;
  signal.addEventListener("abort", () => wake?.(ABORTED), { once: true });
  return () => {
    if (signal.aborted) return Promise.resolve(ABORTED);
    return new Promise((resolve, reject) => {
      wake = resolve;
      iterator.next().then(resolve, reject);
    });
  };
}

/**
 * `promise`, or a rejection as soon as `signal` aborts: a ListerWatcher that ignores its
 * signal must not keep stop() waiting.
 */
function untilAborted<R>(promise: Promise<R>, signal: AbortSignal): Promise<R> {
  if (signal.aborted) return Promise.reject(new Error("reflector stopped"));
  return new Promise<R>((resolve, reject) => {
    const onAbort = () => reject(new Error("reflector stopped"));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
