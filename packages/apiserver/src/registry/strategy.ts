// Per-kind strategies: what the API server does to an object between a request and storage,
// as Kubernetes' registry strategies (k8s.io/apiserver/pkg/registry/rest create.go, update.go;
// pkg/registry/<group>/<kind>/strategy.go): system metadata on create, status reset per kind,
// spec/status separation on update, generation, field-selector attributes, delete defaults and
// TTLs. Pure: the clock, uids and randomness come from the RegistryEnv.

import type { fields, Job, KindInfo, Namespace, PersistentVolume, Pod, Service } from "@tug/api";
import { ApiError } from "../storage/errors.js";
import {
  type ApiObject,
  cloneObject,
  emptyMessageField,
  fieldOf,
  kindHasField,
  metaOf,
  sameField,
  setFieldOf,
  timestampAtSeconds,
} from "./api-object.js";
import { generateJobSelector } from "./job-selector.js";
import { generateName, type RandomSource } from "./name-generator.js";
import { podQosClass } from "./qos.js";
import {
  checkSelectableFields,
  type FieldSet,
  fieldSetOf,
  selectableFieldsOf,
} from "./selectable-fields.js";
import { prepareServiceUpdate } from "./service-update.js";

/** kube-apiserver's --event-ttl default: events are removed an hour after their last write. */
export const DEFAULT_EVENT_TTL_SECONDS = 3600;

/** A pod's grace period when spec.terminationGracePeriodSeconds is unset (Kubernetes' default). */
export const DEFAULT_POD_TERMINATION_GRACE_PERIOD_SECONDS = 30;

/** The finalizer the namespace controller removes once a namespace is empty. */
export const NAMESPACE_FINALIZER_KUBERNETES = "kubernetes";

/** What garbage collection does with dependents of a deleted object (DeleteOptions). */
export type PropagationPolicy = "Orphan" | "Background" | "Foreground";

/** The effects a strategy needs, injected so that tests are deterministic. */
export interface RegistryEnv {
  /** The current time. */
  now(): Date;
  /** A new metadata.uid (a random UUID, version 4). */
  newUid(): string;
  /** Randomness for generateName suffixes. */
  random: RandomSource;
  /** How long events live after their last write. */
  eventTtlSeconds: number;
}

/** The real clock, crypto.randomUUID, Math.random and the default event TTL, or `overrides`. */
export function defaultRegistryEnv(overrides: Partial<RegistryEnv> = {}): RegistryEnv {
  return {
    now: () => new Date(),
    newUid: () => globalThis.crypto.randomUUID(),
    random: Math.random,
    eventTtlSeconds: DEFAULT_EVENT_TTL_SECONDS,
    ...overrides,
  };
}

/**
 * What the API server does to objects of one kind. The prepare functions mutate their first
 * argument (a freshly decoded request object the caller owns) and return the object to store;
 * they never mutate `old`, and share nothing with it.
 */
export interface Strategy {
  readonly kind: KindInfo;
  /**
   * Create (rest.BeforeCreate + PrepareForCreate): a name from generateName when name is empty,
   * a new uid, creationTimestamp now (whole seconds), generation 1 for kinds with a spec,
   * resourceVersion, selfLink, deletionTimestamp and deletionGracePeriodSeconds cleared,
   * namespace cleared for cluster-scoped kinds, and status reset as Kubernetes does per kind
   * (Pod: phase Pending and its qosClass; Namespace: phase Active, spec.finalizers with
   * "kubernetes"; PersistentVolume: phase Pending; Node: kept; others: empty). A Job without
   * manualSelector gets its generated selector and template labels (job-selector.ts).
   */
  prepareForCreate<T extends ApiObject>(obj: T): T;
  /** `base` plus 5 random characters: what prepareForCreate names an object with generateName. */
  generateName(base: string): string;
  /**
   * Update (PUT, rest.BeforeUpdate + PrepareForUpdate): uid, creationTimestamp,
   * deletionTimestamp, deletionGracePeriodSeconds and generation come from `old`; status too
   * for kinds with a status subresource (an update never changes status); a Namespace's spec
   * too (its finalizers change only through finalize). Generation is old + 1 when the spec
   * changed (a Deployment's also when its annotations changed, as Kubernetes).
   */
  prepareForUpdate<T extends ApiObject>(obj: T, old: T): T;
  /**
   * Status update (PUT .../status): everything but status is `old`'s; metadata.resourceVersion
   * stays the request's, for the optimistic-concurrency check. Returns a new object.
   */
  prepareForStatusUpdate<T extends ApiObject>(obj: T, old: T): T;
  /**
   * Namespace finalize (PUT namespaces/<name>/finalize, how the namespace controller removes
   * "kubernetes" once the namespace is empty): everything but spec.finalizers is `old`'s;
   * metadata.resourceVersion stays the request's. Returns a new object. Throws ApiError
   * BadRequest for other kinds, which have no finalize subresource.
   */
  prepareForFinalize<T extends ApiObject>(obj: T, old: T): T;
  /** The object's selectable fields and their values. */
  fieldSet(obj: ApiObject): FieldSet;
  /** The fields a field selector may name for this kind. */
  readonly selectableFields: readonly string[];
  /** Throws ApiError BadRequest naming an unsupported field and listing the supported ones. */
  checkFieldSelector(selector: fields.Selector): void;
  /** True when deletion may be graceful (pods): see deletion.ts. */
  readonly gracefulDeletion: boolean;
  /** Grace period of a delete that does not give one: a pod's terminationGracePeriodSeconds
   * (30 when unset); 0 for other kinds. */
  defaultGracePeriodSeconds(obj: ApiObject): number;
  /** The propagation policy of a delete that names none (Kubernetes: Orphan for batch/v1 Jobs,
   * for compatibility; Background otherwise). */
  readonly defaultPropagationPolicy: PropagationPolicy;
  /** Seconds the object lives after each write (events), or undefined for no expiry. */
  ttlSeconds(obj: ApiObject): number | undefined;
}

/** What differs between kinds; everything else is the default strategy. */
interface KindBehaviour {
  /** Sets the status (and anything else) a new object of the kind starts with. */
  resetOnCreate?(obj: ApiObject, kind: KindInfo): void;
  /** Runs last in prepareForUpdate, with `old` already copied. */
  prepareUpdate?(obj: ApiObject, old: ApiObject): void;
  /** Fields besides spec whose change bumps generation. */
  generationFields?: readonly string[];
  gracefulDeletion?: boolean;
  defaultGracePeriodSeconds?(obj: ApiObject): number;
  defaultPropagationPolicy?: PropagationPolicy;
  ttl?: "events";
}

function clearStatus(obj: ApiObject, kind: KindInfo): void {
  setFieldOf(obj, "status", emptyMessageField(kind, "status"));
}

const BEHAVIOURS: ReadonlyMap<string, KindBehaviour> = new Map<string, KindBehaviour>([
  [
    "/Pod",
    {
      resetOnCreate(obj, kind) {
        clearStatus(obj, kind);
        const pod = obj as unknown as Pod;
        if (pod.status !== undefined) {
          pod.status.phase = "Pending";
          pod.status.qosClass = podQosClass(pod.spec);
        }
      },
      gracefulDeletion: true,
      defaultGracePeriodSeconds: (obj) =>
        (obj as unknown as Pod).spec?.terminationGracePeriodSeconds ??
        DEFAULT_POD_TERMINATION_GRACE_PERIOD_SECONDS,
    },
  ],
  [
    "/Namespace",
    {
      resetOnCreate(obj, kind) {
        clearStatus(obj, kind);
        const ns = obj as unknown as Namespace;
        if (ns.status !== undefined) ns.status.phase = "Active";
        if (ns.spec === undefined) setFieldOf(obj, "spec", emptyMessageField(kind, "spec"));
        const spec = (obj as unknown as Namespace).spec;
        if (spec !== undefined && !spec.finalizers.includes(NAMESPACE_FINALIZER_KUBERNETES)) {
          spec.finalizers.push(NAMESPACE_FINALIZER_KUBERNETES);
        }
      },
      prepareUpdate(obj, old) {
        setFieldOf(obj, "spec", fieldOf(old, "spec"));
      },
    },
  ],
  // The node agent registers its Node with its status; Kubernetes keeps it.
  ["/Node", { resetOnCreate() {} }],
  [
    "/PersistentVolume",
    {
      resetOnCreate(obj, kind) {
        clearStatus(obj, kind);
        const pv = obj as unknown as PersistentVolume;
        if (pv.status !== undefined) pv.status.phase = "Pending";
      },
    },
  ],
  ["/Event", { ttl: "events" }],
  // Allocated clusterIP and nodePorts survive an update that leaves them empty.
  [
    "/Service",
    {
      prepareUpdate(obj, old) {
        prepareServiceUpdate(obj as unknown as Service, old as unknown as Service);
      },
    },
  ],
  // Annotations are copied from a Deployment to its ReplicaSets, so they count as a change.
  ["apps/Deployment", { generationFields: ["annotations"] }],
  [
    "batch/Job",
    {
      resetOnCreate(obj, kind) {
        clearStatus(obj, kind);
        generateJobSelector(kind, obj as unknown as Job);
      },
      defaultPropagationPolicy: "Orphan",
    },
  ],
]);

/** The strategy of `kind`: the default one with the kind's overrides. */
export function strategyFor(kind: KindInfo, env: RegistryEnv): Strategy {
  const behaviour = BEHAVIOURS.get(`${kind.group}/${kind.kind}`) ?? {};
  const hasSpec = kindHasField(kind, "spec");
  const hasStatusField = kindHasField(kind, "status");
  const selectableFields = selectableFieldsOf(kind);

  const specChanged = (obj: ApiObject, old: ApiObject): boolean => {
    if (hasSpec && !sameField(obj, old, "spec")) return true;
    for (const field of behaviour.generationFields ?? []) {
      if (field === "annotations") {
        if (!sameMap(obj.metadata?.annotations, old.metadata?.annotations)) return true;
      } else if (!sameField(obj, old, field)) return true;
    }
    return false;
  };

  return {
    kind,
    selectableFields,
    gracefulDeletion: behaviour.gracefulDeletion === true,
    defaultPropagationPolicy: behaviour.defaultPropagationPolicy ?? "Background",

    generateName: (base) => generateName(base, env.random),

    prepareForCreate(obj) {
      const meta = metaOf(kind, obj);
      if (meta.name === "" && meta.generateName !== "") {
        meta.name = generateName(meta.generateName, env.random);
      }
      if (!kind.namespaced) meta.namespace = "";
      meta.uid = env.newUid();
      meta.creationTimestamp = timestampAtSeconds(env.now());
      meta.deletionTimestamp = undefined;
      meta.deletionGracePeriodSeconds = undefined;
      meta.resourceVersion = "";
      meta.selfLink = "";
      meta.generation = hasSpec ? 1 : 0;
      if (behaviour.resetOnCreate !== undefined) behaviour.resetOnCreate(obj, kind);
      else if (hasStatusField) clearStatus(obj, kind);
      return obj;
    },

    prepareForUpdate(obj, old) {
      const prior = cloneObject(kind, old);
      const meta = metaOf(kind, obj);
      const oldMeta = metaOf(kind, prior);
      if (!kind.namespaced) meta.namespace = "";
      meta.uid = oldMeta.uid;
      meta.creationTimestamp = oldMeta.creationTimestamp;
      meta.deletionTimestamp = oldMeta.deletionTimestamp;
      meta.deletionGracePeriodSeconds = oldMeta.deletionGracePeriodSeconds;
      meta.selfLink = "";
      if (kind.hasStatus) setFieldOf(obj, "status", fieldOf(prior, "status"));
      behaviour.prepareUpdate?.(obj, prior);
      meta.generation = specChanged(obj, prior) ? oldMeta.generation + 1 : oldMeta.generation;
      return obj;
    },

    prepareForStatusUpdate(obj, old) {
      const next = cloneObject(kind, old);
      setFieldOf(next, "status", fieldOf(obj, "status"));
      metaOf(kind, next).resourceVersion = obj.metadata?.resourceVersion ?? "";
      return next;
    },

    prepareForFinalize(obj, old) {
      if (kind.group !== "" || kind.kind !== "Namespace") {
        throw ApiError.badRequest(
          `${kind.resource} have no finalize subresource; only namespaces are finalized (remove metadata.finalizers with an update instead)`,
        );
      }
      const next = cloneObject(kind, old) as unknown as Namespace;
      const requested = (obj as unknown as Namespace).spec?.finalizers ?? [];
      if (next.spec === undefined)
        setFieldOf(next as unknown as ApiObject, "spec", emptyMessageField(kind, "spec"));
      if (next.spec !== undefined) next.spec.finalizers = [...requested];
      metaOf(kind, next as unknown as ApiObject).resourceVersion =
        obj.metadata?.resourceVersion ?? "";
      return next as unknown as typeof obj;
    },

    fieldSet: (obj) => fieldSetOf(kind, obj),
    checkFieldSelector: (selector) => checkSelectableFields(kind, selector),

    defaultGracePeriodSeconds: (obj) => behaviour.defaultGracePeriodSeconds?.(obj) ?? 0,

    ttlSeconds: () => (behaviour.ttl === "events" ? env.eventTtlSeconds : undefined),
  };
}

function sameMap(
  a: Readonly<Record<string, string>> | undefined,
  b: Readonly<Record<string, string>> | undefined,
): boolean {
  const x = a ?? {};
  const y = b ?? {};
  const keys = Object.keys(x);
  return (
    keys.length === Object.keys(y).length && keys.every((k) => Object.hasOwn(y, k) && x[k] === y[k])
  );
}
