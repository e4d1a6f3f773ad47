// ConfigMap and Secret validation (k8s.io/kubernetes/pkg/apis/core/validation:
// ValidateConfigMap, ValidateSecret and their updates).
// Reference: https://kubernetes.io/docs/concepts/configuration/secret/

import type { ConfigMap, Secret } from "../gen/tug/core/v1/config_pb.js";
import { FieldError, type FieldPath, root } from "./field-error.js";
import { immutable, invalidEach } from "./field-rules.js";
import { isConfigMapKey } from "./names.js";

/** MaxSecretSize: the data of a Secret or ConfigMap, 1 MiB in all. */
export const MAX_CONFIG_SIZE = 1024 * 1024;
const utf8 = new TextEncoder();
const IMMUTABLE_SET = "field is immutable when `immutable` is set";

/**
 * ValidateConfigMap: data and binaryData keys valid config keys, never in both, and at most
 * 1 MiB of values in all.
 */
export function validateConfigMapBody(configMap: ConfigMap): FieldError[] {
  const errs: FieldError[] = [];
  let size = 0;
  for (const [key, value] of Object.entries(configMap.data)) {
    const at = root("data").key(key);
    errs.push(...invalidEach(key, at, isConfigMapKey));
    if (key in configMap.binaryData)
      errs.push(FieldError.invalid(at, key, "duplicate of key present in binaryData"));
    size += utf8.encode(value).length;
  }
  for (const [key, value] of Object.entries(configMap.binaryData)) {
    errs.push(...invalidEach(key, root("binaryData").key(key), isConfigMapKey));
    size += value.length;
  }
  if (size > MAX_CONFIG_SIZE) errs.push(FieldError.tooLong(root(""), "", MAX_CONFIG_SIZE));
  return errs;
}

/** Keys a Secret of each built-in type must hold. */
const REQUIRED_KEYS: Readonly<Record<string, readonly string[]>> = {
  "kubernetes.io/dockercfg": [".dockercfg"],
  "kubernetes.io/dockerconfigjson": [".dockerconfigjson"],
  "kubernetes.io/ssh-auth": ["ssh-privatekey"],
  "kubernetes.io/tls": ["tls.crt", "tls.key"],
};

/**
 * ValidateSecret: keys valid config keys, at most 1 MiB of data in all (stringData counts as
 * data, into which the API server merges it), and what each built-in type requires:
 * service-account-token the kubernetes.io/service-account.name annotation, basic-auth a
 * username or password, dockercfg, dockerconfigjson, ssh-auth and tls their keys.
 */
export function validateSecretBody(secret: Secret): FieldError[] {
  const errs: FieldError[] = [];
  const data = root("data");
  const keys = new Set([...Object.keys(secret.data), ...Object.keys(secret.stringData)]);
  // stringData is merged over data by the API server: count each key once, as merged.
  const sizes = new Map<string, number>();
  for (const [key, value] of Object.entries(secret.data)) sizes.set(key, value.length);
  for (const [key, value] of Object.entries(secret.stringData))
    sizes.set(key, utf8.encode(value).length);
  let size = 0;
  for (const length of sizes.values()) size += length;
  for (const key of keys) errs.push(...invalidEach(key, data.key(key), isConfigMapKey));
  if (size > MAX_CONFIG_SIZE) errs.push(FieldError.tooLong(data, "", MAX_CONFIG_SIZE));
  const annotations = secret.metadata?.annotations ?? {};
  switch (secret.type) {
    case "kubernetes.io/service-account-token": {
      const name = "kubernetes.io/service-account.name";
      if ((annotations[name] ?? "") === "") {
        errs.push(FieldError.required(root("metadata", "annotations").key(name)));
      }
      break;
    }
    case "kubernetes.io/basic-auth":
      if (!keys.has("username") && !keys.has("password")) {
        errs.push(
          FieldError.required(data.key("username")),
          FieldError.required(data.key("password")),
        );
      }
      break;
    default:
      for (const key of REQUIRED_KEYS[secret.type] ?? []) {
        if (!keys.has(key)) errs.push(FieldError.required(data.key(key)));
      }
  }
  return errs;
}

/** Updates of an immutable ConfigMap or Secret: neither data nor the flag may change. */
function immutableUpdate(
  nextImmutable: boolean | undefined,
  oldImmutable: boolean | undefined,
  dataChanged: boolean,
  dataPath: FieldPath,
): FieldError[] {
  if (oldImmutable !== true) return [];
  const errs: FieldError[] = [];
  if (nextImmutable !== true) errs.push(FieldError.forbidden(root("immutable"), IMMUTABLE_SET));
  if (dataChanged) errs.push(FieldError.forbidden(dataPath, IMMUTABLE_SET));
  return errs;
}

export function validateConfigMapUpdate(next: ConfigMap, old: ConfigMap): FieldError[] {
  const changed =
    JSON.stringify(sortedEntries(next.data)) !== JSON.stringify(sortedEntries(old.data)) ||
    JSON.stringify(sortedEntries(next.binaryData)) !==
      JSON.stringify(sortedEntries(old.binaryData));
  return immutableUpdate(next.immutable, old.immutable, changed, root("data"));
}

/** ValidateSecretUpdate: type immutable; an immutable Secret's data fixed. */
export function validateSecretUpdate(next: Secret, old: Secret): FieldError[] {
  const errs = immutable(next.type, old.type, root("type"));
  const changed =
    JSON.stringify(sortedEntries(next.data)) !== JSON.stringify(sortedEntries(old.data)) ||
    Object.keys(next.stringData).length > 0;
  errs.push(...immutableUpdate(next.immutable, old.immutable, changed, root("data")));
  return errs;
}

function sortedEntries(map: Readonly<Record<string, string | Uint8Array>>): [string, string][] {
  return Object.entries(map)
    .map(([k, v]): [string, string] => [k, typeof v === "string" ? v : Array.from(v).join(",")])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
