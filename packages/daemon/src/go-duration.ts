// Durations as the Go components take them (time.ParseDuration, without the signs and the
// sub-millisecond units tug has no use for): "1h", "5m", "30s", "1h30m", "250ms", "1.5s", and "0".

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds, or undefined if `s` is not a duration ("5" has no unit and is not one). */
export function parseDuration(s: string): number | undefined {
  if (s === "0") return 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    end = re.lastIndex;
  }
  return end === s.length && s.length > 0 ? total : undefined;
}
