// A unary call is answered with 504 Timeout shortly before the client's deadline, as
// kube-apiserver's timeout filter answers "request did not complete within requested timeout"
// (k8s.io/apiserver/pkg/server/filters/timeout.go). The client then gets a Status instead of
// giving up and resetting the HTTP/2 stream: when an overloaded server let thousands of calls
// run into their deadlines, their RST_STREAM frames arrived in one burst, and nghttp2's
// rapid-reset protection (CVE-2023-44487: a burst of 1000, then 33/s) answered the burst by
// closing the whole connection with GOAWAY INTERNAL_ERROR ("Session closed with error code
// 2"), failing every other call on it too. The work of a call answered this way still runs to
// its end (a write may still be stored, as with a Kubernetes 504).

import { StatusError } from "./status-error.js";

/** Answer this long before the deadline, as a share of the time the call was given... */
const MARGIN_SHARE = 0.05;
/** ...but at least this long (the answer's trip back), at most this long. */
const MIN_MARGIN_MS = 50;
const MAX_MARGIN_MS = 1_000;

/** kube-apiserver's text (errors.NewTimeoutError prefixes "Timeout: "). */
export const REQUEST_TIMEOUT_MESSAGE =
  "Timeout: request did not complete within requested timeout - context deadline exceeded";

export function requestTimeout(): StatusError {
  return new StatusError("Timeout", REQUEST_TIMEOUT_MESSAGE);
}

/**
 * Milliseconds from `now` until the server should answer Timeout for a call with `deadline`;
 * undefined when the call has no deadline. 0 when the margin has already passed.
 */
export function msUntilTimeoutAnswer(
  /** The call's deadline: a Date, or a time in ms since the epoch (Infinity: none). */
  deadline: Date | number,
  now = Date.now(),
): number | undefined {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (!Number.isFinite(at)) return undefined;
  const left = at - now;
  const margin = Math.min(MAX_MARGIN_MS, Math.max(MIN_MARGIN_MS, left * MARGIN_SHARE));
  return Math.max(0, left - margin);
}
