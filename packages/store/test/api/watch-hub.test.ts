// The watch hub in memory, over a real Keyspace: live fan-out, catching up from history,
// flow control, compaction, and a seeded property test that every watcher sees exactly the
// history of its range from its start revision, once and in order, whatever interleaving of
// writes, stalls and compactions.

import { describe, expect, it } from "vitest";
import type { WatchEventSource } from "../../src/api/backend.js";
import { type Watcher, WatchHub, type WatchSink, type WatchSpec } from "../../src/api/watch-hub.js";
import { type EventListener, Keyspace, type KvEvent } from "../../src/mvcc/index.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const b = (s: string) => enc.encode(s);

function show(e: KvEvent): string {
  const prev = e.prevKv ? ` prev=${dec.decode(e.prevKv.value)}` : "";
  return `${e.type} ${dec.decode(e.kv.key)}=${dec.decode(e.kv.value)}@${e.kv.modRevision}${prev}`;
}

class FakeSink implements WatchSink {
  ready = true;
  readonly sent: { id: number; events: string[]; revision: number }[] = [];
  readonly compactedAt = new Map<number, number>();

  send(w: Watcher, events: readonly KvEvent[], revision: number): void {
    this.sent.push({ id: w.id, events: events.map(show), revision });
  }

  compacted(w: Watcher, compactRevision: number): void {
    this.compactedAt.set(w.id, compactRevision);
  }

  events(id: number): string[] {
    return this.sent.filter((s) => s.id === id).flatMap((s) => s.events);
  }
}

function spec(key: string, rangeEnd = "", more: Partial<WatchSpec> = {}): WatchSpec {
  return {
    key: b(key),
    rangeEnd: b(rangeEnd),
    startRevision: 0,
    prevKv: false,
    noPut: false,
    noDelete: false,
    ...more,
  };
}

/** Lets every scheduled catch-up round run (they are setImmediate callbacks). */
async function settle(rounds = 50): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

describe("WatchHub", () => {
  it("sends each applied revision's events to the synced watchers of its keys", () => {
    const ks = new Keyspace();
    const hub = new WatchHub(ks);
    const sink = new FakeSink();
    hub.add(0, sink, spec("a"));
    hub.add(1, sink, spec("p/", "p0"));
    hub.add(2, sink, spec("m", "\0"));
    ks.put({ key: b("a"), value: b("1") }); // rev 2
    ks.txn({
      success: [
        { requestPut: { key: b("p/x"), value: b("2") } },
        { requestPut: { key: b("p/y"), value: b("3") } },
      ],
    }); // rev 3
    ks.put({ key: b("b"), value: b("4") }); // rev 4: nobody's
    expect(sink.sent).toEqual([
      { id: 0, events: ["PUT a=1@2"], revision: 2 },
      { id: 1, events: ["PUT p/x=2@3", "PUT p/y=3@3"], revision: 3 },
      { id: 2, events: ["PUT p/x=2@3", "PUT p/y=3@3"], revision: 3 },
    ]);
    hub.close();
  });

  it("applies filters, and sends prev_kv only to watchers that asked", () => {
    const ks = new Keyspace();
    const hub = new WatchHub(ks);
    const sink = new FakeSink();
    hub.add(0, sink, spec("k", "", { noPut: true, prevKv: true }));
    hub.add(1, sink, spec("k", "", { noDelete: true }));
    ks.put({ key: b("k"), value: b("1") });
    ks.put({ key: b("k"), value: b("2") });
    ks.deleteRange({ key: b("k") });
    expect(sink.events(0)).toEqual(["DELETE k=@4 prev=2"]);
    expect(sink.events(1)).toEqual(["PUT k=1@2", "PUT k=2@3"]);
    hub.close();
  });

  it("starts a watcher at a future revision without sending what comes before", () => {
    const ks = new Keyspace();
    const hub = new WatchHub(ks);
    const sink = new FakeSink();
    hub.add(0, sink, spec("k", "", { startRevision: 4 }));
    for (const v of ["1", "2", "3"]) ks.put({ key: b("k"), value: b(v) });
    expect(sink.events(0)).toEqual(["PUT k=3@4"]);
    hub.close();
  });

  it("catches a watcher up from history in batches, then follows live writes", async () => {
    const ks = new Keyspace();
    for (let i = 1; i <= 5; i++) ks.put({ key: b("k"), value: b(String(i)) }); // revs 2..6
    const hub = new WatchHub(ks, { catchUpBatchEvents: 2 });
    const sink = new FakeSink();
    const w = hub.add(0, sink, spec("k", "", { startRevision: 3 }));
    expect(hub.isSynced(w)).toBe(false);
    expect(sink.sent).toEqual([]); // nothing before the caller's "created" reply
    await settle(1);
    ks.put({ key: b("k"), value: b("6") }); // rev 7, while still catching up
    await settle();
    expect(hub.isSynced(w)).toBe(true);
    ks.put({ key: b("k"), value: b("7") }); // rev 8, live
    expect(sink.events(0)).toEqual([
      "PUT k=2@3",
      "PUT k=3@4",
      "PUT k=4@5",
      "PUT k=5@6",
      "PUT k=6@7",
      "PUT k=7@8",
    ]);
    // History batches carry the current revision in their header, live ones their own.
    expect(sink.sent.map((s) => s.revision)).toEqual([6, 7, 7, 8]);
    hub.close();
  });

  it("lets a stalled stream's watchers fall behind and catch up when it drains", async () => {
    const ks = new Keyspace();
    const hub = new WatchHub(ks);
    const sink = new FakeSink();
    const w = hub.add(0, sink, spec("k"));
    ks.put({ key: b("k"), value: b("1") });
    sink.ready = false;
    ks.put({ key: b("k"), value: b("2") });
    ks.put({ key: b("k"), value: b("3") });
    expect(hub.isSynced(w)).toBe(false);
    await settle();
    expect(sink.events(0)).toEqual(["PUT k=1@2"]);
    sink.ready = true;
    hub.resume(sink);
    await settle();
    ks.put({ key: b("k"), value: b("4") });
    expect(sink.events(0)).toEqual(["PUT k=1@2", "PUT k=2@3", "PUT k=3@4", "PUT k=4@5"]);
    hub.close();
  });

  it("cancels a watcher whose next revision was compacted away, with the compact revision", async () => {
    const ks = new Keyspace();
    const hub = new WatchHub(ks);
    const sink = new FakeSink();
    hub.add(0, sink, spec("k"));
    ks.put({ key: b("k"), value: b("1") }); // 2
    sink.ready = false;
    ks.put({ key: b("k"), value: b("2") }); // 3: missed
    ks.put({ key: b("k"), value: b("3") }); // 4
    ks.compact(4);
    sink.ready = true;
    hub.resume(sink);
    await settle();
    expect(sink.compactedAt.get(0)).toBe(4);
    ks.put({ key: b("k"), value: b("4") });
    expect(sink.events(0)).toEqual(["PUT k=1@2"]);
    expect(hub.size).toBe(0);
    hub.close();
  });

  describe("after a snapshot restore", () => {
    /** A follower's events: its keyspace, replaced at once by a leader's (a snapshot install). */
    class RestorableSource implements WatchEventSource {
      private readonly listeners = new Set<EventListener>();
      private readonly restoreListeners = new Set<(from: number) => void>();
      constructor(public ks: Keyspace) {
        ks.subscribe((e, r) => this.emit(e, r));
      }
      get revision() {
        return this.ks.revision;
      }
      get compactRevision() {
        return this.ks.compactRevision;
      }
      subscribe(l: EventListener) {
        this.listeners.add(l);
        return () => this.listeners.delete(l);
      }
      onRestore(l: (from: number) => void) {
        this.restoreListeners.add(l);
        return () => this.restoreListeners.delete(l);
      }
      eventsSince(start: number, key: Uint8Array, end?: Uint8Array, limit?: number) {
        return this.ks.eventsSince(start, key, end, limit);
      }
      restore(next: Keyspace): void {
        const from = this.ks.revision + 1;
        this.ks = next;
        next.subscribe((e, r) => {
          if (this.ks === next) this.emit(e, r);
        });
        for (const l of this.restoreListeners) l(from);
      }
      private emit(events: readonly KvEvent[], revision: number): void {
        for (const l of this.listeners) l(events, revision);
      }
    }

    /** The leader's keyspace: the follower's first `shared` writes, then more. */
    function leaderAhead(): Keyspace {
      const leader = new Keyspace();
      leader.put({ key: b("a"), value: b("1") }); // rev 2, the follower has it
      leader.put({ key: b("a"), value: b("2") }); // rev 3: missed
      leader.put({ key: b("z"), value: b("x") }); // rev 4: missed, nobody's
      leader.put({ key: b("a"), value: b("3") }); // rev 5: missed
      return leader;
    }

    it("synced watchers catch up on the skipped revisions from the snapshot's history", async () => {
      const follower = new Keyspace();
      follower.put({ key: b("a"), value: b("1") }); // rev 2
      const source = new RestorableSource(follower);
      const hub = new WatchHub(source);
      const sink = new FakeSink();
      hub.add(0, sink, spec("a"));
      hub.add(1, sink, spec("m", "\0"));
      source.restore(leaderAhead());
      await settle();
      source.ks.put({ key: b("a"), value: b("4") }); // rev 6, live
      expect(sink.events(0)).toEqual(["PUT a=2@3", "PUT a=3@5", "PUT a=4@6"]);
      expect(sink.events(1)).toEqual(["PUT z=x@4"]);
      expect(sink.compactedAt.size).toBe(0);
      hub.close();
    });

    it("cancels as compacted the watchers whose skipped revisions the snapshot no longer holds", async () => {
      const follower = new Keyspace();
      follower.put({ key: b("a"), value: b("1") }); // rev 2
      const source = new RestorableSource(follower);
      const hub = new WatchHub(source);
      const sink = new FakeSink();
      hub.add(0, sink, spec("a"));
      const leader = leaderAhead();
      leader.compact(4);
      source.restore(leader);
      await settle();
      expect(sink.compactedAt.get(0)).toBe(4);
      expect(sink.events(0)).toEqual([]);
      // A watcher that starts after the restore is unaffected.
      hub.add(1, sink, spec("a"));
      source.ks.put({ key: b("a"), value: b("5") });
      expect(sink.events(1)).toEqual(["PUT a=5@6"]);
      hub.close();
    });
  });

  it("delivers nothing to a removed watcher", async () => {
    const ks = new Keyspace();
    ks.put({ key: b("k"), value: b("0") });
    const hub = new WatchHub(ks);
    const sink = new FakeSink();
    const live = hub.add(0, sink, spec("k"));
    const behind = hub.add(1, sink, spec("k", "", { startRevision: 1 }));
    hub.remove(live);
    hub.remove(behind);
    ks.put({ key: b("k"), value: b("1") });
    await settle();
    expect(sink.sent).toEqual([]);
    expect(hub.size).toBe(0);
    hub.close();
  });

  describe("property: each watcher sees its range's history from its start, once, in order", () => {
    const KEYS = ["a", "b", "c", "d", "e"];

    function rng(seed: number): () => number {
      let s = seed >>> 0;
      return () => {
        s = (s + 0x6d2b79f5) >>> 0;
        let x = s;
        x = Math.imul(x ^ (x >>> 15), x | 1);
        x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
        return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
      };
    }

    async function runSeed(seed: number): Promise<void> {
      const rand = rng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
      const ks = new Keyspace();
      // The same writes, never compacted: what each watcher should have seen.
      const shadow = new Keyspace();
      const both = (write: (k: Keyspace) => void) => {
        write(ks);
        write(shadow);
      };
      const hub = new WatchHub(ks, { catchUpBatchEvents: 1 + Math.floor(rand() * 4) });
      const sinks = [new FakeSink(), new FakeSink()];
      const watchers: { id: number; sink: FakeSink; spec: WatchSpec; start: number }[] = [];
      let nextId = 0;
      for (let step = 0; step < 120; step++) {
        const r = rand();
        if (r < 0.45) {
          const key = b(pick(KEYS));
          both((k) => k.put({ key, value: b(String(step)) }));
        } else if (r < 0.55) {
          const key = b(pick(KEYS));
          both((k) => k.deleteRange({ key }));
        } else if (r < 0.6) {
          both((k) =>
            k.txn({
              success: [
                { requestPut: { key: b("a"), value: b(`t${step}`) } },
                { requestDeleteRange: { key: b("c"), rangeEnd: b("e") } },
              ],
            }),
          );
        } else if (r < 0.7) {
          const sink = pick(sinks);
          const from = 1 + Math.floor(rand() * (ks.revision + 2));
          const key = pick(KEYS);
          const ranged = rand() < 0.5;
          const s = spec(key, ranged ? "d" : "", { startRevision: from, prevKv: rand() < 0.5 });
          if (ranged && key >= "d") continue;
          const id = nextId++;
          hub.add(id, sink, s);
          watchers.push({ id, sink, spec: s, start: from });
        } else if (r < 0.8) {
          const sink = pick(sinks);
          sink.ready = !sink.ready;
          if (sink.ready) hub.resume(sink);
        } else if (r < 0.83 && ks.revision > ks.compactRevision + 3) {
          ks.compact(ks.revision - 2);
        } else {
          await settle(1 + Math.floor(rand() * 3));
        }
      }
      for (const sink of sinks) {
        sink.ready = true;
        hub.resume(sink);
      }
      await settle(200);
      const strip = (e: string) => e.replace(/ prev=.*$/, "");
      for (const w of watchers) {
        const label = `seed ${seed} watcher ${w.id} from ${w.start}`;
        const got = w.sink.events(w.id);
        const want = shadow
          .eventsSince(w.start, w.spec.key, w.spec.rangeEnd)
          .events.map((e) => show(w.spec.prevKv || !e.prevKv ? e : { type: e.type, kv: e.kv }));
        const compactedAt = w.sink.compactedAt.get(w.id);
        if (compactedAt === undefined) {
          expect(got.map(strip), label).toEqual(want.map(strip));
        } else {
          // Canceled: what it got is a prefix of its history, up to the compaction.
          expect(got.map(strip), label).toEqual(want.slice(0, got.length).map(strip));
          expect(compactedAt, label).toBeGreaterThan(0);
        }
        // A previous kv, when sent (history may have lost it to compaction), is the right one.
        got.forEach((g, i) => {
          if (g.includes(" prev=")) expect(g, label).toBe(want[i]);
        });
      }
      hub.close();
    }

    it("over 300 seeds", async () => {
      for (let seed = 1; seed <= 300; seed++) await runSeed(seed);
    });
  });
});
