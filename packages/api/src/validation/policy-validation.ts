// Validation of policy objects: ResourceQuota, LimitRange (k8s.io/kubernetes/pkg/apis/core/
// validation), NetworkPolicy (pkg/apis/networking/validation) and PodDisruptionBudget
// (pkg/apis/policy/validation).
// Reference: https://kubernetes.io/docs/concepts/policy/

import type { LimitRange, ResourceQuota } from "../gen/tug/core/v1/resource_quota_pb.js";
import type {
  NetworkPolicy,
  NetworkPolicyPeer,
  NetworkPolicyPort,
} from "../gen/tug/networking/v1/network_policy_pb.js";
import type { PodDisruptionBudget } from "../gen/tug/policy/v1/policy_pb.js";
import { validateLabelSelector } from "../labels/label-validation.js";
import type { Quantity } from "../quantity.js";
import { intOrString } from "../scheme/int-or-string.js";
import { PORT_PROTOCOLS } from "./container-validation.js";
import { FieldError, type FieldPath, root } from "./field-error.js";
import {
  intOrPercent,
  invalidEach,
  invalidEachNumber,
  notMoreThan100Percent,
  oneOf,
  qualifiedName,
  resourceQuantity,
} from "./field-rules.js";
import { INVALID_CIDR, isCIDR } from "./ip-address.js";
import { isValidPortName, isValidPortNum } from "./names.js";

const QUOTA_SCOPES = [
  "BestEffort",
  "CrossNamespacePodAffinity",
  "NotBestEffort",
  "NotTerminating",
  "PriorityClass",
  "Terminating",
  "VolumeAttributesClass",
];
const LIMIT_TYPES = ["Container", "Pod", "PersistentVolumeClaim"];

/**
 * ValidateResourceQuota: hard names qualified resource names with valid, non-negative
 * quantities (integers for counted resources); scopes and scope selector operators known.
 */
export function validateResourceQuotaBody(quota: ResourceQuota): FieldError[] {
  const spec = quota.spec;
  if (spec === undefined) return [];
  const errs: FieldError[] = [];
  const hard = root("spec", "hard");
  for (const [name, text] of Object.entries(spec.hard)) {
    errs.push(...qualifiedName(name, hard.key(name)));
    resourceQuantity(name, text, hard.key(name), errs);
  }
  spec.scopes.forEach((scope, i) => {
    errs.push(...oneOf(scope, QUOTA_SCOPES, root("spec", "scopes").index(i)));
  });
  spec.scopeSelector?.matchExpressions.forEach((requirement, i) => {
    const at = root("spec", "scopeSelector", "matchExpressions").index(i);
    errs.push(...oneOf(requirement.scopeName, QUOTA_SCOPES, at.child("scopeName")));
    errs.push(
      ...oneOf(
        requirement.operator,
        ["In", "NotIn", "Exists", "DoesNotExist"],
        at.child("operator"),
      ),
    );
  });
  return errs;
}

/**
 * ValidateLimitRange: type Container, Pod or PersistentVolumeClaim (Pod takes no defaults);
 * quantities valid; min <= defaultRequest <= default <= max for each resource.
 */
export function validateLimitRangeBody(limitRange: LimitRange): FieldError[] {
  const errs: FieldError[] = [];
  limitRange.spec?.limits.forEach((item, i) => {
    const at = root("spec", "limits").index(i);
    errs.push(...oneOf(item.type, LIMIT_TYPES, at.child("type")));
    const parse = (field: string, list: Readonly<Record<string, string>>) => {
      const out = new Map<string, Quantity>();
      for (const [name, text] of Object.entries(list)) {
        errs.push(...qualifiedName(name, at.child(field).key(name)));
        const q = resourceQuantity(name, text, at.child(field).key(name), errs);
        if (q !== undefined) out.set(name, q);
      }
      return out;
    };
    const max = parse("max", item.max);
    const min = parse("min", item.min);
    const def = parse("default", item.default);
    const defRequest = parse("defaultRequest", item.defaultRequest);
    parse("maxLimitRequestRatio", item.maxLimitRequestRatio);
    if (item.type === "Pod") {
      if (def.size > 0)
        errs.push(
          FieldError.forbidden(at.child("default"), "may not be specified when `type` is 'Pod'"),
        );
      if (defRequest.size > 0) {
        errs.push(
          FieldError.forbidden(
            at.child("defaultRequest"),
            "may not be specified when `type` is 'Pod'",
          ),
        );
      }
    }
    const check = (
      field: string,
      lower: Map<string, Quantity>,
      upper: Map<string, Quantity>,
      lowerName: string,
      upperName: string,
    ) => {
      for (const [name, low] of lower) {
        const high = upper.get(name);
        if (high !== undefined && low.cmp(high) > 0) {
          errs.push(
            FieldError.invalid(
              at.child(field).key(name),
              low.toString(),
              `${lowerName} value ${low.toString()} is greater than ${upperName} value ${high.toString()}`,
            ),
          );
        }
      }
    };
    check("min", min, max, "min", "max");
    check("defaultRequest", min, defRequest, "min", "default request");
    check("defaultRequest", defRequest, max, "default request", "max");
    check("defaultRequest", defRequest, def, "default request", "default limit");
    check("default", min, def, "min", "default");
    check("default", def, max, "default", "max");
  });
  return errs;
}

/**
 * ValidateNetworkPolicySpec: podSelector valid; each rule's ports (protocol, port number or
 * name, endPort >= port and only with a numeric port) and peers (exactly one kind of peer,
 * valid selectors, ipBlock CIDRs with except inside); policyTypes Ingress or Egress.
 */
export function validateNetworkPolicyBody(policy: NetworkPolicy): FieldError[] {
  const spec = policy.spec;
  const path = root("spec");
  if (spec === undefined) return [FieldError.required(path)];
  const errs = validateLabelSelector(spec.podSelector, path.child("podSelector"));
  for (const [field, peerField, rules] of [
    ["ingress", "from", spec.ingress.map((r) => ({ ports: r.ports, peers: r.from }))],
    ["egress", "to", spec.egress.map((r) => ({ ports: r.ports, peers: r.to }))],
  ] as const) {
    rules.forEach((rule, i) => {
      const at = path.child(field).index(i);
      rule.ports.forEach((port, j) => {
        errs.push(...validatePolicyPort(port, at.child("ports").index(j)));
      });
      rule.peers.forEach((peer, j) => {
        errs.push(...validatePeer(peer, at.child(peerField).index(j)));
      });
    });
  }
  spec.policyTypes.forEach((type, i) => {
    errs.push(...oneOf(type, ["Ingress", "Egress"], path.child("policyTypes").index(i)));
  });
  if (spec.policyTypes.length > 2) {
    errs.push(
      FieldError.forbidden(path.child("policyTypes"), "may not specify more than two policyTypes"),
    );
  }
  return errs;
}

function validatePolicyPort(port: NetworkPolicyPort, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (port.protocol !== undefined)
    errs.push(...oneOf(port.protocol, PORT_PROTOCOLS, path.child("protocol")));
  const value = intOrString(port.port);
  if (typeof value === "number")
    errs.push(...invalidEachNumber(value, path.child("port"), isValidPortNum));
  else if (typeof value === "string")
    errs.push(...invalidEach(value, path.child("port"), isValidPortName));
  if (port.endPort !== undefined) {
    if (value === undefined) {
      errs.push(
        FieldError.required(path.child("port"), "must be specified when endPort is specified"),
      );
    } else if (typeof value === "string") {
      errs.push(
        FieldError.forbidden(
          path.child("endPort"),
          "may not be specified when `port` is non-numeric",
        ),
      );
    } else if (port.endPort < value) {
      errs.push(
        FieldError.invalid(
          path.child("endPort"),
          port.endPort,
          "must be greater than or equal to `port`",
        ),
      );
    }
  }
  return errs;
}

function validatePeer(peer: NetworkPolicyPeer, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const selectors =
    (peer.podSelector !== undefined ? 1 : 0) + (peer.namespaceSelector !== undefined ? 1 : 0);
  errs.push(...validateLabelSelector(peer.podSelector, path.child("podSelector")));
  errs.push(...validateLabelSelector(peer.namespaceSelector, path.child("namespaceSelector")));
  if (peer.ipBlock !== undefined) {
    if (selectors > 0)
      errs.push(FieldError.forbidden(path, "may not specify both ipBlock and another peer"));
    const block = path.child("ipBlock");
    if (peer.ipBlock.cidr === "") errs.push(FieldError.required(block.child("cidr")));
    else if (!isCIDR(peer.ipBlock.cidr))
      errs.push(FieldError.invalid(block.child("cidr"), peer.ipBlock.cidr, INVALID_CIDR));
    peer.ipBlock.except.forEach((cidr, i) => {
      if (!isCIDR(cidr))
        errs.push(FieldError.invalid(block.child("except").index(i), cidr, INVALID_CIDR));
    });
  } else if (selectors === 0) {
    errs.push(FieldError.required(path, "must specify a peer"));
  }
  return errs;
}

/**
 * ValidatePodDisruptionBudgetSpec: at most one of minAvailable and maxUnavailable, each a
 * non-negative int or a percent up to 100%; selector valid; a known unhealthy-pod policy.
 */
export function validatePodDisruptionBudgetBody(budget: PodDisruptionBudget): FieldError[] {
  const spec = budget.spec;
  const path = root("spec");
  if (spec === undefined) return [];
  const errs: FieldError[] = [];
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
    errs.push(
      FieldError.invalid(path, "spec", "minAvailable and maxUnavailable cannot be both set"),
    );
  }
  for (const [field, value] of [
    ["minAvailable", spec.minAvailable],
    ["maxUnavailable", spec.maxUnavailable],
  ] as const) {
    if (value === undefined) continue;
    errs.push(...intOrPercent(value, path.child(field)));
    errs.push(...notMoreThan100Percent(value, path.child(field)));
  }
  errs.push(...validateLabelSelector(spec.selector, path.child("selector")));
  if (spec.unhealthyPodEvictionPolicy !== undefined) {
    errs.push(
      ...oneOf(
        spec.unhealthyPodEvictionPolicy,
        ["AlwaysAllow", "IfHealthyBudget"],
        path.child("unhealthyPodEvictionPolicy"),
      ),
    );
  }
  return errs;
}
