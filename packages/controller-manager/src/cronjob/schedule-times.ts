// When a CronJob should run: the most recent scheduled time that has not been run yet, with
// Kubernetes' rules — only the latest missed time runs; startingDeadlineSeconds bounds how far
// back the controller looks; more than 100 missed times start nothing — and schedules read in the
// CronJob's time zone. Pure: times are milliseconds since the epoch.
// https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#cron-job-limitations

import type { CronSchedule } from "@tug/api";

/** More missed schedules than this and the controller starts nothing (Kubernetes' rule). */
export const MAX_MISSED_SCHEDULES = 100;

/** The event message when too many schedules were missed, as Kubernetes' documentation gives it. */
export const TOO_MANY_MISSED_MESSAGE =
  "Cannot determine if job needs to be started. Too many missed start time (> 100). Set or decrease .spec.startingDeadlineSeconds or check clock skew.";

export type ScheduleDecision =
  /** Nothing is due; the next time is `nextMs`. */
  | { readonly kind: "none"; readonly nextMs: number }
  /** `scheduledMs` is due (the latest of `missed` due times); the one after is `nextMs`. */
  | {
      readonly kind: "due";
      readonly scheduledMs: number;
      readonly missed: number;
      readonly nextMs: number;
    }
  /** More than MAX_MISSED_SCHEDULES times were missed; nothing is started. */
  | { readonly kind: "too-many"; readonly nextMs: number };

export interface ScheduleWindow {
  /** status.lastScheduleTime, or else the CronJob's creationTimestamp. */
  readonly earliestMs: number;
  readonly startingDeadlineSeconds?: number | undefined;
  readonly nowMs: number;
}

/**
 * The scheduled times in (earliest, now], where earliest is moved up to now −
 * startingDeadlineSeconds when that is later: none, the latest of them, or too many (more than
 * MAX_MISSED_SCHEDULES).
 */
export function mostRecentSchedule(
  schedule: CronSchedule,
  window: ScheduleWindow,
): ScheduleDecision {
  let earliest = window.earliestMs;
  const deadline = window.startingDeadlineSeconds;
  if (deadline !== undefined) earliest = Math.max(earliest, window.nowMs - deadline * 1000);
  let missed = 0;
  let latest: number | undefined;
  let t = schedule.next(new Date(earliest)).getTime();
  while (t <= window.nowMs) {
    missed++;
    latest = t;
    if (missed > MAX_MISSED_SCHEDULES) {
      return { kind: "too-many", nextMs: nextAfter(schedule, window.nowMs) };
    }
    t = schedule.next(new Date(t)).getTime();
  }
  if (latest === undefined) return { kind: "none", nextMs: t };
  return { kind: "due", scheduledMs: latest, missed, nextMs: t };
}

function nextAfter(schedule: CronSchedule, ms: number): number {
  return schedule.next(new Date(ms)).getTime();
}

/**
 * The name of the Job for a scheduled time: `<cronjob>-<minutes since the epoch>`, so that one
 * scheduled time can only ever create one Job (Kubernetes' getJobName).
 */
export function jobNameFor(cronJobName: string, scheduledMs: number): string {
  return `${cronJobName}-${Math.floor(scheduledMs / 60_000)}`;
}

/**
 * `schedule` read as wall-clock times in the IANA zone `timeZone` (spec.timeZone): the UTC
 * schedule runs on the zone's local time, and the result is converted back. Throws RangeError
 * for an unknown zone.
 */
export function scheduleInZone(schedule: CronSchedule, timeZone: string): CronSchedule {
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  });
  /** The zone's offset from UTC at `ms`: local wall-clock time minus UTC. */
  const offsetAt = (ms: number): number => {
    const parts: Record<string, number> = {};
    for (const p of format.formatToParts(new Date(ms))) {
      if (p.type !== "literal") parts[p.type] = Number(p.value);
    }
    const wall = Date.UTC(
      parts.year ?? 1970,
      (parts.month ?? 1) - 1,
      parts.day ?? 1,
      parts.hour ?? 0,
      parts.minute ?? 0,
      parts.second ?? 0,
    );
    return wall - Math.floor(ms / 1000) * 1000;
  };
  return {
    next(after: Date): Date {
      const afterMs = after.getTime();
      const wallNext = schedule.next(new Date(afterMs + offsetAt(afterMs))).getTime();
      // Convert back with the offset in force at the result (it differs across a DST change).
      const guess = wallNext - offsetAt(afterMs);
      let result = wallNext - offsetAt(guess);
      if (result <= afterMs) result = guess;
      return new Date(result);
    },
  };
}
