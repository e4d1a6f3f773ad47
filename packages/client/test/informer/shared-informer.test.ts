import { afterEach, describe, expect, it } from "vitest";
import { fieldIndexFunc } from "../../src/cache/index-funcs.js";
import { MIN_WATCH_DURATION_MS, SharedIndexInformer } from "../../src/informer/index.js";
import { FakeClock, settle } from "./support/fake-clock.js";
import { FakeSource } from "./support/fake-source.js";
import { pod, type TestPod } from "./support/objects.js";
import { recorder } from "./support/recorder.js";

const running: SharedIndexInformer<TestPod>[] = [];
const errors: string[] = [];

function start(
  source: FakeSource,
  clock: FakeClock,
  extra: Partial<ConstructorParameters<typeof SharedIndexInformer<TestPod>>[0]> = {},
) {
  const informer = new SharedIndexInformer<TestPod>({
    listerWatcher: source,
    name: "pods",
    clock,
    random: () => 0,
    pageSize: 2,
    onError: (error, context) => errors.push(`${context}: ${(error as Error).message}`),
    ...extra,
  });
  const rec = recorder();
  informer.addEventHandler(rec.handler);
  running.push(informer);
  void informer.run();
  return { informer, log: rec.log };
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((i) => i.stop()));
  errors.length = 0;
});

function seed(source: FakeSource, n: number): void {
  for (let i = 0; i < n; i++) source.upsert(pod("default", `p${i}`));
}

describe("SharedIndexInformer", () => {
  it("lists page by page from resourceVersion 0, syncs, then watches from the list's version", async () => {
    const source = new FakeSource();
    seed(source, 5);
    const clock = new FakeClock();
    const { informer, log } = start(source, clock);
    expect(informer.hasSynced()).toBe(false);
    expect(await informer.waitForCacheSync()).toBe(true);
    await settle();
    expect(source.listCalls).toEqual([
      { resourceVersion: "0", limit: 2, continue: undefined },
      { resourceVersion: undefined, limit: 2, continue: "0:2:6" },
      { resourceVersion: undefined, limit: 2, continue: "0:4:6" },
    ]);
    expect(log).toEqual([
      "add default/p0@2 (initial)",
      "add default/p1@3 (initial)",
      "add default/p2@4 (initial)",
      "add default/p3@5 (initial)",
      "add default/p4@6 (initial)",
    ]);
    expect(source.watchCalls).toEqual([{ resourceVersion: "6", allowWatchBookmarks: true }]);
    expect(informer.lastSyncResourceVersion()).toBe("6");
  });

  it("applies watch events to the cache and handlers in order", async () => {
    const source = new FakeSource();
    const clock = new FakeClock();
    const { informer, log } = start(source, clock);
    await informer.waitForCacheSync();
    source.upsert(pod("default", "a"));
    source.upsert(pod("default", "b"));
    source.upsert(pod("default", "a", { nodeName: "n1" }));
    source.remove("default/b");
    await settle();
    expect(log).toEqual([
      "add default/a@2",
      "add default/b@3",
      "update default/a@2 -> default/a@4",
      "delete default/b@5",
    ]);
    expect(informer.getIndexer().listKeys()).toEqual(["default/a"]);
    expect(informer.getIndexer().getByKey("default/a")?.spec.nodeName).toBe("n1");
    expect(informer.lastSyncResourceVersion()).toBe("5");
  });

  it("watches again from the last version seen when a watch ends, missing nothing", async () => {
    const source = new FakeSource();
    const clock = new FakeClock();
    const { informer, log } = start(source, clock);
    await informer.waitForCacheSync();
    source.upsert(pod("default", "a"));
    await settle();
    source.endWatches();
    source.upsert(pod("default", "b")); // happens while no watch is open
    await settle();
    expect(source.watchCalls.map((c) => c.resourceVersion)).toEqual(["1", "2"]);
    expect(source.listCalls).toHaveLength(1);
    expect(log).toEqual(["add default/a@2", "add default/b@3"]);
  });

  it("backs off before re-watching when a watch ends at once with no events", async () => {
    const source = new FakeSource();
    const clock = new FakeClock();
    const { informer } = start(source, clock);
    await informer.waitForCacheSync();
    await settle();
    source.endWatches();
    await settle();
    expect(source.watchCalls).toHaveLength(1);
    expect(errors.join()).toMatch(/very short watch/);
    await clock.advance(799);
    expect(source.watchCalls).toHaveLength(1);
    await clock.advance(1);
    expect(source.watchCalls).toHaveLength(2);
    // A watch that lasted long enough ends cleanly even without events: re-watch at once.
    await clock.advance(MIN_WATCH_DURATION_MS);
    source.endWatches();
    await settle();
    expect(source.watchCalls).toHaveLength(3);
  });

  it("relists when the watch expires, tombstoning objects that vanished meanwhile", async () => {
    const source = new FakeSource();
    seed(source, 2);
    const clock = new FakeClock();
    const { informer, log } = start(source, clock);
    await informer.waitForCacheSync();
    await settle();
    source.breakWatches(new Error("connection reset"));
    await settle();
    // While the informer backs off, p0 is deleted, p1 changes, c appears, history is compacted.
    source.remove("default/p0");
    source.upsert(pod("default", "p1", { nodeName: "n1" }));
    source.upsert(pod("default", "c"));
    source.compact();
    log.length = 0;
    await clock.advance(800);
    // The re-watch from 3 is expired; after the relist the informer watches from 6.
    expect(source.watchCalls.map((c) => c.resourceVersion)).toEqual(["3", "3", "6"]);
    // The relist from version 3 is itself expired, so the reflector reads the latest ("").
    expect(source.listCalls.slice(1).map((c) => c.resourceVersion)).toEqual(["3", ""]);
    expect(log).toEqual([
      "add default/c@6",
      "update default/p1@3 -> default/p1@5",
      "tombstone default/p0 last default/p0@2",
    ]);
    expect(informer.getIndexer().listKeys().sort()).toEqual(["default/c", "default/p1"]);
    expect(informer.lastSyncResourceVersion()).toBe("6");
  });

  it("advances its version on bookmarks without touching the cache", async () => {
    const source = new FakeSource();
    const clock = new FakeClock();
    const { informer, log } = start(source, clock);
    await informer.waitForCacheSync();
    source.upsert(pod("default", "a"));
    source.upsert(pod("other", "hidden"));
    source.remove("other/hidden");
    await settle();
    log.length = 0;
    source.bookmark();
    await settle();
    expect(informer.lastSyncResourceVersion()).toBe("4");
    expect(log).toEqual([]);
    source.endWatches();
    await settle();
    expect(source.watchCalls.at(-1)?.resourceVersion).toBe("4");
  });

  it("retries a failing list with client-go's back-off: 800 ms, doubling", async () => {
    const source = new FakeSource();
    source.failNextList(new Error("connection refused"));
    source.failNextList(new Error("connection refused"));
    source.failNextList(new Error("connection refused"));
    const clock = new FakeClock();
    const { informer } = start(source, clock);
    await settle();
    const listTimes = () => source.listCalls.length;
    expect(listTimes()).toBe(1);
    await clock.advance(800);
    expect(listTimes()).toBe(2);
    await clock.advance(1599);
    expect(listTimes()).toBe(2);
    await clock.advance(1);
    expect(listTimes()).toBe(3);
    await clock.advance(3200);
    expect(listTimes()).toBe(4);
    expect(informer.hasSynced()).toBe(true);
    expect(errors).toHaveLength(3);
    expect(errors[0]).toBe("pods: list failed; retrying after back-off: connection refused");
  });

  it("resyncs every handler on its own period with onUpdate(obj, obj)", async () => {
    const source = new FakeSource();
    seed(source, 2);
    const clock = new FakeClock();
    const { informer, log } = start(source, clock, { resyncPeriodMs: 30_000 });
    const quiet = recorder();
    informer.addEventHandler(quiet.handler, { resyncPeriodMs: 0 });
    await informer.waitForCacheSync();
    log.length = 0;
    quiet.log.length = 0;
    await clock.advance(29_999);
    expect(log).toEqual([]);
    await clock.advance(1);
    expect(log).toEqual(["resync default/p0@2", "resync default/p1@3"]);
    await clock.advance(30_000);
    expect(log).toHaveLength(4);
    expect(quiet.log).toEqual([]);
    expect(() => informer.addEventHandler({}, { resyncPeriodMs: 10 })).toThrow(
      "resyncPeriodMs must be 0 (no resync) or at least 1000 ms, got 10",
    );
  });

  it("keeps indexes current as objects move", async () => {
    const source = new FakeSource();
    source.upsert(pod("default", "a", { nodeName: "n1" }));
    const clock = new FakeClock();
    const { informer } = start(source, clock, {
      indexers: { byNode: fieldIndexFunc((p: TestPod) => p.spec.nodeName) },
    });
    await informer.waitForCacheSync();
    source.upsert(pod("default", "b", { nodeName: "n1" }));
    source.upsert(pod("default", "a", { nodeName: "n2" }));
    await settle();
    const byNode = (n: string) => informer.getIndexer().indexKeys("byNode", n).sort();
    expect(byNode("n1")).toEqual(["default/b"]);
    expect(byNode("n2")).toEqual(["default/a"]);
  });

  it("tells a handler added after sync of every cached object, then of changes", async () => {
    const source = new FakeSource();
    seed(source, 2);
    const clock = new FakeClock();
    const { informer } = start(source, clock);
    await informer.waitForCacheSync();
    const late = recorder();
    const registration = informer.addEventHandler(late.handler);
    expect(registration.hasSynced()).toBe(true);
    expect(late.log).toEqual(["add default/p0@2 (initial)", "add default/p1@3 (initial)"]);
    source.upsert(pod("default", "x"));
    await settle();
    expect(late.log.at(-1)).toBe("add default/x@4");
    registration.remove();
    source.upsert(pod("default", "y"));
    await settle();
    expect(late.log.at(-1)).toBe("add default/x@4");
    expect(registration.hasSynced()).toBe(false);
  });

  it("isolates a throwing handler from the others and from the cache", async () => {
    const source = new FakeSource();
    const clock = new FakeClock();
    const { informer, log } = start(source, clock);
    informer.addEventHandler({
      onAdd: () => {
        throw new Error("boom");
      },
    });
    await informer.waitForCacheSync();
    source.upsert(pod("default", "a"));
    await settle();
    expect(log).toEqual(["add default/a@2"]);
    expect(informer.getIndexer().listKeys()).toEqual(["default/a"]);
    expect(errors).toEqual(["pods: event handler onAdd threw: boom"]);
  });

  it("hands handlers frozen objects", async () => {
    const source = new FakeSource();
    source.upsert(pod("default", "a"));
    const clock = new FakeClock();
    const seen: TestPod[] = [];
    const { informer } = start(source, clock);
    informer.addEventHandler({ onAdd: (obj) => seen.push(obj) });
    await informer.waitForCacheSync();
    expect(seen).toHaveLength(1);
    expect(() => {
      seen[0]!.spec.nodeName = "mutated";
    }).toThrow(TypeError);
  });

  it("stops: closes the watch, refuses to run again, and fails pending sync waits", async () => {
    const source = new FakeSource();
    source.failNextList(new Error("down"));
    const clock = new FakeClock();
    const { informer } = start(source, clock);
    const synced = informer.waitForCacheSync();
    await settle();
    await informer.stop();
    expect(await synced).toBe(false);
    expect(clock.pendingTimers()).toBe(0);
    expect(() => informer.run()).toThrow(/cannot run again/);

    const source2 = new FakeSource();
    const { informer: second } = start(source2, clock);
    await second.waitForCacheSync();
    await settle();
    expect(source2.openWatches()).toBe(1);
    await second.stop();
    expect(source2.openWatches()).toBe(0);
  });

  it("a signal ends waitForCacheSync with false", async () => {
    const source = new FakeSource();
    source.failNextList(new Error("down"));
    const clock = new FakeClock();
    const { informer } = start(source, clock);
    const abort = new AbortController();
    const waiting = informer.waitForCacheSync(abort.signal);
    abort.abort();
    expect(await waiting).toBe(false);
  });
});
