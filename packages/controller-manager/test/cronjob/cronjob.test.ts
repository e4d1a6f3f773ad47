// The CronJob and Job controllers against a real tug-apiserver and store with simulated nodes.
// The CronJob controller reads schedules against a fake wall clock that the test moves minute by
// minute; after each move the test asks for a reconcile, so every scheduled time is deterministic.

import { create } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { type CronJob, CronJobSchema, EventSchema, type Job, JobSchema } from "@tug/api";
import { apiListerWatcher } from "@tug/client";
import { beforeEach, describe, expect, it } from "vitest";
import {
  CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION,
  CronJobController,
} from "../../src/cronjob/cronjob-controller.js";
import { TOO_MANY_MISSED_MESSAGE } from "../../src/cronjob/schedule-times.js";
import { ApiEventRecorder, getControllerOf } from "../../src/index.js";
import { useBatchCluster } from "../job/batch-cluster.js";
import { eventually, SUCCEED_IMAGE } from "../support/cluster.js";

const MIN = 60_000;
let cronJobController: CronJobController;
/** The fake wall clock: a second past a whole minute, at least 5 s after the real time. */
let nowMs: number;

// Registered before the cluster's hook, so the clock is set before the controllers start.
beforeEach(() => {
  nowMs = Math.ceil((Date.now() + 5_000) / MIN) * MIN + 1_000;
});

const cluster = useBatchCluster({
  more: ({ factory, api, jobs }) => {
    const cronJobs = factory.informerFor<CronJob>({
      key: "batch/v1/cronjobs",
      newListerWatcher: () => apiListerWatcher(api, CronJobSchema),
    });
    cronJobController = new CronJobController({
      api,
      cronJobs,
      jobs,
      recorder: new ApiEventRecorder({ api, component: "cronjob-controller" }),
      now: () => nowMs,
    });
    return [cronJobController];
  },
});

function cronJob(
  name: string,
  spec: Partial<
    Pick<
      CronJob["spec"] & object,
      "startingDeadlineSeconds" | "successfulJobsHistoryLimit" | "concurrencyPolicy"
    >
  >,
  image = SUCCEED_IMAGE,
): CronJob {
  return create(CronJobSchema, {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name, namespace: "default" },
    spec: {
      schedule: "* * * * *",
      ...spec,
      jobTemplate: {
        metadata: { labels: { app: name } },
        spec: {
          template: {
            spec: { restartPolicy: "Never", containers: [{ name: "main", image }] },
          },
        },
      },
    },
  });
}

/** Moves the fake clock and asks for a reconcile of `name`. */
function advance(name: string, ms: number): void {
  nowMs += ms;
  cronJobController.queue.add(`default/${name}`);
}

async function jobsOf(cj: CronJob): Promise<Job[]> {
  const jobs = await cluster.client.list(JobSchema, { namespace: "default" });
  return jobs.items.filter((j) => getControllerOf(j.metadata)?.uid === cj.metadata?.uid);
}

async function getCronJob(name: string): Promise<CronJob> {
  return cluster.client.get(CronJobSchema, name, { namespace: "default" });
}

function complete(job: Job | undefined): boolean {
  return job?.status?.conditions.some((c) => c.type === "Complete" && c.status === "True") ?? false;
}

describe("CronJob controller", () => {
  it("creates one Job per scheduled minute, tracks status and keeps successfulJobsHistoryLimit", async () => {
    const created = await cluster.client.create(
      CronJobSchema,
      cronJob("tick", { successfulJobsHistoryLimit: 2 }),
    );
    const firstMinute = Math.floor(nowMs / MIN);
    cronJobController.queue.add("default/tick");
    const names: string[] = [];
    for (let i = 0; i < 4; i++) {
      if (i > 0) advance("tick", MIN);
      const name = `tick-${firstMinute + i}`;
      names.push(name);
      await eventually(`${name} complete`, async () =>
        complete((await jobsOf(created)).find((j) => j.metadata?.name === name)),
      );
    }
    await eventually("history pruned to 2 and status settled", async () => {
      const jobs = await jobsOf(created);
      const cj = await getCronJob("tick");
      return jobs.length === 2 && (cj.status?.active.length ?? -1) === 0;
    });
    const jobs = await jobsOf(created);
    expect(jobs.map((j) => j.metadata?.name).sort()).toEqual(names.slice(2).sort());
    const last = jobs.find((j) => j.metadata?.name === names[3]);
    expect(last?.metadata?.annotations[CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION]).toBe(
      new Date((firstMinute + 3) * MIN).toISOString().replace(".000Z", "Z"),
    );
    expect(last?.metadata?.labels.app).toBe("tick");
    const status = (await getCronJob("tick")).status;
    const lastSchedule = status?.lastScheduleTime;
    expect(lastSchedule === undefined ? undefined : timestampMs(lastSchedule)).toBe(
      (firstMinute + 3) * MIN,
    );
    expect(status?.lastSuccessfulTime).toBeDefined();
    // A reconcile within the same minute starts nothing more.
    advance("tick", 10_000);
    await new Promise((r) => setTimeout(r, 300));
    expect((await jobsOf(created)).length).toBe(2);
  });

  it("starts nothing after more than 100 missed times, unless startingDeadlineSeconds bounds them", async () => {
    // The fake clock stands before the CronJobs' creation: nothing is due until it moves.
    nowMs = Date.now() - 5 * MIN;
    const lost = await cluster.client.create(CronJobSchema, cronJob("lost", {}));
    const bounded = await cluster.client.create(
      CronJobSchema,
      cronJob("bounded", { startingDeadlineSeconds: 120 }),
    );
    nowMs += 205 * MIN;
    cronJobController.queue.add("default/lost");
    cronJobController.queue.add("default/bounded");
    const expected = `bounded-${Math.floor(nowMs / MIN)}`;
    await eventually("bounded runs its latest time", async () =>
      (await jobsOf(bounded)).some((j) => j.metadata?.name === expected),
    );
    await eventually("FailedNeedsStart event for lost", async () => {
      const events = await cluster.client.list(EventSchema, { namespace: "default" });
      return events.items.some(
        (e) =>
          e.involvedObject?.name === "lost" &&
          e.reason === "FailedNeedsStart" &&
          e.message === TOO_MANY_MISSED_MESSAGE,
      );
    });
    expect(await jobsOf(lost)).toEqual([]);
    expect((await getCronJob("lost")).status?.lastScheduleTime).toBeUndefined();
  });

  it("skips a time while a Job runs under Forbid, and replaces the running Job under Replace", async () => {
    const forbid = await cluster.client.create(
      CronJobSchema,
      cronJob("forbid", { concurrencyPolicy: "Forbid" }, "sleep:1"),
    );
    const replace = await cluster.client.create(
      CronJobSchema,
      cronJob("replace", { concurrencyPolicy: "Replace" }, "sleep:1"),
    );
    const firstMinute = Math.floor(nowMs / MIN);
    cronJobController.queue.add("default/forbid");
    cronJobController.queue.add("default/replace");
    const names = async (cj: CronJob) =>
      (await jobsOf(cj))
        .filter((j) => j.metadata?.deletionTimestamp === undefined)
        .map((j) => j.metadata?.name)
        .sort();
    await eventually("first Jobs", async () => {
      const active = (await getCronJob("forbid")).status?.active.length ?? 0;
      return active === 1 && (await names(replace)).length === 1;
    });
    advance("forbid", MIN);
    cronJobController.queue.add("default/replace");
    await eventually("replace runs only the new minute's Job", async () => {
      const current = await names(replace);
      return current.length === 1 && current[0] === `replace-${firstMinute + 1}`;
    });
    await eventually("JobAlreadyActive for forbid", async () => {
      const events = await cluster.client.list(EventSchema, { namespace: "default" });
      return events.items.some(
        (e) => e.involvedObject?.name === "forbid" && e.reason === "JobAlreadyActive",
      );
    });
    expect(await names(forbid)).toEqual([`forbid-${firstMinute}`]);
    const status = (await getCronJob("replace")).status;
    expect(status?.active.map((r) => r.name)).toEqual([`replace-${firstMinute + 1}`]);
  });
});
