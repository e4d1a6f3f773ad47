// The grpc-timeout header (PROTOCOL-HTTP2.md): "Timeout → TimeoutValue TimeoutUnit", at most
// 8 ASCII digits, unit H (hours), M (minutes), S (seconds), m (milliseconds), u
// (microseconds) or n (nanoseconds).

const MS_PER_UNIT: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000_001,
};

/** The largest TimeoutValue: 8 digits. */
const MAX_VALUE = 99_999_999;

/** A grpc-timeout value in milliseconds (fractional below 1 ms); undefined if malformed. */
export function parseTimeout(value: string): number | undefined {
  const match = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (match === null) return undefined;
  return Number(match[1]) * (MS_PER_UNIT[match[2] as string] as number);
}

/**
 * A grpc-timeout value for a duration in milliseconds: the finest unit whose value fits in 8
 * digits, rounded up so that the peer never sees less time than there is. Negative durations
 * send 0 (already expired); durations over 8 digits of hours are capped.
 */
export function formatTimeout(ms: number): string {
  const rest = Math.max(0, ms);
  if (rest * 1_000_000 <= MAX_VALUE) return `${Math.ceil(rest * 1_000_000)}n`;
  if (rest * 1000 <= MAX_VALUE) return `${Math.ceil(rest * 1000)}u`;
  if (rest <= MAX_VALUE) return `${Math.ceil(rest)}m`;
  if (rest / 1000 <= MAX_VALUE) return `${Math.ceil(rest / 1000)}S`;
  if (rest / 60_000 <= MAX_VALUE) return `${Math.ceil(rest / 60_000)}M`;
  return `${Math.min(MAX_VALUE, Math.ceil(rest / 3_600_000))}H`;
}
