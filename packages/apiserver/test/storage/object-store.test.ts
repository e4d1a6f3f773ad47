import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  ApiError,
  CONTINUE_EXPIRED_MESSAGE,
  WATCH_EXPIRED_MESSAGE,
} from "../../src/storage/errors.js";
import { EtcdClient } from "../../src/storage/etcd-client.js";
import {
  type ObjectEvent,
  ObjectStore,
  type ProgressEvent,
  UNCHANGED,
} from "../../src/storage/object-store.js";
import { jsonCodec, type TestObject, testObject } from "../support/json-codec.js";
import { STORES, type TestStore } from "../support/stores.js";

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(e)}`);
  return e;
}

type Item = ObjectEvent<TestObject> | ProgressEvent;

async function takeEvents(it: AsyncIterator<Item>, n: number): Promise<ObjectEvent<TestObject>[]> {
  const out: ObjectEvent<TestObject>[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    if (r.value.type !== "PROGRESS") out.push(r.value);
  }
  return out;
}

let nextResource = 0;

describe.each(STORES)("ObjectStore on $name", { timeout: 30_000 }, ({ start }) => {
  let store: TestStore;
  let client: EtcdClient;
  /** A fresh resource per test, so tests do not see each other's objects. */
  const pods = () =>
    new ObjectStore(
      client,
      { group: "", resource: `pods${nextResource++}`, namespaced: true },
      jsonCodec,
    );

  beforeAll(async () => {
    store = await start();
    client = new EtcdClient({ endpoints: store.endpoints });
  });
  afterAll(async () => {
    client?.close();
    await store?.stop();
  });

  it("keeps objects under /registry/<group>/<resource>/<namespace>/<name>", async () => {
    const deployments = new ObjectStore(
      client,
      { group: "apps", resource: "deployments", namespaced: true },
      jsonCodec,
    );
    const nodes = new ObjectStore(
      client,
      { group: "", resource: "nodes", namespaced: false },
      jsonCodec,
    );
    expect(deployments.keyFor({ namespace: "default", name: "web" })).toBe(
      "/registry/apps/deployments/default/web",
    );
    expect(nodes.keyFor({ name: "n1" })).toBe("/registry/core/nodes/n1");
    expect(() => deployments.keyFor({ name: "web" })).toThrow(/metadata.namespace: Required value/);
    expect(() => nodes.keyFor({ namespace: "x", name: "n1" })).toThrow(/cluster-scoped/);
    await deployments.create(
      { namespace: "default", name: "web" },
      testObject("web", 1, { namespace: "default" }),
    );
    const raw = await client.get("/registry/apps/deployments/default/web");
    expect(raw.kv).toBeDefined();
    const stored = JSON.parse(Buffer.from(raw.kv?.value ?? []).toString()) as TestObject;
    expect(stored.metadata.resourceVersion).toBe("");
  });

  it("creates, refuses a second create with AlreadyExists, gets, and reports NotFound", async () => {
    const s = pods();
    const created = await s.create(
      { namespace: "default", name: "web" },
      testObject("web", 1, { namespace: "default" }),
    );
    expect(Number(created.metadata.resourceVersion)).toBeGreaterThan(0);
    const dup = await rejection(
      s.create({ namespace: "default", name: "web" }, testObject("web", 2)),
    );
    expect(dup.reason).toBe("AlreadyExists");
    expect(dup.code).toBe(409);
    expect(dup.message).toBe(`${s.resource.resource} "web" already exists`);
    const got = await s.get({ namespace: "default", name: "web" });
    expect(got).toEqual(created);
    const missing = await rejection(s.get({ namespace: "default", name: "nope" }));
    expect(missing.reason).toBe("NotFound");
    expect(missing.code).toBe(404);
    expect(missing.message).toBe(`${s.resource.resource} "nope" not found`);
    const apps = new ObjectStore(
      client,
      { group: "apps", resource: "deployments", namespaced: true },
      jsonCodec,
    );
    expect((await rejection(apps.get({ namespace: "default", name: "x" }))).message).toBe(
      'deployments.apps "x" not found',
    );
  });

  it("lists one namespace or all, in pages served at the first page's revision", async () => {
    const s = pods();
    for (const [ns, name] of [
      ["a", "1"],
      ["a", "2"],
      ["a", "3"],
      ["b", "1"],
      ["b", "2"],
    ] as const) {
      await s.create({ namespace: ns, name }, testObject(name, 0, { namespace: ns }));
    }
    const nsA = await s.list({ namespace: "a" });
    expect(nsA.items.map((o) => o.metadata.name)).toEqual(["1", "2", "3"]);
    expect(nsA.continue).toBeUndefined();

    const first = await s.list({ limit: 2 });
    expect(first.items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      "a/1",
      "a/2",
    ]);
    expect(first.remainingItemCount).toBe(3);
    expect(first.continue).toBeDefined();
    // Writes after the first page are not seen by later pages.
    await s.create({ namespace: "a", name: "4" }, testObject("4", 0, { namespace: "a" }));
    await s.delete({ namespace: "b", name: "2" });
    const second = await s.list({ limit: 2, continue: first.continue });
    expect(second.resourceVersion).toBe(first.resourceVersion);
    expect(second.items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      "a/3",
      "b/1",
    ]);
    const third = await s.list({ limit: 2, continue: second.continue });
    expect(third.items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual(["b/2"]);
    expect(third.continue).toBeUndefined();

    const bad = await rejection(s.list({ continue: "not-a-token" }));
    expect(bad.reason).toBe("BadRequest");
  });

  it("updates with a stale resourceVersion precondition fail with Conflict", async () => {
    const s = pods();
    const ref = { namespace: "default", name: "web" };
    const v1 = await s.create(ref, testObject("web", 1, { namespace: "default" }));
    const v2 = await s.guaranteedUpdate(ref, (cur) => ({ ...cur, spec: { value: 2 } }), {
      resourceVersion: v1.metadata.resourceVersion,
    });
    expect(v2.spec.value).toBe(2);
    expect(Number(v2.metadata.resourceVersion)).toBeGreaterThan(
      Number(v1.metadata.resourceVersion),
    );
    const stale = await rejection(
      s.guaranteedUpdate(ref, (cur) => ({ ...cur, spec: { value: 3 } }), {
        resourceVersion: v1.metadata.resourceVersion,
      }),
    );
    expect(stale.reason).toBe("Conflict");
    expect(stale.code).toBe(409);
    expect(stale.message).toBe(
      `Operation cannot be fulfilled on ${s.resource.resource} "web": the object has been modified; please apply your changes to the latest version and try again`,
    );
    expect((await s.get(ref)).spec.value).toBe(2);
    // UNCHANGED and identical results write nothing.
    expect((await s.guaranteedUpdate(ref, () => UNCHANGED)).metadata.resourceVersion).toBe(
      v2.metadata.resourceVersion,
    );
    expect((await s.guaranteedUpdate(ref, (cur) => ({ ...cur }))).metadata.resourceVersion).toBe(
      v2.metadata.resourceVersion,
    );
    expect(
      (await rejection(s.guaranteedUpdate({ namespace: "default", name: "nope" }, (c) => c)))
        .reason,
    ).toBe("NotFound");
  });

  it("loses no update under concurrent guaranteedUpdates", async () => {
    const s = pods();
    const ref = { namespace: "default", name: "counter" };
    await s.create(ref, testObject("counter", 0, { namespace: "default" }));
    const writers = 8;
    const perWriter = 5;
    let calls = 0;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        for (let i = 0; i < perWriter; i++) {
          await s.guaranteedUpdate(ref, (cur) => {
            calls++;
            return { ...cur, spec: { value: cur.spec.value + 1 } };
          });
        }
      }),
    );
    expect((await s.get(ref)).spec.value).toBe(writers * perWriter);
    // Racing writers must have retried at least once, or the test did not race.
    expect(calls).toBeGreaterThan(writers * perWriter);
  });

  it("updates from a cached copy without reading the store, and catches a stale copy", async () => {
    const s = pods();
    const ref = { namespace: "default", name: "cached" };
    const v1 = await s.create(ref, testObject("cached", 1, { namespace: "default" }));
    const gets = vi.spyOn(client, "get");
    try {
      // A current copy: one write, no read.
      const v2 = await s.guaranteedUpdate(
        ref,
        (cur) => ({ ...cur, spec: { value: cur.spec.value + 1 } }),
        { resourceVersion: v1.metadata.resourceVersion },
        v1,
      );
      expect(v2.spec.value).toBe(2);
      expect(gets).not.toHaveBeenCalled();
      // A stale copy (v1; the store has v2): the compare-and-swap fails and the update is
      // applied again to the store's state, so no update is lost.
      const v3 = await s.guaranteedUpdate(
        ref,
        (cur) => ({ ...cur, spec: { value: cur.spec.value + 10 } }),
        undefined,
        v1,
      );
      expect(v3.spec.value).toBe(12);
      // A caller that read v3 elsewhere, with the cache still at v1: the precondition fails
      // on the copy, holds on a fresh read: no Conflict.
      const v4 = await s.guaranteedUpdate(
        ref,
        (cur) => ({ ...cur, spec: { value: 20 } }),
        { resourceVersion: v3.metadata.resourceVersion },
        v1,
      );
      expect(v4.spec.value).toBe(20);
      // A really stale precondition still fails, after the fresh read.
      const stale = await rejection(
        s.guaranteedUpdate(ref, (cur) => ({ ...cur, spec: { value: 30 } }), v1.metadata, v4),
      );
      expect(stale.reason).toBe("Conflict");
      // No change from a stale copy is checked against the store's state, which differs.
      const v5 = await s.guaranteedUpdate(
        ref,
        (cur) => ({ ...cur, spec: { value: 2 } }),
        undefined,
        // The copy says 2 already (v2), the store holds 20.
        v2,
      );
      expect(v5.spec.value).toBe(2);
      expect(Number(v5.metadata.resourceVersion)).toBeGreaterThan(
        Number(v4.metadata.resourceVersion),
      );
      expect(v1.spec.value).toBe(1);
      expect(v2.spec.value).toBe(2);
    } finally {
      gets.mockRestore();
    }
    expect((await s.get(ref)).spec.value).toBe(2);
  });

  it("knows the bytes it stored, so objects are neither decoded again nor encoded again", async () => {
    const s = pods();
    const ref = { namespace: "default", name: "bytes" };
    const requested = testObject("bytes", 1, { namespace: "default" });
    const encoded = s.encode(requested);
    const v1 = await s.create(ref, requested, { encoded });
    // The written object itself (jsonCodec's withResourceVersion copies), with the bytes stored.
    expect(v1.spec).toBe(requested.spec);
    expect(s.storedBytesOf(v1)).toBe(encoded);
    const bytes = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString("hex");
    expect(bytes((await client.get(s.keyFor(ref))).kv?.value)).toBe(bytes(encoded));
    // Read objects and update results carry their stored bytes too.
    const read = await s.get(ref);
    expect(bytes(s.storedBytesOf(read))).toBe(bytes(encoded));
    const v2 = await s.guaranteedUpdate(ref, (cur) => ({ ...cur, spec: { value: 2 } }));
    expect(v2.spec.value).toBe(2);
    expect(bytes(s.storedBytesOf(v2))).toBe(bytes((await client.get(s.keyFor(ref))).kv?.value));
    expect(s.storedBytesOf(testObject("other", 1))).toBeUndefined();
    // A result equal to the stored bytes of a cached copy writes nothing.
    const same = await s.guaranteedUpdate(ref, (cur) => ({ ...cur }), undefined, v2);
    expect(same.metadata.resourceVersion).toBe(v2.metadata.resourceVersion);
  });

  it("has its watch hand out the objects it wrote instead of decoding them again", async () => {
    const s = pods();
    // A watch open elsewhere: writes are kept for the watch from now on.
    const other = s.watch({ namespace: "other", resourceVersion: "1" });
    const pending = other[Symbol.asyncIterator]().next();
    try {
      const before = await s.currentRevision();
      const ref = { namespace: "default", name: "mine" };
      const created = await s.create(
        { namespace: "default", name: "kept" },
        testObject("kept", 1, { namespace: "default" }),
      );
      const v1 = await s.create(ref, testObject("mine", 1, { namespace: "default" }));
      // Only a key's latest write is kept: v1's event is decoded, v2's is v2.
      const v2 = await s.guaranteedUpdate(ref, (cur) => ({ ...cur, spec: { value: 2 } }));
      // A write of another API server is decoded.
      const elsewhere = new ObjectStore(client, s.resource, jsonCodec);
      await elsewhere.guaranteedUpdate(ref, (cur) => ({ ...cur, spec: { value: 3 } }));
      const w = s.watch({ namespace: "default", resourceVersion: String(before) });
      try {
        const events = await takeEvents(w[Symbol.asyncIterator](), 4);
        expect(events[0]?.object).toBe(created);
        expect(events[1]?.object).not.toBe(v1);
        expect(events[1]?.object).toEqual(v1);
        expect(events[2]?.object).toBe(v2);
        expect(events[3]?.object.spec.value).toBe(3);
        expect(events.map((e) => e.object.metadata.resourceVersion)).toEqual(
          events.map((e) => String(e.revision)),
        );
      } finally {
        w.close();
      }
    } finally {
      other.close();
      await pending.catch(() => undefined);
    }
  });

  it("keeps an object's lease when it is updated from a cached copy", async () => {
    const s = pods();
    const ref = { namespace: "default", name: "leased" };
    const v1 = await s.create(ref, testObject("leased", 1, { namespace: "default" }), {
      ttlSeconds: 600,
    });
    const key = s.keyFor(ref);
    const lease = (await client.get(key)).kv?.lease;
    expect(lease).not.toBe("0");
    await s.guaranteedUpdate(ref, (cur) => ({ ...cur, spec: { value: 2 } }), undefined, v1);
    const after = (await client.get(key)).kv;
    expect(after?.lease).toBe(lease);
    expect(after?.modRevision).toBeGreaterThan(Number(v1.metadata.resourceVersion));
  });

  it("deletes only when the uid and resourceVersion preconditions hold, returning the object", async () => {
    const s = pods();
    const ref = { namespace: "default", name: "web" };
    const v1 = await s.create(ref, testObject("web", 1, { namespace: "default", uid: "u1" }));
    const wrongUid = await rejection(s.delete(ref, { uid: "u2" }));
    expect(wrongUid.reason).toBe("Conflict");
    expect(wrongUid.message).toBe(
      `Operation cannot be fulfilled on ${s.resource.resource} "web": Precondition failed: UID in precondition: u2, UID in object meta: u1`,
    );
    const wrongRv = await rejection(s.delete(ref, { resourceVersion: "1" }));
    expect(wrongRv.reason).toBe("Conflict");
    expect(wrongRv.message).toContain("Precondition failed: ResourceVersion in precondition: 1");
    const deleted = await s.delete(ref, {
      uid: "u1",
      resourceVersion: v1.metadata.resourceVersion,
    });
    expect(deleted.spec.value).toBe(1);
    expect(Number(deleted.metadata.resourceVersion)).toBeGreaterThan(
      Number(v1.metadata.resourceVersion),
    );
    expect((await rejection(s.get(ref))).reason).toBe("NotFound");
    expect((await rejection(s.delete(ref))).reason).toBe("NotFound");
  });

  it("removes an object created with a TTL once it expires", async () => {
    const s = pods();
    const ref = { namespace: "default", name: "event" };
    await s.create(ref, testObject("event", 1, { namespace: "default" }), { ttlSeconds: 1 });
    await s.create(
      { namespace: "default", name: "keeper" },
      testObject("keeper", 1, { namespace: "default" }),
    );
    expect((await s.get(ref)).spec.value).toBe(1);
    // Both stores raise a 1 s TTL to their minimum (etcd: 1.5 x election timeout, rounded up:
    // 2 s) and check expiry every 500 ms.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const e = await s.get(ref).then(
        () => undefined,
        (err: unknown) => err,
      );
      if (e instanceof ApiError && e.reason === "NotFound") break;
      if (Date.now() > deadline) throw new Error("the TTL object was never removed");
      await new Promise((r) => setTimeout(r, 200));
    }
    expect((await s.get({ namespace: "default", name: "keeper" })).spec.value).toBe(1);
  });

  it("shares one lease among objects created close together with the same long TTL", async () => {
    const s = pods();
    await s.create({ namespace: "a", name: "e1" }, testObject("e1", 1, { namespace: "a" }), {
      ttlSeconds: 3600,
    });
    await s.create({ namespace: "a", name: "e2" }, testObject("e2", 1, { namespace: "a" }), {
      ttlSeconds: 3600,
    });
    const l1 = (await client.get(s.keyFor({ namespace: "a", name: "e1" }))).kv?.lease;
    const l2 = (await client.get(s.keyFor({ namespace: "a", name: "e2" }))).kv?.lease;
    expect(l1).not.toBe("0");
    expect(l2).toBe(l1);
    // 3600 s + Kubernetes' reuse window (5%, at most 60 s).
    expect(await client.keepAliveOnce(l1 ?? "0")).toBe(3660);
    await client.revoke(l1 ?? "0");
  });

  it("watches from a past revision: ADDED, MODIFIED, DELETED in order, DELETED with the last state", async () => {
    const s = pods();
    const ref = { namespace: "default", name: "web" };
    const other = { namespace: "other", name: "x" };
    const v1 = await s.create(ref, testObject("web", 1, { namespace: "default" }));
    const before = Number(v1.metadata.resourceVersion) - 1;
    const v2 = await s.guaranteedUpdate(ref, (c) => ({ ...c, spec: { value: 2 } }));
    await s.create(other, testObject("x", 9, { namespace: "other" }));
    const gone = await s.delete(ref);
    const w = s.watch({ namespace: "default", resourceVersion: String(before) });
    try {
      const events = await takeEvents(w[Symbol.asyncIterator](), 3);
      expect(
        events.map((e) => [e.type, e.object.spec.value, e.object.metadata.resourceVersion]),
      ).toEqual([
        ["ADDED", 1, v1.metadata.resourceVersion],
        ["MODIFIED", 2, v2.metadata.resourceVersion],
        ["DELETED", 2, gone.metadata.resourceVersion],
      ]);
    } finally {
      w.close();
    }
  });

  it("watches from resourceVersion 0: the current objects as ADDED, then changes", async () => {
    const s = pods();
    await s.create({ namespace: "a", name: "1" }, testObject("1", 1, { namespace: "a" }));
    const w = s.watch({ resourceVersion: "0" });
    try {
      const it = w[Symbol.asyncIterator]();
      const initial = await takeEvents(it, 1);
      expect(initial.map((e) => [e.type, e.object.metadata.name])).toEqual([["ADDED", "1"]]);
      await s.create({ namespace: "a", name: "2" }, testObject("2", 1, { namespace: "a" }));
      const next = await takeEvents(it, 1);
      expect(next.map((e) => [e.type, e.object.metadata.name])).toEqual([["ADDED", "2"]]);
    } finally {
      w.close();
    }
  });

  it("answers a watch and a continue from a compacted revision with Expired (410)", async () => {
    const s = pods();
    const v1 = await s.create(
      { namespace: "a", name: "1" },
      testObject("1", 1, { namespace: "a" }),
    );
    await s.create({ namespace: "a", name: "2" }, testObject("2", 1, { namespace: "a" }));
    const page = await s.list({ limit: 1 });
    const v3 = await s.guaranteedUpdate({ namespace: "a", name: "1" }, (c) => ({
      ...c,
      spec: { value: 5 },
    }));
    await client.compact(Number(v3.metadata.resourceVersion));

    const w = s.watch({ resourceVersion: v1.metadata.resourceVersion });
    const watchErr = await rejection(
      (async () => {
        for await (const _ of w) {
          // Nothing may arrive before the error.
        }
      })(),
    );
    expect(watchErr.reason).toBe("Expired");
    expect(watchErr.code).toBe(410);
    expect(watchErr.message).toBe(WATCH_EXPIRED_MESSAGE);

    const listErr = await rejection(s.list({ limit: 1, continue: page.continue }));
    expect(listErr.reason).toBe("Expired");
    expect(listErr.code).toBe(410);
    expect(listErr.message).toBe(CONTINUE_EXPIRED_MESSAGE);
  });
});
