// Field selectors: which fields of each kind a list or watch may select on, and their values
// for one object, as Kubernetes' per-kind GetAttrs/ToSelectableFields functions define them
// (pkg/registry/core/pod/strategy.go, node, event, secret, namespace; apps replicaset; batch
// job). https://kubernetes.io/docs/concepts/overview/working-with-objects/field-selectors/

import {
  type Event,
  type fields,
  type Job,
  type KindInfo,
  type Namespace,
  type Node,
  type Pod,
  type ReplicaSet,
  type Secret,
  SelectorError,
} from "@tug/api";
import { ApiError } from "../storage/errors.js";
import type { ApiObject } from "./api-object.js";

/** The field name → value map a field selector is matched against (fields.Set). */
export type FieldSet = Readonly<Record<string, string>>;

type KindFields = (obj: ApiObject) => Record<string, string>;

const podFields: KindFields = (obj) => {
  const pod = obj as unknown as Pod;
  return {
    "spec.nodeName": pod.spec?.nodeName ?? "",
    "spec.restartPolicy": pod.spec?.restartPolicy ?? "",
    "spec.schedulerName": pod.spec?.schedulerName ?? "",
    "spec.serviceAccountName": pod.spec?.serviceAccountName ?? "",
    "spec.hostNetwork": String(pod.spec?.hostNetwork ?? false),
    "status.phase": pod.status?.phase ?? "",
    "status.podIP": pod.status?.podIp ?? "",
    "status.nominatedNodeName": pod.status?.nominatedNodeName ?? "",
  };
};

const nodeFields: KindFields = (obj) => ({
  "spec.unschedulable": String((obj as unknown as Node).spec?.unschedulable ?? false),
});

const eventFields: KindFields = (obj) => {
  const event = obj as unknown as Event;
  const involved = event.involvedObject;
  return {
    "involvedObject.kind": involved?.kind ?? "",
    "involvedObject.namespace": involved?.namespace ?? "",
    "involvedObject.name": involved?.name ?? "",
    "involvedObject.uid": involved?.uid ?? "",
    "involvedObject.apiVersion": involved?.apiVersion ?? "",
    "involvedObject.resourceVersion": involved?.resourceVersion ?? "",
    "involvedObject.fieldPath": involved?.fieldPath ?? "",
    reason: event.reason,
    reportingComponent: event.reportingComponent,
    // Kubernetes falls back to the reporting controller when source.component is empty.
    source: event.source?.component || event.reportingComponent,
    type: event.type,
  };
};

const KIND_FIELDS: ReadonlyMap<string, KindFields> = new Map<string, KindFields>([
  ["/Pod", podFields],
  ["/Node", nodeFields],
  ["/Event", eventFields],
  ["/Secret", (obj) => ({ type: (obj as unknown as Secret).type })],
  ["/Namespace", (obj) => ({ "status.phase": (obj as unknown as Namespace).status?.phase ?? "" })],
  [
    "apps/ReplicaSet",
    (obj) => ({ "status.replicas": String((obj as unknown as ReplicaSet).status?.replicas ?? 0) }),
  ],
  [
    "batch/Job",
    (obj) => ({ "status.successful": String((obj as unknown as Job).status?.succeeded ?? 0) }),
  ],
]);

/**
 * The selectable fields of `obj` and their values: metadata.name for every kind,
 * metadata.namespace for namespaced kinds (as Kubernetes' ObjectMetaFieldsSet), plus the
 * kind's own. Unset fields are "" (so `spec.nodeName=` selects unbound pods).
 */
export function fieldSetOf(kind: KindInfo, obj: ApiObject): FieldSet {
  const set: Record<string, string> = { "metadata.name": obj.metadata?.name ?? "" };
  if (kind.namespaced) set["metadata.namespace"] = obj.metadata?.namespace ?? "";
  const own = KIND_FIELDS.get(`${kind.group}/${kind.kind}`);
  return own === undefined ? set : { ...set, ...own(obj) };
}

const EMPTY_OBJECT = {
  $typeName: "",
  apiVersion: "",
  kind: "",
} satisfies ApiObject;

/** The field names `kind` supports in a field selector, in a stable order. */
export function selectableFieldsOf(kind: KindInfo): readonly string[] {
  return Object.keys(fieldSetOf(kind, EMPTY_OBJECT));
}

/**
 * Throws ApiError BadRequest when `selector` names a field `kind` cannot select on, with
 * Kubernetes' text and the supported fields:
 * `field label not supported: spec.foo; supported field labels: metadata.name, ...`.
 */
export function checkSelectableFields(kind: KindInfo, selector: fields.Selector): void {
  try {
    selector.checkFields(selectableFieldsOf(kind));
  } catch (err) {
    if (err instanceof SelectorError) throw ApiError.badRequest(err.reason);
    throw err;
  }
}
