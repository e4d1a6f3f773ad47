// The one error type the Raft core throws. Callers branch on `reason` (what happened) or on
// `code` (the gRPC-aligned class, which the store maps straight onto its replies).

export type RaftErrorCode =
  | "unavailable"
  | "out_of_range"
  | "failed_precondition"
  | "invalid_argument"
  | "not_found"
  | "internal";

export type RaftErrorReason =
  /** No leader is known, or leadership is moving: retry after a leader is elected. */
  | "proposal-dropped"
  /** The requested index precedes the log's first entry (it was compacted into a snapshot). */
  | "compacted"
  /** The requested index is past the end of the log. */
  | "unavailable"
  /** A snapshot older than the one already held was offered. */
  | "snapshot-out-of-date"
  /** The storage cannot produce a snapshot right now; the leader retries later. */
  | "snapshot-temporarily-unavailable"
  /** A local-only message (MsgHup, MsgBeat, ...) was handed to step() from the network. */
  | "step-local-message"
  /** A response came from a node that is not a member. */
  | "step-peer-not-found"
  /** Another configuration change is proposed but not yet applied (thesis §4.1). */
  | "conf-change-pending"
  /** A configuration change that cannot be applied (for example removing the last voter). */
  | "invalid-conf-change"
  /** The node was configured wrongly (zero id, heartbeat >= election tick, ...). */
  | "invalid-config"
  /** The core found its own state inconsistent (a bug, or storage that lost acknowledged data). */
  | "invariant-violated";

const CODE_OF: Record<RaftErrorReason, RaftErrorCode> = {
  "proposal-dropped": "unavailable",
  compacted: "out_of_range",
  unavailable: "out_of_range",
  "snapshot-out-of-date": "failed_precondition",
  "snapshot-temporarily-unavailable": "unavailable",
  "step-local-message": "invalid_argument",
  "step-peer-not-found": "not_found",
  "conf-change-pending": "failed_precondition",
  "invalid-conf-change": "invalid_argument",
  "invalid-config": "invalid_argument",
  "invariant-violated": "internal",
};

export class RaftError extends Error {
  override readonly name = "RaftError";
  readonly code: RaftErrorCode;
  readonly reason: RaftErrorReason;

  constructor(reason: RaftErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
    this.code = CODE_OF[reason];
  }
}

export function isRaftError(e: unknown, reason?: RaftErrorReason): e is RaftError {
  return e instanceof RaftError && (reason === undefined || e.reason === reason);
}
