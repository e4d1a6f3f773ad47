// Latency summaries for bench:pods: nearest-rank percentiles and the printed table.

/**
 * The nearest-rank percentile `p` (0 < p <= 100) of `samples`: the smallest sample with at
 * least p% of the samples at or below it. NaN for no samples.
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

const COLUMNS = ["p50", "p90", "p99", "max"] as const;
const PERCENTS: Record<(typeof COLUMNS)[number], number> = { p50: 50, p90: 90, p99: 99, max: 100 };

/** A table with one row per stage: count and p50/p90/p99/max in ms. */
export function startupTable(rows: readonly (readonly [string, readonly number[]])[]): string {
  const header = ["stage (ms since create sent)", "pods", ...COLUMNS];
  const body = rows.map(([stage, samples]) => [
    stage,
    String(samples.length),
    ...COLUMNS.map((c) => {
      const v = percentile(samples, PERCENTS[c]);
      return Number.isNaN(v) ? "-" : v.toFixed(0);
    }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join("   ");
  return [line(header), ...body.map(line)].join("\n");
}
