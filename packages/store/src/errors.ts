// The one error type of tug-store. `code` is the gRPC status code a client receives, and for
// errors etcd clients match by text (etcdctl, the etcd3 client), `message` is etcd's exact text
// (go.etcd.io/etcd/api/v3/v3rpc/rpctypes). Adapters map OS and network errors at the edge.

import { Status, type StatusName } from "@tug/grpc";

/** gRPC status codes, by their canonical names. */
export type GrpcCode = StatusName;

/** Numeric values of the gRPC codes, for the wire. */
export const GRPC_CODE_NUMBER: Readonly<Record<GrpcCode, number>> = Status;

/** etcd's client-visible errors: code and exact text. */
export const ETCD_ERRORS = {
  compacted: ["OUT_OF_RANGE", "etcdserver: mvcc: required revision has been compacted"],
  futureRevision: ["OUT_OF_RANGE", "etcdserver: mvcc: required revision is a future revision"],
  noLeader: ["UNAVAILABLE", "etcdserver: no leader"],
  leaderChanged: ["UNAVAILABLE", "etcdserver: leader changed"],
  notLeader: ["UNAVAILABLE", "etcdserver: not leader"],
  timeout: ["UNAVAILABLE", "etcdserver: request timed out"],
  stopped: ["UNAVAILABLE", "etcdserver: server stopped"],
  leaseNotFound: ["NOT_FOUND", "etcdserver: requested lease not found"],
  leaseExists: ["FAILED_PRECONDITION", "etcdserver: lease already exists"],
  leaseTtlTooLarge: ["OUT_OF_RANGE", "etcdserver: too large lease TTL"],
  emptyKey: ["INVALID_ARGUMENT", "etcdserver: key is not provided"],
  keyNotFound: ["INVALID_ARGUMENT", "etcdserver: key not found"],
  valueProvided: ["INVALID_ARGUMENT", "etcdserver: value is provided"],
  leaseProvided: ["INVALID_ARGUMENT", "etcdserver: lease is provided"],
  tooManyOps: ["INVALID_ARGUMENT", "etcdserver: too many operations in txn request"],
  duplicateKey: ["INVALID_ARGUMENT", "etcdserver: duplicate key given in txn request"],
  requestTooLarge: ["INVALID_ARGUMENT", "etcdserver: request is too large"],
  tooManyRequests: ["RESOURCE_EXHAUSTED", "etcdserver: too many requests"],
  memberNotFound: ["NOT_FOUND", "etcdserver: member not found"],
  memberExists: ["FAILED_PRECONDITION", "etcdserver: member ID already exist"],
  peerUrlExists: ["FAILED_PRECONDITION", "etcdserver: Peer URLs already exists"],
  memberNotLearner: ["FAILED_PRECONDITION", "etcdserver: can only promote a learner member"],
  learnerNotReady: [
    "FAILED_PRECONDITION",
    "etcdserver: can only promote a learner member which is in sync with leader",
  ],
  tooManyLearners: ["FAILED_PRECONDITION", "etcdserver: too many learner members in cluster"],
  unhealthy: ["UNAVAILABLE", "etcdserver: unhealthy cluster"],
  corrupt: ["DATA_LOSS", "etcdserver: corrupt cluster"],
} as const satisfies Record<string, readonly [GrpcCode, string]>;

export type EtcdErrorName = keyof typeof ETCD_ERRORS;

export class StoreError extends Error {
  override readonly name = "StoreError";
  readonly code: GrpcCode;

  constructor(code: GrpcCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** One of etcd's client-visible errors, with its exact text. */
  static etcd(name: EtcdErrorName, options?: { cause?: unknown }): StoreError {
    const [code, text] = ETCD_ERRORS[name];
    return new StoreError(code, text, options);
  }
}
