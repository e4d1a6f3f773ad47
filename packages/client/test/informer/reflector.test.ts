import { getEventListeners } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { createIndexer } from "../../src/cache/indexer.js";
import {
  ExponentialBackoff,
  isExpiredError,
  type ListerWatcher,
  type ListOptions,
  MIN_WATCH_DURATION_MS,
  Reflector,
  ResourceExpiredError,
  type WatchOptions,
} from "../../src/informer/index.js";
import { FakeClock, settle } from "./support/fake-clock.js";
import { FakeSource } from "./support/fake-source.js";
import { pod, type TestPod } from "./support/objects.js";

const stops: AbortController[] = [];
afterEach(() => {
  for (const s of stops.splice(0)) s.abort();
});

function run(lw: ListerWatcher<TestPod>, clock: FakeClock, errors: string[] = []) {
  const store = createIndexer<TestPod>();
  const reflector = new Reflector({
    listerWatcher: lw,
    store,
    name: "pods",
    clock,
    random: () => 0,
    pageSize: 2,
    onError: (e, context) => errors.push(`${context}: ${(e as Error).message}`),
  });
  const stop = new AbortController();
  stops.push(stop);
  const done = reflector.run(stop.signal);
  return { store, reflector, stop, done };
}

describe("Reflector", () => {
  it("falls back to one unpaged list when a continue token expires mid-list", async () => {
    const source = new FakeSource();
    for (const name of ["a", "b", "c", "d", "e"]) source.upsert(pod("ns", name));
    const calls: ListOptions[] = [];
    let expireOnce = true;
    const lw: ListerWatcher<TestPod> = {
      list: (options) => {
        calls.push(options);
        if (options.continue !== undefined && expireOnce) {
          expireOnce = false;
          return Promise.reject(new ResourceExpiredError("continue token expired"));
        }
        return source.list(options);
      },
      watch: (options) => source.watch(options),
    };
    const { store } = run(lw, new FakeClock());
    await settle();
    expect(calls.map((c) => [c.resourceVersion, c.limit, c.continue])).toEqual([
      ["0", 2, undefined],
      [undefined, 2, "0:2:6"],
      ["0", undefined, undefined],
    ]);
    expect(store.listKeys()).toHaveLength(5);
  });

  it("re-watches from the last version after a broken watch, with back-off, without relisting", async () => {
    const source = new FakeSource();
    const clock = new FakeClock();
    const errors: string[] = [];
    const { store, reflector } = run(source, clock, errors);
    await settle();
    source.upsert(pod("ns", "a"));
    await settle();
    source.breakWatches(new Error("stream reset"));
    source.upsert(pod("ns", "b"));
    await settle();
    expect(errors).toEqual(["pods: watch failed; watching again after back-off: stream reset"]);
    await clock.advance(800);
    expect(source.listCalls).toHaveLength(1);
    expect(source.watchCalls.map((c) => c.resourceVersion)).toEqual(["1", "2"]);
    expect(store.listKeys().sort()).toEqual(["ns/a", "ns/b"]);
    expect(reflector.lastSyncResourceVersion()).toBe("3");
    expect(reflector.counts()).toEqual({ lists: 1, watches: 2, events: 2 });
  });

  it("asks for bookmarks and for a server-side watch timeout of 5 to 10 minutes", async () => {
    const seen: WatchOptions[] = [];
    const source = new FakeSource();
    const lw: ListerWatcher<TestPod> = {
      list: (o) => source.list(o),
      watch: (o) => {
        seen.push(o);
        return source.watch(o);
      },
    };
    run(lw, new FakeClock());
    await settle();
    expect(seen[0]?.allowWatchBookmarks).toBe(true);
    expect(seen[0]?.timeoutSeconds).toBe(300);
  });

  it("stops promptly even when the watch stream ignores its signal", async () => {
    const source = new FakeSource();
    const lw: ListerWatcher<TestPod> = {
      list: (o) => source.list(o),
      watch: () => ({
        [Symbol.asyncIterator]: () => ({ next: () => new Promise(() => {}) }),
      }),
    };
    const { stop, done } = run(lw, new FakeClock());
    await settle();
    stop.abort();
    await expect(done).resolves.toBeUndefined();
  });

  it("reports an event it cannot store and goes on with the stream", async () => {
    const source = new FakeSource();
    const clock = new FakeClock();
    const errors: string[] = [];
    const lw: ListerWatcher<TestPod> = {
      list: (o) => source.list(o),
      async *watch() {
        yield { type: "ADDED", object: { spec: { nodeName: "" } } };
        yield { type: "ADDED", object: pod("ns", "ok", { rv: "9" }) };
        await new Promise(() => {});
      },
    };
    const { store, reflector } = run(lw, clock, errors);
    await settle();
    expect(errors).toEqual([
      "pods: cannot apply ADDED watch event: cache key: object has no metadata; set metadata.name (and namespace)",
    ]);
    expect(store.listKeys()).toEqual(["ns/ok"]);
    expect(reflector.lastSyncResourceVersion()).toBe("9");
  });
});

describe("ExponentialBackoff", () => {
  it("doubles from 800 ms to the 30 s cap, adds jitter, and resets after 2 quiet minutes", async () => {
    const clock = new FakeClock();
    let r = 0;
    const backoff = new ExponentialBackoff(clock, () => r);
    const delays = Array.from({ length: 8 }, () => backoff.next());
    expect(delays).toEqual([800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]);
    r = 0.5;
    expect(backoff.next()).toBe(45000);
    await clock.advance(120_001);
    r = 0;
    expect(backoff.next()).toBe(800);
  });
});

describe("isExpiredError", () => {
  it("recognises Expired and Gone reasons and HTTP 410, also on a nested status", () => {
    expect(isExpiredError(new ResourceExpiredError("x"))).toBe(true);
    expect(isExpiredError({ reason: "Gone" })).toBe(true);
    expect(isExpiredError({ status: { code: 410 } })).toBe(true);
    expect(isExpiredError({ reason: "Conflict", code: 409 })).toBe(false);
    expect(isExpiredError(new Error("Expired"))).toBe(false);
    expect(isExpiredError(undefined)).toBe(false);
  });
});

describe("Reflector stop", () => {
  it("stops promptly while a list hangs and ignores its signal", async () => {
    const lw: ListerWatcher<TestPod> = {
      list: () => new Promise(() => {}),
      watch: () => ({ [Symbol.asyncIterator]: () => ({ next: () => new Promise(() => {}) }) }),
    };
    const { stop, done, store } = run(lw, new FakeClock());
    await settle();
    stop.abort();
    await expect(done).resolves.toBeUndefined();
    expect(store.listKeys()).toEqual([]);
  });
});

describe("Reflector over many watches", () => {
  it("holds a steady number of abort listeners on its signal", async () => {
    const source = new FakeSource();
    const clock = new FakeClock();
    const { stop } = run(source, clock);
    await settle();
    const count = () => getEventListeners(stop.signal, "abort").length;
    const early = count();
    for (let i = 0; i < 30; i++) {
      await clock.advance(MIN_WATCH_DURATION_MS);
      source.endWatches();
      await settle();
    }
    expect(source.watchCalls).toHaveLength(31);
    expect(count()).toBe(early);
  });
});
