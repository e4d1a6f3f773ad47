// The API client's one error type: what tug-apiserver said went wrong, as the Kubernetes Status
// it sends in the "tug-status-bin" trailer (reason, HTTP code, message, field causes), with the
// gRPC status code for generic tooling. Callers branch on `reason` (client-go's
// apierrors.IsNotFound, IsConflict, ...). Failures that never reached the server (connection
// refused, deadline) carry the reason Kubernetes' client would infer from the gRPC code.
// https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/status/

import { fromBinary } from "@bufbuild/protobuf";
import { status as grpcStatus, type ServiceError } from "@grpc/grpc-js";
import { type Status, StatusSchema } from "@tug/api";
import { STATUS_METADATA_KEY } from "./service-definition.js";

/** One field problem of an Invalid error: `spec.containers[0].name: Required value`. */
export interface StatusCause {
  /** Kubernetes' cause type: "FieldValueRequired", "FieldValueInvalid", ... */
  readonly reason: string;
  /** The problem without the field: "Required value". */
  readonly message: string;
  /** The field path: "spec.containers[0].name". */
  readonly field: string;
}

/** Reason and HTTP code guessed from a gRPC code when the server sent no Status. */
const REASON_OF_GRPC_CODE: Readonly<Record<number, readonly [string, number]>> = {
  [grpcStatus.NOT_FOUND]: ["NotFound", 404],
  [grpcStatus.ALREADY_EXISTS]: ["AlreadyExists", 409],
  [grpcStatus.ABORTED]: ["Conflict", 409],
  [grpcStatus.INVALID_ARGUMENT]: ["BadRequest", 400],
  [grpcStatus.OUT_OF_RANGE]: ["Expired", 410],
  [grpcStatus.PERMISSION_DENIED]: ["Forbidden", 403],
  [grpcStatus.UNAUTHENTICATED]: ["Unauthorized", 401],
  [grpcStatus.RESOURCE_EXHAUSTED]: ["TooManyRequests", 429],
  [grpcStatus.DEADLINE_EXCEEDED]: ["Timeout", 504],
  [grpcStatus.UNAVAILABLE]: ["ServiceUnavailable", 503],
  [grpcStatus.UNIMPLEMENTED]: ["MethodNotAllowed", 405],
  [grpcStatus.CANCELLED]: ["Cancelled", 499],
};

export class ApiError extends Error {
  override readonly name = "ApiError";
  /** Kubernetes' status reason: "NotFound", "Conflict", "Invalid", "Expired", ... */
  readonly reason: string;
  /** The HTTP status code Kubernetes would send: 404, 409, 422, 410, ... */
  readonly code: number;
  /** The gRPC status code of the call. */
  readonly grpcCode: number;
  /** For errors about one object: its name, and the resource (details.kind in Kubernetes). */
  readonly details: {
    readonly name: string;
    readonly group: string;
    readonly kind: string;
    readonly retryAfterSeconds: number;
  };
  readonly causes: readonly StatusCause[];
  /** True when the server sent this Status; false when the call failed before it answered. */
  readonly fromServer: boolean;

  constructor(
    init: {
      reason: string;
      code: number;
      grpcCode: number;
      message: string;
      details?: Partial<ApiError["details"]>;
      causes?: readonly StatusCause[];
      fromServer?: boolean;
    },
    options?: { cause?: unknown },
  ) {
    super(init.message, options);
    this.reason = init.reason;
    this.code = init.code;
    this.grpcCode = init.grpcCode;
    this.details = {
      name: init.details?.name ?? "",
      group: init.details?.group ?? "",
      kind: init.details?.kind ?? "",
      retryAfterSeconds: init.details?.retryAfterSeconds ?? 0,
    };
    this.causes = init.causes ?? [];
    this.fromServer = init.fromServer ?? false;
  }

  /** The error of a Status (from the trailer, or from a watch ERROR event). */
  static fromStatus(status: Status, grpcCode: number, cause?: unknown): ApiError {
    return new ApiError(
      {
        reason: status.reason,
        code: status.code,
        grpcCode,
        message: status.message,
        details: {
          name: status.details?.name ?? "",
          group: status.details?.group ?? "",
          kind: status.details?.kind ?? "",
          retryAfterSeconds: status.details?.retryAfterSeconds ?? 0,
        },
        fromServer: true,
        causes: (status.details?.causes ?? []).map((c) => ({
          reason: c.reason,
          message: c.message,
          field: c.field,
        })),
      },
      { cause },
    );
  }

  /**
   * The error of a failed gRPC call: the server's Status when the trailer holds one, else a
   * reason inferred from the gRPC code (a connection refused is ServiceUnavailable).
   */
  static fromGrpc(e: unknown): ApiError {
    if (e instanceof ApiError) return e;
    const err = e as Partial<ServiceError>;
    const grpcCode = typeof err.code === "number" ? err.code : grpcStatus.UNKNOWN;
    const raw = err.metadata?.get(STATUS_METADATA_KEY)[0];
    if (raw instanceof Buffer) {
      try {
        return ApiError.fromStatus(fromBinary(StatusSchema, raw), grpcCode, e);
      } catch {
        // Not a Status: fall through to the gRPC code.
      }
    }
    const [reason, code] = REASON_OF_GRPC_CODE[grpcCode] ?? ["InternalError", 500];
    const message = err.details || (e instanceof Error ? e.message : String(e));
    return new ApiError({ reason, code, grpcCode, message }, { cause: e });
  }
}

/** True if `e` is an ApiError with `reason` (any reason when omitted). */
export function isApiError(e: unknown, reason?: string): e is ApiError {
  return e instanceof ApiError && (reason === undefined || e.reason === reason);
}
