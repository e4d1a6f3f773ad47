// @tug/store: tug-store, a Raft-replicated store that speaks the etcd v3 wire protocol.
// The public surface: the server, the gRPC front end, the error type. The building blocks
// (mvcc, lease, wal, transport) are internal; tests import them by path. See docs/store.md.

export * from "./api/index.js";
export { ETCD_ERRORS, type EtcdErrorName, type GrpcCode, StoreError } from "./errors.js";
export * from "./server/index.js";
