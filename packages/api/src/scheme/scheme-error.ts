// The one error type of the scheme: manifests that do not parse, objects that do not decode,
// kinds that are not registered. Callers branch on `code` (gRPC-aligned): invalid_argument
// for bad input (kube-apiserver answers 400 or 422), not_found for a kind or resource name
// the scheme does not know (kubectl: "the server doesn't have a resource type ...").

export type SchemeErrorCode = "invalid_argument" | "not_found";

/** Where in a manifest stream an error is. */
export interface SchemeErrorLocation {
  /** The YAML document, counted from 0 in stream order (empty documents count too). */
  readonly documentIndex?: number;
  /** The field path in Kubernetes' notation: spec.containers[0].image, metadata.labels[app]. */
  readonly path?: string;
}

export class SchemeError extends Error {
  override readonly name = "SchemeError";
  readonly documentIndex: number | undefined;
  readonly path: string | undefined;

  constructor(
    readonly code: SchemeErrorCode,
    message: string,
    location?: SchemeErrorLocation,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.documentIndex = location?.documentIndex;
    this.path = location?.path;
  }
}
