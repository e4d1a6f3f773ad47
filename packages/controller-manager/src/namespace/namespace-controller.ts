// The namespace controller (Kubernetes' pkg/controller/namespace/deletion): a namespace being
// deleted (phase Terminating) that still carries the "kubernetes" finalizer has all of its
// content deleted — pods first, so that what they use outlives them while they stop — then,
// once nothing is left, the finalizer is removed through namespaces/<name>/finalize and the API
// server removes the namespace. Progress is reported in the namespace's status conditions.
// https://kubernetes.io/docs/tasks/administer-cluster/namespaces/#deleting-a-namespace
// https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/namespace-v1/

import { clone, create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type KindInfo,
  kindForResource,
  type Namespace,
  type NamespaceCondition,
  NamespaceConditionSchema,
  NamespaceSchema,
  NamespaceStatusSchema,
  type ObjectMeta,
  type Pod,
} from "@tug/api";
import {
  type ApiClient,
  createLister,
  isApiError,
  type Lister,
  RateLimitingQueue,
  type SharedIndexInformer,
} from "@tug/client";
import type { Controller, Syncable } from "../framework/controller.js";

/** The finalizer the namespace controller owns in spec.finalizers. */
export const FINALIZER_KUBERNETES = "kubernetes";
/** kube-controller-manager's --concurrent-namespace-syncs. */
export const DEFAULT_CONCURRENT_NAMESPACE_SYNCS = 10;

export const NAMESPACE_DELETION_DISCOVERY_FAILURE = "NamespaceDeletionDiscoveryFailure";
export const NAMESPACE_DELETION_CONTENT_FAILURE = "NamespaceDeletionContentFailure";
export const NAMESPACE_CONTENT_REMAINING = "NamespaceContentRemaining";
export const NAMESPACE_FINALIZERS_REMAINING = "NamespaceFinalizersRemaining";

export interface NamespaceControllerOptions {
  readonly api: Pick<
    ApiClient,
    "discover" | "list" | "deleteCollection" | "get" | "updateStatus" | "finalize"
  >;
  readonly namespaces: SharedIndexInformer<Namespace>;
  readonly now?: () => Date;
  readonly queue?: RateLimitingQueue;
}

/** What deleting the content of a namespace left behind. */
interface Remaining {
  /** "pods. has 2 resource instances" per resource with objects left. */
  readonly resources: string[];
  /** "example.com/keep in 1 resource instances" per finalizer holding objects. */
  readonly finalizers: string[];
  readonly discoveryError: string | undefined;
  readonly deleteErrors: string[];
  /** Seconds the slowest remaining pod may still take to terminate. */
  readonly estimateSeconds: number;
}

/** The message of a remaining-content condition, as Kubernetes words it. */
function conditionsFor(
  r: Remaining,
): Omit<NamespaceCondition, "$typeName" | "lastTransitionTime">[] {
  const cond = (type: string, failed: boolean, reason: string, message: string) => ({
    type,
    status: failed ? "True" : "False",
    reason,
    message,
  });
  return [
    r.discoveryError === undefined
      ? cond(
          NAMESPACE_DELETION_DISCOVERY_FAILURE,
          false,
          "ResourcesDiscovered",
          "All resources successfully discovered",
        )
      : cond(
          NAMESPACE_DELETION_DISCOVERY_FAILURE,
          true,
          "DiscoveryFailed",
          `Discovery failed for some groups: ${r.discoveryError}`,
        ),
    r.deleteErrors.length === 0
      ? cond(
          NAMESPACE_DELETION_CONTENT_FAILURE,
          false,
          "ContentDeleted",
          "All content successfully deleted",
        )
      : cond(
          NAMESPACE_DELETION_CONTENT_FAILURE,
          true,
          "ContentDeletionFailed",
          `Failed to delete all resource types, ${r.deleteErrors.length} remaining: ${r.deleteErrors.join(", ")}`,
        ),
    r.resources.length === 0
      ? cond(
          NAMESPACE_CONTENT_REMAINING,
          false,
          "ContentRemoved",
          "All content successfully removed",
        )
      : cond(
          NAMESPACE_CONTENT_REMAINING,
          true,
          "SomeResourcesRemain",
          `Some resources are remaining: ${r.resources.join(", ")}`,
        ),
    r.finalizers.length === 0
      ? cond(
          NAMESPACE_FINALIZERS_REMAINING,
          false,
          "ContentHasNoFinalizers",
          "All content-preserving finalizers finished",
        )
      : cond(
          NAMESPACE_FINALIZERS_REMAINING,
          true,
          "SomeFinalizersRemain",
          `Some content in the namespace has finalizers remaining: ${r.finalizers.join(", ")}`,
        ),
  ];
}

/** What deleteAllContent reads of any listed object. */
type Listed = { metadata?: Pick<ObjectMeta, "finalizers"> | undefined };

export class NamespaceController implements Controller {
  readonly name = "namespace";
  readonly informers: readonly Syncable[];
  readonly queue: RateLimitingQueue;
  private readonly namespaceLister: Lister<Namespace>;
  private readonly now: () => Date;

  constructor(private readonly options: NamespaceControllerOptions) {
    this.queue = options.queue ?? new RateLimitingQueue();
    this.now = options.now ?? (() => new Date());
    this.informers = [options.namespaces];
    this.namespaceLister = createLister(options.namespaces.getIndexer());
    const enqueue = (ns: Namespace) => {
      if (ns.metadata?.deletionTimestamp !== undefined) this.queue.add(ns.metadata.name);
    };
    options.namespaces.addEventHandler({ onAdd: enqueue, onUpdate: (_old, ns) => enqueue(ns) });
  }

  /** syncNamespace: delete the content, report, and finalize once it is gone. */
  async reconcile(name: string): Promise<void> {
    const cached = this.namespaceLister.get(name);
    if (cached?.metadata?.deletionTimestamp === undefined) return;
    if (!(cached.spec?.finalizers ?? []).includes(FINALIZER_KUBERNETES)) return;
    const remaining = await this.deleteAllContent(name);
    let ns: Namespace;
    try {
      ns = await this.options.api.get(NamespaceSchema, name);
    } catch (error) {
      if (isApiError(error, "NotFound")) return;
      throw error;
    }
    ns = await this.writeConditions(ns, remaining);
    if (remaining.discoveryError !== undefined || remaining.deleteErrors.length > 0) {
      throw new Error(
        `namespace ${name}: content deletion incomplete: ${[remaining.discoveryError, ...remaining.deleteErrors].filter((e) => e !== undefined).join("; ")}`,
      );
    }
    if (remaining.resources.length > 0) {
      // Kubernetes' wait: half the slowest pod's grace period, plus a second.
      this.queue.addAfter(name, (Math.floor(remaining.estimateSeconds / 2) + 1) * 1000);
      return;
    }
    const finalized = clone(NamespaceSchema, ns);
    if (finalized.spec === undefined) return;
    finalized.spec.finalizers = finalized.spec.finalizers.filter((f) => f !== FINALIZER_KUBERNETES);
    try {
      await this.options.api.finalize(NamespaceSchema, finalized);
    } catch (error) {
      if (!isApiError(error, "NotFound")) throw error;
    }
  }

  /** The namespaced resources that can be listed and deleted by collection; pods first. */
  private async deletableResources(): Promise<KindInfo[]> {
    const resources = await this.options.api.discover();
    const kinds: KindInfo[] = [];
    for (const r of resources) {
      if (!r.namespaced || !r.verbs.includes("list") || !r.verbs.includes("deletecollection")) {
        continue;
      }
      const kind = kindForResource(r.group, r.name);
      if (kind !== undefined) kinds.push(kind);
    }
    const isPods = (k: KindInfo) => k.group === "" && k.resource === "pods";
    return [...kinds.filter(isPods), ...kinds.filter((k) => !isPods(k))];
  }

  private async deleteAllContent(namespace: string): Promise<Remaining> {
    let kinds: KindInfo[];
    try {
      kinds = await this.deletableResources();
    } catch (error) {
      return {
        resources: [],
        finalizers: [],
        discoveryError: error instanceof Error ? error.message : String(error),
        deleteErrors: [],
        estimateSeconds: 0,
      };
    }
    const resources: string[] = [];
    const finalizerCounts = new Map<string, number>();
    const deleteErrors: string[] = [];
    let estimateSeconds = 0;
    for (const kind of kinds) {
      const gr = `${kind.resource}.${kind.group}`;
      try {
        await this.options.api.deleteCollection(kind, {
          namespace,
          propagationPolicy: "Background",
        });
        const left = (await this.options.api.list(kind, { namespace })).items as Listed[];
        if (left.length === 0) continue;
        resources.push(`${gr} has ${left.length} resource instances`);
        for (const obj of left) {
          for (const f of obj.metadata?.finalizers ?? []) {
            finalizerCounts.set(f, (finalizerCounts.get(f) ?? 0) + 1);
          }
          if (kind.group === "" && kind.resource === "pods") {
            const pod = obj as unknown as Pod;
            const grace =
              pod.metadata?.deletionGracePeriodSeconds ??
              pod.spec?.terminationGracePeriodSeconds ??
              0;
            estimateSeconds = Math.max(estimateSeconds, grace);
          }
        }
      } catch (error) {
        deleteErrors.push(`${gr}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const finalizers = [...finalizerCounts]
      .sort(([a], [b]) => a.localeCompare(b, "en"))
      .map(([f, n]) => `${f} in ${n} resource instances`);
    return { resources, finalizers, discoveryError: undefined, deleteErrors, estimateSeconds };
  }

  /** Sets the deletion conditions; lastTransitionTime moves only when a status changes. */
  private async writeConditions(ns: Namespace, remaining: Remaining): Promise<Namespace> {
    const updated = clone(NamespaceSchema, ns);
    updated.status ??= create(NamespaceStatusSchema);
    const status = updated.status;
    const now = timestampFromDate(this.now());
    let changed = false;
    for (const want of conditionsFor(remaining)) {
      const have = status.conditions.find((c) => c.type === want.type);
      if (have === undefined) {
        status.conditions.push(
          create(NamespaceConditionSchema, { ...want, lastTransitionTime: now }),
        );
        changed = true;
      } else if (
        have.status !== want.status ||
        have.reason !== want.reason ||
        have.message !== want.message
      ) {
        if (have.status !== want.status) have.lastTransitionTime = now;
        have.status = want.status;
        have.reason = want.reason;
        have.message = want.message;
        changed = true;
      }
    }
    if (!changed) return ns;
    try {
      return await this.options.api.updateStatus(NamespaceSchema, updated);
    } catch (error) {
      // Conditions are a report; a conflicting writer is no reason to stop deleting.
      if (isApiError(error, "Conflict")) return ns;
      throw error;
    }
  }
}
