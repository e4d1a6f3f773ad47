// Summaries and plain-text tables for the benchmark's output.

export interface Summary {
  readonly n: number;
  readonly min: number;
  readonly mean: number;
  readonly median: number;
  readonly p99: number;
  readonly max: number;
}

/** Nearest-rank percentile of an ascending array, p in (0, 1]. */
function percentile(sorted: readonly number[], p: number): number {
  const i = Math.max(0, Math.ceil(p * sorted.length) - 1);
  return sorted[i] ?? Number.NaN;
}

export function summarize(xs: readonly number[]): Summary {
  const sorted = [...xs].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    min: sorted[0] ?? Number.NaN,
    mean: sum / sorted.length,
    median: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

/** Rounds for the JSON line: enough digits to be useful, not float noise. */
export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A table with a header row; numbers are right-aligned, text left-aligned. */
export function table(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? "").length)));
  const line = (r: readonly string[], numeric: readonly boolean[]) =>
    r
      .map((s, c) => {
        const w = widths[c] ?? 0;
        return numeric[c] ? s.padStart(w) : s.padEnd(w);
      })
      .join("  ")
      .trimEnd();
  const numeric = header.map(
    (_, c) => rows.length > 0 && rows.every((r) => typeof r[c] === "number"),
  );
  return [line(header, numeric), ...rows.map((r) => line(r.map(String), numeric))].join("\n");
}
