import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EtcdClient,
  EtcdError,
  prefixEnd,
  type WatchBatch,
  type WatchEvent,
} from "../../src/storage/etcd-client.js";
import { STORES, type TestStore } from "../support/stores.js";
import { startTcpProxy } from "../support/tcp-proxy.js";

const enc = (s: string) => Buffer.from(s);

/** Reads batches until `n` events arrived (a batch may hold several). */
async function takeEvents(it: AsyncIterator<WatchBatch>, n: number): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    if (r.value.kind === "events") out.push(...r.value.events);
  }
  return out;
}

describe.each(STORES)("EtcdClient on $name", { timeout: 20_000 }, ({ start }) => {
  let store: TestStore;
  let client: EtcdClient;
  beforeAll(async () => {
    store = await start();
    client = new EtcdClient({ endpoints: store.endpoints });
  });
  afterAll(async () => {
    client?.close();
    await store?.stop();
  });

  it("creates only absent keys, updates only at the expected revision, deletes with prev_kv", async () => {
    const created = await client.create("/c/a", enc("1"));
    expect(created.succeeded).toBe(true);
    const again = await client.create("/c/a", enc("2"));
    expect(again.succeeded).toBe(false);
    expect(again.succeeded ? undefined : Buffer.from(again.current?.value ?? []).toString()).toBe(
      "1",
    );

    const stale = await client.update("/c/a", enc("3"), created.revision - 1);
    expect(stale.succeeded).toBe(false);
    const updated = await client.update("/c/a", enc("3"), created.revision);
    expect(updated.succeeded).toBe(true);

    const got = await client.get("/c/a");
    expect(got.kv?.modRevision).toBe(updated.revision);
    expect(got.kv?.createRevision).toBe(created.revision);
    expect(got.kv?.version).toBe(2);

    const del = await client.delete("/c/a", updated.revision);
    expect(del.succeeded).toBe(true);
    expect(del.succeeded && Buffer.from(del.prevKv?.value ?? []).toString()).toBe("3");
    expect((await client.get("/c/a")).kv).toBeUndefined();
  });

  it("ranges over a prefix with limit, count and a past revision", async () => {
    const r1 = await client.create("/r/1", enc("a"));
    await client.create("/r/2", enc("b"));
    await client.create("/r/3", enc("c"));
    await client.create("/r0", enc("outside"));
    const page = await client.range({ key: "/r/", rangeEnd: prefixEnd("/r/"), limit: 2 });
    expect(page.kvs.map((kv) => kv.key)).toEqual(["/r/1", "/r/2"]);
    expect(page.more).toBe(true);
    expect(page.count).toBe(3);
    const past = await client.range({
      key: "/r/",
      rangeEnd: prefixEnd("/r/"),
      revision: r1.revision,
    });
    expect(past.kvs.map((kv) => kv.key)).toEqual(["/r/1"]);
    const counted = await client.range({ key: "/r/", rangeEnd: prefixEnd("/r/"), countOnly: true });
    expect(counted.count).toBe(3);
    expect(counted.kvs).toEqual([]);
  });

  it("watches a prefix from a past revision, in order, with prev_kv", async () => {
    const first = await client.create("/w/a", enc("1"));
    const second = await client.update("/w/a", enc("2"), first.revision);
    await client.delete("/w/a");
    const watch = client.watch({
      key: "/w/",
      rangeEnd: prefixEnd("/w/"),
      startRevision: first.revision,
      prevKv: true,
    });
    const it = watch[Symbol.asyncIterator]();
    const events = await takeEvents(it, 3);
    watch.close();
    expect(events.map((e) => [e.type, e.kv.modRevision])).toEqual([
      ["PUT", first.revision],
      ["PUT", second.revision],
      ["DELETE", second.revision + 1],
    ]);
    expect(Buffer.from(events[2]?.prevKv?.value ?? []).toString()).toBe("2");
  });

  it("reports a compacted start revision distinctly, and compacted reads as an error", async () => {
    const a = await client.create("/k/a", enc("1"));
    const b = await client.update("/k/a", enc("2"), a.revision);
    await client.compact(b.revision);
    const watch = client.watch({
      key: "/k/",
      rangeEnd: prefixEnd("/k/"),
      startRevision: a.revision,
    });
    const batches: WatchBatch[] = [];
    for await (const batch of watch) batches.push(batch);
    expect(batches).toEqual([{ kind: "compacted", compactRevision: b.revision }]);
    const err = await client.range({ key: "/k/a", revision: a.revision }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EtcdError);
    expect((err as EtcdError).code).toBe("compacted");
  });

  it("grants, renews and revokes leases; keys on a revoked lease go away", async () => {
    const lease = await client.grant(30);
    expect(lease.ttl).toBeGreaterThanOrEqual(30);
    await client.create("/l/a", enc("x"), lease.id);
    expect((await client.get("/l/a")).kv?.lease).toBe(lease.id);
    expect(await client.keepAliveOnce(lease.id)).toBeGreaterThan(0);
    await client.revoke(lease.id);
    expect((await client.get("/l/a")).kv).toBeUndefined();
    const err = await client.keepAliveOnce(lease.id).catch((e: unknown) => e);
    expect((err as EtcdError).code).toBe("lease-not-found");
  });

  it("moves past a dead endpoint to a live one", async () => {
    const dead = "http://127.0.0.1:1";
    const c = new EtcdClient({ endpoints: [dead, ...store.endpoints] });
    try {
      await c.create("/e/a", enc("1"));
      expect((await c.get("/e/a")).kv?.value.toString()).toBe("1");
    } finally {
      c.close();
    }
  });

  it("resumes a broken watch on the next endpoint from the last revision seen", async () => {
    const proxy = await startTcpProxy(store.endpoints[0] ?? "");
    const c = new EtcdClient({ endpoints: [proxy.endpoint, ...store.endpoints] });
    const { revision } = await client.get("/b/");
    const watch = c.watch({ key: "/b/", rangeEnd: prefixEnd("/b/"), startRevision: revision + 1 });
    try {
      const it = watch[Symbol.asyncIterator]();
      const a = await client.create("/b/1", enc("1"));
      const before = await takeEvents(it, 1);
      expect(before.map((e) => e.kv.modRevision)).toEqual([a.revision]);
      await proxy.close();
      const b = await client.create("/b/2", enc("2"));
      const d = await client.create("/b/3", enc("3"));
      const after = await takeEvents(it, 2);
      expect(after.map((e) => e.kv.modRevision)).toEqual([b.revision, d.revision]);
      expect(c.watchStreamsOpened).toBeGreaterThanOrEqual(2);
    } finally {
      watch.close();
      c.close();
      await proxy.close();
    }
  });
});
