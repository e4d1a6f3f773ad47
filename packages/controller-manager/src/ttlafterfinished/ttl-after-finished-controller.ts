// The TTL-after-finished controller (Kubernetes' pkg/controller/ttlafterfinished): deletes a
// finished Job (condition Complete or Failed) spec.ttlSecondsAfterFinished seconds after it
// finished, with propagation Background so that its pods go too. The Job is read afresh from
// the API server before deletion: a TTL changed meanwhile must win over the cache.
// https://kubernetes.io/docs/concepts/workloads/controllers/ttlafterfinished/

import { timestampMs } from "@bufbuild/protobuf/wkt";
import { type Job, JobSchema } from "@tug/api";
import {
  type ApiClient,
  type Clock,
  createLister,
  isApiError,
  type Lister,
  metaNamespaceKeyFunc,
  RateLimitingQueue,
  realClock,
  type SharedIndexInformer,
} from "@tug/client";
import type { Controller, Syncable } from "../framework/controller.js";

/** kube-controller-manager's --concurrent-ttl-after-finished-syncs default. */
export const DEFAULT_CONCURRENT_TTL_SYNCS = 5;

/**
 * When a finished Job with ttlSecondsAfterFinished expires, in ms since the epoch: the time its
 * Complete or Failed condition became True, plus the TTL. Undefined for a Job without a TTL, not
 * finished, or whose condition has no time.
 */
export function jobExpiryMs(job: Job): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (ttl === undefined || job.metadata?.deletionTimestamp !== undefined) return undefined;
  const finished = job.status?.conditions.find(
    (c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True",
  );
  const at = finished?.lastTransitionTime;
  if (at === undefined) return undefined;
  return timestampMs(at) + ttl * 1000;
}

export interface TtlAfterFinishedControllerOptions {
  readonly api: Pick<ApiClient, "get" | "delete">;
  readonly jobs: SharedIndexInformer<Job>;
  /** Timers of the queue. */
  readonly clock?: Clock;
  /** Wall-clock time in ms since the epoch. */
  readonly now?: () => number;
  readonly queue?: RateLimitingQueue;
}

export class TtlAfterFinishedController implements Controller {
  readonly name = "ttl-after-finished";
  readonly informers: readonly Syncable[];
  readonly queue: RateLimitingQueue;
  private readonly jobLister: Lister<Job>;
  private readonly now: () => number;

  constructor(private readonly options: TtlAfterFinishedControllerOptions) {
    this.queue = options.queue ?? new RateLimitingQueue({ clock: options.clock ?? realClock });
    this.now = options.now ?? Date.now;
    this.informers = [options.jobs];
    this.jobLister = createLister(options.jobs.getIndexer());
    const enqueue = (job: Job) => {
      if (jobExpiryMs(job) !== undefined) this.queue.add(metaNamespaceKeyFunc(job));
    };
    options.jobs.addEventHandler({ onAdd: enqueue, onUpdate: (_old, job) => enqueue(job) });
  }

  async reconcile(key: string): Promise<void> {
    const cached = this.jobLister.get(key);
    if (cached === undefined || !this.expired(key, cached)) return;
    let fresh: Job;
    try {
      fresh = await this.options.api.get(JobSchema, cached.metadata?.name ?? "", {
        namespace: cached.metadata?.namespace ?? "",
      });
    } catch (error) {
      if (isApiError(error, "NotFound")) return;
      throw error;
    }
    if (!this.expired(key, fresh)) return;
    try {
      await this.options.api.delete(JobSchema, fresh.metadata?.name ?? "", {
        namespace: fresh.metadata?.namespace ?? "",
        propagationPolicy: "Background",
        preconditions: { uid: fresh.metadata?.uid ?? "" },
      });
    } catch (error) {
      if (!isApiError(error, "NotFound")) throw error;
    }
  }

  /** True when `job` has expired; otherwise looks again when it will. */
  private expired(key: string, job: Job): boolean {
    const expiry = jobExpiryMs(job);
    if (expiry === undefined) return false;
    const wait = expiry - this.now();
    if (wait <= 0) return true;
    this.queue.addAfter(key, wait);
    return false;
  }
}
