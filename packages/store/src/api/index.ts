// The etcd v3 API of tug-store: the gRPC services over a backend, and a single-node backend.

export type {
  EtcdBackend,
  HashKvResult,
  LeaseGrantResult,
  LeaseTimeToLiveResult,
  Member,
  MemberAddResult,
  ResponseHeaderInfo,
  SnapshotImage,
  StatusResult,
  WatchEventSource,
} from "./backend.js";
// The etcd v3 service definitions (grpc-js), for clients of the etcd API such as tug-apiserver.
export { etcdServices } from "./etcd-proto.js";
export { ETCD_API_VERSION, LocalBackend, type LocalBackendOptions } from "./local-backend.js";
export {
  InMemoryLessor,
  type InMemoryLessorOptions,
  type LeaseInfo,
  type Lessor,
} from "./local-lessor.js";
export {
  DEFAULT_MAX_REQUEST_BYTES,
  type EtcdGrpcServer,
  type EtcdGrpcServerOptions,
  startEtcdGrpcServer,
} from "./server.js";
