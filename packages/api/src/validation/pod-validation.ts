// Pod, pod spec and pod template validation, and the rules of pod updates
// (k8s.io/kubernetes/pkg/apis/core/validation: ValidatePodCreate, ValidatePodSpec,
// ValidatePodTemplateSpec, ValidatePodUpdate).
// Reference: https://kubernetes.io/docs/concepts/workloads/pods/#pod-update-and-replacement

import { equals, type JsonValue, toJson } from "@bufbuild/protobuf";
import {
  type Pod,
  type PodSpec,
  PodSpecSchema,
  type PodTemplateSpec,
} from "../gen/tug/core/v1/pod_pb.js";
import type { Toleration } from "../gen/tug/core/v1/scheduling_pb.js";
import type { ObjectMeta } from "../gen/tug/meta/v1/meta_pb.js";
import { validateLabels } from "../labels/label-validation.js";
import { validateContainers, validateInitContainers } from "./container-validation.js";
import { FieldError, type FieldPath, root } from "./field-error.js";
import { dnsLabel, dnsSubdomain, inclusiveRangeError, oneOf } from "./field-rules.js";
import { isIP } from "./ip-address.js";
import { validateAnnotations } from "./object-meta.js";
import {
  validateAffinity,
  validateTolerations,
  validateTopologySpreadConstraints,
} from "./scheduling-validation.js";
import { validateHostAliases, validatePodSecurityContext } from "./security-context-validation.js";
import { validateVolumes } from "./volume-validation.js";

export const RESTART_POLICIES = ["Always", "OnFailure", "Never"];
const DNS_POLICIES = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
const MAX_UINT32 = 4294967295;
const MAX_INT32 = 2147483647;

/**
 * The fields a pod update may change, as Kubernetes' Forbidden message lists them
 * (updatablePodSpecFieldsNoResources).
 */
export const POD_UPDATE_FORBIDDEN =
  "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/** A Pod's body on create (metadata is validated by the caller): the spec. */
export function validatePodBody(pod: Pod): FieldError[] {
  if (pod.spec === undefined) return [FieldError.required(root("spec"))];
  return validatePodSpec(pod.spec, root("spec"));
}

/**
 * ValidatePodSpec: volumes, init and app containers, restartPolicy, dnsPolicy, nodeSelector,
 * service account and node names, activeDeadlineSeconds, hostname, subdomain, schedulerName,
 * tolerations, affinity, topology spread; with hostNetwork, hostPort must equal
 * containerPort. `extraVolumes` names volumes that come from elsewhere (a StatefulSet's claim
 * templates), which volumeMounts may refer to.
 */
export function validatePodSpec(
  spec: PodSpec,
  path: FieldPath,
  extraVolumes: readonly string[] = [],
): FieldError[] {
  const volumes = validateVolumes(spec.volumes, path.child("volumes"));
  const errs = [...volumes.errors];
  const context = {
    volumes: new Set([...volumes.names, ...extraVolumes]),
    containerNames: new Set<string>(),
  };
  errs.push(...validateInitContainers(spec.initContainers, context, path.child("initContainers")));
  errs.push(...validateContainers(spec.containers, context, path.child("containers")));
  errs.push(...oneOf(spec.restartPolicy, RESTART_POLICIES, path.child("restartPolicy")));
  errs.push(...oneOf(spec.dnsPolicy, DNS_POLICIES, path.child("dnsPolicy")));
  if (spec.dnsPolicy === "None" && spec.dnsConfig === undefined) {
    errs.push(
      FieldError.required(
        path.child("dnsConfig"),
        "must provide `dnsConfig` when `dnsPolicy` is None",
      ),
    );
  }
  errs.push(...validateDnsConfig(spec, path.child("dnsConfig")));
  errs.push(...validatePodSecurityContext(spec.securityContext, path.child("securityContext")));
  errs.push(...validateHostAliases(spec.hostAliases, path.child("hostAliases")));
  errs.push(...uniqueHostPorts(spec, path.child("containers")));
  errs.push(...validateLabels(spec.nodeSelector, path.child("nodeSelector")));
  if (spec.serviceAccountName !== "") {
    errs.push(...dnsSubdomain(spec.serviceAccountName, path.child("serviceAccountName")));
  }
  if (spec.nodeName !== "") errs.push(...dnsSubdomain(spec.nodeName, path.child("nodeName")));
  const deadline = spec.activeDeadlineSeconds;
  if (deadline !== undefined && (deadline < 1 || deadline > MAX_UINT32)) {
    errs.push(
      FieldError.invalid(
        path.child("activeDeadlineSeconds"),
        deadline,
        inclusiveRangeError(1, MAX_UINT32),
      ),
    );
  }
  if (spec.hostname !== "") errs.push(...dnsLabel(spec.hostname, path.child("hostname")));
  if (spec.subdomain !== "") errs.push(...dnsLabel(spec.subdomain, path.child("subdomain")));
  if (spec.schedulerName !== "")
    errs.push(...dnsSubdomain(spec.schedulerName, path.child("schedulerName")));
  errs.push(...validateTolerations(spec.tolerations, path.child("tolerations")));
  errs.push(...validateAffinity(spec.affinity, path.child("affinity")));
  errs.push(
    ...validateTopologySpreadConstraints(
      spec.topologySpreadConstraints,
      path.child("topologySpreadConstraints"),
    ),
  );
  if (spec.hostNetwork) {
    for (const [field, containers] of [
      ["initContainers", spec.initContainers],
      ["containers", spec.containers],
    ] as const) {
      containers.forEach((container, i) => {
        container.ports.forEach((port, j) => {
          if (port.hostPort !== port.containerPort) {
            errs.push(
              FieldError.invalid(
                path.child(field).index(i).child("ports").index(j).child("containerPort"),
                port.containerPort,
                "must match `hostPort` when `hostNetwork` is true",
              ),
            );
          }
        });
      });
    }
  }
  return errs;
}

/**
 * ValidatePodTemplateSpec: the template's labels and annotations, then its spec. The caller
 * checks what its kind requires on top (restartPolicy, selector match).
 */
export function validatePodTemplateSpec(
  template: PodTemplateSpec | undefined,
  path: FieldPath,
  extraVolumes: readonly string[] = [],
): FieldError[] {
  if (template === undefined) return [FieldError.required(path)];
  const errs = validateTemplateMeta(template.metadata, path.child("metadata"));
  if (template.spec === undefined) errs.push(FieldError.required(path.child("spec")));
  else errs.push(...validatePodSpec(template.spec, path.child("spec"), extraVolumes));
  return errs;
}

/** ValidateTemplateObjectMeta: labels and annotations (a template has no name of its own). */
export function validateTemplateMeta(meta: ObjectMeta | undefined, path: FieldPath): FieldError[] {
  if (meta === undefined) return [];
  return [
    ...validateLabels(meta.labels, path.child("labels")),
    ...validateAnnotations(meta.annotations, path.child("annotations")),
  ];
}

/**
 * ValidatePodUpdate's spec rules (the caller validates metadata and the new spec): the number of
 * containers kept; activeDeadlineSeconds only lowered (or set); tolerations only added (their
 * tolerationSeconds may change); every other spec field, including containers' fields other
 * than image, unchanged: Forbidden with Kubernetes' message and the fields that changed.
 */
export function validatePodSpecUpdate(next: Pod, old: Pod): FieldError[] {
  const errs: FieldError[] = [];
  const spec = root("spec");
  const nextSpec = next.spec;
  const oldSpec = old.spec;
  if (nextSpec === undefined || oldSpec === undefined) return errs;
  if (nextSpec.containers.length !== oldSpec.containers.length) {
    errs.push(
      FieldError.forbidden(
        spec.child("containers"),
        "pod updates may not add or remove containers",
      ),
    );
    return errs;
  }
  if (nextSpec.initContainers.length !== oldSpec.initContainers.length) {
    errs.push(
      FieldError.forbidden(
        spec.child("initContainers"),
        "pod updates may not add or remove containers",
      ),
    );
    return errs;
  }
  const deadlinePath = spec.child("activeDeadlineSeconds");
  const nextDeadline = nextSpec.activeDeadlineSeconds;
  const oldDeadline = oldSpec.activeDeadlineSeconds;
  if (nextDeadline !== undefined) {
    if (nextDeadline < 0 || nextDeadline > MAX_INT32) {
      errs.push(FieldError.invalid(deadlinePath, nextDeadline, inclusiveRangeError(0, MAX_INT32)));
      return errs;
    }
    if (oldDeadline !== undefined && oldDeadline < nextDeadline) {
      errs.push(
        FieldError.invalid(
          deadlinePath,
          nextDeadline,
          "must be less than or equal to previous value",
        ),
      );
      return errs;
    }
  } else if (oldDeadline !== undefined) {
    errs.push(
      FieldError.invalid(
        deadlinePath,
        null,
        "must not update from a positive integer to nil value",
      ),
    );
  }
  errs.push(
    ...onlyAddedTolerations(nextSpec.tolerations, oldSpec.tolerations, spec.child("tolerations")),
  );
  if (equals(PodSpecSchema, nextSpec, oldSpec)) return errs;

  // Compare with the updatable fields taken from the old spec, as Kubernetes "munges" them.
  const munged = toJson(PodSpecSchema, nextSpec) as Record<string, JsonValue>;
  const oldJson = toJson(PodSpecSchema, oldSpec) as Record<string, JsonValue>;
  for (const field of ["containers", "initContainers"] as const) {
    const list = munged[field];
    if (Array.isArray(list)) {
      list.forEach((container, i) => {
        const image = oldSpec[field][i]?.image;
        if (typeof container === "object" && container !== null && !Array.isArray(container)) {
          if (image === undefined || image === "") delete container.image;
          else container.image = image;
        }
      });
    }
  }
  for (const field of ["activeDeadlineSeconds", "tolerations"]) {
    if (field in oldJson) munged[field] = oldJson[field] as JsonValue;
    else delete munged[field];
  }
  const oldGrace = oldSpec.terminationGracePeriodSeconds;
  if (oldGrace !== undefined && oldGrace < 0 && nextSpec.terminationGracePeriodSeconds === 1) {
    munged.terminationGracePeriodSeconds = oldGrace;
  }
  const changed = diffPaths(oldJson, munged, "spec");
  if (changed.length > 0) {
    errs.push(
      FieldError.forbidden(
        spec,
        `${POD_UPDATE_FORBIDDEN}\n${changed.map((p) => `  changed: ${p}`).join("\n")}`,
      ),
    );
  }
  return errs;
}

/** validateOnlyAddedTolerations: every old toleration is still there (seconds may change). */
function onlyAddedTolerations(
  next: readonly Toleration[],
  old: readonly Toleration[],
  path: FieldPath,
): FieldError[] {
  const key = (t: Toleration) => JSON.stringify([t.key, t.operator, t.value, t.effect]);
  const nextKeys = new Set(next.map(key));
  for (const toleration of old) {
    if (!nextKeys.has(key(toleration))) {
      return [
        FieldError.forbidden(
          path,
          "existing toleration can not be modified except its tolerationSeconds",
        ),
      ];
    }
  }
  return validateTolerations(next, path);
}

/** The paths of the JSON leaves where `a` and `b` differ, at most 10, for the Forbidden detail. */
function diffPaths(a: JsonValue | undefined, b: JsonValue | undefined, at: string): string[] {
  const out: string[] = [];
  const walk = (x: JsonValue | undefined, y: JsonValue | undefined, path: string) => {
    if (out.length >= 10) return;
    if (JSON.stringify(x) === JSON.stringify(y)) return;
    const isObject = (v: JsonValue | undefined): v is { [k: string]: JsonValue } =>
      typeof v === "object" && v !== null && !Array.isArray(v);
    if (Array.isArray(x) && Array.isArray(y) && x.length === y.length) {
      x.forEach((v, i) => {
        walk(v, y[i], `${path}[${i}]`);
      });
    } else if (isObject(x) && isObject(y)) {
      for (const k of new Set([...Object.keys(x), ...Object.keys(y)]))
        walk(x[k], y[k], `${path}.${k}`);
    } else {
      out.push(path);
    }
  };
  walk(a, b, at);
  return out;
}

const MAX_DNS_NAMESERVERS = 3;
const MAX_DNS_SEARCH_PATHS = 32;
const MAX_DNS_SEARCH_LIST_CHARS = 2048;

/**
 * validatePodDNSConfig: at most 3 nameservers, each an IP (and one at least with dnsPolicy
 * None); at most 32 search domains, each a DNS subdomain, 2048 characters in all; options
 * named.
 */
function validateDnsConfig(spec: PodSpec, path: FieldPath): FieldError[] {
  const config = spec.dnsConfig;
  const errs: FieldError[] = [];
  if (config === undefined) return errs;
  const nameservers = path.child("nameservers");
  if (config.nameservers.length > MAX_DNS_NAMESERVERS) {
    errs.push(
      FieldError.invalid(
        nameservers,
        config.nameservers,
        `must not have more than ${MAX_DNS_NAMESERVERS} nameservers`,
      ),
    );
  }
  config.nameservers.forEach((server, i) => {
    if (!isIP(server))
      errs.push(FieldError.invalid(nameservers.index(i), server, "must be valid IP address"));
  });
  if (spec.dnsPolicy === "None" && config.nameservers.length === 0) {
    errs.push(
      FieldError.required(
        nameservers,
        "must provide at least one DNS nameserver when `dnsPolicy` is None",
      ),
    );
  }
  const searches = path.child("searches");
  if (config.searches.length > MAX_DNS_SEARCH_PATHS) {
    errs.push(
      FieldError.invalid(
        searches,
        config.searches,
        `must not have more than ${MAX_DNS_SEARCH_PATHS} search paths`,
      ),
    );
  }
  if (config.searches.join(" ").length > MAX_DNS_SEARCH_LIST_CHARS) {
    errs.push(
      FieldError.invalid(
        searches,
        config.searches,
        `must not have more than ${MAX_DNS_SEARCH_LIST_CHARS} characters (including spaces) in the search list`,
      ),
    );
  }
  config.searches.forEach((search, i) => {
    const domain = search.endsWith(".") ? search.slice(0, -1) : search;
    errs.push(...dnsSubdomain(domain, searches.index(i)));
  });
  config.options.forEach((option, i) => {
    if (option.name === "") {
      errs.push(
        FieldError.required(path.child("options").index(i), "Option.Name must not be empty"),
      );
    }
  });
  return errs;
}

/**
 * AccumulateUniqueHostPorts: two containers may not bind the same protocol/hostIP/hostPort;
 * the duplicate is printed as "<protocol>/<hostIP>/<hostPort>".
 */
function uniqueHostPorts(spec: PodSpec, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  spec.containers.forEach((container, i) => {
    container.ports.forEach((port, j) => {
      if (port.hostPort === 0) return;
      const key = `${port.protocol}/${port.hostIp}/${port.hostPort}`;
      if (seen.has(key)) {
        errs.push(
          FieldError.duplicate(path.index(i).child("ports").index(j).child("hostPort"), key),
        );
      }
      seen.add(key);
    });
  });
  return errs;
}
