// The etcd v3 API's protos at runtime: the generated JSON descriptor loaded by proto-loader with
// the options the generated types (src/gen/etcd) were made for. 64-bit integers decode as
// decimal strings (lease and member ids may use all 64 bits; a JS number would round them),
// enums as their names, bytes as Buffers; absent fields get their defaults, and a oneof names
// its present member.

import { loadPackageDefinition } from "@grpc/grpc-js";
import { fromJSON, type Options } from "@grpc/proto-loader";
import { descriptor } from "../gen/etcd/descriptor.js";
import type { ProtoGrpcType } from "../gen/etcd/rpc.js";

/** Must match the typeOptions of the etcd target in scripts/gen-proto.mjs. */
const LOADER_OPTIONS: Options = {
  keepCase: false,
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
};

const proto = loadPackageDefinition(
  fromJSON(descriptor as Parameters<typeof fromJSON>[0], LOADER_OPTIONS),
) as unknown as ProtoGrpcType;

/** The service definitions, for Server.addService and for clients in tests. */
export const etcdServices = {
  KV: proto.etcdserverpb.KV,
  Watch: proto.etcdserverpb.Watch,
  Lease: proto.etcdserverpb.Lease,
  Cluster: proto.etcdserverpb.Cluster,
  Maintenance: proto.etcdserverpb.Maintenance,
};
