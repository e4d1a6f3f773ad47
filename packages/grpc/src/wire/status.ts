// gRPC status codes (https://github.com/grpc/grpc/blob/master/doc/statuscodes.md): the numbers
// sent in grpc-status, and their names as grpc-js's `status` enum spells them.

/** The status codes by name; the values are what grpc-status carries. */
export const Status = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type StatusName = keyof typeof Status;
/** A code from 0 to 16. A peer may send others; they read as UNKNOWN (statusFromNumber). */
export type StatusCode = (typeof Status)[StatusName];

const NAMES: readonly StatusName[] = (Object.keys(Status) as StatusName[]).sort(
  (a, b) => Status[a] - Status[b],
);

/** "NOT_FOUND" for 5; "UNKNOWN" for a number that is no status code. */
export function statusName(code: number): StatusName {
  return NAMES[code] ?? "UNKNOWN";
}

/**
 * The code a grpc-status header value stands for. Per statuscodes.md a client treats a
 * value it does not know (or a malformed one) as UNKNOWN.
 */
export function statusFromHeader(value: string | undefined): StatusCode {
  if (value === undefined || !/^\d{1,2}$/.test(value)) return Status.UNKNOWN;
  const code = Number(value);
  return code <= Status.UNAUTHENTICATED ? (code as StatusCode) : Status.UNKNOWN;
}
