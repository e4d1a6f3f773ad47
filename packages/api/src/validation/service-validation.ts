// Service and Endpoints validation (k8s.io/kubernetes/pkg/apis/core/validation:
// ValidateService, validateServicePort, ValidateServiceUpdate, ValidateEndpoints).
// Reference: https://kubernetes.io/docs/reference/kubernetes-api/service-resources/service-v1/

import type { Endpoints, Service, ServicePort } from "../gen/tug/core/v1/service_pb.js";
import { validateLabels } from "../labels/label-validation.js";
import { PORT_PROTOCOLS } from "./container-validation.js";
import { FieldError, type FieldPath, root } from "./field-error.js";
import {
  dnsLabel,
  dnsSubdomain,
  FIELD_IMMUTABLE,
  invalidEachNumber,
  oneOf,
  portNumOrName,
} from "./field-rules.js";
import { INVALID_IP, isCIDR, isIP } from "./ip-address.js";
import { isValidPortNum } from "./names.js";

export const SERVICE_TYPES = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"];
/** kube-apiserver's default --service-node-port-range. */
export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;
/** The longest ClientIP session affinity: one day. */
const MAX_CLIENT_IP_TIMEOUT = 86400;

/**
 * ValidateService (the spec part): type, ports (required unless ExternalName; unique names,
 * required when more than one; port 1-65535; protocol; targetPort; nodePort only for
 * NodePort/LoadBalancer, in 30000-32767 and unique), clusterIP, externalName, selector,
 * session affinity and traffic policies.
 */
export function validateServiceSpec(service: Service): FieldError[] {
  const spec = service.spec;
  const path = root("spec");
  if (spec === undefined) return [FieldError.required(path)];
  const errs: FieldError[] = [];
  errs.push(...oneOf(spec.type, SERVICE_TYPES, path.child("type")));
  const externalName = spec.type === "ExternalName";
  if (externalName) {
    if (spec.clusterIp !== "") {
      errs.push(
        FieldError.forbidden(path.child("clusterIP"), "may not be set for ExternalName services"),
      );
    }
    const name = spec.externalName.endsWith(".")
      ? spec.externalName.slice(0, -1)
      : spec.externalName;
    if (name === "") errs.push(FieldError.required(path.child("externalName")));
    else errs.push(...dnsSubdomain(name, path.child("externalName")));
  } else if (spec.ports.length === 0) {
    errs.push(FieldError.required(path.child("ports")));
  }
  const names = new Set<string>();
  const requireName = spec.ports.length > 1;
  const nodePorts = new Set<string>();
  const ports = new Set<string>();
  spec.ports.forEach((port, i) => {
    const at = path.child("ports").index(i);
    errs.push(...validateServicePort(port, requireName, names, at));
    if (port.nodePort !== 0) {
      if (spec.type === "ClusterIP" || externalName) {
        errs.push(
          FieldError.forbidden(
            at.child("nodePort"),
            `may not be used when \`type\` is '${spec.type}'`,
          ),
        );
      } else if (port.nodePort < NODE_PORT_RANGE.min || port.nodePort > NODE_PORT_RANGE.max) {
        errs.push(
          FieldError.invalid(
            at.child("nodePort"),
            port.nodePort,
            `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}`,
          ),
        );
      }
      const key = `${port.nodePort}/${port.protocol}`;
      if (nodePorts.has(key)) errs.push(FieldError.duplicate(at.child("nodePort"), port.nodePort));
      nodePorts.add(key);
    }
    const key = `${port.port}/${port.protocol}`;
    if (ports.has(key))
      errs.push(FieldError.duplicate(at, { port: port.port, protocol: port.protocol }));
    ports.add(key);
  });
  if (spec.clusterIp !== "" && spec.clusterIp !== "None" && !isIP(spec.clusterIp)) {
    errs.push(
      FieldError.invalid(
        path.child("clusterIP"),
        spec.clusterIp,
        "must be empty, 'None', or a valid IP address",
      ),
    );
  }
  if (
    spec.clusterIps.length > 0 &&
    spec.clusterIp !== "" &&
    spec.clusterIps[0] !== spec.clusterIp
  ) {
    errs.push(
      FieldError.invalid(
        path.child("clusterIPs"),
        spec.clusterIps,
        "element [0] must match clusterIP",
      ),
    );
  }
  spec.externalIps.forEach((ip, i) => {
    if (!isIP(ip))
      errs.push(FieldError.invalid(path.child("externalIPs").index(i), ip, INVALID_IP));
  });
  spec.loadBalancerSourceRanges.forEach((range, i) => {
    if (!isCIDR(range)) {
      errs.push(
        FieldError.invalid(
          path.child("loadBalancerSourceRanges").index(i),
          range,
          "must be a list of IP ranges. For example, 10.240.0.0/24,10.250.0.0/24 ",
        ),
      );
    }
  });
  errs.push(...validateLabels(spec.selector, path.child("selector")));
  errs.push(...oneOf(spec.sessionAffinity, ["ClientIP", "None"], path.child("sessionAffinity")));
  const timeout = spec.sessionAffinityConfig?.clientIp?.timeoutSeconds;
  if (
    spec.sessionAffinity === "ClientIP" &&
    timeout !== undefined &&
    (timeout <= 0 || timeout > MAX_CLIENT_IP_TIMEOUT)
  ) {
    errs.push(
      FieldError.invalid(
        path.child("sessionAffinityConfig", "clientIP", "timeoutSeconds"),
        timeout,
        `must be greater than 0 and less than ${MAX_CLIENT_IP_TIMEOUT}`,
      ),
    );
  }
  const externallyAccessible =
    spec.type === "NodePort" || spec.type === "LoadBalancer" || spec.externalIps.length > 0;
  if (spec.externalTrafficPolicy !== "") {
    if (!externallyAccessible) {
      errs.push(
        FieldError.invalid(
          path.child("externalTrafficPolicy"),
          spec.externalTrafficPolicy,
          "may only be set for externally-accessible services",
        ),
      );
    } else {
      errs.push(
        ...oneOf(
          spec.externalTrafficPolicy,
          ["Cluster", "Local"],
          path.child("externalTrafficPolicy"),
        ),
      );
    }
  }
  if (spec.internalTrafficPolicy !== undefined) {
    errs.push(
      ...oneOf(
        spec.internalTrafficPolicy,
        ["Cluster", "Local"],
        path.child("internalTrafficPolicy"),
      ),
    );
  }
  return errs;
}

function validateServicePort(
  port: ServicePort,
  requireName: boolean,
  names: Set<string>,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  if (requireName && port.name === "") {
    errs.push(FieldError.required(path.child("name")));
  } else if (port.name !== "") {
    errs.push(...dnsLabel(port.name, path.child("name")));
    if (names.has(port.name)) errs.push(FieldError.duplicate(path.child("name"), port.name));
    names.add(port.name);
  }
  errs.push(...invalidEachNumber(port.port, path.child("port"), isValidPortNum));
  errs.push(...oneOf(port.protocol, PORT_PROTOCOLS, path.child("protocol")));
  errs.push(...portNumOrName(port.targetPort, path.child("targetPort")));
  return errs;
}

/**
 * ValidateServiceUpdate: an allocated clusterIP (and clusterIPs) may not change unless the
 * service becomes or stops being ExternalName. The API server must carry an allocated
 * clusterIP over to an update that leaves it empty before validating, as Kubernetes does.
 */
export function validateServiceSpecUpdate(next: Service, old: Service): FieldError[] {
  const errs: FieldError[] = [];
  const nextSpec = next.spec;
  const oldSpec = old.spec;
  if (nextSpec === undefined || oldSpec === undefined) return errs;
  if (nextSpec.type === "ExternalName" || oldSpec.type === "ExternalName") return errs;
  if (oldSpec.clusterIp !== "" && nextSpec.clusterIp !== oldSpec.clusterIp) {
    errs.push(FieldError.invalid(root("spec", "clusterIP"), nextSpec.clusterIp, FIELD_IMMUTABLE));
  }
  if (
    oldSpec.clusterIps.length > 0 &&
    nextSpec.clusterIps.length > 0 &&
    nextSpec.clusterIps[0] !== oldSpec.clusterIps[0]
  ) {
    errs.push(
      FieldError.invalid(
        root("spec", "clusterIPs").index(0),
        nextSpec.clusterIps[0],
        FIELD_IMMUTABLE,
      ),
    );
  }
  return errs;
}

/** ValidateEndpoints: addresses are IPs; ports valid, named when more than one. */
export function validateEndpointsSubsets(endpoints: Endpoints): FieldError[] {
  const errs: FieldError[] = [];
  endpoints.subsets.forEach((subset, i) => {
    const at = root("subsets").index(i);
    for (const [field, addresses] of [
      ["addresses", subset.addresses],
      ["notReadyAddresses", subset.notReadyAddresses],
    ] as const) {
      addresses.forEach((address, j) => {
        const addressPath = at.child(field).index(j);
        if (!isIP(address.ip))
          errs.push(FieldError.invalid(addressPath.child("ip"), address.ip, INVALID_IP));
        if (address.hostname !== "")
          errs.push(...dnsLabel(address.hostname, addressPath.child("hostname")));
      });
    }
    subset.ports.forEach((port, j) => {
      const portPath = at.child("ports").index(j);
      if (subset.ports.length > 1 && port.name === "")
        errs.push(FieldError.required(portPath.child("name")));
      else if (port.name !== "") errs.push(...dnsLabel(port.name, portPath.child("name")));
      errs.push(...invalidEachNumber(port.port, portPath.child("port"), isValidPortNum));
      errs.push(...oneOf(port.protocol, PORT_PROTOCOLS, portPath.child("protocol")));
    });
  });
  return errs;
}
