// The CronJob schedule parser: the five standard fields, names, ranges, steps, descriptors,
// the day-of-month/day-of-week OR rule, and errors that name the field.

import { describe, expect, it } from "vitest";
import { CronScheduleError, parseCronSchedule } from "../../src/validation/cron-schedule.js";

const at = (iso: string) => new Date(iso);
const next = (schedule: string, after: string) =>
  parseCronSchedule(schedule).next(at(after)).toISOString();

describe("parseCronSchedule().next", () => {
  it.each<[string, string, string]>([
    ["* * * * *", "2024-05-01T10:07:30Z", "2024-05-01T10:08:00.000Z"],
    ["*/15 * * * *", "2024-05-01T10:07:30Z", "2024-05-01T10:15:00.000Z"],
    ["*/15 * * * *", "2024-05-01T10:45:00Z", "2024-05-01T11:00:00.000Z"],
    ["5,35 */6 * * *", "2024-05-01T10:07:00Z", "2024-05-01T12:05:00.000Z"],
    ["0 9 * * MON-FRI", "2024-05-04T12:00:00Z", "2024-05-06T09:00:00.000Z"],
    ["0 9 * * 1-5", "2024-05-06T09:00:00Z", "2024-05-07T09:00:00.000Z"],
    ["30 2 * jan,Jul *", "2024-02-01T00:00:00Z", "2024-07-01T02:30:00.000Z"],
    ["0 0 1 1 *", "2024-06-01T00:00:00Z", "2025-01-01T00:00:00.000Z"],
    ["@yearly", "2024-06-01T00:00:00Z", "2025-01-01T00:00:00.000Z"],
    ["@monthly", "2024-01-31T12:00:00Z", "2024-02-01T00:00:00.000Z"],
    ["@weekly", "2024-05-01T00:00:00Z", "2024-05-05T00:00:00.000Z"],
    ["@daily", "2024-05-01T00:00:00Z", "2024-05-02T00:00:00.000Z"],
    ["@hourly", "2024-05-01T10:00:00Z", "2024-05-01T11:00:00.000Z"],
    ["0 0 29 2 *", "2024-03-01T00:00:00Z", "2028-02-29T00:00:00.000Z"],
    // Both day fields restricted: either may match (13th of the month, or a Friday).
    ["0 0 13 * 5", "2024-05-01T00:00:00Z", "2024-05-03T00:00:00.000Z"],
    // One day field is '*': both must match (Fridays only).
    ["0 0 * * 5", "2024-05-01T00:00:00Z", "2024-05-03T00:00:00.000Z"],
    ["0 0 ? * 5", "2024-05-04T00:00:00Z", "2024-05-10T00:00:00.000Z"],
    ["10-20/5 * * * *", "2024-05-01T10:16:00Z", "2024-05-01T10:20:00.000Z"],
    ["10/20 * * * *", "2024-05-01T10:31:00Z", "2024-05-01T10:50:00.000Z"],
    ["@every 90s", "2024-05-01T10:00:00.500Z", "2024-05-01T10:01:30.000Z"],
    ["@every 1h30m", "2024-05-01T10:00:00Z", "2024-05-01T11:30:00.000Z"],
  ])("%s after %s is %s", (schedule, after, expected) => {
    expect(next(schedule, after)).toBe(expected);
  });

  it("throws RangeError for a schedule that never fires", () => {
    expect(() => parseCronSchedule("0 0 30 2 *").next(at("2024-01-01T00:00:00Z"))).toThrow(
      RangeError,
    );
  });
});

describe("parseCronSchedule errors", () => {
  it.each<[string, string]>([
    [
      "* * * *",
      'expected exactly 5 fields (minute hour day-of-month month day-of-week), found 4: "* * * *"',
    ],
    [
      "* * * * * *",
      'expected exactly 5 fields (minute hour day-of-month month day-of-week), found 6: "* * * * * *"',
    ],
    ["60 * * * *", 'minute: end of range (60) above maximum (59): "60"'],
    ["* 5-1 * * *", 'hour: beginning of range (5) beyond end of range (1): "5-1"'],
    ["* * 0 * *", 'day of month: beginning of range (0) below minimum (1): "0"'],
    ["*/0 * * * *", 'minute: step (0) must be positive: "*/0"'],
    [
      "* * * FOO *",
      'month: "FOO" is not a number or a name (jan, feb, mar, apr, may, jun, jul, aug, sep, oct, nov, dec): "FOO"',
    ],
    ["* * * * 7", 'day of week: end of range (7) above maximum (6): "7"'],
    [
      "@fortnightly",
      "unrecognized descriptor: @fortnightly (use @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <duration>)",
    ],
    ["@every soon", "failed to parse duration @every soon: use a duration such as 1h30m or 90s"],
    ["TZ=UTC 0 * * * *", "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"],
    ["", "empty spec string"],
  ])("%j: %s", (schedule, message) => {
    expect(() => parseCronSchedule(schedule)).toThrow(new CronScheduleError(message));
  });
});
