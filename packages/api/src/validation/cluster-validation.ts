// Validation of the cluster's own objects: Node, Namespace, Lease, Event, Binding and
// ServiceAccount (k8s.io/kubernetes/pkg/apis/core/validation: ValidateNode(Update),
// ValidateNamespace, ValidateEvent, ValidatePodBinding; pkg/apis/coordination/validation:
// ValidateLeaseSpec).
// Reference: https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/

import type { Lease } from "../gen/tug/coordination/v1/lease_pb.js";
import type { Binding } from "../gen/tug/core/v1/binding_pb.js";
import type { Event } from "../gen/tug/core/v1/event_pb.js";
import type { Namespace } from "../gen/tug/core/v1/namespace_pb.js";
import type { Node } from "../gen/tug/core/v1/node_pb.js";
import type { ServiceAccount } from "../gen/tug/core/v1/service_account_pb.js";
import { FieldError, root } from "./field-error.js";
import { dnsSubdomain, nonNegative, oneOf, resourceList } from "./field-rules.js";
import { INVALID_CIDR, isCIDR } from "./ip-address.js";
import { validateFinalizers } from "./object-meta.js";
import { validateTaints } from "./scheduling-validation.js";

/**
 * ValidateNode: podCIDRs valid CIDRs, at most two, podCIDR equal to the first; taints valid;
 * capacity and allocatable valid quantities.
 */
export function validateNodeBody(node: Node): FieldError[] {
  const errs: FieldError[] = [];
  const spec = node.spec;
  if (spec !== undefined) {
    const cidrs = root("spec", "podCIDRs");
    spec.podCidrs.forEach((cidr, i) => {
      if (!isCIDR(cidr)) errs.push(FieldError.invalid(cidrs.index(i), cidr, INVALID_CIDR));
    });
    if (spec.podCidrs.length > 2)
      errs.push(
        FieldError.invalid(
          cidrs,
          spec.podCidrs,
          "may specify no more than one CIDR for each IP family",
        ),
      );
    if (spec.podCidr !== "" && !isCIDR(spec.podCidr)) {
      errs.push(FieldError.invalid(root("spec", "podCIDR"), spec.podCidr, INVALID_CIDR));
    }
    if (spec.podCidr !== "" && spec.podCidrs.length > 0 && spec.podCidrs[0] !== spec.podCidr) {
      errs.push(FieldError.invalid(cidrs, spec.podCidrs, "element [0] must match podCIDR"));
    }
    errs.push(...validateTaints(spec.taints, root("spec", "taints")));
  }
  if (node.status !== undefined) {
    errs.push(...resourceList(node.status.capacity, root("status", "capacity")));
    errs.push(...resourceList(node.status.allocatable, root("status", "allocatable")));
  }
  return errs;
}

/** ValidateNodeUpdate: podCIDR(s) and providerID change only from unset. */
export function validateNodeUpdate(next: Node, old: Node): FieldError[] {
  const errs: FieldError[] = [];
  const oldCidrs = old.spec?.podCidrs ?? [];
  const nextCidrs = next.spec?.podCidrs ?? [];
  if (oldCidrs.length > 0 && JSON.stringify(oldCidrs) !== JSON.stringify(nextCidrs)) {
    errs.push(
      FieldError.forbidden(
        root("spec", "podCIDRs"),
        'node updates may not change podCIDR except from "" to valid',
      ),
    );
  }
  const oldProvider = old.spec?.providerId ?? "";
  if (oldProvider !== "" && oldProvider !== (next.spec?.providerId ?? "")) {
    errs.push(
      FieldError.forbidden(
        root("spec", "providerID"),
        'node updates may not change providerID except from "" to valid',
      ),
    );
  }
  return errs;
}

/** ValidateNamespace: spec.finalizers valid finalizer names. */
export function validateNamespaceBody(namespace: Namespace): FieldError[] {
  return validateFinalizers(namespace.spec?.finalizers ?? [], root("spec", "finalizers"));
}

/**
 * ValidateLeaseSpec: leaseDurationSeconds > 0 and leaseTransitions >= 0 when set; strategy,
 * when set, OldestEmulationVersion; preferredHolder only with a strategy.
 */
export function validateLeaseBody(lease: Lease): FieldError[] {
  const spec = lease.spec;
  if (spec === undefined) return [];
  const path = root("spec");
  const errs: FieldError[] = [];
  const duration = spec.leaseDurationSeconds;
  if (duration !== undefined && duration <= 0) {
    errs.push(
      FieldError.invalid(path.child("leaseDurationSeconds"), duration, "must be greater than 0"),
    );
  }
  errs.push(...nonNegative(spec.leaseTransitions, path.child("leaseTransitions")));
  if (spec.strategy !== undefined)
    errs.push(...oneOf(spec.strategy, ["OldestEmulationVersion"], path.child("strategy")));
  if (
    spec.preferredHolder !== undefined &&
    spec.preferredHolder !== "" &&
    spec.strategy === undefined
  ) {
    errs.push(
      FieldError.forbidden(
        path.child("preferredHolder"),
        "may only be specified if `strategy` is defined",
      ),
    );
  }
  return errs;
}

/** The longest Event reason (1.x events: 128 bytes). */
const MAX_EVENT_REASON = 128;

/**
 * ValidateEvent: involvedObject.namespace equal to the Event's namespace when set; type
 * Normal or Warning when set; count >= 0; reason at most 128 bytes.
 */
export function validateEventBody(event: Event): FieldError[] {
  const errs: FieldError[] = [];
  const involved = event.involvedObject;
  const namespace = event.metadata?.namespace ?? "";
  if (involved !== undefined && involved.namespace !== "" && involved.namespace !== namespace) {
    errs.push(
      FieldError.invalid(
        root("involvedObject", "namespace"),
        involved.namespace,
        "does not match event.namespace",
      ),
    );
  }
  if (event.type !== "") errs.push(...oneOf(event.type, ["Normal", "Warning"], root("type")));
  errs.push(...nonNegative(event.count, root("count")));
  if (event.reason.length > MAX_EVENT_REASON) {
    errs.push(FieldError.tooLong(root("reason"), event.reason, MAX_EVENT_REASON));
  }
  return errs;
}

/** ValidatePodBinding: target.kind Node (or empty), target.name required. */
export function validateBindingBody(binding: Binding): FieldError[] {
  const errs: FieldError[] = [];
  const kind = binding.target?.kind ?? "";
  if (kind !== "" && kind !== "Node") {
    errs.push(FieldError.notSupported(root("target", "kind"), kind, ["Node", "<empty>"]));
  }
  if ((binding.target?.name ?? "") === "") errs.push(FieldError.required(root("target", "name")));
  return errs;
}

/** ServiceAccount: secrets and image pull secrets name Secrets (DNS subdomains). */
export function validateServiceAccountBody(account: ServiceAccount): FieldError[] {
  const errs: FieldError[] = [];
  account.imagePullSecrets.forEach((ref, i) => {
    const at = root("imagePullSecrets").index(i).child("name");
    errs.push(...(ref.name === "" ? [FieldError.required(at)] : dnsSubdomain(ref.name, at)));
  });
  return errs;
}
