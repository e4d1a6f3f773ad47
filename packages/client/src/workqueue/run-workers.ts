// The controller loop over a rate-limited queue (client-go's processNextWorkItem pattern):
// workers take keys, reconcile them, and leave retries and back-off to the queue.
import type { RateLimitingQueue } from "./rate-limiting-queue.js";

export interface RunWorkersOptions {
  /** Told of every failed reconcile before the key is re-queued (for logging and events). */
  readonly onError?: (key: string, error: unknown) => void;
}

/**
 * Runs `workers` (>= 1) concurrent loops that each take a key, await `reconcile(key)`, then:
 * on success forget(key) (its back-off resets); on error addRateLimited(key) (retry later);
 * and done(key) in every case. The queue never hands one key to two loops at once.
 * Resolves when every loop has seen the queue shut down and empty.
 */
export async function runWorkers(
  queue: RateLimitingQueue,
  workers: number,
  reconcile: (key: string) => Promise<void>,
  options: RunWorkersOptions = {},
): Promise<void> {
  if (!Number.isInteger(workers) || workers < 1) {
    throw new RangeError(`runWorkers: workers must be an integer >= 1, got ${workers}`);
  }
  const loop = async (): Promise<void> => {
    for (;;) {
      const item = await queue.get();
      if (item.shutdown) return;
      const key = item.key;
      try {
        await reconcile(key);
        queue.forget(key);
      } catch (error) {
        options.onError?.(key, error);
        queue.addRateLimited(key);
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, loop));
}
