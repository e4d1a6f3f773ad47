// Recognising the API server's errors and printing them as kubectl does:
//   Error from server (NotFound): pods "web" not found
//   The Pod "web" is invalid: spec.containers[0].image: Required value
//   The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?
// (k8s.io/kubectl/pkg/cmd/util StandardErrorMessage.)

import { CliError } from "./cli-error.js";

/** The part of @tug/client's ApiError the CLI reads: Kubernetes' status reason and code. */
export interface ApiStatusLike {
  readonly reason: string;
  readonly code: number;
  readonly message: string;
}

/** True for errors that carry a Kubernetes status reason (ApiError and test fakes). */
export function isApiStatus(err: unknown): err is ApiStatusLike {
  if (!(err instanceof Error)) return false;
  const { reason, code } = err as Error & { reason?: unknown; code?: unknown };
  return typeof reason === "string" && reason !== "" && typeof code === "number";
}

/** True if `err` is an API error with `reason`. */
export function hasReason(err: unknown, reason: string): boolean {
  return isApiStatus(err) && err.reason === reason;
}

/** Whether the error (or one of its causes) is a refused or unreachable connection. */
function connectionRefused(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; depth++) {
    if (/ECONNREFUSED|No connection established|EHOSTUNREACH|ENOTFOUND/.test(e.message)) {
      return true;
    }
    e = e.cause;
  }
  return false;
}

/** The text kubectl would print for `err` (without a trailing newline), and the exit code. */
export function describeError(err: unknown, server: string): { text: string; exitCode: number } {
  if (err instanceof CliError) {
    return { text: err.raw ? err.message : `error: ${err.message}`, exitCode: err.exitCode };
  }
  if (connectionRefused(err)) {
    return {
      text: `The connection to the server ${server} was refused - did you specify the right host or port?`,
      exitCode: 1,
    };
  }
  if (isApiStatus(err)) {
    if (err.reason === "Invalid") return { text: `The ${err.message}`, exitCode: 1 };
    if (err.reason === "Unauthorized") {
      return {
        text: `error: You must be logged in to the server (${err.message}); set a token with --token or \`tug config set-credentials NAME --token=...\``,
        exitCode: 1,
      };
    }
    return { text: `Error from server (${err.reason}): ${err.message}`, exitCode: 1 };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { text: `error: ${message}`, exitCode: 1 };
}
