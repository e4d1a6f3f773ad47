// A Watch client that stops reading: tug's stream stops queueing once it holds
// watchMaxPendingBytes, its watchers fall behind, and they catch up from history when the
// client reads again, missing nothing; if history was compacted meanwhile, they are canceled
// with the compact revision. (tug only: etcd's buffering is not configurable.)

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WatchResponse__Output } from "../../src/gen/etcd/etcdserverpb/WatchResponse.js";
import { type Clients, clients, WatchStream } from "./grpc-client.js";
import { startTug, type Target } from "./targets.js";

const enc = (s: string) => Buffer.from(s);
const VALUE = "v".repeat(64 * 1024);
const WRITES = 40;

describe("Watch back-pressure", () => {
  let t: Target;
  let c: Clients;
  const streams: WatchStream[] = [];

  beforeAll(async () => {
    t = await startTug({ watchMaxPendingBytes: 64 * 1024 });
    c = clients(t.endpoint);
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    c?.close();
    await t?.close();
  });

  /** A watcher on prefix, created and then left unread while `writes` runs. */
  async function stalled(prefix: string, writes: () => Promise<void>): Promise<WatchStream> {
    const s = new WatchStream(t.endpoint);
    streams.push(s);
    s.send({ createRequest: { key: enc(prefix), rangeEnd: enc(`${prefix.slice(0, -1)}0`) } });
    expect(await s.next()).toMatchObject({ created: true });
    s.pause();
    await writes();
    s.resume();
    return s;
  }

  it("lets a stalled client catch up from history without missing or repeating a revision", async () => {
    const revs: number[] = [];
    const s = await stalled("bp/a/", async () => {
      for (let i = 0; i < WRITES; i++) {
        const r = await c.kv.put({ key: enc(`bp/a/${i % 5}`), value: enc(VALUE + i) });
        revs.push(Number(r.header?.revision));
      }
    });
    const replies: WatchResponse__Output[] = [];
    const seen: number[] = [];
    while (seen.length < WRITES) {
      const r = await s.next();
      replies.push(r);
      for (const e of r.events) {
        seen.push(Number(e.kv?.modRevision));
        expect(e.kv?.value.toString()).toBe(VALUE + (seen.length - 1));
      }
    }
    expect(seen).toEqual(revs);
    // Some replies came from history: they carry several revisions, or a later header.
    const fromHistory = replies.filter(
      (r) =>
        r.events.length > 1 || Number(r.header?.revision) > Number(r.events[0]?.kv?.modRevision),
    );
    expect(fromHistory.length).toBeGreaterThan(0);
    // Then it follows live writes again.
    const next = await c.kv.put({ key: enc("bp/a/live"), value: enc("x") });
    const live = await s.next();
    expect(live.events.map((e) => e.kv?.modRevision)).toEqual([next.header?.revision]);
  });

  it("cancels a stalled watcher whose missed history was compacted", async () => {
    let compactRev = 0;
    const s = await stalled("bp/c/", async () => {
      for (let i = 0; i < WRITES; i++) {
        const r = await c.kv.put({ key: enc(`bp/c/${i % 5}`), value: enc(VALUE) });
        compactRev = Number(r.header?.revision);
      }
      await c.kv.compact({ revision: compactRev });
    });
    let r: WatchResponse__Output;
    do r = await s.next();
    while (!r.canceled);
    expect(r).toMatchObject({ watchId: "0", compactRevision: String(compactRev), events: [] });
  });
});
