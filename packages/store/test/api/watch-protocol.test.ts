// The Watch stream, spoken directly over gRPC: watch ids, created and canceled replies, one
// reply per revision, filters, prev_kv, history from a start revision, the compacted answer,
// cancel, progress (notify and request) and fragments. Runs against tug and a real etcd 3.4.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WatchResponse__Output } from "../../src/gen/etcd/etcdserverpb/WatchResponse.js";
import type { Event__Output } from "../../src/gen/etcd/mvccpb/Event.js";
import { type Clients, clients, WatchStream } from "./grpc-client.js";
import { TARGETS, type Target } from "./targets.js";

const enc = (s: string) => Buffer.from(s);

/** Short, so that the test sees notifications; etcd's default is 10 minutes. */
const PROGRESS_INTERVAL_MS = 300;

function showEvent(e: Event__Output): string {
  const kv = e.kv;
  const prev = e.prevKv ? ` prev=${e.prevKv.value.toString()}` : "";
  return `${e.type} ${kv?.key.toString()}=${kv?.value.toString()}@${kv?.modRevision}${prev}`;
}

const events = (r: WatchResponse__Output) => r.events.map(showEvent);

for (const [name, start] of TARGETS) {
  describe(`Watch protocol against ${name}`, () => {
    let t: Target;
    let c: Clients;
    const streams: WatchStream[] = [];

    beforeAll(async () => {
      t = await start({ progressNotifyIntervalMs: PROGRESS_INTERVAL_MS });
      c = clients(t.endpoint);
    });
    afterAll(async () => {
      for (const s of streams) s.close();
      c?.close();
      await t?.close();
    });

    const open = () => {
      const s = new WatchStream(t.endpoint);
      streams.push(s);
      return s;
    };
    const put = async (key: string, value: string) =>
      Number((await c.kv.put({ key: enc(key), value: enc(value) })).header?.revision);
    const revision = async () => Number((await c.kv.range({ key: enc("none") })).header?.revision);

    it("numbers watchers from 0 on each stream, or as the client asks, refusing duplicates", async () => {
      const s = open();
      const rev = await revision();
      s.send({ createRequest: { key: enc("wp/id/a") } });
      const a = await s.next();
      expect(a).toMatchObject({ created: true, canceled: false, watchId: "0" });
      expect(a.header?.revision).toBe(String(rev));
      s.send({ createRequest: { key: enc("wp/id/b") } });
      expect(await s.next()).toMatchObject({ created: true, watchId: "1" });
      s.send({ createRequest: { key: enc("wp/id/c"), watchId: 7 } });
      expect(await s.next()).toMatchObject({ created: true, canceled: false, watchId: "7" });
      s.send({ createRequest: { key: enc("wp/id/d"), watchId: 7 } });
      expect(await s.next()).toMatchObject({
        created: true,
        canceled: true,
        watchId: "-1",
        cancelReason: "mvcc: duplicate watch ID provided on the WatchStream",
      });
      s.send({ createRequest: { key: enc("wp/id/z"), rangeEnd: enc("wp/id/a") } });
      expect(await s.next()).toMatchObject({
        created: true,
        canceled: true,
        watchId: "-1",
        cancelReason: "mvcc: watcher range is empty",
      });
      // A second stream numbers from 0 again.
      const s2 = open();
      s2.send({ createRequest: { key: enc("wp/id/a") } });
      expect(await s2.next()).toMatchObject({ created: true, watchId: "0" });
    });

    it("sends one reply per revision, with the revision's events in order", async () => {
      const s = open();
      s.send({ createRequest: { key: enc("wp/rev/"), rangeEnd: enc("wp/rev0") } });
      await s.next();
      const txn = await c.kv.txn({
        success: [
          { requestPut: { key: enc("wp/rev/a"), value: enc("1") } },
          { requestPut: { key: enc("wp/rev/b"), value: enc("2") } },
        ],
      });
      const r1 = Number(txn.header?.revision);
      const r2 = await put("wp/rev/a", "3");
      const first = await s.next();
      expect(first.header?.revision).toBe(String(r1));
      expect(events(first)).toEqual([`PUT wp/rev/a=1@${r1}`, `PUT wp/rev/b=2@${r1}`]);
      const second = await s.next();
      expect(second.header?.revision).toBe(String(r2));
      expect(events(second)).toEqual([`PUT wp/rev/a=3@${r2}`]);
      expect(second.watchId).toBe("0");
    });

    it("filters puts or deletes, and sends prev_kv only when asked", async () => {
      const s = open();
      s.send({ createRequest: { key: enc("wp/f"), filters: ["NOPUT"], prevKv: true } });
      s.send({ createRequest: { key: enc("wp/f"), filters: ["NODELETE"] } });
      await s.next();
      await s.next();
      const r1 = await put("wp/f", "1");
      const r2 = await put("wp/f", "2");
      const del = await c.kv.deleteRange({ key: enc("wp/f") });
      const r3 = Number(del.header?.revision);
      const got: string[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await s.next();
        got.push(`${r.watchId}: ${events(r).join(", ")}`);
      }
      // Replies of the two watchers may interleave; each watcher's are in order.
      expect(got.filter((g) => g.startsWith("0:"))).toEqual([`0: DELETE wp/f=@${r3} prev=2`]);
      expect(got.filter((g) => g.startsWith("1:"))).toEqual([
        `1: PUT wp/f=1@${r1}`,
        `1: PUT wp/f=2@${r2}`,
      ]);
    });

    it("replays history from a start revision, then follows live writes", async () => {
      const r1 = await put("wp/h/k", "1");
      const r2 = await put("wp/h/k", "2");
      await put("wp/h/other", "x");
      const s = open();
      s.send({
        createRequest: { key: enc("wp/h/k"), startRevision: r1, prevKv: true },
      });
      expect(await s.next()).toMatchObject({ created: true });
      const seen: string[] = [];
      while (seen.length < 2) seen.push(...events(await s.next()));
      expect(seen).toEqual([`PUT wp/h/k=1@${r1}`, `PUT wp/h/k=2@${r2} prev=1`]);
      const r4 = await put("wp/h/k", "3");
      expect(events(await s.next())).toEqual([`PUT wp/h/k=3@${r4} prev=2`]);
    });

    it("answers a watch from a compacted revision with the compact revision, canceled", async () => {
      const r1 = await put("wp/c/k", "1");
      const r2 = await put("wp/c/k", "2");
      await c.kv.compact({ revision: r2 });
      const s = open();
      s.send({ createRequest: { key: enc("wp/c/k"), startRevision: r1 } });
      expect(await s.next()).toMatchObject({ created: true, canceled: false, watchId: "0" });
      const r = await s.next();
      expect(r).toMatchObject({ watchId: "0", canceled: true, compactRevision: String(r2) });
      expect(r.events).toEqual([]);
      // From the compact revision itself, history is still there.
      s.send({ createRequest: { key: enc("wp/c/k"), startRevision: r2 } });
      expect(await s.next()).toMatchObject({ created: true, watchId: "1" });
      expect(events(await s.next())).toEqual([`PUT wp/c/k=2@${r2}`]);
    });

    it("cancels a watcher, and ignores a cancel of an unknown id", async () => {
      const s = open();
      s.send({ createRequest: { key: enc("wp/x") } });
      await s.next();
      s.send({ cancelRequest: { watchId: 0 } });
      expect(await s.next()).toMatchObject({ watchId: "0", canceled: true, created: false });
      s.send({ cancelRequest: { watchId: 42 } });
      await put("wp/x", "1");
      const rev = await revision();
      s.send({ progressRequest: {} });
      // The first reply after the unknown cancel is the progress one: no cancel reply, and
      // no event for the canceled watcher.
      const r = await s.next();
      expect(r).toMatchObject({ watchId: "-1", canceled: false, created: false, events: [] });
      expect(r.header?.revision).toBe(String(rev));
    });

    it("notifies a quiet watcher of progress when it asked", async () => {
      const rev = await put("wp/other", "x");
      const s = open();
      s.send({ createRequest: { key: enc("wp/p"), progressNotify: true } });
      await s.next();
      // Waits for the next notification, however long the server's interval is.
      const r = await s.next();
      expect(r).toMatchObject({ watchId: "0", created: false, canceled: false, events: [] });
      expect(Number(r.header?.revision)).toBeGreaterThanOrEqual(rev);
    });

    it("splits a large revision into fragments when the watcher allows it", async () => {
      // etcd fragments at 2 MiB (--max-request-bytes plus 512 KiB of gRPC overhead): two of
      // these fit in a reply, three do not.
      const big = "v".repeat(800 * 1024);
      for (const k of ["a", "b", "c"]) await put(`wp/frag/${k}`, big);
      const s = open();
      s.send({
        createRequest: {
          key: enc("wp/frag/"),
          rangeEnd: enc("wp/frag0"),
          prevKv: true,
          fragment: true,
        },
      });
      await s.next();
      const del = await c.kv.deleteRange({ key: enc("wp/frag/"), rangeEnd: enc("wp/frag0") });
      expect(del.deleted).toBe("3");
      const parts: [number, boolean][] = [];
      for (;;) {
        const r = await s.next();
        parts.push([r.events.length, r.fragment]);
        for (const e of r.events) expect(e.prevKv?.value.length).toBe(big.length);
        if (!r.fragment) break;
      }
      expect(parts).toEqual([
        [2, true],
        [1, false],
      ]);
    });
  });
}
