// What the Job controller tests read and write on a test cluster: a Job, its pods, its events
// and conditions, and a pod's end as a kubelet reports it. Everything is in namespace default.

import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  EventSchema,
  type Job,
  JobSchema,
  type JobSpecSchema,
  type Pod,
  PodSchema,
  PodStatusSchema,
} from "@tug/api";
import { type ApiClient, isApiError } from "@tug/client";
import { getControllerOf } from "../../src/index.js";

/** A Job's spec without its pod template, which newJob fills in (and without $typeName, to spread). */
export type JobSpecInit = Omit<MessageInitShape<typeof JobSpecSchema>, "template" | "$typeName">;

/**
 * A batch/v1 Job `name` in namespace default with `spec`, whose pods run one container "main" of
 * `image` and are never restarted (a Job's pods must have restartPolicy Never or OnFailure).
 */
export function newJob(name: string, image: string, spec: JobSpecInit = {}): Job {
  return create(JobSchema, {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace: "default" },
    spec: {
      ...spec,
      template: {
        spec: { restartPolicy: "Never", containers: [{ name: "main", image }] },
      },
    },
  });
}

/** The Job condition `type` when its status is True. */
export function trueCondition(job: Job, type: string) {
  return job.status?.conditions.find((c) => c.type === type && c.status === "True");
}

export interface JobReader {
  getJob(name: string): Promise<Job>;
  /** The pods whose controller reference is `job` (by uid). */
  podsOf(job: Job): Promise<Pod[]>;
  /** The reasons of the events about the object named `name`. */
  eventReasons(name: string): Promise<string[]>;
  /**
   * What a kubelet reports when the pod's container ends with `exitCode` (phase Succeeded for
   * 0, else Failed, with the pod `conditions` True), written on the latest copy of the pod: the
   * Job controller may be updating it meanwhile, so a Conflict is retried.
   */
  finish(pod: Pod, exitCode: number, conditions?: readonly string[]): Promise<void>;
}

/**
 * A JobReader over the cluster's client; `cluster.client` is read at each call (useBatchCluster's
 * handle gives the current test's).
 */
export function jobReader(cluster: { readonly client: ApiClient }): JobReader {
  return {
    getJob: (name) => cluster.client.get(JobSchema, name, { namespace: "default" }),
    async podsOf(job) {
      const pods = await cluster.client.list(PodSchema, { namespace: "default" });
      return pods.items.filter((p) => getControllerOf(p.metadata)?.uid === job.metadata?.uid);
    },
    async eventReasons(name) {
      const events = await cluster.client.list(EventSchema, { namespace: "default" });
      return events.items.filter((e) => e.involvedObject?.name === name).map((e) => e.reason);
    },
    async finish(pod, exitCode, conditions = []) {
      const name = pod.metadata?.name ?? "";
      for (;;) {
        const next = await cluster.client.get(PodSchema, name, { namespace: "default" });
        const now = timestampFromDate(new Date());
        next.status = create(PodStatusSchema, {
          phase: exitCode === 0 ? "Succeeded" : "Failed",
          containerStatuses: [
            { name: "main", state: { terminated: { exitCode, finishedAt: now } } },
          ],
          conditions: conditions.map((type) => ({ type, status: "True", lastTransitionTime: now })),
        });
        try {
          await cluster.client.updateStatus(PodSchema, next);
          return;
        } catch (error) {
          if (!isApiError(error, "Conflict")) throw error;
        }
      }
    },
  };
}
