// An in-memory ListerWatcher for controller tests with fakes: list returns the initial objects,
// and the test pushes watch events whenever it wants the informer's cache to catch up — so a
// test decides exactly how far the cache lags behind the controller's own writes.

import type { CacheObject, ListerWatcher, WatchEvent } from "@tug/client";

export interface FakeSource<T extends CacheObject> {
  readonly listerWatcher: ListerWatcher<T>;
  /** Delivers an event to the open watch (queued until one is open). */
  push(event: WatchEvent<T>): void;
}

export function fakeSource<T extends CacheObject>(initial: readonly T[]): FakeSource<T> {
  const pending: WatchEvent<T>[] = [];
  let wake: (() => void) | undefined;
  return {
    push(event) {
      pending.push(event);
      wake?.();
    },
    listerWatcher: {
      list: async () => ({ items: [...initial], resourceVersion: "1" }),
      watch(options): AsyncIterable<WatchEvent<T>> {
        return {
          async *[Symbol.asyncIterator]() {
            const onAbort = () => wake?.();
            options.signal.addEventListener("abort", onAbort);
            try {
              while (!options.signal.aborted) {
                const next = pending.shift();
                if (next !== undefined) {
                  yield next;
                  continue;
                }
                await new Promise<void>((resolve) => {
                  wake = resolve;
                });
                wake = undefined;
              }
            } finally {
              options.signal.removeEventListener("abort", onAbort);
            }
          },
        };
      },
    },
  };
}

/** Lets queued promise continuations and informer deliveries run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
