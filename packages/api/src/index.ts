// @tug/api — public surface. Each export is added with the module that implements it.

// Label and field selectors, as namespaces because both have a Selector (as in Go).
export * as fields from "./fields/index.js";
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
export * as labels from "./labels/index.js";
export { SelectorError } from "./labels/selector-error.js";
// JSON merge patch (RFC 7386), JSON patch (RFC 6902) and kubectl's three-way merge patch.
export * from "./patch/index.js";
// Quantities ("500m", "128Mi"): exact arithmetic and Kubernetes' canonical form.
export {
  MAX_QUANTITY_EXPONENT,
  parseQuantity,
  QUANTITY_FORMAT_WRONG,
  QUANTITY_NUMERIC_WRONG,
  QUANTITY_SUFFIX_WRONG,
  Quantity,
  QuantityError,
  type QuantityFormat,
} from "./quantity.js";
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
// Field paths and errors with Kubernetes' texts; name rules.
export {
  aggregateMessage,
  type BadValue,
  FieldError,
  FieldErrorAggregate,
  type FieldErrorType,
  FieldPath,
  goQuote,
  throwIfAny,
} from "./validation/field-error.js";
export {
  DNS1035_LABEL_MAX_LENGTH,
  DNS1123_LABEL_MAX_LENGTH,
  DNS1123_SUBDOMAIN_MAX_LENGTH,
  emptyError,
  isCIdentifier,
  isConfigMapKey,
  isDns1035Label,
  isDns1123Label,
  isDns1123Subdomain,
  isEnvVarName,
  isQualifiedName,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
  LABEL_VALUE_MAX_LENGTH,
  maxLenError,
  type NameValidator,
  nameIsDns1035Label,
  nameIsDnsLabel,
  nameIsDnsSubdomain,
  PORT_NAME_MAX_LENGTH,
  QUALIFIED_NAME_MAX_LENGTH,
  regexError,
} from "./validation/names.js";

// Defaults and validation of every kind, as the API server's admission chain runs them
// (applyDefaults, then validateObject on create or validateUpdate on update), and the CronJob
// schedule parser the CronJob controller uses.
export { applyDefaults } from "./defaults/apply-defaults.js";
export { imageTag } from "./defaults/pod-defaults.js";
export {
  type CronSchedule,
  CronScheduleError,
  parseCronSchedule,
} from "./validation/cron-schedule.js";
export { validateObject, validateUpdate } from "./validation/validate-object.js";
