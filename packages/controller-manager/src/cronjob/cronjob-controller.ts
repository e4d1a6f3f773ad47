// The CronJob controller (Kubernetes' pkg/controller/cronjob): creates a Job for the most recent
// scheduled time not yet run, named `<cronjob>-<minutes since the epoch>` so that a time runs at
// most once; honours concurrencyPolicy (Allow, Forbid, Replace), suspend and
// startingDeadlineSeconds; keeps status.active, lastScheduleTime and lastSuccessfulTime; deletes
// finished Jobs beyond the history limits. Each CronJob is looked at again at its next
// scheduled time and at least every RESYNC_PERIOD_MS.
// https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/

import { clone, create, equals } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import {
  type CronJob,
  CronJobSchema,
  type CronJobStatus,
  CronJobStatusSchema,
  type CronSchedule,
  type Job,
  JobSchema,
  JobSpecSchema,
  ObjectReferenceSchema,
  parseCronSchedule,
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
import type { Controller, Syncable } from "../framework/controller.js";
import { getControllerOf, newControllerRef } from "../framework/controller-ref.js";
import type { EventRecorder } from "../framework/event-recorder.js";
import { JOB_API_VERSION, JOB_KIND } from "../job/job-controller.js";
import { jobFinished } from "../job/job-state.js";
import { concurrencyAction } from "./concurrency-policy.js";
import { jobsToPrune } from "./job-history.js";
import {
  jobNameFor,
  mostRecentSchedule,
  scheduleInZone,
  TOO_MANY_MISSED_MESSAGE,
} from "./schedule-times.js";

export const CRON_JOB_API_VERSION = "batch/v1";
export const CRON_JOB_KIND = "CronJob";
/** The annotation on each Job with the scheduled time it runs for (RFC 3339). */
export const CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION =
  "batch.kubernetes.io/cronjob-scheduled-timestamp";
/** kube-controller-manager's --concurrent-cron-job-syncs default. */
export const DEFAULT_CONCURRENT_CRON_JOB_SYNCS = 5;
/**
 * Every CronJob is reconciled at least this often (the controller's historic 10 s poll), so that
 * a missed timer or a clock step delays a run by at most this much.
 */
export const RESYNC_PERIOD_MS = 10_000;
/** Margin after a scheduled time before looking, so that the time is surely in the past. */
const NEXT_SCHEDULE_DELTA_MS = 100;

export interface CronJobControllerOptions {
  readonly api: Pick<ApiClient, "get" | "create" | "delete" | "updateStatus">;
  readonly cronJobs: SharedIndexInformer<CronJob>;
  readonly jobs: SharedIndexInformer<Job>;
  readonly recorder: EventRecorder;
  /** Timers of the queue. */
  readonly clock?: Clock;
  /** Wall-clock time in ms since the epoch, which schedules are read against. */
  readonly now?: () => number;
  readonly queue?: RateLimitingQueue;
  readonly resyncPeriodMs?: number;
}

export class CronJobController implements Controller {
  readonly name = "cronjob";
  readonly informers: readonly Syncable[];
  readonly queue: RateLimitingQueue;
  private readonly cronJobLister: Lister<CronJob>;
  private readonly jobLister: Lister<Job>;
  private readonly now: () => number;

  constructor(private readonly options: CronJobControllerOptions) {
    const clock = options.clock ?? realClock;
    this.now = options.now ?? Date.now;
    this.queue = options.queue ?? new RateLimitingQueue({ clock });
    this.informers = [options.cronJobs, options.jobs];
    this.cronJobLister = createLister(options.cronJobs.getIndexer());
    this.jobLister = createLister(options.jobs.getIndexer());
    options.cronJobs.addEventHandler({
      onAdd: (cj) => this.queue.add(metaNamespaceKeyFunc(cj)),
      onUpdate: (_old, cj) => this.queue.add(metaNamespaceKeyFunc(cj)),
    });
    options.jobs.addEventHandler({
      onAdd: (job) => this.jobChanged(job),
      onUpdate: (_old, job) => this.jobChanged(job),
      onDelete: (obj) => this.jobChanged(obj),
    });
  }

  private jobChanged(obj: Job | DeletedFinalStateUnknown<Job>): void {
    const job = isDeletedFinalStateUnknown(obj) ? obj.obj : obj;
    const ref = getControllerOf(job.metadata);
    if (ref?.kind !== CRON_JOB_KIND) return;
    this.queue.add(`${job.metadata?.namespace ?? ""}/${ref.name}`);
  }

  async reconcile(key: string): Promise<void> {
    const cronJob = this.cronJobLister.get(key);
    if (cronJob === undefined) return;
    const status = clone(CronJobStatusSchema, cronJob.status ?? create(CronJobStatusSchema));
    const jobs = this.jobLister
      .namespace(cronJob.metadata?.namespace ?? "")
      .list()
      .filter((j) => getControllerOf(j.metadata)?.uid === cronJob.metadata?.uid);
    await this.syncActive(cronJob, status, jobs);
    if (cronJob.metadata?.deletionTimestamp !== undefined) {
      await this.writeStatus(cronJob, status);
      return;
    }
    const pruned = await this.pruneHistory(cronJob, jobs);
    const nextMs = await this.schedule(
      cronJob,
      status,
      jobs.filter((j) => !pruned.has(j)),
    );
    await this.writeStatus(cronJob, status);
    if (nextMs !== undefined) {
      const wait = Math.max(0, nextMs - this.now() + NEXT_SCHEDULE_DELTA_MS);
      this.queue.addAfter(key, Math.min(wait, this.options.resyncPeriodMs ?? RESYNC_PERIOD_MS));
    }
  }

  /**
   * status.active against the Jobs that exist: finished ones leave it (lastSuccessfulTime
   * follows the newest success), unfinished ones missing from it join it, and references to Jobs
   * that are gone are dropped.
   */
  private async syncActive(cronJob: CronJob, status: CronJobStatus, jobs: readonly Job[]) {
    const involved = this.involved(cronJob);
    for (const job of jobs) {
      const name = job.metadata?.name ?? "";
      const uid = job.metadata?.uid ?? "";
      const inActive = status.active.some((r) => r.uid === uid);
      const finished = jobFinished(job);
      if (finished === undefined) {
        if (!inActive) {
          status.active.push(jobReference(job));
          this.options.recorder.event(
            involved,
            "Warning",
            "UnexpectedJob",
            `Saw a job that the controller did not create or forgot: ${name}`,
          );
        }
        continue;
      }
      if (inActive) {
        status.active = status.active.filter((r) => r.uid !== uid);
        this.options.recorder.event(
          involved,
          "Normal",
          "SawCompletedJob",
          `Saw completed job: ${name}, condition: ${finished}`,
        );
      }
      const completed = job.status?.completionTime;
      if (finished === "Complete" && completed !== undefined) {
        const last = status.lastSuccessfulTime;
        if (last === undefined || timestampMs(completed) > timestampMs(last)) {
          status.lastSuccessfulTime = completed;
        }
      }
    }
    const known = new Set(jobs.map((j) => j.metadata?.uid ?? ""));
    const kept = [];
    for (const ref of status.active) {
      if (known.has(ref.uid) || (await this.stillExists(ref.namespace, ref.name, ref.uid))) {
        kept.push(ref);
        continue;
      }
      this.options.recorder.event(
        involved,
        "Normal",
        "MissingJob",
        `Active job went missing: ${ref.name}`,
      );
    }
    status.active = kept;
  }

  /** True when the API server still has the Job (the cache may not have seen it yet). */
  private async stillExists(namespace: string, name: string, uid: string): Promise<boolean> {
    try {
      const job = await this.options.api.get(JobSchema, name, { namespace });
      return job.metadata?.uid === uid;
    } catch (error) {
      if (isApiError(error, "NotFound")) return false;
      throw error;
    }
  }

  /** Deletes finished Jobs beyond the history limits; returns those deleted. */
  private async pruneHistory(cronJob: CronJob, jobs: readonly Job[]): Promise<Set<Job>> {
    const spec = cronJob.spec;
    const victims = jobsToPrune(
      jobs,
      spec?.successfulJobsHistoryLimit,
      spec?.failedJobsHistoryLimit,
    );
    const deleted = new Set<Job>();
    for (const job of victims) {
      if (await this.deleteJob(cronJob, job)) deleted.add(job);
    }
    return deleted;
  }

  /**
   * Starts the Job of the most recent due time, if the rules allow. Returns the next scheduled
   * time to look again at, or undefined when the CronJob needs no timer (suspended, or a
   * schedule that cannot work).
   */
  private async schedule(
    cronJob: CronJob,
    status: CronJobStatus,
    jobs: readonly Job[],
  ): Promise<number | undefined> {
    const spec = cronJob.spec;
    const involved = this.involved(cronJob);
    if (spec?.suspend === true) return undefined;
    let schedule: CronSchedule;
    try {
      schedule = parseCronSchedule(spec?.schedule ?? "");
    } catch (error) {
      this.options.recorder.event(
        involved,
        "Warning",
        "UnparseableSchedule",
        `unparseable schedule: "${spec?.schedule ?? ""}" : ${message(error)}`,
      );
      return undefined;
    }
    if (spec?.timeZone !== undefined && spec.timeZone !== "") {
      try {
        schedule = scheduleInZone(schedule, spec.timeZone);
      } catch (error) {
        this.options.recorder.event(
          involved,
          "Warning",
          "UnknownTimeZone",
          `invalid timeZone: "${spec.timeZone}": ${message(error)}`,
        );
        return undefined;
      }
    }
    const nowMs = this.now();
    const earliest = status.lastScheduleTime ?? cronJob.metadata?.creationTimestamp;
    const decision = mostRecentSchedule(schedule, {
      earliestMs: earliest === undefined ? nowMs : timestampMs(earliest),
      startingDeadlineSeconds: spec?.startingDeadlineSeconds,
      nowMs,
    });
    if (decision.kind === "none") return decision.nextMs;
    if (decision.kind === "too-many") {
      this.options.recorder.event(involved, "Warning", "FailedNeedsStart", TOO_MANY_MISSED_MESSAGE);
      return decision.nextMs;
    }
    const scheduled = decision.scheduledMs;
    const name = jobNameFor(cronJob.metadata?.name ?? "", scheduled);
    const last = status.lastScheduleTime;
    if (
      status.active.some((r) => r.name === name) ||
      (last !== undefined && timestampMs(last) === scheduled)
    ) {
      return decision.nextMs;
    }
    const action = concurrencyAction(spec?.concurrencyPolicy ?? "", status.active.length);
    if (action === "skip") {
      // The time stays unrun: it may still start when the running Job ends, within the deadline.
      this.options.recorder.event(
        involved,
        "Normal",
        "JobAlreadyActive",
        "Not starting job because prior execution is running and concurrency policy is Forbid",
      );
      return decision.nextMs;
    }
    if (action === "replace") {
      for (const ref of [...status.active]) {
        const job = jobs.find((j) => j.metadata?.uid === ref.uid);
        const target =
          job ?? create(JobSchema, { metadata: { name: ref.name, namespace: ref.namespace } });
        if (await this.deleteJob(cronJob, target)) {
          status.active = status.active.filter((r) => r.uid !== ref.uid);
        }
      }
    }
    const job = await this.createJob(cronJob, name, scheduled);
    if (job === undefined) return decision.nextMs;
    if (jobFinished(job) === undefined && !status.active.some((r) => r.uid === job.metadata?.uid)) {
      status.active.push(jobReference(job));
    }
    status.lastScheduleTime = timestampFromMs(scheduled);
    return decision.nextMs;
  }

  /**
   * Creates the Job for `scheduledMs`; an existing Job of that name that this CronJob controls is
   * taken as created. Returns undefined when the name belongs to someone else.
   */
  private async createJob(
    cronJob: CronJob,
    name: string,
    scheduledMs: number,
  ): Promise<Job | undefined> {
    const involved = this.involved(cronJob);
    const namespace = cronJob.metadata?.namespace ?? "";
    try {
      const created = await this.options.api.create(
        JobSchema,
        jobFromTemplate(cronJob, name, scheduledMs),
      );
      this.options.recorder.event(involved, "Normal", "SuccessfulCreate", `Created job ${name}`);
      return created;
    } catch (error) {
      if (!isApiError(error, "AlreadyExists")) {
        this.options.recorder.event(
          involved,
          "Warning",
          "FailedCreate",
          `Error creating job: ${message(error)}`,
        );
        throw error;
      }
    }
    const existing = await this.options.api.get(JobSchema, name, { namespace });
    if (getControllerOf(existing.metadata)?.uid === cronJob.metadata?.uid) return existing;
    this.options.recorder.event(
      involved,
      "Warning",
      "FailedCreate",
      `Error creating job: a job named ${name} exists and is not controlled by this CronJob; delete or rename it`,
    );
    return undefined;
  }

  /** Deletes a Job and its pods (propagation Background); true when it is gone. */
  private async deleteJob(cronJob: CronJob, job: Job): Promise<boolean> {
    const name = job.metadata?.name ?? "";
    const uid = job.metadata?.uid;
    try {
      await this.options.api.delete(JobSchema, name, {
        namespace: job.metadata?.namespace ?? "",
        propagationPolicy: "Background",
        ...(uid === undefined || uid === "" ? {} : { preconditions: { uid } }),
      });
    } catch (error) {
      if (isApiError(error, "NotFound")) return true;
      this.options.recorder.event(
        this.involved(cronJob),
        "Warning",
        "FailedDelete",
        `Deleted job ${name}: ${message(error)}`,
      );
      throw error;
    }
    this.options.recorder.event(
      this.involved(cronJob),
      "Normal",
      "SuccessfulDelete",
      `Deleted job ${name}`,
    );
    return true;
  }

  /** Writes status when it changed; a Conflict is thrown (the key is retried from the cache). */
  private async writeStatus(cronJob: CronJob, status: CronJobStatus): Promise<void> {
    if (cronJob.status !== undefined && equals(CronJobStatusSchema, cronJob.status, status)) return;
    const copy = clone(CronJobSchema, cronJob);
    copy.status = status;
    await this.options.api.updateStatus(CronJobSchema, copy);
  }

  private involved(cronJob: CronJob) {
    return {
      apiVersion: CRON_JOB_API_VERSION,
      kind: CRON_JOB_KIND,
      name: cronJob.metadata?.name ?? "",
      uid: cronJob.metadata?.uid ?? "",
      metadata: cronJob.metadata,
    };
  }
}

/**
 * The Job a CronJob starts for `scheduledMs` (Kubernetes' getJobFromTemplate2): the template's
 * labels, annotations and spec, the scheduled-timestamp annotation, and a controller reference.
 */
export function jobFromTemplate(cronJob: CronJob, name: string, scheduledMs: number): Job {
  const template = cronJob.spec?.jobTemplate;
  const job = create(JobSchema, {
    apiVersion: JOB_API_VERSION,
    kind: JOB_KIND,
    metadata: {
      name,
      namespace: cronJob.metadata?.namespace ?? "",
      labels: { ...(template?.metadata?.labels ?? {}) },
      annotations: {
        ...(template?.metadata?.annotations ?? {}),
        [CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION]: new Date(scheduledMs)
          .toISOString()
          .replace(/\.\d{3}Z$/, "Z"),
      },
      ownerReferences: [
        newControllerRef({
          apiVersion: CRON_JOB_API_VERSION,
          kind: CRON_JOB_KIND,
          name: cronJob.metadata?.name ?? "",
          uid: cronJob.metadata?.uid ?? "",
        }),
      ],
    },
  });
  if (template?.spec !== undefined) job.spec = clone(JobSpecSchema, template.spec);
  return job;
}

function jobReference(job: Job) {
  return create(ObjectReferenceSchema, {
    apiVersion: JOB_API_VERSION,
    kind: JOB_KIND,
    name: job.metadata?.name ?? "",
    namespace: job.metadata?.namespace ?? "",
    uid: job.metadata?.uid ?? "",
    resourceVersion: job.metadata?.resourceVersion ?? "",
  });
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
