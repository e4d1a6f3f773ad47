// Container environment validation (k8s.io/kubernetes/pkg/apis/core/validation: ValidateEnv,
// validateEnvVarValueFrom, ValidateEnvFrom, validateObjectFieldSelector,
// validateContainerResourceFieldSelector).
// Reference: https://kubernetes.io/docs/tasks/inject-data-application/

import type {
  EnvFromSource,
  EnvVar,
  ObjectFieldSelector,
  ResourceFieldSelector,
} from "../gen/tug/core/v1/container_pb.js";
import { FieldError, type FieldPath } from "./field-error.js";
import { dnsSubdomain, invalidEach, parseQuantityAt, requiredString } from "./field-rules.js";
import { isConfigMapKey, isEnvVarName } from "./names.js";

/** The pod fields an env var's fieldRef may select (validEnvDownwardAPIFieldPathExpressions). */
const ENV_DOWNWARD_FIELDS = [
  "metadata.annotations",
  "metadata.labels",
  "metadata.name",
  "metadata.namespace",
  "metadata.uid",
  "spec.nodeName",
  "spec.serviceAccountName",
  "status.hostIP",
  "status.hostIPs",
  "status.podIP",
  "status.podIPs",
];

/** Container resources a resourceFieldRef may select. */
const RESOURCE_FIELDS = [
  "limits.cpu",
  "limits.ephemeral-storage",
  "limits.memory",
  "requests.cpu",
  "requests.ephemeral-storage",
  "requests.memory",
];

const CPU_DIVISORS = new Set(["1m", "1"]);
const BYTE_DIVISORS = [
  "1",
  "1k",
  "1M",
  "1G",
  "1T",
  "1P",
  "1E",
  "1Ki",
  "1Mi",
  "1Gi",
  "1Ti",
  "1Pi",
  "1Ei",
];

/** ValidateEnv: names required and valid; each valueFrom with exactly one source. */
export function validateEnv(env: readonly EnvVar[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  env.forEach((variable, i) => {
    const at = path.index(i);
    if (variable.name === "") errs.push(FieldError.required(at.child("name")));
    else errs.push(...invalidEach(variable.name, at.child("name"), isEnvVarName));
    errs.push(...validateValueFrom(variable, at.child("valueFrom")));
  });
  return errs;
}

function validateValueFrom(variable: EnvVar, path: FieldPath): FieldError[] {
  const from = variable.valueFrom;
  if (from === undefined) return [];
  const errs: FieldError[] = [];
  let sources = 0;
  if (from.fieldRef !== undefined) {
    sources++;
    errs.push(
      ...validateObjectFieldSelector(from.fieldRef, ENV_DOWNWARD_FIELDS, path.child("fieldRef")),
    );
  }
  if (from.resourceFieldRef !== undefined) {
    sources++;
    errs.push(
      ...validateResourceFieldSelector(
        from.resourceFieldRef,
        false,
        path.child("resourceFieldRef"),
      ),
    );
  }
  if (from.configMapKeyRef !== undefined) {
    sources++;
    const at = path.child("configMapKeyRef");
    errs.push(...keySelector(from.configMapKeyRef.name, from.configMapKeyRef.key, at));
  }
  if (from.secretKeyRef !== undefined) {
    sources++;
    const at = path.child("secretKeyRef");
    errs.push(...keySelector(from.secretKeyRef.name, from.secretKeyRef.key, at));
  }
  if (sources === 0) {
    errs.push(
      FieldError.invalid(
        path,
        "",
        "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
      ),
    );
  } else if (variable.value !== "") {
    errs.push(FieldError.invalid(path, "", "may not be specified when `value` is not empty"));
  } else if (sources > 1) {
    errs.push(FieldError.invalid(path, "", "may not have more than one field specified at a time"));
  }
  return errs;
}

function keySelector(name: string, key: string, path: FieldPath): FieldError[] {
  const errs = requiredString(name, path.child("name"));
  if (name !== "") errs.push(...dnsSubdomain(name, path.child("name")));
  if (key === "") errs.push(FieldError.required(path.child("key")));
  else errs.push(...invalidEach(key, path.child("key"), isConfigMapKey));
  return errs;
}

/**
 * validateObjectFieldSelector: apiVersion and fieldPath required; fieldPath one of `allowed`,
 * or metadata.labels['<key>'] / metadata.annotations['<key>'] with a valid key.
 */
export function validateObjectFieldSelector(
  selector: ObjectFieldSelector,
  allowed: readonly string[],
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  if (selector.apiVersion === "") errs.push(FieldError.required(path.child("apiVersion")));
  if (selector.fieldPath === "") {
    errs.push(FieldError.required(path.child("fieldPath")));
    return errs;
  }
  const subscripted = /^(metadata\.(?:labels|annotations))\['(.*)'\]$/.exec(selector.fieldPath);
  if (subscripted !== null) return errs;
  if (!allowed.includes(selector.fieldPath)) {
    errs.push(FieldError.notSupported(path.child("fieldPath"), selector.fieldPath, allowed));
  }
  return errs;
}

/**
 * validateContainerResourceFieldSelector: resource one of limits/requests of cpu, memory,
 * ephemeral-storage; a divisor Kubernetes supports for that resource; containerName required
 * in volumes (`inVolume`).
 */
export function validateResourceFieldSelector(
  selector: ResourceFieldSelector,
  inVolume: boolean,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  if (inVolume && selector.containerName === "") {
    errs.push(FieldError.required(path.child("containerName")));
  }
  if (selector.resource === "") {
    errs.push(FieldError.required(path.child("resource")));
  } else if (!RESOURCE_FIELDS.includes(selector.resource)) {
    errs.push(FieldError.notSupported(path.child("resource"), selector.resource, RESOURCE_FIELDS));
  }
  if (selector.divisor !== "") {
    const divisorPath = path.child("divisor");
    const divisor = parseQuantityAt(selector.divisor, divisorPath, errs);
    if (divisor !== undefined && selector.resource.endsWith(".cpu")) {
      if (!CPU_DIVISORS.has(divisor.toString())) {
        errs.push(
          FieldError.invalid(
            divisorPath,
            selector.divisor,
            "only divisor's values 1m and 1 are supported with the cpu resource",
          ),
        );
      }
    } else if (divisor !== undefined && !BYTE_DIVISORS.includes(selector.divisor)) {
      const resource = selector.resource.endsWith("memory") ? "memory" : "local ephemeral storage";
      errs.push(
        FieldError.invalid(
          divisorPath,
          selector.divisor,
          `only divisor's values ${BYTE_DIVISORS.join(", ")} are supported with the ${resource} resource`,
        ),
      );
    }
  }
  return errs;
}

/** ValidateEnvFrom: a valid prefix, and exactly one of configMapRef and secretRef, named. */
export function validateEnvFrom(sources: readonly EnvFromSource[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  sources.forEach((source, i) => {
    const at = path.index(i);
    if (source.prefix !== "")
      errs.push(...invalidEach(source.prefix, at.child("prefix"), isEnvVarName));
    let count = 0;
    if (source.configMapRef !== undefined) {
      count++;
      const name = source.configMapRef.name;
      const namePath = at.child("configMapRef", "name");
      errs.push(...(name === "" ? [FieldError.required(namePath)] : dnsSubdomain(name, namePath)));
    }
    if (source.secretRef !== undefined) {
      count++;
      const name = source.secretRef.name;
      const namePath = at.child("secretRef", "name");
      errs.push(...(name === "" ? [FieldError.required(namePath)] : dnsSubdomain(name, namePath)));
    }
    if (count === 0) {
      errs.push(FieldError.invalid(at, "", "must specify one of: `configMapRef` or `secretRef`"));
    } else if (count > 1) {
      errs.push(FieldError.invalid(at, "", "may not have more than one field specified at a time"));
    }
  });
  return errs;
}
