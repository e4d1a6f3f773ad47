// @tug/api — public surface. Each export is added with the module that implements it.

// Generated protobuf-es messages of every API kind (proto/tug/<group>/v1).
export * from "./gen/tug/apps/v1/controller_revision_pb.js";
export * from "./gen/tug/apps/v1/daemon_set_pb.js";
export * from "./gen/tug/apps/v1/deployment_pb.js";
export * from "./gen/tug/apps/v1/replica_set_pb.js";
export * from "./gen/tug/apps/v1/stateful_set_pb.js";
export * from "./gen/tug/batch/v1/cron_job_pb.js";
export * from "./gen/tug/batch/v1/job_pb.js";
export * from "./gen/tug/coordination/v1/lease_pb.js";
export * from "./gen/tug/core/v1/binding_pb.js";
export * from "./gen/tug/core/v1/config_pb.js";
export * from "./gen/tug/core/v1/container_pb.js";
export * from "./gen/tug/core/v1/event_pb.js";
export * from "./gen/tug/core/v1/namespace_pb.js";
export * from "./gen/tug/core/v1/node_pb.js";
export * from "./gen/tug/core/v1/object_reference_pb.js";
export * from "./gen/tug/core/v1/persistent_volume_pb.js";
export * from "./gen/tug/core/v1/pod_pb.js";
export * from "./gen/tug/core/v1/resource_quota_pb.js";
export * from "./gen/tug/core/v1/scheduling_pb.js";
export * from "./gen/tug/core/v1/service_account_pb.js";
export * from "./gen/tug/core/v1/service_pb.js";
export * from "./gen/tug/core/v1/volume_pb.js";
export * from "./gen/tug/meta/v1/meta_pb.js";
export * from "./gen/tug/networking/v1/network_policy_pb.js";
export * from "./gen/tug/policy/v1/policy_pb.js";
export * from "./gen/tug/rbac/v1/rbac_pb.js";
export * from "./gen/tug/storage/v1/storage_class_pb.js";

// The scheme: every kind, lookup by any name, manifests, JSON and binary codecs.
export { intOrString, makeIntOrString } from "./scheme/int-or-string.js";
export { allKinds, type KindInfo } from "./scheme/kinds.js";
export {
  kindFor,
  kindForMessage,
  kindForResource,
  requireKind,
  resolveKindName,
} from "./scheme/lookup.js";
export { type ManifestObject, parseManifests } from "./scheme/manifest.js";
export {
  decodeObject,
  type ObjectSource,
  objectFromBinary,
  objectFromJson,
  objectToBinary,
  objectToJson,
} from "./scheme/object-codec.js";
export { apiRegistry } from "./scheme/registry.js";
export {
  SchemeError,
  type SchemeErrorCode,
  type SchemeErrorLocation,
} from "./scheme/scheme-error.js";
