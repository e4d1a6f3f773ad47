// The storage layer's one error type: a Kubernetes status reason, its HTTP code and the message
// Kubernetes prints, so that the API service can hand it to clients unchanged.
// Reasons and codes: k8s.io/apimachinery/pkg/apis/meta/v1 StatusReason; messages:
// k8s.io/apimachinery/pkg/api/errors (NewNotFound, NewAlreadyExists, NewConflict, ...).

/** The Kubernetes status reasons the storage layer produces. */
export type StatusReason =
  | "BadRequest"
  | "NotFound"
  | "AlreadyExists"
  | "Conflict"
  | "Forbidden"
  | "Expired"
  | "Timeout"
  | "InternalError"
  | "ServiceUnavailable";

/** HTTP status code of each reason, as Kubernetes sends it. */
export const STATUS_CODES: Readonly<Record<StatusReason, number>> = {
  BadRequest: 400,
  NotFound: 404,
  AlreadyExists: 409,
  Conflict: 409,
  Forbidden: 403,
  Expired: 410,
  Timeout: 504,
  InternalError: 500,
  ServiceUnavailable: 503,
};

/** Kubernetes' OptimisticLockErrorMsg (k8s.io/apiserver/pkg/registry/generic/registry). */
export const OPTIMISTIC_LOCK_MESSAGE =
  "the object has been modified; please apply your changes to the latest version and try again";

/** Kubernetes' message for a continue token whose revision has been compacted. */
export const CONTINUE_EXPIRED_MESSAGE =
  "The provided continue parameter is too old to display a consistent list result. You can " +
  "start a new list without the continue parameter, or use the continue token in this " +
  "response to retrieve the remainder of the results.";

/** Kubernetes' message for a watch from a revision etcd has compacted. */
export const WATCH_EXPIRED_MESSAGE = "The resourceVersion for the provided watch is too old.";

/** An API group and resource, e.g. { group: "apps", resource: "deployments" }; "" is core. */
export interface GroupResource {
  readonly group: string;
  readonly resource: string;
}

/** The resource as Kubernetes prints it in messages: "pods", "deployments.apps". */
export function formatGroupResource(gr: GroupResource): string {
  return gr.group === "" || gr.group === "core" ? gr.resource : `${gr.resource}.${gr.group}`;
}

export interface ApiErrorDetails {
  /** The object's name, when the error is about one object. */
  readonly name?: string;
  readonly group?: string;
  /** The resource (Kubernetes puts the resource in details.kind for these errors). */
  readonly kind?: string;
  /** For Expired and Timeout on resource versions: seconds after which to retry, if any. */
  readonly retryAfterSeconds?: number;
}

/**
 * A failed storage operation, as a Kubernetes Status: callers branch on `reason`; `code` is the
 * HTTP status; `message` is Kubernetes' text.
 */
export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly reason: StatusReason;
  readonly code: number;
  readonly details: ApiErrorDetails;

  constructor(
    reason: StatusReason,
    message: string,
    details: ApiErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.reason = reason;
    this.code = STATUS_CODES[reason];
    this.details = details;
  }

  /** `pods "web" not found` */
  static notFound(gr: GroupResource, name: string): ApiError {
    return new ApiError("NotFound", `${formatGroupResource(gr)} "${name}" not found`, {
      name,
      group: gr.group,
      kind: gr.resource,
    });
  }

  /** `pods "web" already exists` */
  static alreadyExists(gr: GroupResource, name: string): ApiError {
    return new ApiError("AlreadyExists", `${formatGroupResource(gr)} "${name}" already exists`, {
      name,
      group: gr.group,
      kind: gr.resource,
    });
  }

  /**
   * `Operation cannot be fulfilled on pods "web": <why>`; `why` defaults to Kubernetes'
   * optimistic-lock message (a stale resourceVersion).
   */
  static conflict(gr: GroupResource, name: string, why = OPTIMISTIC_LOCK_MESSAGE): ApiError {
    return new ApiError(
      "Conflict",
      `Operation cannot be fulfilled on ${formatGroupResource(gr)} "${name}": ${why}`,
      { name, group: gr.group, kind: gr.resource },
    );
  }

  /**
   * `pods "web" is forbidden: <why>` (`pods is forbidden: <why>` without a name): admission's
   * refusals (k8s.io/apimachinery/pkg/api/errors NewForbidden).
   */
  static forbidden(gr: GroupResource, name: string, why: string): ApiError {
    const what = formatGroupResource(gr);
    return new ApiError(
      "Forbidden",
      name === "" ? `${what} is forbidden: ${why}` : `${what} "${name}" is forbidden: ${why}`,
      { name, group: gr.group, kind: gr.resource },
    );
  }

  /** 410 Gone with reason Expired: the requested revision is no longer available. */
  static expired(message: string): ApiError {
    return new ApiError("Expired", message);
  }

  /** Kubernetes' "too old resource version: X (Y)" for a watch before the cache's window. */
  static tooOldResourceVersion(requested: number, oldest: number): ApiError {
    return new ApiError("Expired", `too old resource version: ${requested} (${oldest})`);
  }

  /**
   * Kubernetes' "Too large resource version" (reason Timeout, retry after 1 s): the cache did
   * not reach the requested revision in time.
   */
  static tooLargeResourceVersion(requested: number, current: number): ApiError {
    return new ApiError(
      "Timeout",
      `Too large resource version: ${requested}, current: ${current}`,
      { retryAfterSeconds: 1 },
    );
  }

  static badRequest(message: string): ApiError {
    return new ApiError("BadRequest", message);
  }

  static internal(message: string, cause?: unknown): ApiError {
    return new ApiError("InternalError", `Internal error occurred: ${message}`, {}, { cause });
  }

  static serviceUnavailable(message: string, cause?: unknown): ApiError {
    return new ApiError("ServiceUnavailable", message, {}, { cause });
  }

  static timeout(message: string, cause?: unknown): ApiError {
    return new ApiError("Timeout", message, {}, { cause });
  }
}

/** True if `e` is an ApiError with the given reason. */
export function isApiError(e: unknown, reason?: StatusReason): e is ApiError {
  return e instanceof ApiError && (reason === undefined || e.reason === reason);
}
