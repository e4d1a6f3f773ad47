// Completion indexes of an Indexed Job written as intervals, "1,3-5,7" (spec.successPolicy's
// succeededIndexes, status.completedIndexes, status.failedIndexes), checked as Kubernetes'
// pkg/apis/batch/validation validateIndexesFormat does, with its error texts.
// https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/job-v1/#JobSpec

import { goQuote } from "./field-error.js";

/** The intervals are well formed: `total` indexes in all. */
export interface IndexIntervalsOk {
  readonly ok: true;
  readonly total: number;
}

/** The intervals are malformed; `error` says where, as Kubernetes words it. */
export interface IndexIntervalsError {
  readonly ok: false;
  readonly error: string;
}

/**
 * Checks `text`: comma-separated intervals, each a decimal index or two joined by '-' (the
 * first smaller), every index below `completions`, the intervals in strictly increasing order
 * without overlap. The empty string holds no index and is valid.
 */
export function checkIndexIntervals(
  text: string,
  completions: number,
): IndexIntervalsOk | IndexIntervalsError {
  if (text === "") return { ok: true, total: 0 };
  let last: number | undefined;
  let total = 0;
  for (const part of text.split(",")) {
    const interval = parseInterval(part, completions);
    if (typeof interval === "string") return { ok: false, error: interval };
    const [first, end] = interval;
    if (last !== undefined && last >= first) {
      return { ok: false, error: `non-increasing order, previous: ${last}, current: ${first}` };
    }
    total += end - first + 1;
    last = end;
  }
  return { ok: true, total };
}

/** One interval "x" or "x-y" as [first, last]; an error text when malformed. */
function parseInterval(part: string, completions: number): [number, number] | string {
  const limits = part.split("-");
  if (limits.length > 2) {
    return `the fragment ${goQuote(part)} violates the requirement that an index interval can have at most two parts separated by '-'`;
  }
  const bounds: number[] = [];
  for (const limit of limits) {
    const index = parseDecimal(limit);
    if (index === undefined) {
      return `cannot convert string to integer for index: ${goQuote(limit)}`;
    }
    if (index >= completions) return `too large index: ${goQuote(limit)}`;
    bounds.push(index);
  }
  const [first, last = first] = bounds as [number, number?];
  if (first >= last && limits.length > 1) {
    return `non-increasing order, previous: ${first}, current: ${last}`;
  }
  return [first, last];
}

/** A decimal integer as Go's strconv.Atoi reads it (an optional sign, digits only). */
function parseDecimal(text: string): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}
