import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ApiError } from "../../src/storage/errors.js";
import { EtcdClient } from "../../src/storage/etcd-client.js";
import { ObjectStore } from "../../src/storage/object-store.js";
import {
  type CacheEvent,
  type CacheWatcher,
  WatchCache,
  type WatchCacheOptions,
} from "../../src/storage/watch-cache.js";
import { jsonCodec, type TestObject, testObject } from "../support/json-codec.js";
import { STORES, type TestStore } from "../support/stores.js";
import { startTcpProxy } from "../support/tcp-proxy.js";

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(e)}`);
  return e;
}

/** Reads `n` events (bookmarks included only if asked) from a watcher. */
async function take(
  w: CacheWatcher<TestObject>,
  n: number,
  bookmarks = false,
): Promise<CacheEvent<TestObject>[]> {
  const it = w[Symbol.asyncIterator]();
  const out: CacheEvent<TestObject>[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    if (bookmarks || r.value.type !== "BOOKMARK") out.push(r.value);
  }
  return out;
}

const summary = (events: CacheEvent<TestObject>[]) =>
  events.map((e) =>
    e.type === "BOOKMARK" ? [e.type] : [e.type, e.object.metadata.name, e.object.spec.value],
  );

let nextResource = 0;

describe.each(STORES)("WatchCache on $name", { timeout: 30_000 }, ({ start }) => {
  let store: TestStore;
  let client: EtcdClient;
  const cleanups: (() => void)[] = [];

  /** A fresh resource with its own etcd client (to count its store watches) and cache. */
  async function setup(options: WatchCacheOptions = {}) {
    const cacheClient = new EtcdClient({ endpoints: store.endpoints });
    const resource = { group: "", resource: `pods${nextResource++}`, namespaced: true };
    const cacheStore = new ObjectStore(cacheClient, resource, jsonCodec);
    const writer = new ObjectStore(client, resource, jsonCodec);
    const cache = new WatchCache(cacheStore, jsonCodec, options);
    cleanups.push(() => {
      cache.stop();
      cacheClient.close();
    });
    await cache.start();
    return { cache, writer, cacheClient };
  }

  beforeAll(async () => {
    store = await start();
    client = new EtcdClient({ endpoints: store.endpoints });
  });
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });
  afterAll(async () => {
    client?.close();
    await store?.stop();
  });

  it("serves lists from memory: at 0, not older than a revision, and at the store's latest", async () => {
    const { cache, writer } = await setup();
    await writer.create({ namespace: "a", name: "1" }, testObject("1", 1, { namespace: "a" }));
    const v2 = await writer.create(
      { namespace: "b", name: "2" },
      testObject("2", 2, { namespace: "b" }),
    );
    const latest = await cache.list({ resourceVersion: v2.metadata.resourceVersion });
    expect(latest.items.map((o) => o.metadata.name)).toEqual(["1", "2"]);
    expect(Number(latest.resourceVersion)).toBeGreaterThanOrEqual(
      Number(v2.metadata.resourceVersion),
    );
    expect(
      (await cache.list({ namespace: "b", resourceVersion: "0" })).items.map(
        (o) => o.metadata.name,
      ),
    ).toEqual(["2"]);
    const filtered = await cache.list({ resourceVersion: "", filter: (o) => o.spec.value > 1 });
    expect(filtered.items.map((o) => o.metadata.name)).toEqual(["2"]);
    expect((await cache.get({ namespace: "b", name: "2" })).spec.value).toBe(2);
    const missing = await rejection(cache.get({ namespace: "b", name: "1" }, ""));
    expect(missing.reason).toBe("NotFound");
    // Without waiting: what it holds now, the same as a list at "0".
    const now = cache.listNow({ namespace: "b" });
    expect(now?.items.map((o) => o.metadata.name)).toEqual(["2"]);
    expect(now?.resourceVersion).toBe((await cache.list({ resourceVersion: "0" })).resourceVersion);
    cache.stop();
    expect(cache.listNow()).toBeUndefined();
  });

  it("catches up to a revision made by another resource (progress), and times out beyond the store", async () => {
    const { cache } = await setup({ freshnessTimeoutMs: 500 });
    const others = new ObjectStore(
      client,
      { group: "", resource: `other${nextResource++}`, namespaced: false },
      jsonCodec,
    );
    const o = await others.create({ name: "x" }, testObject("x", 1));
    const rv = Number(o.metadata.resourceVersion);
    const list = await cache.list({ resourceVersion: String(rv) });
    expect(Number(list.resourceVersion)).toBeGreaterThanOrEqual(rv);
    const tooLarge = await rejection(cache.watch({ resourceVersion: String(rv + 1000) }));
    expect(tooLarge.reason).toBe("Timeout");
    expect(tooLarge.code).toBe(504);
    expect(tooLarge.message).toMatch(
      new RegExp(`^Too large resource version: ${rv + 1000}, current: \\d+$`),
    );
  });

  it("replays a watch from a revision inside the window in order, and refuses one before it", async () => {
    const { cache, writer } = await setup({ eventWindow: 3, eventFreshMs: 0 });
    const ref = { namespace: "a", name: "web" };
    const v1 = await writer.create(ref, testObject("web", 1, { namespace: "a" }));
    for (let i = 2; i <= 5; i++)
      await writer.guaranteedUpdate(ref, (c) => ({ ...c, spec: { value: i } }));
    await cache.list({ resourceVersion: "" });
    const v5 = Number((await writer.get(ref)).metadata.resourceVersion);
    const w = await cache.watch({ resourceVersion: String(v5 - 2) });
    expect(summary(await take(w, 2))).toEqual([
      ["MODIFIED", "web", 4],
      ["MODIFIED", "web", 5],
    ]);
    w.stop();
    const old = await rejection(cache.watch({ resourceVersion: v1.metadata.resourceVersion }));
    expect(old.reason).toBe("Expired");
    expect(old.code).toBe(410);
    expect(old.message).toBe(
      `too old resource version: ${v1.metadata.resourceVersion} (${v5 - 3})`,
    );
  });

  it("starts a watch at 0 with the current objects, then the changes", async () => {
    const { cache, writer } = await setup();
    await writer.create({ namespace: "a", name: "1" }, testObject("1", 1, { namespace: "a" }));
    await cache.list({ resourceVersion: "" });
    const w = await cache.watch({ resourceVersion: "0", namespace: "a" });
    await writer.create({ namespace: "b", name: "2" }, testObject("2", 1, { namespace: "b" }));
    await writer.create({ namespace: "a", name: "3" }, testObject("3", 1, { namespace: "a" }));
    expect(summary(await take(w, 2))).toEqual([
      ["ADDED", "1", 1],
      ["ADDED", "3", 1],
    ]);
    w.stop();
  });

  it("fans one store watch out to a thousand watchers", async () => {
    const { cache, writer, cacheClient } = await setup();
    const watchers = await Promise.all(
      Array.from({ length: 1000 }, () => cache.watch({ resourceVersion: String(cache.revision) })),
    );
    expect(cache.watcherCount).toBe(1000);
    await writer.create({ namespace: "a", name: "1" }, testObject("1", 1, { namespace: "a" }));
    await writer.guaranteedUpdate({ namespace: "a", name: "1" }, (c) => ({
      ...c,
      spec: { value: 2 },
    }));
    for (const w of watchers) {
      expect(summary(await take(w, 2))).toEqual([
        ["ADDED", "1", 1],
        ["MODIFIED", "1", 2],
      ]);
    }
    expect(cacheClient.watchStreamsOpened).toBe(1);
    for (const w of watchers) w.stop();
    expect(cache.watcherCount).toBe(0);
  });

  it("turns objects that start or stop matching a filter into ADDED and DELETED", async () => {
    const { cache, writer } = await setup();
    const w = await cache.watch({
      resourceVersion: String(cache.revision),
      filter: (o) => o.spec.value > 5,
    });
    const ref = { namespace: "a", name: "web" };
    await writer.create(ref, testObject("web", 1, { namespace: "a" }));
    const set = (value: number) => writer.guaranteedUpdate(ref, (c) => ({ ...c, spec: { value } }));
    await set(10);
    await set(11);
    const out = await set(2);
    await set(3);
    await writer.delete(ref);
    await writer.create(ref, testObject("web", 7, { namespace: "a" }));
    const events = await take(w, 4);
    expect(summary(events)).toEqual([
      ["ADDED", "web", 10],
      ["MODIFIED", "web", 11],
      ["DELETED", "web", 11],
      ["ADDED", "web", 7],
    ]);
    const deleted = events[2];
    // DELETED carries the last matching state at the revision where it stopped matching.
    expect(deleted?.type === "DELETED" && deleted.object.metadata.resourceVersion).toBe(
      out.metadata.resourceVersion,
    );
    w.stop();
  });

  it("closes a slow watcher instead of holding up the others", async () => {
    const { cache, writer } = await setup({ watcherBuffer: 5 });
    const slow = await cache.watch({ resourceVersion: String(cache.revision) });
    const fast = await cache.watch({ resourceVersion: String(cache.revision) });
    // The fast watcher reads as events come (one write at a time: never 5 behind).
    const reading = take(fast, 10);
    for (let i = 0; i < 10; i++) {
      await writer.create(
        { namespace: "a", name: `p${i}` },
        testObject(`p${i}`, i, { namespace: "a" }),
      );
    }
    const fastEvents = await reading;
    expect(fastEvents.map((e) => e.type === "BOOKMARK" || e.object.metadata.name)).toEqual(
      Array.from({ length: 10 }, (_, i) => `p${i}`),
    );
    expect(slow.closeReason).toBe("slow");
    // What it had buffered is still delivered, then it ends: the client watches again.
    const drained = await take(slow, 100);
    expect(drained.length).toBe(5);
    fast.stop();
  });

  it("does not hold a watch's start replay against its buffer", async () => {
    const { cache, writer } = await setup({ watcherBuffer: 2 });
    for (let i = 0; i < 5; i++) {
      await writer.create(
        { namespace: "a", name: `p${i}` },
        testObject(`p${i}`, i, { namespace: "a" }),
      );
    }
    await cache.list({ resourceVersion: "" });
    const w = await cache.watch({ resourceVersion: "0" });
    await writer.create({ namespace: "a", name: "q" }, testObject("q", 9, { namespace: "a" }));
    const events = await take(w, 6);
    expect(events.map((e) => e.type === "BOOKMARK" || e.object.metadata.name)).toEqual([
      "p0",
      "p1",
      "p2",
      "p3",
      "p4",
      "q",
    ]);
    expect(w.closeReason).toBeUndefined();
    w.stop();
    cache.stop();
    expect((await rejection(cache.list())).reason).toBe("ServiceUnavailable");
  });

  it("sends bookmarks with the latest revision to watchers that ask for them", async () => {
    const { cache, writer } = await setup({ bookmarkIntervalMs: 100 });
    const w = await cache.watch({ resourceVersion: String(cache.revision), allowBookmarks: true });
    const plain = await cache.watch({ resourceVersion: String(cache.revision) });
    const created = await writer.create(
      { namespace: "a", name: "1" },
      testObject("1", 1, { namespace: "a" }),
    );
    // A write elsewhere: the bookmark still reaches the store's revision (progress notify).
    const others = new ObjectStore(
      client,
      { group: "", resource: `other${nextResource++}`, namespaced: false },
      jsonCodec,
    );
    const elsewhere = Number(
      (await others.create({ name: "x" }, testObject("x", 1))).metadata.resourceVersion,
    );
    const it = w[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value?.type).toBe("ADDED");
    for (;;) {
      const r = await it.next();
      if (r.done) throw new Error("watch ended before a bookmark");
      expect(r.value.type).toBe("BOOKMARK");
      expect(r.value.revision).toBeGreaterThanOrEqual(Number(created.metadata.resourceVersion));
      if (r.value.revision >= elsewhere) break;
    }
    expect(plain.pending).toBe(1);
    w.stop();
    plain.stop();
  });

  it("keeps its watchers across a broken store stream, and relists when the gap was compacted", async () => {
    const proxy = await startTcpProxy(store.endpoints[0] ?? "");
    const cacheClient = new EtcdClient({ endpoints: [proxy.endpoint] });
    const resource = { group: "", resource: `pods${nextResource++}`, namespaced: true };
    const writer = new ObjectStore(client, resource, jsonCodec);
    const resyncs: unknown[] = [];
    const cache = new WatchCache(new ObjectStore(cacheClient, resource, jsonCodec), jsonCodec, {
      onResync: (e) => resyncs.push(e),
    });
    cleanups.push(() => {
      cache.stop();
      cacheClient.close();
      void proxy.close();
    });
    await cache.start();
    const w = await cache.watch({ resourceVersion: String(cache.revision) });
    await writer.create({ namespace: "a", name: "1" }, testObject("1", 1, { namespace: "a" }));
    expect(summary(await take(w, 1))).toEqual([["ADDED", "1", 1]]);

    // A broken stream is resumed where it stopped: the watcher misses nothing.
    proxy.cut();
    await writer.create({ namespace: "a", name: "2" }, testObject("2", 1, { namespace: "a" }));
    expect(summary(await take(w, 1))).toEqual([["ADDED", "2", 1]]);
    expect(w.closeReason).toBeUndefined();

    // Down while its history is compacted: the cache closes its watchers and lists again.
    proxy.refuse(true);
    proxy.cut();
    await writer.create({ namespace: "a", name: "3" }, testObject("3", 1, { namespace: "a" }));
    const last = await writer.guaranteedUpdate({ namespace: "a", name: "3" }, (c) => ({
      ...c,
      spec: { value: 2 },
    }));
    await client.compact(Number(last.metadata.resourceVersion));
    proxy.refuse(false);
    expect(await take(w, 10)).toEqual([]);
    expect(w.closeReason).toBe("resync");
    const after = await cache.list({ resourceVersion: last.metadata.resourceVersion });
    expect(after.items.map((o) => [o.metadata.name, o.spec.value])).toEqual([
      ["1", 1],
      ["2", 1],
      ["3", 2],
    ]);
    expect(resyncs.length).toBeGreaterThanOrEqual(1);
    const old = await rejection(
      cache.watch({ resourceVersion: String(Number(last.metadata.resourceVersion) - 3) }),
    );
    expect(old.reason).toBe("Expired");
  });
});
