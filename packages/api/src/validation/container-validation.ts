// Container validation (k8s.io/kubernetes/pkg/apis/core/validation: validateContainers,
// validateInitContainers, validateContainerCommon, validateContainerPorts, validateProbe,
// validateHandler, ValidateResourceRequirements, ValidateVolumeMounts).
// Reference: https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#Container

import type {
  Container,
  ContainerPort,
  HTTPGetAction,
  LifecycleHandler,
  Probe,
  ResourceRequirements,
  VolumeMount,
} from "../gen/tug/core/v1/container_pb.js";
import type { Quantity } from "../quantity.js";
import { validateEnv, validateEnvFrom } from "./env-validation.js";
import { FieldError, type FieldPath } from "./field-error.js";
import {
  dnsLabel,
  invalidEachNumber,
  isExtendedResource,
  isHugePageResource,
  nonNegative,
  oneOf,
  portNumOrName,
  qualifiedName,
  resourceQuantity,
} from "./field-rules.js";
import { isValidPortName, isValidPortNum } from "./names.js";
import { validateSecurityContext } from "./security-context-validation.js";
import { noBacksteps } from "./volume-validation.js";

/** supportedPortProtocols, sorted as Kubernetes lists them. */
export const PORT_PROTOCOLS = ["SCTP", "TCP", "UDP"];
const PULL_POLICIES = ["Always", "IfNotPresent", "Never"];
const TERMINATION_MESSAGE_POLICIES = ["File", "FallbackToLogsOnError"];
const MOUNT_PROPAGATIONS = ["Bidirectional", "HostToContainer", "None"];
const STANDARD_CONTAINER_RESOURCES = new Set(["cpu", "memory", "ephemeral-storage"]);
/** The longest termination message path Kubernetes accepts. */
const MAX_TERMINATION_MESSAGE_PATH = 4096;

/** What a container may refer to in its pod. */
export interface PodContext {
  /** Names of the pod's volumes. */
  readonly volumes: ReadonlySet<string>;
  /** Container and init container names seen so far (for uniqueness across both lists). */
  readonly containerNames: Set<string>;
}

/** validateContainers: at least one, each valid, names unique across init and app containers. */
export function validateContainers(
  containers: readonly Container[],
  context: PodContext,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  if (containers.length === 0) errs.push(FieldError.required(path));
  containers.forEach((container, i) => {
    const at = path.index(i);
    errs.push(...validateContainerCommon(container, context, at));
    errs.push(...uniqueName(container.name, context, at));
    if (container.restartPolicy !== undefined) {
      errs.push(
        FieldError.forbidden(at.child("restartPolicy"), "may not be set for non-init containers"),
      );
    }
    if (container.livenessProbe !== undefined && container.livenessProbe.successThreshold !== 1) {
      errs.push(mustBeOne(container.livenessProbe, at.child("livenessProbe", "successThreshold")));
    }
    if (container.startupProbe !== undefined && container.startupProbe.successThreshold !== 1) {
      errs.push(mustBeOne(container.startupProbe, at.child("startupProbe", "successThreshold")));
    }
  });
  return errs;
}

/**
 * validateInitContainers: each valid; restartPolicy only "Always" (a sidecar); init
 * containers that are not sidecars may not have probes or lifecycle hooks.
 */
export function validateInitContainers(
  containers: readonly Container[],
  context: PodContext,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  containers.forEach((container, i) => {
    const at = path.index(i);
    errs.push(...validateContainerCommon(container, context, at));
    errs.push(...uniqueName(container.name, context, at));
    const sidecar = container.restartPolicy === "Always";
    if (container.restartPolicy !== undefined && !sidecar) {
      errs.push(
        FieldError.notSupported(at.child("restartPolicy"), container.restartPolicy, ["Always"]),
      );
    }
    if (!sidecar) {
      const notForInit = "may not be set for init containers without restartPolicy=Always";
      if (container.lifecycle !== undefined)
        errs.push(FieldError.forbidden(at.child("lifecycle"), notForInit));
      if (container.livenessProbe !== undefined)
        errs.push(FieldError.forbidden(at.child("livenessProbe"), notForInit));
      if (container.readinessProbe !== undefined)
        errs.push(FieldError.forbidden(at.child("readinessProbe"), notForInit));
      if (container.startupProbe !== undefined)
        errs.push(FieldError.forbidden(at.child("startupProbe"), notForInit));
    } else {
      if (container.livenessProbe !== undefined && container.livenessProbe.successThreshold !== 1) {
        errs.push(
          mustBeOne(container.livenessProbe, at.child("livenessProbe", "successThreshold")),
        );
      }
      if (container.startupProbe !== undefined && container.startupProbe.successThreshold !== 1) {
        errs.push(mustBeOne(container.startupProbe, at.child("startupProbe", "successThreshold")));
      }
    }
  });
  return errs;
}

function mustBeOne(probe: Probe, path: FieldPath): FieldError {
  return FieldError.invalid(path, probe.successThreshold, "must be 1");
}

function uniqueName(name: string, context: PodContext, path: FieldPath): FieldError[] {
  if (name === "") return [];
  if (context.containerNames.has(name)) return [FieldError.duplicate(path.child("name"), name)];
  context.containerNames.add(name);
  return [];
}

/** validateContainerCommon: what every kind of container must satisfy. */
function validateContainerCommon(
  container: Container,
  context: PodContext,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  const namePath = path.child("name");
  if (container.name === "") errs.push(FieldError.required(namePath));
  else errs.push(...dnsLabel(container.name, namePath));
  if (container.image === "") {
    errs.push(FieldError.required(path.child("image")));
  } else if (container.image !== container.image.trim()) {
    errs.push(
      FieldError.invalid(
        path.child("image"),
        container.image,
        "must not have leading or trailing whitespace",
      ),
    );
  }
  errs.push(...oneOf(container.imagePullPolicy, PULL_POLICIES, path.child("imagePullPolicy")));
  errs.push(
    ...oneOf(
      container.terminationMessagePolicy,
      TERMINATION_MESSAGE_POLICIES,
      path.child("terminationMessagePolicy"),
    ),
  );
  if (container.terminationMessagePath.length > MAX_TERMINATION_MESSAGE_PATH) {
    errs.push(
      FieldError.tooLong(
        path.child("terminationMessagePath"),
        container.terminationMessagePath,
        MAX_TERMINATION_MESSAGE_PATH,
      ),
    );
  }
  errs.push(...validateContainerPorts(container.ports, path.child("ports")));
  errs.push(...validateEnv(container.env, path.child("env")));
  errs.push(...validateEnvFrom(container.envFrom, path.child("envFrom")));
  errs.push(
    ...validateVolumeMounts(container.volumeMounts, context.volumes, path.child("volumeMounts")),
  );
  errs.push(...validateResources(container.resources, path.child("resources")));
  errs.push(...validateSecurityContext(container.securityContext, path.child("securityContext")));
  for (const [field, probe] of [
    ["livenessProbe", container.livenessProbe],
    ["readinessProbe", container.readinessProbe],
    ["startupProbe", container.startupProbe],
  ] as const) {
    if (probe !== undefined) errs.push(...validateProbe(probe, path.child(field)));
  }
  if (container.lifecycle !== undefined) {
    const at = path.child("lifecycle");
    if (container.lifecycle.postStart !== undefined) {
      errs.push(...validateHandler(container.lifecycle.postStart, at.child("postStart"), true));
    }
    if (container.lifecycle.preStop !== undefined) {
      errs.push(...validateHandler(container.lifecycle.preStop, at.child("preStop"), true));
    }
  }
  return errs;
}

/**
 * validateContainerPorts: names valid IANA service names and unique; containerPort required
 * and in 1-65535; hostPort in range when set; protocol TCP, UDP or SCTP.
 */
export function validateContainerPorts(
  ports: readonly ContainerPort[],
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const at = path.index(i);
    if (port.name !== "") {
      const problems = isValidPortName(port.name);
      if (problems.length > 0) {
        for (const p of problems) errs.push(FieldError.invalid(at.child("name"), port.name, p));
      } else if (names.has(port.name)) {
        errs.push(FieldError.duplicate(at.child("name"), port.name));
      } else {
        names.add(port.name);
      }
    }
    if (port.containerPort === 0) errs.push(FieldError.required(at.child("containerPort")));
    else
      errs.push(
        ...invalidEachNumber(port.containerPort, at.child("containerPort"), isValidPortNum),
      );
    if (port.hostPort !== 0)
      errs.push(...invalidEachNumber(port.hostPort, at.child("hostPort"), isValidPortNum));
    errs.push(...oneOf(port.protocol, PORT_PROTOCOLS, at.child("protocol")));
  });
  return errs;
}

/**
 * ValidateVolumeMounts: name required and naming a volume of the pod (Not found otherwise),
 * mountPath required and unique, subPath relative without '..', subPath and subPathExpr
 * exclusive, a known mountPropagation.
 */
function validateVolumeMounts(
  mounts: readonly VolumeMount[],
  volumes: ReadonlySet<string>,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  const mountPoints = new Set<string>();
  mounts.forEach((mount, i) => {
    const at = path.index(i);
    if (mount.name === "") errs.push(FieldError.required(at.child("name")));
    else if (!volumes.has(mount.name)) errs.push(FieldError.notFound(at.child("name"), mount.name));
    if (mount.mountPath === "") {
      errs.push(FieldError.required(at.child("mountPath")));
    } else if (mountPoints.has(mount.mountPath)) {
      errs.push(FieldError.invalid(at.child("mountPath"), mount.mountPath, "must be unique"));
    }
    mountPoints.add(mount.mountPath);
    if (mount.subPath !== "") errs.push(...localDescendingPath(mount.subPath, at.child("subPath")));
    if (mount.subPathExpr !== "") {
      if (mount.subPath !== "") {
        errs.push(
          FieldError.invalid(
            at.child("subPathExpr"),
            mount.subPathExpr,
            "subPathExpr and subPath are mutually exclusive",
          ),
        );
      }
      errs.push(...localDescendingPath(mount.subPathExpr, at.child("subPathExpr")));
    }
    if (mount.mountPropagation !== undefined) {
      errs.push(...oneOf(mount.mountPropagation, MOUNT_PROPAGATIONS, at.child("mountPropagation")));
    }
  });
  return errs;
}

/** validateLocalDescendingPath: relative and without '..'. */
function localDescendingPath(value: string, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (value.startsWith("/")) errs.push(FieldError.invalid(path, value, "must be a relative path"));
  errs.push(...noBacksteps(value, path));
  return errs;
}

/**
 * ValidateResourceRequirements for a container: names standard container resources (cpu,
 * memory, ephemeral-storage, hugepages-*) or extended ones; quantities valid and >= 0; each
 * request at most its limit, and equal to it for resources that cannot be overcommitted
 * (extended resources and hugepages), which also need a limit.
 */
export function validateResources(
  resources: ResourceRequirements | undefined,
  path: FieldPath,
): FieldError[] {
  if (resources === undefined) return [];
  const errs: FieldError[] = [];
  const limitsPath = path.child("limits");
  const requestsPath = path.child("requests");
  const limits = new Map<string, Quantity>();
  for (const [name, text] of Object.entries(resources.limits)) {
    const at = limitsPath.key(name);
    errs.push(...containerResourceName(name, at));
    const quantity = resourceQuantity(name, text, at, errs);
    if (quantity !== undefined) limits.set(name, quantity);
  }
  for (const [name, text] of Object.entries(resources.requests)) {
    const at = requestsPath.key(name);
    errs.push(...containerResourceName(name, at));
    const quantity = resourceQuantity(name, text, at, errs);
    if (quantity === undefined) continue;
    const overcommit = !isExtendedResource(name) && !isHugePageResource(name);
    const limit = limits.get(name);
    if (limit !== undefined) {
      if (!overcommit && quantity.cmp(limit) !== 0) {
        errs.push(
          FieldError.invalid(
            requestsPath,
            quantity.toString(),
            `must be equal to ${name} limit of ${limit.toString()}`,
          ),
        );
      } else if (quantity.cmp(limit) > 0) {
        errs.push(
          FieldError.invalid(
            requestsPath,
            quantity.toString(),
            `must be less than or equal to ${name} limit of ${limit.toString()}`,
          ),
        );
      }
    } else if (!overcommit && !(name in resources.limits)) {
      errs.push(
        FieldError.required(limitsPath, "Limit must be set for non overcommitable resources"),
      );
    }
  }
  return errs;
}

function containerResourceName(name: string, path: FieldPath): FieldError[] {
  const errs = qualifiedName(name, path);
  if (errs.length > 0) return errs;
  if (
    STANDARD_CONTAINER_RESOURCES.has(name) ||
    isHugePageResource(name) ||
    isExtendedResource(name)
  ) {
    return [];
  }
  return [FieldError.invalid(path, name, "must be a standard resource for containers")];
}

/**
 * validateProbe: exactly one handler; initialDelaySeconds, timeoutSeconds, periodSeconds,
 * successThreshold and failureThreshold >= 0 (defaults turn 0 into 1, 10, 1 and 3);
 * terminationGracePeriodSeconds > 0 when set.
 */
export function validateProbe(probe: Probe, path: FieldPath): FieldError[] {
  const errs = validateHandler(probe, path, false);
  errs.push(...nonNegative(probe.initialDelaySeconds, path.child("initialDelaySeconds")));
  errs.push(...nonNegative(probe.timeoutSeconds, path.child("timeoutSeconds")));
  errs.push(...nonNegative(probe.periodSeconds, path.child("periodSeconds")));
  errs.push(...nonNegative(probe.successThreshold, path.child("successThreshold")));
  errs.push(...nonNegative(probe.failureThreshold, path.child("failureThreshold")));
  const grace = probe.terminationGracePeriodSeconds;
  if (grace !== undefined && grace <= 0) {
    errs.push(
      FieldError.invalid(
        path.child("terminationGracePeriodSeconds"),
        grace,
        "must be greater than 0",
      ),
    );
  }
  return errs;
}

type Handler = Pick<Probe, "exec" | "httpGet" | "tcpSocket"> &
  Partial<Pick<Probe, "grpc">> &
  Partial<Pick<LifecycleHandler, "sleep">>;

/**
 * validateHandler: exactly one of exec, httpGet, tcpSocket, grpc (probes) or sleep (hooks):
 * "must specify a handler type" / "may not specify more than 1 handler type".
 */
function validateHandler(handler: Handler, path: FieldPath, hook: boolean): FieldError[] {
  const errs: FieldError[] = [];
  let count = 0;
  const one = (field: string, set: boolean, check: () => FieldError[]) => {
    if (!set) return;
    if (count > 0) {
      errs.push(
        FieldError.forbidden(path.child(field), "may not specify more than 1 handler type"),
      );
      return;
    }
    count++;
    errs.push(...check());
  };
  one("exec", handler.exec !== undefined, () =>
    handler.exec?.command.length === 0 ? [FieldError.required(path.child("exec", "command"))] : [],
  );
  one("httpGet", handler.httpGet !== undefined, () =>
    handler.httpGet === undefined ? [] : validateHttpGet(handler.httpGet, path.child("httpGet")),
  );
  one("tcpSocket", handler.tcpSocket !== undefined, () =>
    portNumOrName(handler.tcpSocket?.port, path.child("tcpSocket", "port")),
  );
  if (!hook) {
    one("grpc", handler.grpc !== undefined, () =>
      invalidEachNumber(handler.grpc?.port ?? 0, path.child("grpc", "port"), isValidPortNum),
    );
  } else {
    one("sleep", handler.sleep !== undefined, () =>
      nonNegative(handler.sleep?.seconds, path.child("sleep", "seconds")),
    );
  }
  if (count === 0) errs.push(FieldError.required(path, "must specify a handler type"));
  return errs;
}

function validateHttpGet(action: HTTPGetAction, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (action.path === "") errs.push(FieldError.required(path.child("path")));
  errs.push(...portNumOrName(action.port, path.child("port")));
  errs.push(...oneOf(action.scheme, ["HTTP", "HTTPS"], path.child("scheme")));
  return errs;
}
