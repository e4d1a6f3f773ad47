// @tug/api — public surface. Each export is added with the module that implements it.

// Generated protobuf-es messages of every API kind (proto/tug/<group>/v1).
export * from "./gen/tug/apps/v1/deployment_pb.js";
export * from "./gen/tug/apps/v1/replica_set_pb.js";
export * from "./gen/tug/core/v1/binding_pb.js";
export * from "./gen/tug/core/v1/config_pb.js";
export * from "./gen/tug/core/v1/container_pb.js";
export * from "./gen/tug/core/v1/event_pb.js";
export * from "./gen/tug/core/v1/namespace_pb.js";
export * from "./gen/tug/core/v1/node_pb.js";
export * from "./gen/tug/core/v1/object_reference_pb.js";
export * from "./gen/tug/core/v1/pod_pb.js";
export * from "./gen/tug/core/v1/scheduling_pb.js";
export * from "./gen/tug/core/v1/service_pb.js";
export * from "./gen/tug/core/v1/volume_pb.js";
export * from "./gen/tug/meta/v1/meta_pb.js";
