// The etcd3 npm client against tug-store's etcd v3 API, and against a real etcd 3.4.

import { Etcd3, EtcdLockFailedError, type IKeyValue, type Watcher } from "etcd3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TARGETS, type Target } from "./targets.js";

type Seen = { type: "put" | "delete"; key: string; value: string; prev?: string };

/** Collects a watcher's events; `next(n)` waits for the next n. */
function collect(w: Watcher) {
  const seen: Seen[] = [];
  let wake: (() => void) | undefined;
  const push = (type: Seen["type"]) => (kv: IKeyValue, prev?: IKeyValue | null) => {
    const e: Seen = { type, key: kv.key.toString(), value: kv.value.toString() };
    if (prev != null) e.prev = prev.value.toString();
    seen.push(e);
    wake?.();
  };
  w.on("put", push("put"));
  w.on("delete", push("delete"));
  return {
    async next(n: number): Promise<Seen[]> {
      while (seen.length < n) await new Promise<void>((r) => (wake = r));
      return seen.splice(0, n);
    },
  };
}

for (const [name, start] of TARGETS) {
  describe(`etcd3 client against ${name}`, () => {
    let t: Target;
    let client: Etcd3;

    beforeAll(async () => {
      t = await start();
      client = new Etcd3({ hosts: t.endpoint });
    });
    afterAll(async () => {
      client?.close();
      await t?.close();
    });

    it("puts, gets and deletes", async () => {
      await client.put("e3/a").value("1");
      await client.put("e3/b").value("2");
      expect(await client.get("e3/a").string()).toBe("1");
      expect(await client.getAll().prefix("e3/").keys()).toEqual(["e3/a", "e3/b"]);
      expect(await client.getAll().prefix("e3/").count()).toBe(2);
      const deleted = await client.delete().key("e3/a");
      expect(deleted.deleted).toBe("1");
      expect(await client.get("e3/a").string()).toBeNull();
    });

    it("runs a txn's else branch, then its then branch", async () => {
      const first = await client
        .if("e3/t", "Value", "==", "x")
        .then(client.put("e3/t").value("then"))
        .else(client.put("e3/t").value("else"), client.get("e3/other"))
        .commit();
      expect(first.succeeded).toBe(false);
      expect(first.responses).toHaveLength(2);
      expect(await client.get("e3/t").string()).toBe("else");
      const second = await client
        .if("e3/t", "Value", "==", "else")
        .and("e3/t", "Version", "==", 1)
        .then(client.put("e3/t").value("then"))
        .else(client.put("e3/t").value("else2"))
        .commit();
      expect(second.succeeded).toBe(true);
      expect(await client.get("e3/t").string()).toBe("then");
    });

    it("watches a prefix and sees puts and deletes with previous values", async () => {
      const w = await client.watch().prefix("e3/w/").withPreviousKV().create();
      try {
        const events = collect(w);
        await client.put("e3/w/a").value("1");
        await client.put("e3/w/a").value("2");
        await client.delete().key("e3/w/a");
        expect(await events.next(3)).toEqual([
          { type: "put", key: "e3/w/a", value: "1" },
          { type: "put", key: "e3/w/a", value: "2", prev: "1" },
          { type: "delete", key: "e3/w/a", value: "", prev: "2" },
        ]);
      } finally {
        await w.cancel();
      }
    });

    it("keeps a lease alive while another one expires and takes its key", async () => {
      // Long enough that a loaded machine cannot starve its keep-alives into expiry.
      const kept = client.lease(10);
      const keptAlive = new Promise<string>((resolve) =>
        kept.on("keepaliveSucceeded", (r) => resolve(String(r.TTL))),
      );
      await kept.grant();
      await kept.put("e3/l/kept").value("k");
      const left = client.lease(2, { autoKeepAlive: false });
      const leftId = await left.grant();
      await left.put("e3/l/left").value("l");
      const ka = await left.keepaliveOnce();
      expect(ka.TTL).toBe("2");
      const w = await client.watch().prefix("e3/l/").create();
      try {
        const events = collect(w);
        // Waits for the expiry (about 2 s), however long it takes.
        expect(await events.next(1)).toEqual([{ type: "delete", key: "e3/l/left", value: "" }]);
        expect(await client.get("e3/l/left").string()).toBeNull();
        expect(await client.get("e3/l/kept").string()).toBe("k");
        expect(await keptAlive).toBe("10");
        const ttl = await client.leaseClient.leaseTimeToLive({ ID: leftId });
        expect(ttl.TTL).toBe("-1");
      } finally {
        await w.cancel();
        await kept.revoke();
      }
      expect(await client.get("e3/l/kept").string()).toBeNull();
    });

    it("takes a lock that a second holder cannot take until it is released", async () => {
      const result = await client.lock("e3/lock").do(async () => {
        expect(await client.get("e3/lock").string()).toBe("");
        await expect(client.lock("e3/lock").acquire()).rejects.toBeInstanceOf(EtcdLockFailedError);
        return 42;
      });
      expect(result).toBe(42);
      expect(await client.get("e3/lock").string()).toBeNull();
      const again = await client.lock("e3/lock").acquire();
      await again.release();
    });
  });
}
