// @tug/apiserver — public surface. Each export is added with the module that implements it.

// Admission: the chain (mutate, then the server's defaults and validation, then validate) and
// its plugins in Kubernetes' order.
export {
  type AdmissionAttributes,
  type AdmissionLookups,
  type AdmissionOperation,
  forbidden,
} from "./admission/attributes.js";
export {
  AdmissionChain,
  type AdmissionOutcome,
  type AdmissionPlugin,
  defaultAdmissionChain,
} from "./admission/chain.js";
export {
  DEFAULT_TOLERATION_SECONDS,
  defaultTolerationSeconds,
} from "./admission/default-toleration-seconds.js";
export { LIMIT_RANGER_ANNOTATION, limitRanger } from "./admission/limit-ranger.js";
export { IMMORTAL_NAMESPACES, namespaceLifecycle } from "./admission/namespace-lifecycle.js";
export { objectCountResource, objectUsage } from "./admission/quota-usage.js";
export { chargedQuota, type QuotaCharge, resourceQuota } from "./admission/resource-quota.js";
export { DEFAULT_SERVICE_ACCOUNT, serviceAccount } from "./admission/service-account.js";
// Authentication: bearer tokens (static file, service accounts) and anonymous requests.
export {
  ANONYMOUS,
  type AuthenticationConfig,
  Authenticator,
  buildAuthenticator,
  LEGACY_ISSUER,
  parseTokenFile,
  publicKeysFromPem,
  ServiceAccountTokenAuthenticator,
  type UserInfo,
} from "./authn/index.js";
export * from "./process/index.js";
// Registry: per-kind strategies and the delete decision.
export { type ApiObject, cloneObject } from "./registry/api-object.js";
export {
  type DeleteDecision,
  type DeleteOptions,
  type DeleteReason,
  decideDelete,
  FINALIZER_DELETE_DEPENDENTS,
  FINALIZER_ORPHAN_DEPENDENTS,
  NAMESPACE_TERMINATING_CONFLICT,
  removeAfterUpdate,
} from "./registry/deletion.js";
export {
  CONTROLLER_UID_LABEL,
  generateJobSelector,
  JOB_NAME_LABEL,
  LEGACY_CONTROLLER_UID_LABEL,
  LEGACY_JOB_NAME_LABEL,
} from "./registry/job-selector.js";
export { generateName, NAME_SUFFIX_ALPHABET } from "./registry/name-generator.js";
export { podQosClass, type QosClass } from "./registry/qos.js";
export { type FieldSet, fieldSetOf, selectableFieldsOf } from "./registry/selectable-fields.js";
export {
  DEFAULT_EVENT_TTL_SECONDS,
  defaultRegistryEnv,
  NAMESPACE_FINALIZER_KUBERNETES,
  type PropagationPolicy,
  type RegistryEnv,
  type Strategy,
  strategyFor,
} from "./registry/strategy.js";
export * from "./server/index.js";
