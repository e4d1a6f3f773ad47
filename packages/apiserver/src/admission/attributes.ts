// What an admission plugin sees of a request (k8s.io/apiserver/pkg/admission Attributes), and
// what it may read of the cluster: the server answers these lookups from its caches.
// https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/

import type { KindInfo, LimitRange, Namespace, ResourceQuota, ServiceAccount } from "@tug/api";
import type { ApiObject } from "../registry/api-object.js";
import { ApiError } from "../storage/errors.js";

export type AdmissionOperation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";

export interface AdmissionAttributes {
  readonly operation: AdmissionOperation;
  readonly kind: KindInfo;
  /** The request's namespace; "" for cluster-scoped kinds. */
  readonly namespace: string;
  /** The object's name; may be "" on CREATE before a generated name is chosen. */
  readonly name: string;
  /**
   * The object to be stored (CREATE, UPDATE). Mutating plugins change it in place; validating
   * plugins only read it. Undefined for DELETE and CONNECT.
   */
  readonly object: ApiObject | undefined;
  /** The stored object, for UPDATE and DELETE. */
  readonly oldObject: ApiObject | undefined;
  /** "" for the object itself, else "status", "binding", "eviction", "exec", ... */
  readonly subresource: string;
  /** Nothing will be stored: plugins must not have side effects. */
  readonly dryRun: boolean;
}

/**
 * Reads admission needs, answered by the server (from its watch caches, or the store). Each may
 * return a value or a promise. Returned objects are shared: plugins never mutate them.
 */
export interface AdmissionLookups {
  getNamespace(name: string): Namespace | undefined | Promise<Namespace | undefined>;
  listLimitRanges(namespace: string): readonly LimitRange[] | Promise<readonly LimitRange[]>;
  listResourceQuotas(
    namespace: string,
  ): readonly ResourceQuota[] | Promise<readonly ResourceQuota[]>;
  getServiceAccount(
    namespace: string,
    name: string,
  ): ServiceAccount | undefined | Promise<ServiceAccount | undefined>;
  /**
   * The namespace is being deleted through this server: its cached copy may still say Active
   * for a moment, so getNamespace reads it live for a while (kube-apiserver's NamespaceLifecycle
   * forceLiveLookup). Absent where every read is live already.
   */
  namespaceDeleting?(name: string): void;
}

/** True when the request is about the object of a kind itself (not a subresource). */
export function isObjectRequest(a: AdmissionAttributes, group: string, kind: string): boolean {
  return a.subresource === "" && a.kind.group === group && a.kind.kind === kind;
}

/**
 * Admission's refusal, as Kubernetes' admission.NewForbidden: `pods "web" is forbidden: <why>`,
 * naming the object by its name, else its generateName, else "Unknown".
 */
export function forbidden(a: AdmissionAttributes, why: string): ApiError {
  const meta = a.object?.metadata;
  const name = meta?.name || meta?.generateName || a.name || "Unknown";
  return ApiError.forbidden({ group: a.kind.group, resource: a.kind.resource }, name, why);
}

/** Go's utilerrors.NewAggregate(...).Error(): one message as is, several as "[a, b]". */
export function aggregate(messages: readonly string[]): string {
  return messages.length === 1 ? (messages[0] as string) : `[${messages.join(", ")}]`;
}
