// The Deployment controller (Kubernetes' pkg/controller/deployment): owns ReplicaSets, one per
// pod template (named and labelled by pod-template-hash); rolls from the old ones to the new one
// within maxSurge / maxUnavailable (RollingUpdate) or all at once (Recreate); scales
// proportionally when resized mid-rollout; keeps revisionHistoryLimit old ReplicaSets for
// rollback; honours pause; reports Progressing / Available conditions and progressDeadlineSeconds.
// https://kubernetes.io/docs/concepts/workloads/controllers/deployment/

import { clone, create } from "@bufbuild/protobuf";
import {
  type Deployment,
  DeploymentSchema,
  type DeploymentStatus,
  LabelSelectorSchema,
  labels,
  ObjectMetaSchema,
  type Pod,
  type ReplicaSet,
  ReplicaSetSchema,
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
import { claimObjects, getControllerOf, newControllerRef } from "../framework/controller-ref.js";
import type { EventRecorder } from "../framework/event-recorder.js";
import { wallTime } from "../framework/wall-time.js";
import {
  calculateStatus,
  getCondition,
  hasProgressDeadline,
  msUntilDeadline,
  newCondition,
  PROGRESSING,
  REASONS,
  rolloutStatus,
  setCondition,
  statusUnchanged,
} from "./deployment-status.js";
import {
  activeReplicaSets,
  byCreation,
  byRevision,
  DESIRED_REPLICAS_ANNOTATION,
  deploymentComplete,
  findNewReplicaSet,
  findOldReplicaSets,
  isRollingUpdate,
  isSaturated,
  MAX_REPLICAS_ANNOTATION,
  maxRevision,
  maxSurge,
  newReplicaSetAnnotations,
  newReplicaSetReplicas,
  planOldReplicaSetsScaleDown,
  proportionalSizes,
  REVISION_ANNOTATION,
  specReplicas,
} from "./deployment-util.js";
import {
  computePodTemplateHash,
  equalIgnoreHash,
  POD_TEMPLATE_HASH_LABEL,
} from "./pod-template-hash.js";

export const DEPLOYMENT_API_VERSION = "apps/v1";
export const DEPLOYMENT_KIND = "Deployment";

/** A re-check of a stuck Deployment comes this long after its deadline (Kubernetes: 1 s). */
const DEADLINE_RECHECK_SLACK_MS = 1_000;

export interface DeploymentControllerOptions {
  readonly api: Pick<ApiClient, "get" | "create" | "update" | "updateStatus" | "delete">;
  readonly deployments: SharedIndexInformer<Deployment>;
  readonly replicaSets: SharedIndexInformer<ReplicaSet>;
  readonly pods: SharedIndexInformer<Pod>;
  readonly recorder: EventRecorder;
  readonly clock?: Clock;
  /**
   * Wall time for condition timestamps and pod availability; defaults to an injected clock's
   * (tests), else the system's wall clock — never realClock's monotonic now().
   */
  readonly now?: () => Date;
  readonly queue?: RateLimitingQueue;
}

export class DeploymentController implements Controller {
  readonly name = "deployment";
  readonly informers: readonly Syncable[];
  readonly queue: RateLimitingQueue;
  private readonly dLister: Lister<Deployment>;
  private readonly rsLister: Lister<ReplicaSet>;
  private readonly podLister: Lister<Pod>;
  private readonly clock: Clock;
  private readonly now: () => Date;
  private readonly api: DeploymentControllerOptions["api"];
  private readonly recorder: EventRecorder;

  constructor(options: DeploymentControllerOptions) {
    this.api = options.api;
    this.recorder = options.recorder;
    this.clock = options.clock ?? realClock;
    this.now = options.now ?? wallTime(options.clock);
    this.queue = options.queue ?? new RateLimitingQueue({ clock: this.clock });
    this.informers = [options.deployments, options.replicaSets, options.pods];
    this.dLister = createLister(options.deployments.getIndexer());
    this.rsLister = createLister(options.replicaSets.getIndexer());
    this.podLister = createLister(options.pods.getIndexer());
    options.deployments.addEventHandler({
      onAdd: (d) => this.enqueue(d),
      onUpdate: (_old, d) => this.enqueue(d),
      onDelete: (obj) => this.queue.add(metaNamespaceKeyFunc(obj)),
    });
    options.replicaSets.addEventHandler({
      onAdd: (rs) => this.replicaSetChanged(undefined, rs),
      onUpdate: (old, rs) => this.replicaSetChanged(old, rs),
      onDelete: (obj) => this.replicaSetDeleted(obj),
    });
    options.pods.addEventHandler({ onDelete: (obj) => this.podDeleted(obj) });
  }

  private enqueue(d: Deployment): void {
    this.queue.add(metaNamespaceKeyFunc(d));
  }

  private deploymentOf(
    namespace: string,
    obj: { metadata?: ReplicaSet["metadata"] },
  ): Deployment | undefined {
    const ref = getControllerOf(obj.metadata);
    if (ref === undefined || ref.kind !== DEPLOYMENT_KIND) return undefined;
    const d = this.dLister.namespace(namespace).get(ref.name);
    return d?.metadata?.uid === ref.uid ? d : undefined;
  }

  private deploymentsMatching(rs: ReplicaSet): Deployment[] {
    const rsLabels = rs.metadata?.labels ?? {};
    return this.dLister
      .namespace(rs.metadata?.namespace ?? "")
      .list()
      .filter((d) => {
        try {
          const selector = labels.Selector.fromObject(d.spec?.selector);
          return !selector.isEverything() && selector.matches(rsLabels);
        } catch {
          return false;
        }
      });
  }

  private replicaSetChanged(old: ReplicaSet | undefined, rs: ReplicaSet): void {
    if (old !== undefined && old.metadata?.resourceVersion === rs.metadata?.resourceVersion) return;
    const ns = rs.metadata?.namespace ?? "";
    if (old !== undefined) {
      const oldRef = getControllerOf(old.metadata);
      if (oldRef !== undefined && oldRef.uid !== getControllerOf(rs.metadata)?.uid) {
        const previous = this.deploymentOf(ns, old);
        if (previous !== undefined) this.enqueue(previous);
      }
    }
    if (getControllerOf(rs.metadata) !== undefined) {
      const d = this.deploymentOf(ns, rs);
      if (d !== undefined) this.enqueue(d);
      return;
    }
    for (const d of this.deploymentsMatching(rs)) this.enqueue(d);
  }

  private replicaSetDeleted(obj: ReplicaSet | DeletedFinalStateUnknown<ReplicaSet>): void {
    const rs = isDeletedFinalStateUnknown(obj) ? obj.obj : obj;
    const d = this.deploymentOf(rs.metadata?.namespace ?? "", rs);
    if (d !== undefined) this.enqueue(d);
  }

  /** Recreate waits for the old pods to be gone: a pod deletion may unblock it. */
  private podDeleted(obj: Pod | DeletedFinalStateUnknown<Pod>): void {
    const pod = isDeletedFinalStateUnknown(obj) ? obj.obj : obj;
    const ns = pod.metadata?.namespace ?? "";
    const ref = getControllerOf(pod.metadata);
    if (ref === undefined || ref.kind !== "ReplicaSet") return;
    const rs = this.rsLister.namespace(ns).get(ref.name);
    if (rs === undefined || rs.metadata?.uid !== ref.uid) return;
    const d = this.deploymentOf(ns, rs);
    if (d !== undefined && !isRollingUpdate(d)) this.enqueue(d);
  }

  /** syncDeployment. */
  async reconcile(key: string): Promise<void> {
    const cached = this.dLister.get(key);
    if (cached === undefined) return;
    let d = clone(DeploymentSchema, cached);
    const selector = d.spec?.selector;
    if (
      selector === undefined ||
      (Object.keys(selector.matchLabels).length === 0 && selector.matchExpressions.length === 0)
    ) {
      this.recorder.event(
        this.involved(d),
        "Warning",
        "SelectingAll",
        "This deployment is selecting all pods. A non-empty selector is required.",
      );
      if ((d.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) {
        const status =
          clone(DeploymentSchema, d).status ?? calculateStatus(d, [], undefined, this.now());
        status.observedGeneration = d.metadata?.generation ?? 0;
        await this.writeStatus(d, status);
      }
      return;
    }
    const rsList = await this.claimReplicaSets(d);
    if (d.metadata?.deletionTimestamp !== undefined) {
      await this.syncStatusOnly(d, rsList);
      return;
    }
    d = await this.checkPausedConditions(d);
    if (d.spec?.paused === true || this.isScalingEvent(d, rsList)) {
      await this.sync(d, rsList);
      return;
    }
    if (isRollingUpdate(d)) await this.rolloutRolling(d, rsList);
    else await this.rolloutRecreate(d, rsList);
  }

  private identity(d: Deployment) {
    return {
      apiVersion: DEPLOYMENT_API_VERSION,
      kind: DEPLOYMENT_KIND,
      name: d.metadata?.name ?? "",
      uid: d.metadata?.uid ?? "",
    };
  }

  private involved(d: Deployment) {
    return { ...this.identity(d), metadata: d.metadata };
  }

  /** The Deployment's ReplicaSets: claimed, adopted and released by its selector. */
  private async claimReplicaSets(d: Deployment): Promise<ReplicaSet[]> {
    const ns = d.metadata?.namespace ?? "";
    const selector = labels.Selector.fromObject(d.spec?.selector);
    return claimObjects(
      {
        uid: d.metadata?.uid ?? "",
        deleting: d.metadata?.deletionTimestamp !== undefined,
        matches: (l) => selector.matches(l),
      },
      this.rsLister.namespace(ns).list(),
      apiClaimActions(this.api, ReplicaSetSchema, {
        ...this.identity(d),
        namespace: ns,
        schema: DeploymentSchema,
      }),
      isGone,
    );
  }

  /** A ReplicaSet carries a desired-replicas annotation other than spec.replicas (isScalingEvent). */
  private isScalingEvent(d: Deployment, rsList: readonly ReplicaSet[]): boolean {
    const newRS = findNewReplicaSet(d, rsList);
    const all = activeReplicaSets([...findOldReplicaSets(rsList, newRS), newRS]);
    return all.some((rs) => {
      const desired = rs.metadata?.annotations[DESIRED_REPLICAS_ANNOTATION];
      return desired !== undefined && desired !== String(specReplicas(d));
    });
  }

  /** Progressing Unknown with DeploymentPaused / DeploymentResumed as spec.paused flips. */
  private async checkPausedConditions(d: Deployment): Promise<Deployment> {
    if (!hasProgressDeadline(d)) return d;
    const current = getCondition(d.status, PROGRESSING);
    if (current?.reason === REASONS.progressDeadlineExceeded) return d;
    const pausedShown = current?.reason === REASONS.paused;
    const paused = d.spec?.paused === true;
    if (paused === pausedShown) return d;
    const status =
      clone(DeploymentSchema, d).status ?? calculateStatus(d, [], undefined, this.now());
    setCondition(
      status,
      paused
        ? newCondition(PROGRESSING, "Unknown", REASONS.paused, "Deployment is paused", this.now())
        : newCondition(
            PROGRESSING,
            "Unknown",
            REASONS.resumed,
            "Deployment is resumed",
            this.now(),
          ),
    );
    return this.writeStatus(d, status);
  }

  /**
   * The new ReplicaSet (created when `create` and missing) and all old ones; brings the new
   * one's annotations and minReadySeconds up to date and records its revision on the
   * Deployment (getAllReplicaSetsAndSyncRevision).
   */
  private async newAndOld(
    dIn: Deployment,
    rsList: readonly ReplicaSet[],
    create_: boolean,
  ): Promise<{ d: Deployment; newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] }> {
    let d = dIn;
    const existing = findNewReplicaSet(d, rsList);
    const oldRSs = findOldReplicaSets(rsList, existing);
    const newRevision = maxRevision(oldRSs) + 1;
    if (existing !== undefined) {
      let rs = existing;
      const annotations = newReplicaSetAnnotations(
        d,
        rs.metadata?.annotations ?? {},
        newRevision,
        true,
      );
      const minReady = d.spec?.minReadySeconds ?? 0;
      if (annotations !== undefined || (rs.spec?.minReadySeconds ?? 0) !== minReady) {
        const copy = clone(ReplicaSetSchema, rs);
        if (copy.metadata !== undefined && annotations !== undefined)
          copy.metadata.annotations = annotations;
        if (copy.spec !== undefined) copy.spec.minReadySeconds = minReady;
        rs = await this.api.update(ReplicaSetSchema, copy);
      }
      d = await this.setRevision(d, rs.metadata?.annotations[REVISION_ANNOTATION] ?? "");
      if (hasProgressDeadline(d) && getCondition(d.status, PROGRESSING) === undefined) {
        const status =
          clone(DeploymentSchema, d).status ?? calculateStatus(d, [], undefined, this.now());
        setCondition(
          status,
          newCondition(
            PROGRESSING,
            "True",
            REASONS.foundNewReplicaSet,
            `Found new replica set "${rs.metadata?.name ?? ""}"`,
            this.now(),
          ),
        );
        d = await this.writeStatus(d, status);
      }
      return { d, newRS: rs, oldRSs };
    }
    if (!create_) return { d, newRS: undefined, oldRSs };
    return this.createNewReplicaSet(d, oldRSs, newRevision);
  }

  private async createNewReplicaSet(
    dIn: Deployment,
    oldRSs: ReplicaSet[],
    newRevision: number,
  ): Promise<{ d: Deployment; newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] }> {
    let d = dIn;
    const ns = d.metadata?.namespace ?? "";
    const template = clone(DeploymentSchema, d).spec?.template;
    const hash = computePodTemplateHash(d.spec?.template, d.status?.collisionCount);
    if (template !== undefined) {
      template.metadata ??= create(ObjectMetaSchema);
      template.metadata.labels = { ...template.metadata.labels, [POD_TEMPLATE_HASH_LABEL]: hash };
    }
    const selector = clone(LabelSelectorSchema, d.spec?.selector ?? create(LabelSelectorSchema));
    selector.matchLabels = { ...selector.matchLabels, [POD_TEMPLATE_HASH_LABEL]: hash };
    const name = `${d.metadata?.name ?? ""}-${hash}`;
    const rs = create(ReplicaSetSchema, {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name,
        namespace: ns,
        ownerReferences: [newControllerRef(this.identity(d))],
        labels: { ...(template?.metadata?.labels ?? {}) },
      },
      spec: {
        replicas: 0,
        minReadySeconds: d.spec?.minReadySeconds ?? 0,
        selector,
        template,
      },
    });
    const replicas = newReplicaSetReplicas(d, [...oldRSs, rs], rs);
    if (rs.spec !== undefined) rs.spec.replicas = replicas;
    if (rs.metadata !== undefined) {
      rs.metadata.annotations = newReplicaSetAnnotations(d, {}, newRevision, false) ?? {};
    }
    let created: ReplicaSet;
    let alreadyExisted = false;
    try {
      created = await this.api.create(ReplicaSetSchema, rs);
    } catch (error) {
      if (!isApiError(error, "AlreadyExists")) {
        const message = `Failed to create new replica set "${name}": ${error instanceof Error ? error.message : String(error)}`;
        if (hasProgressDeadline(d)) {
          const status =
            clone(DeploymentSchema, d).status ?? calculateStatus(d, [], undefined, this.now());
          setCondition(
            status,
            newCondition(PROGRESSING, "False", REASONS.failedReplicaSetCreate, message, this.now()),
          );
          await this.writeStatus(d, status);
        }
        this.recorder.event(this.involved(d), "Warning", "FailedCreate", message);
        throw error;
      }
      // Ours already (an earlier sync created it and the cache has not caught up), or a
      // hash collision with a ReplicaSet of another template: bump collisionCount and retry.
      const found = await this.api.get(ReplicaSetSchema, name, { namespace: ns });
      const ref = getControllerOf(found.metadata);
      if (
        ref?.uid !== d.metadata?.uid ||
        !equalIgnoreHash(d.spec?.template, found.spec?.template)
      ) {
        const status =
          clone(DeploymentSchema, d).status ?? calculateStatus(d, [], undefined, this.now());
        status.collisionCount = (status.collisionCount ?? 0) + 1;
        await this.writeStatus(d, status);
        throw new Error(
          `replica set ${ns}/${name} exists with another template (hash collision); retrying with collisionCount ${status.collisionCount}`,
          { cause: error },
        );
      }
      created = found;
      alreadyExisted = true;
    }
    if (!alreadyExisted && replicas > 0) {
      this.recorder.event(
        this.involved(d),
        "Normal",
        "ScalingReplicaSet",
        `Scaled up replica set ${name} to ${replicas} from 0`,
      );
    }
    d = await this.setRevision(d, String(newRevision));
    if (!alreadyExisted && hasProgressDeadline(d)) {
      const status =
        clone(DeploymentSchema, d).status ?? calculateStatus(d, [], undefined, this.now());
      setCondition(
        status,
        newCondition(
          PROGRESSING,
          "True",
          REASONS.newReplicaSetCreated,
          `Created new replica set "${name}"`,
          this.now(),
        ),
      );
      d = await this.writeStatus(d, status);
    }
    return { d, newRS: created, oldRSs };
  }

  /**
   * Records `revision` in the Deployment's revision annotation. tug-apiserver's status
   * subresource keeps metadata as stored, so this is an update of the Deployment itself.
   */
  private async setRevision(d: Deployment, revision: string): Promise<Deployment> {
    if (revision === "" || d.metadata?.annotations[REVISION_ANNOTATION] === revision) return d;
    const copy = clone(DeploymentSchema, d);
    if (copy.metadata !== undefined) {
      copy.metadata.annotations = { ...copy.metadata.annotations, [REVISION_ANNOTATION]: revision };
    }
    return this.api.update(DeploymentSchema, copy);
  }

  private async writeStatus(d: Deployment, status: DeploymentStatus): Promise<Deployment> {
    if (statusUnchanged(d, status)) return d;
    const copy = clone(DeploymentSchema, d);
    copy.status = status;
    return this.api.updateStatus(DeploymentSchema, copy);
  }

  /**
   * Sets spec.replicas and the desired-/max-replicas annotations of `rs` (scaleReplicaSet);
   * records ScalingReplicaSet when the size changes. Returns the ReplicaSet as written.
   */
  private async scaleReplicaSet(
    rs: ReplicaSet,
    replicas: number,
    d: Deployment,
  ): Promise<ReplicaSet> {
    const from = specReplicas(rs);
    const desired = String(specReplicas(d));
    const max = String(specReplicas(d) + maxSurge(d));
    const annotations = rs.metadata?.annotations ?? {};
    if (
      from === replicas &&
      annotations[DESIRED_REPLICAS_ANNOTATION] === desired &&
      annotations[MAX_REPLICAS_ANNOTATION] === max
    ) {
      return rs;
    }
    const copy = clone(ReplicaSetSchema, rs);
    if (copy.spec !== undefined) copy.spec.replicas = replicas;
    if (copy.metadata !== undefined) {
      copy.metadata.annotations = {
        ...copy.metadata.annotations,
        [DESIRED_REPLICAS_ANNOTATION]: desired,
        [MAX_REPLICAS_ANNOTATION]: max,
      };
    }
    const updated = await this.api.update(ReplicaSetSchema, copy);
    if (from !== replicas) {
      this.recorder.event(
        this.involved(d),
        "Normal",
        "ScalingReplicaSet",
        `Scaled ${replicas > from ? "up" : "down"} replica set ${rs.metadata?.name ?? ""} to ${replicas} from ${from}`,
      );
    }
    return updated;
  }

  /** Scaling and status only: paused Deployments and resizes (sync). */
  private async sync(dIn: Deployment, rsList: readonly ReplicaSet[]): Promise<void> {
    const { d, newRS, oldRSs } = await this.newAndOld(dIn, rsList, false);
    const scaled = await this.scale(d, newRS, oldRSs);
    if (d.spec?.paused === true) await this.cleanup(d, scaled.oldRSs);
    const all = [...scaled.oldRSs, scaled.newRS];
    await this.writeStatus(d, calculateStatus(d, all, scaled.newRS, this.now()));
  }

  private async syncStatusOnly(dIn: Deployment, rsList: readonly ReplicaSet[]): Promise<void> {
    const { d, newRS, oldRSs } = await this.newAndOld(dIn, rsList, false);
    await this.writeStatus(d, calculateStatus(d, [...oldRSs, newRS], newRS, this.now()));
  }

  /** Kubernetes' scale(): resize the one active ReplicaSet, or spread a resize proportionally. */
  private async scale(
    d: Deployment,
    newRSIn: ReplicaSet | undefined,
    oldRSsIn: ReplicaSet[],
  ): Promise<{ newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] }> {
    let newRS = newRSIn;
    let oldRSs = oldRSsIn;
    const replace = (updated: ReplicaSet) => {
      if (newRS !== undefined && updated.metadata?.uid === newRS.metadata?.uid) newRS = updated;
      else oldRSs = oldRSs.map((o) => (o.metadata?.uid === updated.metadata?.uid ? updated : o));
    };
    const activeOrLatest = this.activeOrLatest(newRS, oldRSs);
    if (activeOrLatest !== undefined) {
      if (specReplicas(activeOrLatest) !== specReplicas(d)) {
        replace(await this.scaleReplicaSet(activeOrLatest, specReplicas(d), d));
      }
      return { newRS, oldRSs };
    }
    if (isSaturated(d, newRS)) {
      for (const old of activeReplicaSets(oldRSs)) replace(await this.scaleReplicaSet(old, 0, d));
      return { newRS, oldRSs };
    }
    if (isRollingUpdate(d)) {
      const sizes = proportionalSizes(d, [...oldRSs, ...(newRS === undefined ? [] : [newRS])]);
      for (const [rs, size] of sizes) replace(await this.scaleReplicaSet(rs, size, d));
    }
    return { newRS, oldRSs };
  }

  /** The only active ReplicaSet, or with none active the newest (FindActiveOrLatest). */
  private activeOrLatest(
    newRS: ReplicaSet | undefined,
    oldRSs: readonly ReplicaSet[],
  ): ReplicaSet | undefined {
    const active = activeReplicaSets([...oldRSs, newRS]);
    if (active.length === 1) return active[0];
    if (active.length > 1) return undefined;
    if (newRS !== undefined) return newRS;
    return [...oldRSs].sort(byCreation).at(-1);
  }

  /** rolloutRolling: one step of a rolling update, then the rollout status. */
  private async rolloutRolling(dIn: Deployment, rsList: readonly ReplicaSet[]): Promise<void> {
    const { d, newRS: createdRS, oldRSs } = await this.newAndOld(dIn, rsList, true);
    let newRS = createdRS;
    let all = [...oldRSs, newRS];
    if (newRS !== undefined) {
      const target = this.newReplicaSetTarget(d, all, newRS);
      if (target !== specReplicas(newRS)) {
        newRS = await this.scaleReplicaSet(newRS, target, d);
        all = [...oldRSs, newRS];
        await this.syncRolloutStatus(d, all, newRS);
        return;
      }
    }
    const steps = planOldReplicaSetsScaleDown(d, oldRSs, newRS);
    let olds = oldRSs;
    for (const step of steps) {
      const updated = await this.scaleReplicaSet(step.rs, step.replicas, d);
      olds = olds.map((o) => (o.metadata?.uid === updated.metadata?.uid ? updated : o));
    }
    all = [...olds, newRS];
    if (steps.length === 0 && d.status !== undefined && deploymentComplete(d, d.status)) {
      await this.cleanup(d, olds);
    }
    await this.syncRolloutStatus(d, all, newRS);
  }

  /** reconcileNewReplicaSet's target: down to spec.replicas, or up within the surge bound. */
  private newReplicaSetTarget(
    d: Deployment,
    all: readonly (ReplicaSet | undefined)[],
    newRS: ReplicaSet,
  ): number {
    const replicas = specReplicas(d);
    if (specReplicas(newRS) >= replicas) return replicas;
    return newReplicaSetReplicas(d, all, newRS);
  }

  /** rolloutRecreate: all old pods gone before the new ReplicaSet scales up. */
  private async rolloutRecreate(dIn: Deployment, rsList: readonly ReplicaSet[]): Promise<void> {
    let { d, newRS, oldRSs } = await this.newAndOld(dIn, rsList, false);
    const activeOld = activeReplicaSets(oldRSs);
    if (activeOld.length > 0) {
      for (const rs of activeOld) {
        const updated = await this.scaleReplicaSet(rs, 0, d);
        oldRSs = oldRSs.map((o) => (o.metadata?.uid === updated.metadata?.uid ? updated : o));
      }
      await this.syncRolloutStatus(d, [...oldRSs, newRS], newRS);
      return;
    }
    if (this.oldPodsRunning(newRS, oldRSs)) {
      await this.syncRolloutStatus(d, [...oldRSs, newRS], newRS);
      return;
    }
    if (newRS === undefined) ({ d, newRS, oldRSs } = await this.newAndOld(d, rsList, true));
    if (newRS !== undefined) newRS = await this.scaleReplicaSet(newRS, specReplicas(d), d);
    if (d.status !== undefined && deploymentComplete(d, d.status)) await this.cleanup(d, oldRSs);
    await this.syncRolloutStatus(d, [...oldRSs, newRS], newRS);
  }

  /** Any pod of an old ReplicaSet not yet finished or gone, terminating ones included. */
  private oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): boolean {
    if (oldRSs.some((rs) => (rs.status?.replicas ?? 0) > 0)) return true;
    const oldUids = new Set(oldRSs.map((rs) => rs.metadata?.uid ?? ""));
    oldUids.delete(newRS?.metadata?.uid ?? "");
    const ns = newRS?.metadata?.namespace ?? oldRSs[0]?.metadata?.namespace ?? "";
    return this.podLister
      .namespace(ns)
      .list()
      .some((pod) => {
        const phase = pod.status?.phase ?? "";
        return (
          oldUids.has(getControllerOf(pod.metadata)?.uid ?? "") &&
          phase !== "Failed" &&
          phase !== "Succeeded"
        );
      });
  }

  private async syncRolloutStatus(
    d: Deployment,
    all: readonly (ReplicaSet | undefined)[],
    newRS: ReplicaSet | undefined,
  ): Promise<void> {
    const now = this.now();
    const status = rolloutStatus(d, all, newRS, now);
    await this.writeStatus(d, status);
    const wait = msUntilDeadline(d, status, now);
    if (wait === undefined) return;
    const key = metaNamespaceKeyFunc(d);
    if (wait < DEADLINE_RECHECK_SLACK_MS) this.queue.addRateLimited(key);
    else this.queue.addAfter(key, wait + DEADLINE_RECHECK_SLACK_MS);
  }

  /**
   * Deletes the oldest old ReplicaSets beyond spec.revisionHistoryLimit that have no pods and no
   * pending change (cleanupDeployment).
   */
  private async cleanup(d: Deployment, oldRSs: readonly ReplicaSet[]): Promise<void> {
    const limit = d.spec?.revisionHistoryLimit;
    if (limit === undefined) return;
    const cleanable = oldRSs.filter((rs) => rs.metadata?.deletionTimestamp === undefined);
    const excess = cleanable.length - limit;
    if (excess <= 0) return;
    for (const rs of [...cleanable].sort(byRevision).slice(0, excess)) {
      if (
        (rs.status?.replicas ?? 0) !== 0 ||
        specReplicas(rs) !== 0 ||
        (rs.metadata?.generation ?? 0) > (rs.status?.observedGeneration ?? 0)
      ) {
        continue;
      }
      try {
        await this.api.delete(ReplicaSetSchema, rs.metadata?.name ?? "", {
          namespace: rs.metadata?.namespace ?? "",
        });
      } catch (error) {
        if (!isApiError(error, "NotFound")) throw error;
      }
    }
  }
}
