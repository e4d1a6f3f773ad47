// The ReplicaSet controller (Kubernetes' pkg/controller/replicaset): keeps spec.replicas active
// pods for every ReplicaSet, adopting matching orphans, creating in slow-start batches and
// deleting the most deletable pods first, with expectations so that a lagging cache never
// makes it create or delete twice; then writes status.
// https://kubernetes.io/docs/concepts/workloads/controllers/replicaset/

import { clone } from "@bufbuild/protobuf";
import {
  labels,
  type Pod,
  PodSchema,
  type ReplicaSet,
  ReplicaSetSchema,
  type ReplicaSetStatus,
  ReplicaSetStatusSchema,
} from "@tug/api";
import {
  type ApiClient,
  type Clock,
  createLister,
  type DeletedFinalStateUnknown,
  isApiError,
  isDeletedFinalStateUnknown,
  type Lister,
  metaNamespaceKeyFunc,
  RateLimitingQueue,
  realClock,
  type SharedIndexInformer,
} from "@tug/client";
import { apiClaimActions, isGone } from "../framework/api-claim-actions.js";
import type { Controller, Syncable } from "../framework/controller.js";
import { claimObjects, getControllerOf } from "../framework/controller-ref.js";
import type { EventRecorder } from "../framework/event-recorder.js";
import { ControllerExpectations } from "../framework/expectations.js";
import { deletePodsExpecting, type PodControl } from "../framework/pod-control.js";
import { isPodActive, isPodReady, podsToDelete } from "../framework/pod-state.js";
import { wallTime } from "../framework/wall-time.js";
import { calculateReplicaSetStatus, replicaSetStatusUnchanged } from "./replica-set-status.js";
import { SLOW_START_INITIAL_BATCH_SIZE, slowStartBatch } from "./slow-start.js";

/**
 * Most pods created or deleted for one ReplicaSet in one sync (kube-controller-manager's
 * BurstReplicas): bounds the API load of one sync; the rest follows in the next.
 */
export const BURST_REPLICAS = 500;

export const REPLICA_SET_API_VERSION = "apps/v1";
export const REPLICA_SET_KIND = "ReplicaSet";

export interface ReplicaSetControllerOptions {
  readonly api: Pick<ApiClient, "get" | "update" | "updateStatus">;
  readonly replicaSets: SharedIndexInformer<ReplicaSet>;
  readonly pods: SharedIndexInformer<Pod>;
  readonly podControl: PodControl;
  readonly recorder: EventRecorder;
  readonly burstReplicas?: number;
  readonly clock?: Clock;
  /**
   * Wall time for status (pod availability after minReadySeconds, condition times); defaults
   * to an injected clock's (tests), else the system's wall clock.
   */
  readonly now?: () => Date;
  readonly queue?: RateLimitingQueue;
  /** Aborts when the controller must stop (leadership lost): no new pod batch starts after. */
  readonly signal?: AbortSignal;
}

export class ReplicaSetController implements Controller {
  readonly name = "replicaset";
  readonly informers: readonly Syncable[];
  readonly queue: RateLimitingQueue;
  readonly expectations: ControllerExpectations;
  private readonly rsLister: Lister<ReplicaSet>;
  private readonly podLister: Lister<Pod>;
  private readonly clock: Clock;
  private readonly now: () => Date;
  private readonly burstReplicas: number;

  constructor(private readonly options: ReplicaSetControllerOptions) {
    this.clock = options.clock ?? realClock;
    this.now = options.now ?? wallTime(options.clock);
    this.queue = options.queue ?? new RateLimitingQueue({ clock: this.clock });
    this.expectations = new ControllerExpectations(this.clock);
    this.burstReplicas = options.burstReplicas ?? BURST_REPLICAS;
    this.informers = [options.replicaSets, options.pods];
    this.rsLister = createLister(options.replicaSets.getIndexer());
    this.podLister = createLister(options.pods.getIndexer());
    options.replicaSets.addEventHandler({
      onAdd: (rs) => this.enqueue(rs),
      onUpdate: (_old, rs) => this.enqueue(rs),
      onDelete: (obj) => {
        const key = metaNamespaceKeyFunc(obj);
        this.expectations.delete(key);
        this.queue.add(key);
      },
    });
    options.pods.addEventHandler({
      onAdd: (pod) => this.podAdded(pod),
      onUpdate: (old, pod) => this.podUpdated(old, pod),
      onDelete: (obj) => this.podDeleted(obj),
    });
  }

  private enqueue(rs: ReplicaSet): void {
    this.queue.add(metaNamespaceKeyFunc(rs));
  }

  /** The ReplicaSet a controller reference names, if the cache has that very object. */
  private resolveControllerRef(namespace: string, pod: Pod): ReplicaSet | undefined {
    const ref = getControllerOf(pod.metadata);
    if (ref === undefined || ref.kind !== REPLICA_SET_KIND) return undefined;
    const rs = this.rsLister.namespace(namespace).get(ref.name);
    return rs?.metadata?.uid === ref.uid ? rs : undefined;
  }

  /** ReplicaSets in the pod's namespace whose selector matches it (candidates to adopt it). */
  private replicaSetsMatching(pod: Pod): ReplicaSet[] {
    const podLabels = pod.metadata?.labels ?? {};
    return this.rsLister
      .namespace(pod.metadata?.namespace ?? "")
      .list()
      .filter((rs) => {
        try {
          const selector = labels.Selector.fromObject(rs.spec?.selector);
          return !selector.isEverything() && selector.matches(podLabels);
        } catch {
          return false;
        }
      });
  }

  private podAdded(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp !== undefined) {
      // Restarted with a pod already being deleted: it must not count as a creation.
      this.podDeleted(pod);
      return;
    }
    const ns = pod.metadata?.namespace ?? "";
    if (getControllerOf(pod.metadata) !== undefined) {
      const rs = this.resolveControllerRef(ns, pod);
      if (rs === undefined) return;
      const key = metaNamespaceKeyFunc(rs);
      this.expectations.creationObserved(key);
      this.queue.add(key);
      return;
    }
    for (const rs of this.replicaSetsMatching(pod)) this.enqueue(rs);
  }

  private podUpdated(old: Pod, pod: Pod): void {
    if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
    const ns = pod.metadata?.namespace ?? "";
    const labelsChanged =
      JSON.stringify(old.metadata?.labels) !== JSON.stringify(pod.metadata?.labels);
    if (pod.metadata?.deletionTimestamp !== undefined) {
      // A graceful delete: the pod is leaving now; observe it as early as possible.
      this.podDeleted(pod);
      if (labelsChanged) this.podDeleted(old);
      return;
    }
    const oldRef = getControllerOf(old.metadata);
    const ref = getControllerOf(pod.metadata);
    if (oldRef !== undefined && oldRef.uid !== ref?.uid) {
      const oldRs = this.resolveControllerRef(ns, old);
      if (oldRs !== undefined) this.enqueue(oldRs);
    }
    if (ref !== undefined) {
      const rs = this.resolveControllerRef(ns, pod);
      if (rs === undefined) return;
      this.enqueue(rs);
      const minReady = rs.spec?.minReadySeconds ?? 0;
      if (minReady > 0 && !isPodReady(old) && isPodReady(pod)) {
        // Available only minReadySeconds from now: look again then.
        this.queue.addAfter(metaNamespaceKeyFunc(rs), minReady * 1000 + 1);
      }
      return;
    }
    if (labelsChanged || oldRef !== undefined) {
      for (const rs of this.replicaSetsMatching(pod)) this.enqueue(rs);
    }
  }

  private podDeleted(obj: Pod | DeletedFinalStateUnknown<Pod>): void {
    const pod = isDeletedFinalStateUnknown(obj) ? obj.obj : obj;
    const ns = pod.metadata?.namespace ?? "";
    const rs = this.resolveControllerRef(ns, pod);
    if (rs === undefined) return;
    const key = metaNamespaceKeyFunc(rs);
    this.expectations.deletionObserved(key, metaNamespaceKeyFunc(pod));
    this.queue.add(key);
  }

  /** syncReplicaSet: claim pods, create or delete towards spec.replicas, write status. */
  async reconcile(key: string): Promise<void> {
    const rs = this.rsLister.get(key);
    if (rs === undefined) {
      this.expectations.delete(key);
      return;
    }
    const meta = rs.metadata;
    const ns = meta?.namespace ?? "";
    let selector: labels.Selector;
    try {
      selector = labels.Selector.fromObject(rs.spec?.selector);
    } catch (error) {
      // A selector the API server accepted cannot be invalid; retrying would not fix it.
      this.options.recorder.event(
        this.involved(rs),
        "Warning",
        "InvalidSelector",
        `spec.selector: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    const needsSync = this.expectations.satisfied(key) && meta?.deletionTimestamp === undefined;
    const active = this.podLister.namespace(ns).list().filter(isPodActive);
    const owned = await claimObjects(
      {
        uid: meta?.uid ?? "",
        deleting: meta?.deletionTimestamp !== undefined,
        matches: (l) => !selector.isEverything() && selector.matches(l),
      },
      active,
      apiClaimActions(this.options.api, PodSchema, {
        ...this.identity(rs),
        namespace: ns,
        schema: ReplicaSetSchema,
      }),
      isGone,
    );
    let manageError: unknown;
    if (needsSync) {
      try {
        await this.manageReplicas(key, owned, rs);
      } catch (error) {
        manageError = error;
      }
    }
    const updated = await this.writeStatus(
      rs,
      calculateReplicaSetStatus(rs, owned, manageError, this.now()),
    );
    if (manageError !== undefined) throw manageError;
    const minReady = rs.spec?.minReadySeconds ?? 0;
    const replicas = rs.spec?.replicas ?? 1;
    const status = updated.status;
    if (
      minReady > 0 &&
      status?.readyReplicas === replicas &&
      status.availableReplicas !== replicas
    ) {
      this.queue.addAfter(key, minReady * 1000);
    }
  }

  private identity(rs: ReplicaSet) {
    return {
      apiVersion: REPLICA_SET_API_VERSION,
      kind: REPLICA_SET_KIND,
      name: rs.metadata?.name ?? "",
      uid: rs.metadata?.uid ?? "",
    };
  }

  private involved(rs: ReplicaSet) {
    return { ...this.identity(rs), metadata: rs.metadata };
  }

  private async manageReplicas(key: string, pods: readonly Pod[], rs: ReplicaSet): Promise<void> {
    const ns = rs.metadata?.namespace ?? "";
    const diff = pods.length - (rs.spec?.replicas ?? 1);
    if (diff < 0) {
      const want = Math.min(-diff, this.burstReplicas);
      // Expect before creating: a creation's watch event may arrive before create() returns.
      this.expectations.expectCreations(key, want);
      const owner = this.involved(rs);
      const result = await slowStartBatch(
        want,
        SLOW_START_INITIAL_BATCH_SIZE,
        () => this.options.podControl.createPod(ns, rs.spec?.template, owner),
        () => this.options.signal?.aborted === true,
      );
      // Creations never made will never be observed.
      for (let i = result.successes; i < want; i++) this.expectations.creationObserved(key);
      if (result.error !== undefined) throw result.error;
    } else if (diff > 0) {
      const count = Math.min(diff, this.burstReplicas);
      const victims = podsToDelete(pods, this.relatedPods(rs, pods), count);
      await deletePodsExpecting(
        this.options.podControl,
        this.expectations,
        key,
        ns,
        victims,
        this.involved(rs),
      );
    }
  }

  /**
   * Pods whose placement ranks this ReplicaSet's pods for deletion: those of every ReplicaSet
   * with the same controller (the Deployment's), so that scaling down spreads the survivors.
   */
  private relatedPods(rs: ReplicaSet, own: readonly Pod[]): Pod[] {
    const controller = getControllerOf(rs.metadata);
    if (controller === undefined) return [...own];
    const ns = rs.metadata?.namespace ?? "";
    const siblings = new Set(
      this.rsLister
        .namespace(ns)
        .list()
        .filter((other) => getControllerOf(other.metadata)?.uid === controller.uid)
        .map((other) => other.metadata?.uid ?? ""),
    );
    return this.podLister
      .namespace(ns)
      .list()
      .filter((p) => isPodActive(p) && siblings.has(getControllerOf(p.metadata)?.uid ?? ""));
  }

  /** Writes status when it changed; one retry on a fresh read after a Conflict. */
  private async writeStatus(rs: ReplicaSet, status: ReplicaSetStatus): Promise<ReplicaSet> {
    if (replicaSetStatusUnchanged(rs, status)) return rs;
    let target = rs;
    for (let attempt = 0; ; attempt++) {
      const copy = clone(ReplicaSetSchema, target);
      copy.status = clone(ReplicaSetStatusSchema, status);
      copy.status.observedGeneration = copy.metadata?.generation ?? 0;
      try {
        return await this.options.api.updateStatus(ReplicaSetSchema, copy);
      } catch (error) {
        if (attempt > 0 || !isApiError(error, "Conflict")) throw error;
        target = await this.options.api.get(ReplicaSetSchema, rs.metadata?.name ?? "", {
          namespace: rs.metadata?.namespace ?? "",
        });
      }
    }
  }
}
