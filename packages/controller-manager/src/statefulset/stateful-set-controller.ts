// The StatefulSet controller (Kubernetes' pkg/controller/statefulset): pods with sticky names
// `<set>-<ordinal>`, their claims from volumeClaimTemplates created first and kept, creation in
// ordinal order and deletion from the highest ordinal (OrderedReady: one at a time, each healthy
// before the next; Parallel: all at once), RollingUpdate with a partition (from the highest
// ordinal down) or OnDelete, ControllerRevisions, status.
// https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/

import { clone } from "@bufbuild/protobuf";
import {
  type ControllerRevision,
  type PersistentVolumeClaim,
  PersistentVolumeClaimSchema,
  type Pod,
  PodSchema,
  type PodTemplateSpec,
  type StatefulSet,
  StatefulSetSchema,
  type StatefulSetStatus,
  StatefulSetStatusSchema,
} from "@tug/api";
import {
  type ApiClient,
  type Clock,
  createLister,
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
import { isPodReady } from "../framework/pod-state.js";
import {
  nonEmptySelector,
  ownerIdentity,
  resolveControllerOf,
  writeStatus,
} from "../framework/workload-owner.js";
import { ensureCurrentRevision, pruneHistory } from "../history/controller-revision.js";
import {
  claimsDeletedWhen,
  claimsFor,
  podOrdinal,
  podRevision,
  retentionOwnerRef,
  startOrdinal,
  statefulPod,
  statefulPodName,
  templateOfRevision,
} from "./stateful-pod-identity.js";
import { type OrdinalPod, planStatefulSet, revisionForOrdinal } from "./stateful-set-plan.js";
import { calculateStatefulSetStatus, statefulSetStatusUnchanged } from "./stateful-set-status.js";

export const STATEFUL_SET_API_VERSION = "apps/v1";
export const STATEFUL_SET_KIND = "StatefulSet";

export interface StatefulSetControllerOptions {
  readonly api: Pick<ApiClient, "get" | "create" | "update" | "updateStatus" | "delete">;
  readonly statefulSets: SharedIndexInformer<StatefulSet>;
  readonly pods: SharedIndexInformer<Pod>;
  readonly claims: SharedIndexInformer<PersistentVolumeClaim>;
  readonly revisions: SharedIndexInformer<ControllerRevision>;
  readonly recorder: EventRecorder;
  readonly clock?: Clock;
  readonly queue?: RateLimitingQueue;
}

export class StatefulSetController implements Controller {
  readonly name = "statefulset";
  readonly informers: readonly Syncable[];
  readonly queue: RateLimitingQueue;
  private readonly setLister: Lister<StatefulSet>;
  private readonly podLister: Lister<Pod>;
  private readonly claimLister: Lister<PersistentVolumeClaim>;
  private readonly revisionLister: Lister<ControllerRevision>;
  private readonly clock: Clock;

  constructor(private readonly options: StatefulSetControllerOptions) {
    this.clock = options.clock ?? realClock;
    this.queue = options.queue ?? new RateLimitingQueue({ clock: this.clock });
    this.informers = [options.statefulSets, options.pods, options.claims, options.revisions];
    this.setLister = createLister(options.statefulSets.getIndexer());
    this.podLister = createLister(options.pods.getIndexer());
    this.claimLister = createLister(options.claims.getIndexer());
    this.revisionLister = createLister(options.revisions.getIndexer());
    const enqueue = (set: StatefulSet) => this.queue.add(metaNamespaceKeyFunc(set));
    options.statefulSets.addEventHandler({
      onAdd: enqueue,
      onUpdate: (_old, set) => enqueue(set),
      onDelete: (obj) => this.queue.add(metaNamespaceKeyFunc(obj)),
    });
    options.pods.addEventHandler({
      onAdd: (pod) => this.podChanged(pod),
      onUpdate: (old, pod) => {
        if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
        this.podChanged(old);
        this.podChanged(pod);
        const set = this.ownerOf(pod);
        const minReady = set?.spec?.minReadySeconds ?? 0;
        if (set !== undefined && minReady > 0 && !isPodReady(old) && isPodReady(pod)) {
          this.queue.addAfter(metaNamespaceKeyFunc(set), minReady * 1000 + 1);
        }
      },
      onDelete: (obj) => this.podChanged(isDeletedFinalStateUnknown(obj) ? obj.obj : obj),
    });
  }

  private ownerOf(pod: Pod): StatefulSet | undefined {
    return resolveControllerOf(this.setLister, STATEFUL_SET_KIND, pod);
  }

  /** Enqueues the pod's set, or for an orphan every set whose selector matches it. */
  private podChanged(pod: Pod): void {
    const owner = this.ownerOf(pod);
    if (owner !== undefined) {
      this.queue.add(metaNamespaceKeyFunc(owner));
      return;
    }
    if (getControllerOf(pod.metadata) !== undefined) return;
    for (const set of this.setLister.namespace(pod.metadata?.namespace ?? "").list()) {
      if (nonEmptySelector(set.spec?.selector)?.matches(pod.metadata?.labels ?? {}) === true)
        this.queue.add(metaNamespaceKeyFunc(set));
    }
  }

  private identity(set: StatefulSet) {
    return ownerIdentity(STATEFUL_SET_API_VERSION, STATEFUL_SET_KIND, set.metadata);
  }

  /** syncStatefulSet: claim pods, revisions, one step of scaling or updating, status. */
  async reconcile(key: string): Promise<void> {
    const set = this.setLister.get(key);
    if (set === undefined) return;
    const meta = set.metadata;
    if (meta?.deletionTimestamp !== undefined) return;
    const ns = meta?.namespace ?? "";
    const setName = meta?.name ?? "";
    const selector = nonEmptySelector(set.spec?.selector);
    if (selector === undefined) {
      this.options.recorder.event(
        this.identity(set),
        "Warning",
        "SelectingAll",
        "This statefulset is selecting all pods. A non-empty selector is required.",
      );
      return;
    }
    const uid = meta?.uid ?? "";
    const owned = await claimObjects(
      {
        uid,
        deleting: false,
        // Only pods named as members of the set are adopted (isMemberOf).
        matches: (l) => selector.matches(l),
      },
      this.podLister
        .namespace(ns)
        .list()
        .filter((p) => podOrdinal(setName, p.metadata?.name ?? "") !== undefined),
      apiClaimActions(this.options.api, PodSchema, {
        ...this.identity(set),
        namespace: ns,
        schema: StatefulSetSchema,
      }),
      isGone,
    );
    const revisions = this.revisionLister
      .namespace(ns)
      .list()
      .filter((r) => getControllerOf(r.metadata)?.uid === uid);
    const update = await ensureCurrentRevision(
      this.options.api,
      { ...this.identity(set), namespace: ns, labels: set.spec?.template?.metadata?.labels ?? {} },
      revisions,
      set.spec?.template,
      set.status?.collisionCount,
    );
    const updateRevision = update.revision.metadata?.name ?? "";
    const current = revisions.find((r) => r.metadata?.name === set.status?.currentRevision);
    const currentRevision = current?.metadata?.name ?? updateRevision;
    const pods: OrdinalPod[] = owned.map((pod) => ({
      pod,
      ordinal: podOrdinal(setName, pod.metadata?.name ?? "") ?? -1,
    }));
    const strategy = set.spec?.updateStrategy;
    const partition =
      strategy?.type === "OnDelete" ? undefined : (strategy?.rollingUpdate?.partition ?? 0);
    const nowMs = this.clock.now();
    const minReadySeconds = set.spec?.minReadySeconds ?? 0;
    const plan = planStatefulSet({
      start: startOrdinal(set),
      replicas: set.spec?.replicas ?? 1,
      ordered: (set.spec?.podManagementPolicy ?? "OrderedReady") !== "Parallel",
      pods,
      updateRevision,
      partition,
      minReadySeconds,
      nowMs,
    });
    let stepError: unknown;
    try {
      const templates = new Map<string, PodTemplateSpec | undefined>([
        [updateRevision, set.spec?.template],
      ]);
      if (current !== undefined && currentRevision !== updateRevision) {
        templates.set(currentRevision, templateOfRevision(current));
      }
      await Promise.all([
        ...plan.create.map((ordinal) => {
          const revision = revisionForOrdinal(
            ordinal,
            startOrdinal(set),
            partition,
            currentRevision,
            updateRevision,
          );
          return this.createPod(set, ordinal, revision, templates.get(revision));
        }),
        ...plan.remove.map(async (pod) => {
          const ordinal = podOrdinal(setName, pod.metadata?.name ?? "") ?? -1;
          const scaledAway =
            ordinal < startOrdinal(set) || ordinal >= startOrdinal(set) + (set.spec?.replicas ?? 1);
          if (scaledAway && claimsDeletedWhen(set, "scaled"))
            await this.giveClaimsTo(pod, set, ordinal);
          await this.deletePod(set, pod);
        }),
      ]);
      // Old revisions beyond revisionHistoryLimit that no pod was made from go.
      const inUse = new Set([currentRevision, updateRevision, ...owned.map(podRevision)]);
      await pruneHistory(this.options.api, revisions, inUse, set.spec?.revisionHistoryLimit);
    } catch (error) {
      stepError = error;
    }
    const status = calculateStatefulSetStatus(set, {
      pods: owned.filter((p) => p.metadata?.deletionTimestamp === undefined),
      currentRevision,
      updateRevision,
      collisionCount: update.collisionCount,
      minReadySeconds,
      nowMs,
    });
    await this.writeStatus(set, status);
    if (stepError !== undefined) throw stepError;
    if (minReadySeconds > 0 && status.readyReplicas > status.availableReplicas) {
      this.queue.addAfter(key, minReadySeconds * 1000);
    }
  }

  /** Creates the pod's claims that do not exist yet, then the pod (createStatefulPod). */
  private async createPod(
    set: StatefulSet,
    ordinal: number,
    revision: string,
    template: PodTemplateSpec | undefined,
  ): Promise<void> {
    const ns = set.metadata?.namespace ?? "";
    const setName = set.metadata?.name ?? "";
    const podName = statefulPodName(setName, ordinal);
    const owner = this.identity(set);
    for (const claim of claimsFor(set, ordinal)) {
      const claimName = claim.metadata?.name ?? "";
      if (this.claimLister.namespace(ns).get(claimName) !== undefined) continue;
      try {
        await this.options.api.create(PersistentVolumeClaimSchema, claim);
        this.options.recorder.event(
          owner,
          "Normal",
          "SuccessfulCreate",
          `create Claim ${claimName} Pod ${podName} in StatefulSet ${setName} success`,
        );
      } catch (error) {
        if (isApiError(error, "AlreadyExists")) continue;
        this.options.recorder.event(
          owner,
          "Warning",
          "FailedCreate",
          `create Claim ${claimName} for Pod ${podName} in StatefulSet ${setName} failed error: ${message(error)}`,
        );
        throw error;
      }
    }
    const pod = statefulPod(set, this.identity(set), template, ordinal, revision);
    try {
      await this.options.api.create(PodSchema, pod);
      this.options.recorder.event(
        owner,
        "Normal",
        "SuccessfulCreate",
        `create Pod ${podName} in StatefulSet ${setName} successful`,
      );
    } catch (error) {
      // Already there: our own creation the cache has not shown yet.
      if (isApiError(error, "AlreadyExists")) return;
      this.options.recorder.event(
        owner,
        "Warning",
        "FailedCreate",
        `create Pod ${podName} in StatefulSet ${setName} failed error: ${message(error)}`,
      );
      throw error;
    }
  }

  /**
   * persistentVolumeClaimRetentionPolicy whenScaled: Delete — before a pod is scaled away its
   * claims get an owner reference to it, so the garbage collector deletes them once it is gone.
   */
  private async giveClaimsTo(pod: Pod, set: StatefulSet, ordinal: number): Promise<void> {
    const ns = set.metadata?.namespace ?? "";
    const owner = retentionOwnerRef({
      apiVersion: "v1",
      kind: "Pod",
      name: pod.metadata?.name ?? "",
      uid: pod.metadata?.uid ?? "",
    });
    for (const wanted of claimsFor(set, ordinal)) {
      const claim = this.claimLister.namespace(ns).get(wanted.metadata?.name ?? "");
      if (claim === undefined || claim.metadata?.ownerReferences.some((r) => r.uid === owner.uid)) {
        continue;
      }
      const copy = clone(PersistentVolumeClaimSchema, claim);
      copy.metadata?.ownerReferences.push(owner);
      try {
        await this.options.api.update(PersistentVolumeClaimSchema, copy);
      } catch (error) {
        if (!isApiError(error, "NotFound")) throw error;
      }
    }
  }

  private async deletePod(set: StatefulSet, pod: Pod): Promise<void> {
    const podName = pod.metadata?.name ?? "";
    const setName = set.metadata?.name ?? "";
    try {
      await this.options.api.delete(PodSchema, podName, {
        namespace: pod.metadata?.namespace ?? "",
        preconditions: { uid: pod.metadata?.uid ?? "" },
      });
      this.options.recorder.event(
        this.identity(set),
        "Normal",
        "SuccessfulDelete",
        `delete Pod ${podName} in StatefulSet ${setName} successful`,
      );
    } catch (error) {
      if (isApiError(error, "NotFound") || isApiError(error, "Conflict")) return;
      this.options.recorder.event(
        this.identity(set),
        "Warning",
        "FailedDelete",
        `delete Pod ${podName} in StatefulSet ${setName} failed error: ${message(error)}`,
      );
      throw error;
    }
  }

  private async writeStatus(set: StatefulSet, status: StatefulSetStatus): Promise<void> {
    if (statefulSetStatusUnchanged(set, status)) return;
    await writeStatus(this.options.api, StatefulSetSchema, set, (copy) => {
      copy.status = clone(StatefulSetStatusSchema, status);
      copy.status.observedGeneration = Number(copy.metadata?.generation ?? 0);
    });
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
