// The one error type of the CRI boundary: a gRPC status code, a message a person can act on,
// and the cause. Docker engine errors are mapped to codes here, at the edge, so that handlers
// only ever throw CriError and callers (the agent) branch on `code`.

import { status } from "@grpc/grpc-js";

/** An error of a CRI call; `code` is the gRPC status the client receives. */
export class CriError extends Error {
  readonly code: status;

  constructor(code: status, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CriError";
    this.code = code;
  }

  static notFound(message: string, cause?: unknown): CriError {
    return new CriError(status.NOT_FOUND, message, { cause });
  }

  static invalidArgument(message: string): CriError {
    return new CriError(status.INVALID_ARGUMENT, message);
  }

  static failedPrecondition(message: string, cause?: unknown): CriError {
    return new CriError(status.FAILED_PRECONDITION, message, { cause });
  }
}

/** The HTTP status of a Docker engine API error (dockerode sets `statusCode`), if any. */
export function dockerStatusCode(e: unknown): number | undefined {
  if (typeof e === "object" && e !== null && "statusCode" in e) {
    const code = (e as { statusCode: unknown }).statusCode;
    if (typeof code === "number") return code;
  }
  return undefined;
}

/** True when the engine answered 404: no such container, image or exec. */
export function isDockerNotFound(e: unknown): boolean {
  return dockerStatusCode(e) === 404;
}

/** The engine's own message ("No such container: abc"), without dockerode's prefix. */
function dockerMessage(e: unknown): string {
  if (typeof e === "object" && e !== null && "json" in e) {
    const json = (e as { json: unknown }).json;
    if (typeof json === "object" && json !== null && "message" in json) {
      const message = (json as { message: unknown }).message;
      if (typeof message === "string") return message;
    }
  }
  return e instanceof Error ? e.message : String(e);
}

const SOCKET_ERRORS = new Set(["ECONNREFUSED", "ENOENT", "EACCES", "ECONNRESET", "EPIPE"]);

/**
 * Maps any error of a Docker engine call to a CriError whose message starts with `what` (the
 * operation, e.g. `start container "abc"`). A CriError passes through unchanged.
 */
export function toCriError(e: unknown, what: string): CriError {
  if (e instanceof CriError) return e;
  const httpCode = dockerStatusCode(e);
  const message = `${what}: ${dockerMessage(e)}`;
  if (httpCode !== undefined) {
    if (httpCode === 404) return new CriError(status.NOT_FOUND, message, { cause: e });
    if (httpCode === 409) return new CriError(status.FAILED_PRECONDITION, message, { cause: e });
    if (httpCode === 400) return new CriError(status.INVALID_ARGUMENT, message, { cause: e });
    return new CriError(status.INTERNAL, message, { cause: e });
  }
  const errno = typeof e === "object" && e !== null && "code" in e ? String(e.code) : "";
  if (SOCKET_ERRORS.has(errno)) {
    return new CriError(
      status.UNAVAILABLE,
      `${message} (the Docker engine does not answer; is dockerd running? scripts/setup-docker.sh starts one)`,
      { cause: e },
    );
  }
  return new CriError(status.INTERNAL, message, { cause: e });
}
