// @tug/api — the object model: every kind as a protobuf-es message (generated from
// proto/tug/<group>/v1), the scheme (lookup by any name, manifests, JSON and binary codecs),
// defaults and validation with Kubernetes' texts, quantities, label and field selectors (as
// namespaces `labels` and `fields`, because both have a Selector, as in Go), name rules, and
// JSON merge / JSON / three-way merge patches.

export { applyDefaults } from "./defaults/apply-defaults.js";
export { imageTag } from "./defaults/pod-defaults.js";
export * as fields from "./fields/index.js";
// The API service (proto/tug/apiserver/v1) as a namespace: its Preconditions and WatchEvent
// would collide with meta/v1 names.
export * as apiserverv1 from "./gen/tug/apiserver/v1/api_pb.js";
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
export * from "./patch/index.js";
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
export {
  type CronSchedule,
  CronScheduleError,
  parseCronSchedule,
} from "./validation/cron-schedule.js";
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
export { validateObject, validateUpdate } from "./validation/validate-object.js";
