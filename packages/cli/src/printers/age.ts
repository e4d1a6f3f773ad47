// kubectl's AGE column: a duration rounded to the two most useful units, coarser as it grows
// (k8s.io/apimachinery/pkg/util/duration HumanDuration): 45s, 3m12s, 14m, 5h, 7h30m, 2d3h, 12d,
// 2y30d. Timestamps are measured against an injected clock so output is reproducible.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const YEAR = 365 * DAY;

/** The unit pair `big` + `small` ("2d3h"), or just `big` when the small part is 0 ("2d"). */
function pair(big: number, bigUnit: string, small: number, smallUnit: string): string {
  return small === 0 ? `${big}${bigUnit}` : `${big}${bigUnit}${small}${smallUnit}`;
}

/**
 * A duration in kubectl's words. Up to one second in the future counts as "0s" (clock skew
 * between machines); further in the future is "<invalid>".
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(ms / MINUTE);
  if (minutes < 10) return pair(minutes, "m", seconds % 60, "s");
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(ms / HOUR);
  if (hours < 8) return pair(hours, "h", minutes % 60, "m");
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(ms / DAY);
  if (hours < 8 * 24) return pair(days, "d", hours % 24, "h");
  if (hours < 2 * 365 * 24) return `${days}d`;
  const years = Math.trunc(ms / YEAR);
  if (hours < 8 * 365 * 24) return pair(years, "y", days % 365, "d");
  return `${years}y`;
}

/**
 * The age of an RFC 3339 timestamp at `now`, as kubectl prints it; "<unknown>" when the
 * timestamp is missing or unparseable (kubectl's translateTimestampSince).
 */
export function ageSince(timestamp: string, now: Date): string {
  if (timestamp === "") return "<unknown>";
  const then = Date.parse(timestamp);
  if (Number.isNaN(then)) return "<unknown>";
  return humanDuration(now.getTime() - then);
}
