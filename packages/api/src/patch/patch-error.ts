// The one error type of the patch formats. Callers branch on `reason`:
// - "malformed": the patch document itself is wrong (not an array, unknown op, bad pointer
//   syntax). kube-apiserver answers these with 400 Bad Request; gRPC: invalid_argument.
// - "too-large": a JSON patch with more operations than MAX_JSON_PATCH_OPERATIONS.
//   kube-apiserver answers 413 Request Entity Too Large; gRPC: resource_exhausted.
// - "failed": the patch is well-formed but does not apply to this document (path not found,
//   a "test" that does not hold). kube-apiserver answers 422 Unprocessable Entity; gRPC:
//   failed_precondition, since re-reading the object and patching again may succeed.

export type PatchErrorReason = "malformed" | "too-large" | "failed";
export type PatchErrorCode = "invalid_argument" | "resource_exhausted" | "failed_precondition";

/** Which operation of a JSON patch an error is about (index 0 is the first operation). */
export interface PatchErrorLocation {
  readonly operationIndex: number;
  readonly op?: string;
  readonly path?: string;
}

const CODE_OF: Record<PatchErrorReason, PatchErrorCode> = {
  malformed: "invalid_argument",
  "too-large": "resource_exhausted",
  failed: "failed_precondition",
};

export class PatchError extends Error {
  override readonly name = "PatchError";
  readonly code: PatchErrorCode;
  /** The message without the "patch operation N (op path): " prefix. */
  readonly detail: string;
  readonly operationIndex: number | undefined;
  readonly op: string | undefined;
  readonly path: string | undefined;

  constructor(
    readonly reason: PatchErrorReason,
    detail: string,
    location?: PatchErrorLocation,
    options?: { cause?: unknown },
  ) {
    super(location === undefined ? detail : `${prefix(location)}: ${detail}`, options);
    this.code = CODE_OF[reason];
    this.detail = detail;
    this.operationIndex = location?.operationIndex;
    this.op = location?.op;
    this.path = location?.path;
  }
}

function prefix(location: PatchErrorLocation): string {
  // The whole-document pointer "" is shown quoted, so it does not read as a missing path.
  const path = location.path === "" ? '""' : location.path;
  const what = [location.op, path].filter((s) => s !== undefined).join(" ");
  return what === ""
    ? `patch operation ${location.operationIndex}`
    : `patch operation ${location.operationIndex} (${what})`;
}
