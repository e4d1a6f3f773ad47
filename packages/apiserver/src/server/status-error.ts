// The API service's error: a Kubernetes Status (reason, HTTP code, message, details with field
// causes), and how every error a verb can meet becomes one. The gRPC status code follows the
// reason, per the table in proto/tug/apiserver/v1/api.proto; the Status itself travels in the
// trailing metadata "tug-status-bin".
// Reasons, codes and messages: k8s.io/apimachinery/pkg/api/errors and
// https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/status/

import { create } from "@bufbuild/protobuf";
import { status as grpcStatus } from "@grpc/grpc-js";
import {
  FieldErrorAggregate,
  type KindInfo,
  PatchError,
  SchemeError,
  type Status,
  StatusSchema,
} from "@tug/api";
import { ApiError as StorageError } from "../storage/errors.js";

/** Every reason the API server answers with, and its HTTP code. */
export const REASON_CODES = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
} as const;

export type Reason = keyof typeof REASON_CODES;

/** The gRPC code of each reason (api.proto's table). */
const GRPC_CODES: Readonly<Record<Reason, grpcStatus>> = {
  BadRequest: grpcStatus.INVALID_ARGUMENT,
  Unauthorized: grpcStatus.UNAUTHENTICATED,
  Forbidden: grpcStatus.PERMISSION_DENIED,
  NotFound: grpcStatus.NOT_FOUND,
  MethodNotAllowed: grpcStatus.UNIMPLEMENTED,
  AlreadyExists: grpcStatus.ALREADY_EXISTS,
  Conflict: grpcStatus.ABORTED,
  Gone: grpcStatus.OUT_OF_RANGE,
  Expired: grpcStatus.OUT_OF_RANGE,
  RequestEntityTooLarge: grpcStatus.RESOURCE_EXHAUSTED,
  UnsupportedMediaType: grpcStatus.INVALID_ARGUMENT,
  Invalid: grpcStatus.INVALID_ARGUMENT,
  TooManyRequests: grpcStatus.RESOURCE_EXHAUSTED,
  InternalError: grpcStatus.INTERNAL,
  ServiceUnavailable: grpcStatus.UNAVAILABLE,
  Timeout: grpcStatus.DEADLINE_EXCEEDED,
};

export interface Cause {
  /** "FieldValueRequired", "FieldValueInvalid", ... */
  readonly reason: string;
  readonly message: string;
  readonly field: string;
}

export interface StatusDetailsInit {
  readonly name?: string;
  readonly group?: string;
  /** The resource (Kubernetes puts it in details.kind) or the kind for Invalid. */
  readonly kind?: string;
  readonly causes?: readonly Cause[];
  readonly retryAfterSeconds?: number;
}

/** A failed API call, as the Status the client receives. */
export class StatusError extends Error {
  override readonly name = "StatusError";
  readonly code: number;

  constructor(
    readonly reason: Reason,
    message: string,
    readonly details: StatusDetailsInit = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = REASON_CODES[reason];
  }

  get grpcCode(): grpcStatus {
    return GRPC_CODES[this.reason];
  }

  /** tug.meta.v1.Status of this error. */
  toStatus(): Status {
    return create(StatusSchema, {
      apiVersion: "v1",
      kind: "Status",
      status: "Failure",
      message: this.message,
      reason: this.reason,
      code: this.code,
      details: {
        name: this.details.name ?? "",
        group: this.details.group ?? "",
        kind: this.details.kind ?? "",
        causes: (this.details.causes ?? []).map((c) => ({ ...c })),
        retryAfterSeconds: this.details.retryAfterSeconds ?? 0,
      },
    });
  }

  static badRequest(message: string): StatusError {
    return new StatusError("BadRequest", message);
  }

  /** Kubernetes' answer for a path that names no resource. */
  static resourceNotFound(): StatusError {
    return new StatusError("NotFound", "the server could not find the requested resource");
  }

  /** `Pod "x" is invalid: spec.containers[0].name: Required value` with one cause per field. */
  static invalid(kind: KindInfo, name: string, errors: FieldErrorAggregate): StatusError {
    return new StatusError(
      "Invalid",
      `${kind.kind} "${name}" is invalid: ${errors.message}`,
      {
        name,
        group: kind.group,
        kind: kind.kind,
        causes: errors.errors.map((e) => ({ reason: e.type, message: e.body, field: e.field })),
      },
      { cause: errors },
    );
  }

  static methodNotAllowed(message: string): StatusError {
    return new StatusError("MethodNotAllowed", message);
  }
}

/**
 * The StatusError of anything a verb throws: storage errors keep their reason, scheme and patch
 * errors become BadRequest/Invalid/RequestEntityTooLarge, field error lists become Invalid of
 * `kind` "name", anything else is an InternalError.
 */
export function toStatusError(e: unknown, context?: { kind: KindInfo; name: string }): StatusError {
  if (e instanceof StatusError) return e;
  if (e instanceof StorageError) {
    return new StatusError(
      e.reason,
      e.message,
      {
        ...(e.details.name === undefined ? {} : { name: e.details.name }),
        ...(e.details.group === undefined ? {} : { group: e.details.group }),
        ...(e.details.kind === undefined ? {} : { kind: e.details.kind }),
        ...(e.details.retryAfterSeconds === undefined
          ? {}
          : { retryAfterSeconds: e.details.retryAfterSeconds }),
      },
      { cause: e },
    );
  }
  if (e instanceof FieldErrorAggregate) {
    if (context !== undefined) return StatusError.invalid(context.kind, context.name, e);
    return new StatusError("Invalid", e.message, {}, { cause: e });
  }
  if (e instanceof SchemeError) {
    return new StatusError("BadRequest", e.message, {}, { cause: e });
  }
  if (e instanceof PatchError) {
    const reason: Reason =
      e.reason === "too-large"
        ? "RequestEntityTooLarge"
        : e.reason === "malformed"
          ? "BadRequest"
          : "Invalid";
    return new StatusError(reason, e.message, {}, { cause: e });
  }
  const message = e instanceof Error ? e.message : String(e);
  return new StatusError("InternalError", `Internal error occurred: ${message}`, {}, { cause: e });
}
