// Cron schedules of CronJobs: the standard five fields (minute hour day-of-month month
// day-of-week) with lists, ranges, steps and month/day names, plus the descriptors @yearly,
// @annually, @monthly, @weekly, @daily, @midnight, @hourly and @every <duration>, as the
// Kubernetes CronJob controller accepts them (robfig/cron's ParseStandard).
// Reference: https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#schedule-syntax
//
// Times are computed in UTC: a CronJob's spec.timeZone is the controller's to apply (it
// shifts `after` into the zone and back); this module knows nothing of zones.

/** A parsed schedule. */
export interface CronSchedule {
  /**
   * The first time strictly after `after` that the schedule fires, in UTC, at a whole minute
   * (at whole seconds for @every). Throws RangeError when the schedule never fires within five
   * years (e.g. "0 0 30 2 *"), which the caller should report rather than retry.
   */
  next(after: Date): Date;
}

/** A schedule that does not parse: `message` says which field is wrong and how. */
export class CronScheduleError extends Error {
  override readonly name = "CronScheduleError";
  readonly code = "invalid_argument";
}

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const FIELDS: readonly FieldSpec[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
  },
  { name: "day of week", min: 0, max: 6, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];

const DESCRIPTORS: Readonly<Record<string, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

const MINUTE_MS = 60_000;
/** How far next() searches before it gives up on a schedule that never fires. */
const SEARCH_LIMIT_MS = 5 * 366 * 24 * 60 * MINUTE_MS;

/**
 * Parses a cron schedule. Throws CronScheduleError naming the field and the problem, e.g.
 * `expected exactly 5 fields, found 4: "* * * *"` or
 * `minute: end of range (70) above maximum (59): "0-70"`.
 */
export function parseCronSchedule(text: string): CronSchedule {
  const trimmed = text.trim();
  if (trimmed === "") throw new CronScheduleError("empty spec string");
  if (/(^|\s)(CRON_)?TZ=/.test(trimmed)) {
    throw new CronScheduleError("cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
  }
  if (trimmed.startsWith("@every ")) return everySchedule(trimmed.slice("@every ".length).trim());
  if (trimmed.startsWith("@")) {
    const expansion = DESCRIPTORS[trimmed.toLowerCase()];
    if (expansion === undefined) {
      throw new CronScheduleError(
        `unrecognized descriptor: ${trimmed} (use @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <duration>)`,
      );
    }
    return fieldSchedule(expansion);
  }
  return fieldSchedule(trimmed);
}

function fieldSchedule(text: string): CronSchedule {
  const parts = text.split(/\s+/);
  if (parts.length !== 5) {
    throw new CronScheduleError(
      `expected exactly 5 fields (minute hour day-of-month month day-of-week), found ${parts.length}: "${text}"`,
    );
  }
  const sets = parts.map((part, i) => parseField(part, FIELDS[i] as FieldSpec));
  const [minutes, hours, days, months, weekdays] = sets as [
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
  ];
  // Standard cron: when both day fields are restricted, a day matches if either matches.
  const domStar = isStar(parts[2] as string);
  const dowStar = isStar(parts[4] as string);
  const dayMatches = (d: Date): boolean => {
    const dom = days.has(d.getUTCDate());
    const dow = weekdays.has(d.getUTCDay());
    if (domStar || dowStar) return dom && dow;
    return dom || dow;
  };
  return {
    next(after: Date): Date {
      const start = Math.floor(after.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
      const t = new Date(start);
      const limit = start + SEARCH_LIMIT_MS;
      while (t.getTime() <= limit) {
        if (!months.has(t.getUTCMonth() + 1)) {
          t.setUTCMonth(t.getUTCMonth() + 1, 1);
          t.setUTCHours(0, 0, 0, 0);
          continue;
        }
        if (!dayMatches(t)) {
          t.setUTCDate(t.getUTCDate() + 1);
          t.setUTCHours(0, 0, 0, 0);
          continue;
        }
        if (!hours.has(t.getUTCHours())) {
          t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
          continue;
        }
        if (!minutes.has(t.getUTCMinutes())) {
          t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
          continue;
        }
        return t;
      }
      throw new RangeError(
        `cron schedule "${text}" has no time in the five years after ${after.toISOString()}`,
      );
    },
  };
}

function isStar(field: string): boolean {
  return field.startsWith("*") || field.startsWith("?");
}

function parseField(text: string, spec: FieldSpec): Set<number> {
  const values = new Set<number>();
  for (const item of text.split(",")) {
    const fail = (problem: string): never => {
      throw new CronScheduleError(`${spec.name}: ${problem}: "${item}"`);
    };
    const [rangeText, stepText, extra] = item.split("/");
    if (extra !== undefined) fail("too many slashes");
    let lo: number;
    let hi: number;
    if (rangeText === "*" || rangeText === "?") {
      lo = spec.min;
      hi = spec.max;
    } else {
      const [loText, hiText, more] = (rangeText ?? "").split("-");
      if (more !== undefined) fail("too many hyphens");
      lo = parseValue(loText ?? "", spec, fail);
      hi =
        hiText === undefined
          ? stepText === undefined
            ? lo
            : spec.max
          : parseValue(hiText, spec, fail);
    }
    let step = 1;
    if (stepText !== undefined) {
      if (!/^[0-9]+$/.test(stepText)) fail(`step "${stepText}" is not a number`);
      step = Number(stepText);
      if (step <= 0) fail(`step (${step}) must be positive`);
    }
    if (lo < spec.min) fail(`beginning of range (${lo}) below minimum (${spec.min})`);
    if (hi > spec.max) fail(`end of range (${hi}) above maximum (${spec.max})`);
    if (lo > hi) fail(`beginning of range (${lo}) beyond end of range (${hi})`);
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return values;
}

function parseValue(text: string, spec: FieldSpec, fail: (problem: string) => never): number {
  const named = spec.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return named + (spec.name === "month" ? 1 : 0);
  if (!/^[0-9]+$/.test(text)) {
    const hint = spec.names === undefined ? "" : ` or a name (${spec.names.join(", ")})`;
    return fail(`"${text}" is not a number${hint}`);
  }
  return Number(text);
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
};

/** @every <duration>: Go duration syntax ("1h30m", "90s"); fires at multiples after `after`. */
function everySchedule(text: string): CronSchedule {
  const re = /([0-9]+(?:\.[0-9]+)?)(ms|h|m|s)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    total += Number(m[1]) * (DURATION_UNITS_MS[m[2] as string] as number);
    consumed = re.lastIndex;
  }
  if (text === "" || consumed !== text.length) {
    throw new CronScheduleError(
      `failed to parse duration @every ${text}: use a duration such as 1h30m or 90s`,
    );
  }
  // Like robfig/cron, intervals are rounded down to whole seconds, with one second at least.
  const interval = Math.max(1000, Math.floor(total / 1000) * 1000);
  return {
    next(after: Date): Date {
      return new Date(Math.floor(after.getTime() / 1000) * 1000 + interval);
    },
  };
}
