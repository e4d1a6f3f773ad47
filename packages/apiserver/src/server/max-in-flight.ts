// Load shedding as kube-apiserver's max-in-flight filter does it
// (k8s.io/apiserver/pkg/server/filters/maxinflight.go): at most --max-requests-inflight
// read-only and --max-mutating-requests-inflight mutating requests run at once; one over the
// limit is refused at once with 429 TooManyRequests ("Too many requests, please try again
// later.", Retry-After 1 s) instead of queuing behind the others until its deadline passes.
// Long-running requests (watches) are not counted. A limit of 0 means no limit.

import { StatusError } from "./status-error.js";

/** kube-apiserver's --max-requests-inflight default. */
export const DEFAULT_MAX_REQUESTS_INFLIGHT = 400;
/** kube-apiserver's --max-mutating-requests-inflight default. */
export const DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT = 200;

/** Kubernetes' request_kind label of apiserver_dropped_requests_total. */
export type RequestKind = "readOnly" | "mutating";

/** The message kube-apiserver's tooManyRequests answers with. */
export const TOO_MANY_REQUESTS_MESSAGE = "Too many requests, please try again later.";

/** The 429 an over-limit request gets: retry after 1 s (kube-apiserver's Retry-After). */
export function tooManyRequests(): StatusError {
  return new StatusError("TooManyRequests", TOO_MANY_REQUESTS_MESSAGE, { retryAfterSeconds: 1 });
}

export interface MaxInFlightOptions {
  /** Read-only requests at once; 0: no limit. Default DEFAULT_MAX_REQUESTS_INFLIGHT. */
  readonly maxRequestsInflight?: number;
  /** Mutating requests at once; 0: no limit. Default DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT. */
  readonly maxMutatingRequestsInflight?: number;
}

/** Two counters of requests in flight, one per request kind, each with its limit. */
export class MaxInFlight {
  private readonly limits: Readonly<Record<RequestKind, number>>;
  private readonly current: Record<RequestKind, number> = { readOnly: 0, mutating: 0 };
  private readonly dropped: Record<RequestKind, number> = { readOnly: 0, mutating: 0 };

  constructor(options: MaxInFlightOptions = {}) {
    const readOnly = options.maxRequestsInflight ?? DEFAULT_MAX_REQUESTS_INFLIGHT;
    const mutating = options.maxMutatingRequestsInflight ?? DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT;
    for (const [name, v] of [
      ["maxRequestsInflight", readOnly],
      ["maxMutatingRequestsInflight", mutating],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 0) {
        throw new RangeError(`${name}: ${v} is not a count; give 0 (no limit) or more`);
      }
    }
    this.limits = { readOnly, mutating };
  }

  /**
   * Takes a slot of `kind`: returns the function that gives it back (call it exactly once,
   * when the request is answered), or undefined when the limit is reached (answer 429).
   */
  tryAcquire(kind: RequestKind): (() => void) | undefined {
    const limit = this.limits[kind];
    if (limit > 0 && this.current[kind] >= limit) {
      this.dropped[kind]++;
      return undefined;
    }
    this.current[kind]++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.current[kind]--;
    };
  }

  /** Requests of `kind` running now (apiserver_current_inflight_requests). */
  inFlight(kind: RequestKind): number {
    return this.current[kind];
  }

  /** Requests of `kind` refused so far (apiserver_dropped_requests_total). */
  droppedCount(kind: RequestKind): number {
    return this.dropped[kind];
  }
}
