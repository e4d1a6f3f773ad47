// Docker reports times as RFC 3339 strings with nanoseconds ("2016-10-06T00:17:09.669794202Z")
// and the zero time "0001-01-01T00:00:00Z" for "never"; CRI wants int64 nanoseconds since the
// epoch with 0 for "never".

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** Nanoseconds since the Unix epoch of an RFC 3339 time; 0n for Docker's zero time or "". */
export function rfc3339ToNanos(time: string | undefined): bigint {
  if (time === undefined || time === "" || time.startsWith("0001-01-01")) return 0n;
  const m = RFC3339.exec(time);
  if (m === null) {
    const ms = Date.parse(time);
    return Number.isNaN(ms) ? 0n : BigInt(ms) * 1_000_000n;
  }
  const seconds = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(seconds)) return 0n;
  const fraction = BigInt((m[2] ?? "").padEnd(9, "0"));
  return BigInt(seconds) * 1_000_000n + fraction;
}

/** The current time in nanoseconds since the epoch (millisecond precision). */
export function nowNanos(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
