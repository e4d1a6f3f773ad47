// The resource quota controller (Kubernetes' pkg/controller/resourcequota): keeps each
// ResourceQuota's status — hard as in spec, used as the namespace's actual usage of every
// resource the quota limits. Admission charges creations as they happen; this controller
// recounts, so that deletions, finished pods and anything admission missed give the room back.
// It recounts a quota when its spec changes, when a pod in its namespace is created, deleted or
// finishes or another watched object is deleted (replenishment), and every
// --resource-quota-sync-period.
// https://kubernetes.io/docs/concepts/policy/resource-quotas/

import { clone, create } from "@bufbuild/protobuf";
import {
  type KindInfo,
  type Pod,
  Quantity,
  type ResourceQuota,
  ResourceQuotaSchema,
  ResourceQuotaStatusSchema,
} from "@tug/api";
import { type ApiObject, objectUsage } from "@tug/apiserver";
import {
  type ApiClient,
  type CacheObject,
  createLister,
  type DeletedFinalStateUnknown,
  isApiError,
  isDeletedFinalStateUnknown,
  type Lister,
  metaNamespaceKeyFunc,
  RateLimitingQueue,
  type SharedIndexInformer,
} from "@tug/client";
import type { Controller, Syncable } from "../framework/controller.js";
import { kindCounting, quotaSelects } from "./quota-resources.js";

/** --resource-quota-sync-period: every quota is recounted this often. */
export const RESOURCE_QUOTA_SYNC_PERIOD_MS = 5 * 60_000;
/** --concurrent-resource-quota-syncs. */
export const DEFAULT_CONCURRENT_RESOURCE_QUOTA_SYNCS = 5;

/** What replenishment needs of an informer of any kind: its deletions, and its first list. */
export interface DeletionSource extends Syncable {
  addEventHandler(handler: {
    onDelete?: (obj: CacheObject | DeletedFinalStateUnknown<CacheObject>) => void;
  }): unknown;
}

export interface ResourceQuotaControllerOptions {
  readonly api: Pick<ApiClient, "list" | "updateStatus">;
  readonly quotas: SharedIndexInformer<ResourceQuota>;
  /** Pods, for replenishment when one is deleted or finishes. */
  readonly pods: SharedIndexInformer<Pod>;
  /** Other kinds whose deletions give quota back at once (services, claims, ...). */
  readonly replenishWith?: readonly DeletionSource[];
  readonly syncPeriodMs?: number;
  readonly queue?: RateLimitingQueue;
}

function terminal(pod: Pod): boolean {
  const phase = pod.status?.phase ?? "";
  return phase === "Succeeded" || phase === "Failed";
}

function sameList(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

export class ResourceQuotaController implements Controller {
  readonly name = "resourcequota";
  readonly informers: readonly Syncable[];
  readonly queue: RateLimitingQueue;
  private readonly quotaLister: Lister<ResourceQuota>;
  private readonly period: number;

  constructor(private readonly options: ResourceQuotaControllerOptions) {
    this.queue = options.queue ?? new RateLimitingQueue();
    this.period = options.syncPeriodMs ?? RESOURCE_QUOTA_SYNC_PERIOD_MS;
    this.informers = [options.quotas, options.pods, ...(options.replenishWith ?? [])];
    this.quotaLister = createLister(options.quotas.getIndexer());
    const enqueue = (q: ResourceQuota) => this.queue.add(metaNamespaceKeyFunc(q));
    options.quotas.addEventHandler({
      onAdd: enqueue,
      onUpdate: (old, q) => {
        // Only a spec change (or a status someone else wrote) calls for a recount.
        if (old.metadata?.resourceVersion !== q.metadata?.resourceVersion) enqueue(q);
      },
    });
    options.pods.addEventHandler({
      onAdd: (pod) => this.replenish(pod),
      onUpdate: (old, pod) => {
        if (!terminal(old) && terminal(pod)) this.replenish(pod);
      },
      onDelete: (obj) => this.replenish(isDeletedFinalStateUnknown(obj) ? obj.obj : obj),
    });
    for (const informer of options.replenishWith ?? []) {
      informer.addEventHandler({
        onDelete: (obj) => this.replenish(isDeletedFinalStateUnknown(obj) ? obj.obj : obj),
      });
    }
  }

  /** Recounts every quota of the object's namespace. */
  private replenish(obj: CacheObject): void {
    for (const q of this.quotaLister.namespace(obj.metadata?.namespace ?? "").list()) {
      this.queue.add(metaNamespaceKeyFunc(q));
    }
  }

  /** syncResourceQuota: recount, write status if it changed, and look again a period later. */
  async reconcile(key: string): Promise<void> {
    const quota = this.quotaLister.get(key);
    if (quota === undefined) return;
    const namespace = quota.metadata?.namespace ?? "";
    const hard: Record<string, string> = { ...(quota.spec?.hard ?? {}) };
    // Recount each kind once, live (the API server's view, not a cache that may lag).
    const byKind = new Map<KindInfo, string[]>();
    for (const resource of Object.keys(hard)) {
      const kind = kindCounting(resource);
      if (kind === undefined) continue;
      byKind.set(kind, [...(byKind.get(kind) ?? []), resource]);
    }
    const used: Record<string, string> = {};
    for (const [kind, resources] of byKind) {
      const totals = new Map<string, Quantity>(resources.map((r) => [r, Quantity.ZERO]));
      const items = (await this.options.api.list(kind, { namespace })).items;
      for (const obj of items) {
        if (!quotaSelects(quota, kind, obj)) continue;
        const usage = objectUsage(kind, obj as unknown as ApiObject);
        for (const r of resources) {
          const q = usage.get(r);
          if (q !== undefined) totals.set(r, (totals.get(r) ?? Quantity.ZERO).add(q));
        }
      }
      for (const [r, q] of totals) used[r] = q.toString();
    }
    const status = quota.status;
    if (status === undefined || !sameList(status.hard, hard) || !sameList(status.used, used)) {
      const updated = clone(ResourceQuotaSchema, quota);
      updated.status = create(ResourceQuotaStatusSchema, { hard, used });
      try {
        await this.options.api.updateStatus(ResourceQuotaSchema, updated);
      } catch (error) {
        // Admission charged the quota meanwhile: recount from the new version.
        if (!isApiError(error, "Conflict") && !isApiError(error, "NotFound")) throw error;
        if (isApiError(error, "Conflict")) this.queue.add(key);
        return;
      }
    }
    this.queue.addAfter(key, this.period);
  }
}
