// Kubernetes' slowStartBatch (pkg/controller/replicaset/replica_set.go): create in batches of
// 1, 2, 4, ... and stop at the first batch with a failure, so that a request bound to fail
// (quota exhausted, invalid template) fails once instead of hundreds of times.

/** The first batch: a single call tells whether the rest can succeed. */
export const SLOW_START_INITIAL_BATCH_SIZE = 1;

export interface SlowStartResult {
  /** Calls that succeeded. */
  readonly successes: number;
  /** The first failure of the batch that stopped the run, if any. */
  readonly error?: unknown;
}

/**
 * Calls `fn` `count` times, in batches that double from `initialBatchSize`; the calls of a batch
 * run concurrently. After a batch with a failure, or once `shouldStop()` says so, no further
 * batch starts; the calls not made count as neither success nor failure.
 */
export async function slowStartBatch(
  count: number,
  initialBatchSize: number,
  fn: () => Promise<unknown>,
  shouldStop: () => boolean = () => false,
): Promise<SlowStartResult> {
  let remaining = count;
  let successes = 0;
  let batchSize = Math.min(remaining, initialBatchSize);
  while (batchSize > 0) {
    if (shouldStop()) return { successes };
    const results = await Promise.allSettled(Array.from({ length: batchSize }, () => fn()));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    successes += batchSize - failed.length;
    if (failed.length > 0) return { successes, error: failed[0]?.reason };
    remaining -= batchSize;
    batchSize = Math.min(2 * batchSize, remaining);
  }
  return { successes };
}
