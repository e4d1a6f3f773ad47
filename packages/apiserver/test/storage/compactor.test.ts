import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMPACT_REV_KEY, Compactor } from "../../src/storage/compactor.js";
import { EtcdClient, type EtcdError } from "../../src/storage/etcd-client.js";
import { STORES, type TestStore } from "../support/stores.js";

const enc = (s: string) => Buffer.from(s);

describe.each(STORES)("Compactor on $name", { timeout: 30_000 }, ({ start }) => {
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

  it("compacts to the revision seen one round earlier, and one server per round", async () => {
    const a = new Compactor(client);
    const b = new Compactor(client);
    expect(await a.tick()).toBeUndefined(); // first round: only records the revision
    const seen = (await client.get(COMPACT_REV_KEY)).revision;
    const w1 = await client.create("/x/1", enc("1"));
    await client.update("/x/1", enc("2"), w1.revision);
    // b has not seen a's round: it loses the race and only follows a.
    expect(await b.tick()).toBeUndefined();
    expect(await a.tick()).toBe(seen);
    // History after the compacted revision is still there; before it is gone.
    const err = await client.range({ key: "/x/1", revision: seen - 1 }).catch((e: unknown) => e);
    expect((err as EtcdError).code).toBe("compacted");
    expect((await client.range({ key: "/x/1", revision: w1.revision })).kvs).toHaveLength(1);
    // a's round moved the count past what b saw: b follows again, then wins the next round.
    expect(await b.tick()).toBeUndefined();
    const next = await b.tick();
    expect(next).toBeGreaterThan(seen);
  });

  it("runs on a timer until stopped", async () => {
    const compacted: number[] = [];
    const errors: unknown[] = [];
    const c = new Compactor(client, {
      intervalMs: 50,
      onCompacted: (rev) => compacted.push(rev),
      onError: (e) => errors.push(e),
    });
    try {
      c.start();
      const deadline = Date.now() + 10_000;
      while (compacted.length < 2 && Date.now() < deadline) {
        await client.create(`/t/${Date.now()}-${Math.random()}`, enc("x"));
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await c.stop();
    }
    expect(errors).toEqual([]);
    expect(compacted.length).toBeGreaterThanOrEqual(2);
    expect(compacted[1] ?? 0).toBeGreaterThan(compacted[0] ?? 0);
  });
});
