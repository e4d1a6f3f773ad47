// What a reflector needs from the API: list a collection, then watch it from the list's
// resourceVersion (the List and Watch verbs of proto/tug/apiserver/v1/api.proto).
// https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes

export interface ListOptions {
  /**
   * "" for the latest state (a quorum read), "0" for any cached state, else a state at least
   * this new. Unset on continue pages: they are read at the first page's version.
   */
  resourceVersion?: string;
  /** Items per page; 0 or unset means all. */
  limit?: number;
  /** The previous page's continue token. */
  continue?: string;
  /** Aborts the request; the promise then rejects (with any error). */
  signal?: AbortSignal;
}

export interface ListResult<T> {
  items: T[];
  /** The version the list was read at; watching from it misses nothing and repeats nothing. */
  resourceVersion: string;
  /** Non-empty when more pages remain. */
  continue?: string;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";

/**
 * One change. For DELETED, `object` is the last stored state; for BOOKMARK, an object whose
 * only meaningful field is metadata.resourceVersion. A server's ERROR event is not an event
 * here: the ListerWatcher throws it from the iterator (an Expired/410 one as an error that
 * `isExpiredError` recognises).
 */
export interface WatchEvent<T> {
  type: WatchEventType;
  object: T;
}

export interface WatchOptions {
  /** Send changes after this version. */
  resourceVersion: string;
  /** Ask for BOOKMARK events while the collection is quiet, so a re-watch starts nearer now. */
  allowWatchBookmarks: boolean;
  /** Ask the server to end the watch cleanly after this many seconds. */
  timeoutSeconds?: number;
  /**
   * Cancels the watch: once aborted, the iterator must finish (return done, or reject) and
   * release the stream.
   */
  signal: AbortSignal;
}

/**
 * A resource's List and Watch, pre-bound to its namespace and selectors. The typed client
 * provides one per resource (apiListerWatcher); tests use an in-memory one. Objects it returns
 * become the cache's, which freezes them: hand out freshly decoded objects, never ones kept
 * for later use.
 *
 * watch() returns the stream of changes. The stream ending normally means "watch again from the
 * last version seen"; throwing an expired error (`isExpiredError`) means "that version is
 * compacted: list again"; any other error means "retry after a back-off".
 */
export interface ListerWatcher<T> {
  list(options: ListOptions): Promise<ListResult<T>>;
  watch(
    options: WatchOptions,
  ): AsyncIterable<WatchEvent<T>> | Promise<AsyncIterable<WatchEvent<T>>>;
}

/**
 * The error a ListerWatcher throws when asked for a version the server no longer keeps:
 * Kubernetes' Status reason "Expired" with HTTP code 410 (Gone).
 */
export class ResourceExpiredError extends Error {
  readonly reason = "Expired";
  readonly code = 410;
  override readonly name = "ResourceExpiredError";
}

/**
 * True for errors meaning "the requested resourceVersion is too old, list again": a Status
 * reason "Expired" or "Gone", or HTTP code 410, on the error itself or on its `status`.
 */
export function isExpiredError(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const candidates: unknown[] = [error, (error as { status?: unknown }).status];
  return candidates.some((c) => {
    if (typeof c !== "object" || c === null) return false;
    const { reason, code } = c as { reason?: unknown; code?: unknown };
    return reason === "Expired" || reason === "Gone" || code === 410;
  });
}
