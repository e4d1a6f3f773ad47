// The Job controller (Kubernetes' pkg/controller/job): runs pods from the template until
// spec.completions of them succeeded (or, without completions, until one did; Indexed: one per
// index), at most spec.parallelism at a time; replaces failed pods after an exponential back-off
// (per index with spec.backoffLimitPerIndex); fails the Job after more than spec.backoffLimit
// failures, past spec.activeDeadlineSeconds, on a podFailurePolicy FailJob rule, or on failed
// indexes (spec.maxFailedIndexes).
// Finished pods are counted exactly once through the batch.kubernetes.io/job-tracking finalizer:
// a pod's uid goes to status.uncountedTerminatedPods, then its finalizer is removed, then it is
// moved into status.succeeded / status.failed. As Kubernetes 1.31 does, the terminal condition
// (Complete / Failed) follows SuccessCriteriaMet / FailureTarget once no pod is left running.
// An Indexed Job with a spec.successPolicy succeeds once one of its rules is met; a Job whose
// spec.managedBy names another controller is left alone (Kubernetes 1.32).
// https://kubernetes.io/docs/concepts/workloads/controllers/job/

import { clone, create, equals } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  EnvVarSchema,
  type Job,
  type JobCondition,
  JobConditionSchema,
  JobSchema,
  type JobStatus,
  JobStatusSchema,
  labels,
  ObjectMetaSchema,
  type Pod,
  PodSchema,
  type PodTemplateSpec,
  PodTemplateSpecSchema,
  UncountedTerminatedPodsSchema,
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
import { BURST_REPLICAS } from "../replicaset/replica-set-controller.js";
import { SLOW_START_INITIAL_BATCH_SIZE, slowStartBatch } from "../replicaset/slow-start.js";
import {
  failedIndexesVerdict,
  hasBackoffLimitPerIndex,
  type IndexFailureCounts,
  isIndexFailed,
  JOB_INDEX_FAILURE_COUNT_ANNOTATION,
  JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION,
  newIndexFailureCounts,
  podBeingReplaced,
} from "./index-failures.js";
import {
  activeDeadlineMs,
  type BackoffRecord,
  COMPLETIONS_REACHED,
  CONTROLLER_UID_LABEL,
  formatIndexes,
  hasJobCondition,
  hasTrackingFinalizer,
  indexesToStart,
  isIndexedJob,
  isPodFailedForJob,
  isPodSucceeded,
  isPodTerminating,
  JOB_BACKOFF_BASE_MS,
  JOB_BACKOFF_MAX_MS,
  JOB_COMPLETION_INDEX_ANNOTATION,
  JOB_COMPLETION_INDEX_ENV,
  JOB_NAME_LABEL,
  JOB_TRACKING_FINALIZER,
  type JobConditionType,
  jobFailure,
  jobFinished,
  jobSucceeded,
  LEGACY_CONTROLLER_UID_LABEL,
  LEGACY_JOB_NAME_LABEL,
  nextBackoffRecord,
  onlyReplaceFailedPods,
  parseIndexes,
  podCompletionIndex,
  podGenerateNameWithIndex,
  remainingBackoffMs,
  wantedActivePods,
} from "./job-state.js";
import { externalJobManager } from "./managed-by.js";
import { matchPodFailurePolicy, POD_FAILURE_POLICY_REASON } from "./pod-failure-policy.js";
import { matchSuccessPolicy } from "./success-policy.js";

export const JOB_API_VERSION = "batch/v1";
export const JOB_KIND = "Job";
/** kube-controller-manager's --concurrent-job-syncs default. */
export const DEFAULT_CONCURRENT_JOB_SYNCS = 5;

export interface JobControllerOptions {
  readonly api: Pick<ApiClient, "get" | "update" | "updateStatus">;
  readonly jobs: SharedIndexInformer<Job>;
  readonly pods: SharedIndexInformer<Pod>;
  readonly podControl: PodControl;
  readonly recorder: EventRecorder;
  /** Timers of the queue and expectations (monotonic). */
  readonly clock?: Clock;
  /** Wall-clock time in ms since the epoch, for startTime, conditions and deadlines. */
  readonly now?: () => number;
  readonly queue?: RateLimitingQueue;
  /** First back-off after a pod failure (default JOB_BACKOFF_BASE_MS, 10 s); tests shorten it. */
  readonly backoffBaseMs?: number;
  /** Longest back-off (default JOB_BACKOFF_MAX_MS, 6 min). */
  readonly backoffMaxMs?: number;
  /** Aborts when the controller must stop: no new pod batch starts after. */
  readonly signal?: AbortSignal;
}

type Outcome = "succeeded" | "failed";

/** A pod to create: its template and, for an Indexed Job, its generateName. */
interface PodToCreate {
  readonly template: PodTemplateSpec;
  readonly generateName?: string;
}

interface ManageResult {
  readonly active: Pod[];
  readonly deleted: number;
  readonly requeueMs: number | undefined;
}

export class JobController implements Controller {
  readonly name = "job";
  readonly informers: readonly Syncable[];
  readonly queue: RateLimitingQueue;
  readonly expectations: ControllerExpectations;
  private readonly jobLister: Lister<Job>;
  private readonly podLister: Lister<Pod>;
  private readonly clock: Clock;
  private readonly backoff = new Map<string, BackoffRecord>();
  /** Per Job key and completion index, the back-off of backoffLimitPerIndex Jobs. */
  private readonly indexBackoff = new Map<string, Map<number, BackoffRecord>>();
  /**
   * Per Job key, uids of pods whose finalizer this controller removed and counted, until the pod
   * cache shows the removal: a lagging cache must not make a pod count twice (Kubernetes'
   * finalizerExpectations).
   */
  private readonly counted = new Map<string, Set<string>>();

  constructor(private readonly options: JobControllerOptions) {
    this.clock = options.clock ?? realClock;
    this.queue = options.queue ?? new RateLimitingQueue({ clock: this.clock });
    this.expectations = new ControllerExpectations(this.clock);
    this.informers = [options.jobs, options.pods];
    this.jobLister = createLister(options.jobs.getIndexer());
    this.podLister = createLister(options.pods.getIndexer());
    options.jobs.addEventHandler({
      onAdd: (job) => this.queue.add(metaNamespaceKeyFunc(job)),
      onUpdate: (_old, job) => this.queue.add(metaNamespaceKeyFunc(job)),
      onDelete: (obj) => this.queue.add(metaNamespaceKeyFunc(obj)),
    });
    options.pods.addEventHandler({
      onAdd: (pod) => this.podChanged(pod, "add"),
      onUpdate: (_old, pod) => this.podChanged(pod, "update"),
      onDelete: (obj) => this.podDeleted(obj),
    });
  }

  /** The key of the Job a pod's controller reference names (whether or not it still exists). */
  private ownerKey(pod: Pod): string | undefined {
    const ref = getControllerOf(pod.metadata);
    if (ref === undefined || ref.kind !== JOB_KIND) return undefined;
    return `${pod.metadata?.namespace ?? ""}/${ref.name}`;
  }

  private podChanged(pod: Pod, how: "add" | "update"): void {
    const key = this.ownerKey(pod);
    if (key === undefined) {
      // An orphan: a Job whose selector matches may adopt it.
      if (pod.metadata?.deletionTimestamp !== undefined) return;
      for (const job of this.jobLister.namespace(pod.metadata?.namespace ?? "").list()) {
        if (matches(job, pod)) this.queue.add(metaNamespaceKeyFunc(job));
      }
      return;
    }
    if (how === "add") this.expectations.creationObserved(key);
    if (pod.metadata?.deletionTimestamp !== undefined) {
      this.expectations.deletionObserved(key, metaNamespaceKeyFunc(pod));
    }
    if (!hasTrackingFinalizer(pod)) this.counted.get(key)?.delete(pod.metadata?.uid ?? "");
    this.queue.add(key);
  }

  private podDeleted(obj: Pod | DeletedFinalStateUnknown<Pod>): void {
    const pod = isDeletedFinalStateUnknown(obj) ? obj.obj : obj;
    const key = this.ownerKey(pod);
    if (key === undefined) return;
    this.expectations.deletionObserved(key, metaNamespaceKeyFunc(pod));
    this.counted.get(key)?.delete(pod.metadata?.uid ?? "");
    this.queue.add(key);
  }

  /** syncJob: count finished pods, decide the Job's fate, create or delete pods, write status. */
  async reconcile(key: string): Promise<void> {
    const cached = this.jobLister.get(key);
    if (cached === undefined) {
      this.forget(key);
      this.counted.delete(key);
      await this.releaseOrphanedPods(key);
      return;
    }
    await this.releaseOrphanedPods(key, cached.metadata?.uid ?? "");
    if (externalJobManager(cached) !== undefined) {
      // Another controller owns this Job (and its pods and status).
      this.forget(key);
      return;
    }
    let job = cached;
    const meta = job.metadata;
    const ns = meta?.namespace ?? "";
    let selector: labels.Selector;
    try {
      selector = labels.Selector.fromObject(job.spec?.selector);
    } catch (error) {
      this.options.recorder.event(
        this.involved(job),
        "Warning",
        "InvalidSelector",
        `spec.selector: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    const pods = await claimObjects(
      {
        uid: meta?.uid ?? "",
        deleting: meta?.deletionTimestamp !== undefined,
        matches: (l) => !selector.isEverything() && selector.matches(l),
      },
      this.podLister.namespace(ns).list(),
      apiClaimActions(this.options.api, PodSchema, {
        ...this.identity(job),
        namespace: ns,
        schema: JobSchema,
      }),
      isGone,
    );
    if (jobFinished(job) !== undefined) {
      // Counts are final: pods still holding the finalizer are let go.
      await this.removeFinalizers(key, pods.filter(hasTrackingFinalizer));
      this.forget(key);
      return;
    }
    const nowMs = (this.options.now ?? Date.now)();
    const hadFailureTarget = hasJobCondition(job, "FailureTarget");
    job = await this.trackFinishedPods(key, job, pods, nowMs);
    const status = clone(JobStatusSchema, job.status ?? create(JobStatusSchema));
    const uncounted = status.uncountedTerminatedPods;
    const succeeded = status.succeeded + (uncounted?.succeeded.length ?? 0);
    const failed = status.failed + (uncounted?.failed.length ?? 0);
    let active = pods.filter(isPodActive);
    const terminatingPods = pods.filter(isPodTerminating);
    let terminating = terminatingPods.length;
    const events: [type: "Normal" | "Warning", reason: string, message: string][] = [];
    const policyFailure = findCondition(status, "FailureTarget");
    if (!hadFailureTarget && policyFailure?.reason === POD_FAILURE_POLICY_REASON) {
      events.push(["Warning", policyFailure.reason, policyFailure.message]);
    }
    let manageError: unknown;
    let requeueMs: number | undefined;

    const deleteActive = async () => {
      const victims = active;
      const deleted = await this.deletePods(key, job, victims);
      terminating += deleted;
      active = active.slice(deleted);
      if (hasCondition(status, "SuccessCriteriaMet")) {
        // As Kubernetes does once the Job met its success criteria (canRemoveFinalizer): the pods
        // cut short are let go in the same sync, before they show as terminating or Failed, so
        // they are never counted as failed.
        await this.removeFinalizers(key, victims.slice(0, deleted).filter(hasTrackingFinalizer));
      }
    };
    const suspended = job.spec?.suspend === true;
    if (hasJobCondition(job, "FailureTarget") || hasJobCondition(job, "SuccessCriteriaMet")) {
      await deleteActive();
    } else if (suspended) {
      await deleteActive();
      if (!hasJobCondition(job, "Suspended")) {
        setCondition(status, "Suspended", "True", "JobSuspended", "Job suspended", nowMs);
        events.push(["Normal", "Suspended", "Job suspended"]);
      }
    } else {
      if (hasJobCondition(job, "Suspended")) {
        // Resuming restarts the clock of activeDeadlineSeconds.
        setCondition(status, "Suspended", "False", "JobResumed", "Job resumed", nowMs);
        status.startTime = timestampAt(nowMs);
        events.push(["Normal", "Resumed", "Job resumed"]);
      }
      status.startTime ??= timestampAt(nowMs);
      const withStart = clone(JobSchema, job);
      withStart.status = status;
      const completedIndexes = parseIndexes(status.completedIndexes);
      const failure =
        jobFailure(withStart, failed, nowMs) ??
        failedIndexesVerdict(job, parseIndexes(status.failedIndexes ?? ""), completedIndexes);
      const completionsReached = isIndexedJob(job)
        ? completedIndexes.size >= (job.spec?.completions ?? 0)
        : jobSucceeded(job, succeeded, active.length);
      // A success policy rule met takes precedence over completions reached (syncJob's order).
      const success =
        matchSuccessPolicy(job, completedIndexes) ??
        (completionsReached ? COMPLETIONS_REACHED : undefined);
      if (failure !== undefined) {
        setCondition(status, "FailureTarget", "True", failure.reason, failure.message, nowMs);
        events.push(["Warning", failure.reason, failure.message]);
        await deleteActive();
      } else if (success !== undefined) {
        setCondition(status, "SuccessCriteriaMet", "True", success.reason, success.message, nowMs);
        await deleteActive();
      } else {
        try {
          const result = await this.managePods(key, job, pods, active, terminatingPods, {
            succeeded,
            nowMs,
          });
          active = result.active;
          terminating += result.deleted;
          requeueMs = result.requeueMs;
        } catch (error) {
          manageError = error;
        }
        const deadline = activeDeadlineMs(withStart);
        if (deadline !== undefined) requeueMs = minDefined(requeueMs, deadline - nowMs + 1);
      }
    }
    if (active.length === 0 && terminating === 0) {
      const target = findCondition(status, "FailureTarget");
      if (target !== undefined && !hasCondition(status, "Failed")) {
        setCondition(status, "Failed", "True", target.reason, target.message, nowMs);
      }
      const met = findCondition(status, "SuccessCriteriaMet");
      if (met !== undefined && !hasCondition(status, "Complete")) {
        setCondition(status, "Complete", "True", met.reason, met.message, nowMs);
        status.completionTime = timestampAt(nowMs);
        events.push(["Normal", "Completed", "Job completed"]);
      }
    }
    status.active = active.length;
    status.ready = active.filter(isPodReady).length;
    status.terminating = terminating;
    await this.writeStatus(job, status);
    for (const [type, reason, message] of events) {
      this.options.recorder.event(this.involved(job), type, reason, message);
    }
    if (manageError !== undefined) throw manageError;
    if (requeueMs !== undefined) this.queue.addAfter(key, Math.max(0, requeueMs));
  }

  /**
   * The three steps of tracking with finalizers: uids of newly finished pods go to
   * status.uncountedTerminatedPods (written first, so a crash cannot lose them), their finalizers
   * are removed, then they move into status.succeeded / status.failed. The first write also
   * carries what the failed pods decide under spec.podFailurePolicy (a FailJob rule's
   * FailureTarget condition) and backoffLimitPerIndex (status.failedIndexes). Pods an Ignore rule
   * matched, and pods still running once the Job has SuccessCriteriaMet, only lose their
   * finalizer: they are not counted. Returns the Job as written.
   */
  private async trackFinishedPods(
    key: string,
    job: Job,
    pods: readonly Pod[],
    nowMs: number,
  ): Promise<Job> {
    const status = clone(JobStatusSchema, job.status ?? create(JobStatusSchema));
    status.uncountedTerminatedPods ??= create(UncountedTerminatedPodsSchema);
    const uncounted = status.uncountedTerminatedPods;
    const counted = this.counted.get(key) ?? new Set<string>();
    const completions = job.spec?.completions ?? 0;
    const perIndex = isIndexedJob(job) && hasBackoffLimitPerIndex(job);
    const failedIndexes = parseIndexes(status.failedIndexes ?? "");
    const successMet = hasCondition(status, "SuccessCriteriaMet");
    const newly: Outcome[] = [];
    const newlyFailedIndexes: number[] = [];
    const ignored: Pod[] = [];
    let failJobMessage: string | undefined;
    for (const pod of pods) {
      const uid = pod.metadata?.uid ?? "";
      if (!hasTrackingFinalizer(pod) || counted.has(uid)) continue;
      if (uncounted.succeeded.includes(uid) || uncounted.failed.includes(uid)) continue;
      const index = isIndexedJob(job) ? podCompletionIndex(pod, completions) : undefined;
      if (isPodSucceeded(pod)) {
        uncounted.succeeded.push(uid);
        newly.push("succeeded");
        if (index !== undefined) {
          const completed = parseIndexes(status.completedIndexes);
          completed.add(index);
          status.completedIndexes = formatIndexes(completed);
        }
      } else if (isPodFailedForJob(pod, job)) {
        const verdict = matchPodFailurePolicy(job.spec?.podFailurePolicy, pod);
        failJobMessage ??= verdict.failJobMessage;
        if (perIndex && index !== undefined && isIndexFailed(job, pod, verdict)) {
          failedIndexes.add(index);
        }
        if (verdict.countFailed) {
          uncounted.failed.push(uid);
          newly.push("failed");
          if (index !== undefined) newlyFailedIndexes.push(index);
        } else {
          ignored.push(pod);
        }
      } else if (successMet) {
        // Still running after the Job met its success criteria: let go, not counted (Kubernetes'
        // canRemoveFinalizer); it is deleted below.
        ignored.push(pod);
      }
    }
    let changed = newly.length > 0;
    if (perIndex) {
      const text = formatIndexes(failedIndexes);
      changed ||= status.failedIndexes !== text;
      status.failedIndexes = text;
    }
    if (
      failJobMessage !== undefined &&
      !hasCondition(status, "FailureTarget") &&
      !hasCondition(status, "SuccessCriteriaMet")
    ) {
      setCondition(
        status,
        "FailureTarget",
        "True",
        POD_FAILURE_POLICY_REASON,
        failJobMessage,
        nowMs,
      );
      changed = true;
    }
    let current = job;
    if (changed) current = await this.writeStatus(job, status);
    if (newly.length > 0) {
      const record = nextBackoffRecord(this.backoff.get(key), newly, nowMs);
      if (record === undefined) this.backoff.delete(key);
      else this.backoff.set(key, record);
    }
    if (perIndex && newlyFailedIndexes.length > 0) {
      const records = this.indexBackoff.get(key) ?? new Map<number, BackoffRecord>();
      for (const index of newlyFailedIndexes) {
        const record = nextBackoffRecord(records.get(index), ["failed"], nowMs);
        if (record !== undefined) records.set(index, record);
      }
      this.indexBackoff.set(key, records);
    }
    if (ignored.length > 0) await this.removeFinalizers(key, ignored);
    const pending = new Set([...uncounted.succeeded, ...uncounted.failed]);
    if (pending.size === 0) return current;
    const byUid = new Map(pods.map((p) => [p.metadata?.uid ?? "", p]));
    const holding = [...pending]
      .map((uid) => byUid.get(uid))
      .filter((p): p is Pod => p !== undefined && hasTrackingFinalizer(p) && !counted.has(uid(p)));
    const released = await this.removeFinalizers(key, holding);
    const done = (u: string) => {
      const pod = byUid.get(u);
      return pod === undefined || !hasTrackingFinalizer(pod) || released.has(u) || counted.has(u);
    };
    const moveSucceeded = uncounted.succeeded.filter(done);
    const moveFailed = uncounted.failed.filter(done);
    if (moveSucceeded.length === 0 && moveFailed.length === 0) return current;
    const moved = clone(JobStatusSchema, current.status ?? status);
    moved.succeeded += moveSucceeded.length;
    moved.failed += moveFailed.length;
    moved.uncountedTerminatedPods = create(UncountedTerminatedPodsSchema, {
      succeeded: uncounted.succeeded.filter((u) => !done(u)),
      failed: uncounted.failed.filter((u) => !done(u)),
    });
    return this.writeStatus(current, moved);
  }

  /**
   * Creates or deletes pods towards wantedActivePods; creation waits out the failure back-off.
   * With onlyReplaceFailedPods (podReplacementPolicy Failed), terminating pods still hold their
   * place: a replacement starts once they reached phase Failed. Returns the active pods after
   * it, how many it deleted, and when to look again.
   */
  private async managePods(
    key: string,
    job: Job,
    pods: readonly Pod[],
    active: Pod[],
    terminating: readonly Pod[],
    at: { readonly succeeded: number; readonly nowMs: number },
  ): Promise<ManageResult> {
    if (!this.expectations.satisfied(key)) return { active, deleted: 0, requeueMs: undefined };
    const holding = onlyReplaceFailedPods(job) ? terminating : [];
    if (isIndexedJob(job)) {
      return this.manageIndexedPods(key, job, pods, active, holding, at.nowMs);
    }
    const wanted = wantedActivePods(job, at.succeeded);
    const surplus = active.length - wanted;
    if (surplus > 0) {
      const victims = podsToDelete(active, active, Math.min(surplus, BURST_REPLICAS));
      const deleted = await this.deletePods(key, job, victims);
      const gone = new Set(victims.slice(0, deleted));
      return { active: active.filter((p) => !gone.has(p)), deleted, requeueMs: undefined };
    }
    const missing = wanted - active.length - holding.length;
    if (missing <= 0) return { active, deleted: 0, requeueMs: undefined };
    const wait = this.backoffWait(key, at.nowMs);
    if (wait > 0) return { active, deleted: 0, requeueMs: wait };
    const template = podTemplateFor(job);
    const created = await this.createPods(key, job, Math.min(missing, BURST_REPLICAS), () => ({
      template,
    }));
    return { active: [...active, ...created], deleted: 0, requeueMs: undefined };
  }

  /**
   * Indexed completion mode: one pod per index neither completed nor failed, lowest first, at
   * most parallelism at once (terminating pods in `holding` keep their index and their place);
   * active pods without a valid index, for a completed or failed index, or a second one for the
   * same index are deleted. With backoffLimitPerIndex each index waits out its own back-off and
   * its new pod carries the index's failure counts.
   */
  private async manageIndexedPods(
    key: string,
    job: Job,
    pods: readonly Pod[],
    active: Pod[],
    holding: readonly Pod[],
    nowMs: number,
  ): Promise<ManageResult> {
    const completions = job.spec?.completions ?? 0;
    const completed = parseIndexes(job.status?.completedIndexes ?? "");
    const finished = new Set([...completed, ...parseIndexes(job.status?.failedIndexes ?? "")]);
    const running = new Set<number>();
    const victims: Pod[] = [];
    for (const pod of active) {
      const index = podCompletionIndex(pod, completions);
      if (index === undefined || finished.has(index) || running.has(index)) victims.push(pod);
      else running.add(index);
    }
    for (const pod of holding) {
      const index = podCompletionIndex(pod, completions);
      if (index !== undefined) running.add(index);
    }
    const deleted = await this.deletePods(key, job, victims);
    const kept = active.filter((p) => !victims.includes(p));
    let start = indexesToStart(completions, job.spec?.parallelism ?? 1, finished, running);
    if (start.length === 0) return { active: kept, deleted, requeueMs: undefined };
    let requeueMs: number | undefined;
    if (hasBackoffLimitPerIndex(job)) {
      const records = this.indexBackoff.get(key);
      start = start.filter((index) => {
        const wait = this.backoffWait(key, nowMs, records?.get(index));
        if (wait > 0) requeueMs = minDefined(requeueMs, wait);
        return wait === 0;
      });
    } else {
      const wait = this.backoffWait(key, nowMs);
      if (wait > 0) return { active: kept, deleted, requeueMs: wait };
    }
    const todo = start.slice(0, BURST_REPLICAS);
    let next = 0;
    const created = await this.createPods(key, job, todo.length, () => {
      const index = todo[next++] as number;
      const counts = hasBackoffLimitPerIndex(job)
        ? newIndexFailureCounts(job, podBeingReplaced(job, pods, index))
        : undefined;
      return {
        template: podTemplateFor(job, index, counts),
        generateName: podGenerateNameWithIndex(job.metadata?.name ?? "", index),
      };
    });
    return { active: [...kept, ...created], deleted, requeueMs };
  }

  /**
   * Milliseconds before failed pods may be replaced (0: now), after the Job's failures or those
   * of one index (`record`).
   */
  private backoffWait(key: string, nowMs: number, record = this.backoff.get(key)): number {
    return remainingBackoffMs(
      record,
      nowMs,
      this.options.backoffBaseMs ?? JOB_BACKOFF_BASE_MS,
      this.options.backoffMaxMs ?? JOB_BACKOFF_MAX_MS,
    );
  }

  /** Creates `count` pods in slow-start batches, expecting them first; returns those created. */
  private async createPods(
    key: string,
    job: Job,
    count: number,
    next: () => PodToCreate,
  ): Promise<Pod[]> {
    const ns = job.metadata?.namespace ?? "";
    const owner = this.involved(job);
    const created: Pod[] = [];
    this.expectations.expectCreations(key, count);
    const result = await slowStartBatch(
      count,
      SLOW_START_INITIAL_BATCH_SIZE,
      async () => {
        const { template, generateName } = next();
        created.push(await this.options.podControl.createPod(ns, template, owner, generateName));
      },
      () => this.options.signal?.aborted === true,
    );
    for (let i = result.successes; i < count; i++) this.expectations.creationObserved(key);
    if (result.error !== undefined) throw result.error;
    return created;
  }

  /** Deletes `pods` in order; returns how many were deleted (a prefix of `pods`). */
  private async deletePods(key: string, job: Job, pods: readonly Pod[]): Promise<number> {
    if (pods.length === 0) return 0;
    const ns = job.metadata?.namespace ?? "";
    await deletePodsExpecting(
      this.options.podControl,
      this.expectations,
      key,
      ns,
      pods,
      this.involved(job),
    );
    return pods.length;
  }

  /**
   * Removes the tracking finalizer from `pods`; returns the uids now free of it (gone pods
   * included). Updates are guarded by resourceVersion; a Conflict is retried once on a fresh read.
   */
  private async removeFinalizers(key: string, pods: readonly Pod[]): Promise<Set<string>> {
    const released = new Set<string>();
    const errors: unknown[] = [];
    await Promise.all(
      pods.map(async (pod) => {
        const u = uid(pod);
        try {
          await this.withoutFinalizer(pod);
          released.add(u);
        } catch (error) {
          if (isApiError(error, "NotFound")) released.add(u);
          else errors.push(error);
        }
      }),
    );
    if (released.size > 0) {
      const set = this.counted.get(key) ?? new Set<string>();
      for (const u of released) set.add(u);
      this.counted.set(key, set);
    }
    if (errors.length > 0) throw errors[0];
    return released;
  }

  private async withoutFinalizer(pod: Pod): Promise<void> {
    let target = pod;
    for (let attempt = 0; ; attempt++) {
      if (!hasTrackingFinalizer(target)) return;
      const copy = clone(PodSchema, target);
      if (copy.metadata !== undefined) {
        copy.metadata.finalizers = copy.metadata.finalizers.filter(
          (f) => f !== JOB_TRACKING_FINALIZER,
        );
      }
      try {
        await this.options.api.update(PodSchema, copy);
        return;
      } catch (error) {
        if (attempt > 0 || !isApiError(error, "Conflict")) throw error;
        target = await this.options.api.get(PodSchema, pod.metadata?.name ?? "", {
          namespace: pod.metadata?.namespace ?? "",
        });
        if (target.metadata?.uid !== pod.metadata?.uid) return;
      }
    }
  }

  /**
   * Pods that still hold the tracking finalizer but whose Job `key` is gone (or is now another
   * Job of the same name, uid `liveUid`) are let go, or they could never be deleted.
   */
  private async releaseOrphanedPods(key: string, liveUid?: string): Promise<void> {
    const [ns = "", name = ""] = key.split("/");
    const orphans = this.podLister
      .namespace(ns)
      .list()
      .filter((pod) => {
        const ref = getControllerOf(pod.metadata);
        return (
          ref?.kind === JOB_KIND &&
          ref.name === name &&
          ref.uid !== liveUid &&
          hasTrackingFinalizer(pod)
        );
      });
    if (orphans.length === 0) return;
    await this.removeFinalizers(`${key}/orphans`, orphans);
    this.counted.delete(`${key}/orphans`);
  }

  private forget(key: string): void {
    this.expectations.delete(key);
    this.backoff.delete(key);
    this.indexBackoff.delete(key);
  }

  /** Writes status when it changed; a Conflict is thrown (the key is retried from the cache). */
  private async writeStatus(job: Job, status: JobStatus): Promise<Job> {
    if (job.status !== undefined && equals(JobStatusSchema, job.status, status)) return job;
    const copy = clone(JobSchema, job);
    copy.status = clone(JobStatusSchema, status);
    return this.options.api.updateStatus(JobSchema, copy);
  }

  private identity(job: Job) {
    return {
      apiVersion: JOB_API_VERSION,
      kind: JOB_KIND,
      name: job.metadata?.name ?? "",
      uid: job.metadata?.uid ?? "",
    };
  }

  private involved(job: Job) {
    return { ...this.identity(job), metadata: job.metadata };
  }
}

/**
 * The template pods are created from: the Job's, plus the tracking finalizer and the job-name /
 * controller-uid labels (both spellings) where the template lacks them. With a completion
 * `index` (Indexed Jobs): the job-completion-index annotation and label, the hostname
 * `<job>-<index>` (the Job controller sets it over the template's, as Kubernetes' does), and
 * JOB_COMPLETION_INDEX in every container; with `counts` (backoffLimitPerIndex) the index's
 * failure counts so far in the job-index-failure-count annotations.
 */
export function podTemplateFor(
  job: Job,
  index?: number,
  counts?: IndexFailureCounts,
): PodTemplateSpec {
  const template = clone(
    PodTemplateSpecSchema,
    job.spec?.template ?? create(PodTemplateSpecSchema),
  );
  template.metadata ??= create(ObjectMetaSchema);
  const meta = template.metadata;
  const name = job.metadata?.name ?? "";
  const jobUid = job.metadata?.uid ?? "";
  for (const label of [JOB_NAME_LABEL, LEGACY_JOB_NAME_LABEL]) meta.labels[label] ??= name;
  for (const label of [CONTROLLER_UID_LABEL, LEGACY_CONTROLLER_UID_LABEL]) {
    meta.labels[label] ??= jobUid;
  }
  if (!meta.finalizers.includes(JOB_TRACKING_FINALIZER)) {
    meta.finalizers.push(JOB_TRACKING_FINALIZER);
  }
  if (index !== undefined) {
    meta.annotations[JOB_COMPLETION_INDEX_ANNOTATION] = String(index);
    meta.labels[JOB_COMPLETION_INDEX_ANNOTATION] = String(index);
    if (counts !== undefined) {
      meta.annotations[JOB_INDEX_FAILURE_COUNT_ANNOTATION] = String(counts.failures);
      if (counts.ignored > 0) {
        meta.annotations[JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION] = String(counts.ignored);
      }
    }
    const spec = template.spec;
    if (spec !== undefined) {
      spec.hostname = `${name}-${index}`;
      for (const container of [...spec.initContainers, ...spec.containers]) {
        container.env = [
          ...container.env.filter((e) => e.name !== JOB_COMPLETION_INDEX_ENV),
          create(EnvVarSchema, { name: JOB_COMPLETION_INDEX_ENV, value: String(index) }),
        ];
      }
    }
  }
  return template;
}

function matches(job: Job, pod: Pod): boolean {
  try {
    const selector = labels.Selector.fromObject(job.spec?.selector);
    return !selector.isEverything() && selector.matches(pod.metadata?.labels ?? {});
  } catch {
    return false;
  }
}

/** A Timestamp of whole milliseconds (the clock may give fractions). */
function timestampAt(ms: number) {
  return timestampFromMs(Math.floor(ms));
}

function uid(pod: Pod): string {
  return pod.metadata?.uid ?? "";
}

function minDefined(a: number | undefined, b: number): number {
  return a === undefined ? b : Math.min(a, b);
}

function findCondition(status: JobStatus, type: JobConditionType): JobCondition | undefined {
  return status.conditions.find((c) => c.type === type && c.status === "True");
}

function hasCondition(status: JobStatus, type: JobConditionType): boolean {
  return findCondition(status, type) !== undefined;
}

/** Sets condition `type`; lastTransitionTime changes only when the status does. */
function setCondition(
  status: JobStatus,
  type: JobConditionType,
  value: "True" | "False",
  reason: string,
  message: string,
  nowMs: number,
): void {
  const now = timestampAt(nowMs);
  const existing = status.conditions.find((c) => c.type === type);
  if (existing === undefined) {
    status.conditions.push(
      create(JobConditionSchema, {
        type,
        status: value,
        reason,
        message,
        lastProbeTime: now,
        lastTransitionTime: now,
      }),
    );
    return;
  }
  if (existing.status !== value) existing.lastTransitionTime = now;
  existing.status = value;
  existing.reason = reason;
  existing.message = message;
  existing.lastProbeTime = now;
}
