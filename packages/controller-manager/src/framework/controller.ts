// The shape every controller of tug-controller-manager has (client-go's controller pattern):
// informers whose handlers only enqueue keys → a rate-limited workqueue that never hands one key
// to two workers → reconcile(key), which reads the caches and returns (or throws) an error.
// Retry and back-off live in the queue; workers start only after every cache has synced.

import { type RateLimitingQueue, runWorkers, waitForCacheSync } from "@tug/client";

/** Something whose first list must be in the cache before a controller may act on it. */
export interface Syncable {
  waitForCacheSync(signal?: AbortSignal): Promise<boolean>;
}

/** A controller as the controller manager runs it. */
export interface Controller {
  /** Its name in --controllers, logs and metrics: "replicaset", "deployment". */
  readonly name: string;
  /** The caches reconcile reads; workers wait for all of them. */
  readonly informers: readonly Syncable[];
  /** Keys to reconcile, filled by the informer handlers the controller registered. */
  readonly queue: RateLimitingQueue;
  /** Brings the object named `key` ("namespace/name") towards its spec; throws to be retried. */
  reconcile(key: string): Promise<void>;
}

export interface RunControllerOptions {
  /** Concurrent workers (kube-controller-manager's --concurrent-*-syncs). */
  readonly workers: number;
  /** Stops the controller: the queue shuts down and in-flight reconciles finish. */
  readonly signal: AbortSignal;
  /** Told of every failed reconcile before the key is retried with back-off. */
  readonly onError?: (key: string, error: unknown) => void;
  /** Told of every reconcile that succeeded (for metrics). */
  readonly onReconciled?: (key: string) => void;
}

/**
 * Waits for the controller's caches, then runs its workers until `signal` aborts. Resolves when
 * every worker has returned; a controller whose caches never sync (signal aborted first) never
 * reconciles anything.
 */
export async function runController(
  controller: Controller,
  options: RunControllerOptions,
): Promise<void> {
  const { signal } = options;
  const stop = () => controller.queue.shutDown();
  if (signal.aborted) {
    stop();
    return;
  }
  signal.addEventListener("abort", stop, { once: true });
  try {
    if (!(await waitForCacheSync(controller.informers, signal))) return;
    await runWorkers(
      controller.queue,
      options.workers,
      async (key) => {
        if (signal.aborted) return;
        await controller.reconcile(key);
        options.onReconciled?.(key);
      },
      options.onError === undefined ? {} : { onError: options.onError },
    );
  } finally {
    signal.removeEventListener("abort", stop);
    stop();
  }
}
