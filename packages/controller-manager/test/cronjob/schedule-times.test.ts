// The CronJob controller's schedule math: the most recent missed time, the >100 rule,
// startingDeadlineSeconds, Job names, time zones; and history pruning.

import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type Job, JobSchema, parseCronSchedule } from "@tug/api";
import { describe, expect, it } from "vitest";
import { concurrencyAction } from "../../src/cronjob/concurrency-policy.js";
import { jobsToPrune } from "../../src/cronjob/job-history.js";
import {
  jobNameFor,
  MAX_MISSED_SCHEDULES,
  mostRecentSchedule,
  scheduleInZone,
} from "../../src/cronjob/schedule-times.js";

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const MIN = 60_000;
const everyMinute = parseCronSchedule("* * * * *");

describe("mostRecentSchedule", () => {
  it("finds nothing due before the first scheduled time", () => {
    expect(mostRecentSchedule(everyMinute, { earliestMs: T0, nowMs: T0 + 30_000 })).toEqual({
      kind: "none",
      nextMs: T0 + MIN,
    });
  });

  it("runs only the most recent of several missed times", () => {
    expect(mostRecentSchedule(everyMinute, { earliestMs: T0, nowMs: T0 + 5 * MIN + 10 })).toEqual({
      kind: "due",
      scheduledMs: T0 + 5 * MIN,
      missed: 5,
      nextMs: T0 + 6 * MIN,
    });
  });

  it("starts nothing after more than 100 missed times, and 100 exactly still runs", () => {
    const hundred = mostRecentSchedule(everyMinute, { earliestMs: T0, nowMs: T0 + 100 * MIN });
    expect(hundred).toMatchObject({ kind: "due", missed: MAX_MISSED_SCHEDULES });
    expect(mostRecentSchedule(everyMinute, { earliestMs: T0, nowMs: T0 + 101 * MIN + 1 })).toEqual({
      kind: "too-many",
      nextMs: T0 + 102 * MIN,
    });
  });

  it("looks back no further than startingDeadlineSeconds", () => {
    const window = { earliestMs: T0, nowMs: T0 + 500 * MIN + 5_000, startingDeadlineSeconds: 200 };
    expect(mostRecentSchedule(everyMinute, window)).toEqual({
      kind: "due",
      scheduledMs: T0 + 500 * MIN,
      missed: 4,
      nextMs: T0 + 501 * MIN,
    });
    // A deadline shorter than the time since the last schedule: nothing is due.
    expect(
      mostRecentSchedule(everyMinute, {
        ...window,
        nowMs: T0 + 500 * MIN + 40_000,
        startingDeadlineSeconds: 30,
      }),
    ).toEqual({ kind: "none", nextMs: T0 + 501 * MIN });
  });
});

describe("jobNameFor", () => {
  it("is the CronJob's name and the scheduled time in minutes since the epoch", () => {
    expect(jobNameFor("backup", Date.UTC(2026, 0, 1, 0, 5))).toBe("backup-29453765");
  });
});

describe("scheduleInZone", () => {
  it("reads the schedule on the zone's wall clock", () => {
    const daily9 = parseCronSchedule("0 9 * * *");
    // 09:00 in New York on 15 January (EST, UTC-5) is 14:00 UTC; on 15 July (EDT, UTC-4) 13:00.
    const ny = scheduleInZone(daily9, "America/New_York");
    expect(ny.next(new Date(Date.UTC(2026, 0, 15, 0, 0))).toISOString()).toBe(
      "2026-01-15T14:00:00.000Z",
    );
    expect(ny.next(new Date(Date.UTC(2026, 6, 15, 0, 0))).toISOString()).toBe(
      "2026-07-15T13:00:00.000Z",
    );
    expect(scheduleInZone(daily9, "Etc/UTC").next(new Date(T0)).toISOString()).toBe(
      "2026-01-01T09:00:00.000Z",
    );
    expect(() => scheduleInZone(daily9, "Mars/Olympus")).toThrow(RangeError);
  });
});

function finishedJob(name: string, outcome: "Complete" | "Failed" | "", startMin: number): Job {
  return create(JobSchema, {
    metadata: { name },
    status: {
      startTime: timestampFromMs(T0 + startMin * MIN),
      conditions: outcome === "" ? [] : [{ type: outcome, status: "True" }],
    },
  });
}

describe("jobsToPrune", () => {
  it("deletes the oldest finished Jobs beyond each limit and never an active one", () => {
    const jobs = [
      finishedJob("ok-3", "Complete", 3),
      finishedJob("ok-1", "Complete", 1),
      finishedJob("bad-2", "Failed", 2),
      finishedJob("ok-4", "Complete", 4),
      finishedJob("bad-5", "Failed", 5),
      finishedJob("running", "", 0),
      finishedJob("ok-2", "Complete", 2),
    ];
    const names = (js: Job[]) => js.map((j) => j.metadata?.name);
    expect(names(jobsToPrune(jobs, 3, 1))).toEqual(["ok-1", "bad-2"]);
    expect(names(jobsToPrune(jobs, 0, 0))).toEqual([
      "ok-1",
      "ok-2",
      "ok-3",
      "ok-4",
      "bad-2",
      "bad-5",
    ]);
    expect(names(jobsToPrune(jobs, undefined, undefined))).toEqual([]);
    expect(names(jobsToPrune(jobs, 10, undefined))).toEqual([]);
  });
});

describe("concurrencyAction", () => {
  it("follows Allow, Forbid and Replace while Jobs run, and starts when none does", () => {
    expect(["Allow", "Forbid", "Replace", ""].map((p) => concurrencyAction(p, 0))).toEqual([
      "start",
      "start",
      "start",
      "start",
    ]);
    expect(["Allow", "Forbid", "Replace", ""].map((p) => concurrencyAction(p, 2))).toEqual([
      "start",
      "skip",
      "replace",
      "start",
    ]);
  });
});
