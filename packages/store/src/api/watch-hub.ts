// The watch hub: one subscription to the store's applied events, fanned out to every watcher
// of every Watch stream (etcd's watchableStore). A watcher is either
// - synced: it has seen everything up to the current revision and gets each new revision's
//   events as it is applied, one batch per revision; or
// - unsynced: it starts in the past, or its stream fell behind. The hub replays history to it
//   in batches, between applied revisions, until it reaches the current revision and joins
//   the synced watchers, in the same turn of the event loop, so that no revision is missed or
//   sent twice. A watcher whose start has been compacted away gets the compacted answer and
//   is dropped.
//
// Flow control: a stream that cannot take more (its sink is not ready) does not buffer events
// without bound. Its watchers that have something to send leave the synced set at the
// revision they missed, and catch up from history once the stream calls resume(); if history
// was compacted past them meanwhile, they are canceled as compacted, as etcd cancels a watcher
// that cannot keep up.

import { CompactedError, type KvEvent, keyString } from "../mvcc/index.js";
import type { WatchEventSource } from "./backend.js";

/** Events per history batch sent to an unsynced watcher (etcd batches 1000 revisions). */
const DEFAULT_CATCH_UP_BATCH_EVENTS = 1000;

export interface WatchSpec {
  /** Not empty (the Watch service maps an empty key to "\0", as etcd does). */
  readonly key: Uint8Array;
  /** As in RangeRequest: empty: the one key; "\0": every key >= key; else [key, rangeEnd). */
  readonly rangeEnd: Uint8Array;
  /** The first revision to report; 0: the next one. */
  readonly startRevision: number;
  /** Send each event's previous kv (when history still holds it). */
  readonly prevKv: boolean;
  readonly noPut: boolean;
  readonly noDelete: boolean;
}

/** Where a watcher's responses go: one per Watch stream. */
export interface WatchSink {
  /**
   * Whether the stream takes more now. When it is false, the hub sends nothing more to this
   * sink's watchers until the sink calls WatchHub.resume.
   */
  readonly ready: boolean;
  /** Events for `watcher`, non-empty and in order; `revision` is for the response header. */
  send(watcher: Watcher, events: readonly KvEvent[], revision: number): void;
  /** The watcher's next revision is compacted; the hub has already dropped it. */
  compacted(watcher: Watcher, compactRevision: number): void;
  /** The watcher has caught up from history and now gets events as they are applied. */
  synced?(watcher: Watcher): void;
}

type Bounds =
  | { readonly kind: "key"; readonly key: string }
  | { readonly kind: "range"; readonly start: string; readonly end: string | null };

export class Watcher {
  /** The lowest revision not yet delivered. */
  nextRev: number;
  state: "synced" | "unsynced" | "removed" = "unsynced";
  readonly bounds: Bounds;

  constructor(
    /** The id its stream gave it. */
    readonly id: number,
    readonly sink: WatchSink,
    readonly spec: WatchSpec,
    startRev: number,
  ) {
    this.nextRev = startRev;
    const start = keyString(spec.key);
    const end = spec.rangeEnd;
    if (end.length === 0) this.bounds = { kind: "key", key: start };
    else if (end.length === 1 && end[0] === 0) this.bounds = { kind: "range", start, end: null };
    else this.bounds = { kind: "range", start, end: keyString(end) };
  }
}

export interface WatchHubOptions {
  catchUpBatchEvents?: number;
}

export class WatchHub {
  /** Synced watchers of one key, by that key (latin1, as keyString). */
  private readonly syncedByKey = new Map<string, Set<Watcher>>();
  /** Synced watchers of a range. */
  private readonly syncedRanges = new Set<Watcher>();
  private readonly unsynced = new Set<Watcher>();
  private syncScheduled: NodeJS.Immediate | undefined;
  private readonly unsubscribe: () => void;
  private readonly unsubscribeRestore: () => void;
  private readonly batchEvents: number;
  private closed = false;

  constructor(
    private readonly source: WatchEventSource,
    options: WatchHubOptions = {},
  ) {
    this.batchEvents = options.catchUpBatchEvents ?? DEFAULT_CATCH_UP_BATCH_EVENTS;
    this.unsubscribe = source.subscribe((events, revision) => this.onApplied(events, revision));
    this.unsubscribeRestore =
      source.onRestore?.((fromRevision) => this.onRestore(fromRevision)) ?? (() => {});
  }

  /** Watchers now: synced and unsynced. */
  get size(): number {
    let n = this.syncedRanges.size + this.unsynced.size;
    for (const set of this.syncedByKey.values()) n += set.size;
    return n;
  }

  /**
   * Starts a watcher. One whose start revision is already applied catches up from history
   * first, asynchronously: the caller can send its "created" reply before any event.
   */
  add(id: number, sink: WatchSink, spec: WatchSpec): Watcher {
    if (this.closed) throw new Error("watch hub is closed");
    const current = this.source.revision;
    const start = spec.startRevision > 0 ? spec.startRevision : current + 1;
    const w = new Watcher(id, sink, spec, start);
    if (start > current) this.joinSynced(w);
    else {
      this.unsynced.add(w);
      this.scheduleSync();
    }
    return w;
  }

  remove(w: Watcher): void {
    if (w.state === "synced") this.leaveSynced(w);
    else if (w.state === "unsynced") this.unsynced.delete(w);
    w.state = "removed";
  }

  /** Whether the watcher has seen every applied revision (etcd sends progress only then). */
  isSynced(w: Watcher): boolean {
    return w.state === "synced";
  }

  /** The sink is ready again: its watchers that fell behind catch up. */
  resume(sink: WatchSink): void {
    for (const w of this.unsynced) {
      if (w.sink === sink) {
        this.scheduleSync();
        return;
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.unsubscribeRestore();
    if (this.syncScheduled !== undefined) clearImmediate(this.syncScheduled);
    for (const set of this.syncedByKey.values()) for (const w of set) w.state = "removed";
    for (const w of this.syncedRanges) w.state = "removed";
    for (const w of this.unsynced) w.state = "removed";
    this.syncedByKey.clear();
    this.syncedRanges.clear();
    this.unsynced.clear();
  }

  // ---------------------------------------------------------------- live events

  private onApplied(events: readonly KvEvent[], revision: number): void {
    // Nobody is watching live (the usual case on a busy write path): nothing to match.
    if (this.syncedByKey.size === 0 && this.syncedRanges.size === 0) return;
    // Collect each touched watcher's events first: one response per watcher per revision.
    const touched = new Map<Watcher, KvEvent[]>();
    const add = (w: Watcher, ev: KvEvent) => {
      const list = touched.get(w);
      if (list === undefined) touched.set(w, [ev]);
      else list.push(ev);
    };
    const hasRanges = this.syncedRanges.size > 0;
    for (const ev of events) {
      const k = keyString(ev.kv.key);
      const set = this.syncedByKey.get(k);
      if (set !== undefined) for (const w of set) add(w, ev);
      if (hasRanges) {
        for (const w of this.syncedRanges) {
          const b = w.bounds as { start: string; end: string | null };
          if (k >= b.start && (b.end === null || k < b.end)) add(w, ev);
        }
      }
    }
    for (const [w, evs] of touched) {
      if (revision < w.nextRev) continue; // starts at a later revision
      const out = filterEvents(w.spec, evs);
      if (out.length === 0) {
        w.nextRev = revision + 1;
        continue;
      }
      if (!w.sink.ready) {
        // Fall behind: read this revision from history once the stream drains.
        this.leaveSynced(w);
        w.nextRev = revision;
        this.unsynced.add(w);
        continue;
      }
      w.nextRev = revision + 1;
      sendSafely(w, out, revision);
    }
  }

  /**
   * The source's state was replaced by a snapshot from `fromRevision` on: every synced watcher
   * has seen everything before it and nothing after, so it catches up from there like a
   * watcher that fell behind — or is canceled as compacted if the snapshot's history no longer
   * reaches back that far. Never a silent gap.
   */
  private onRestore(fromRevision: number): void {
    const synced = [...this.syncedRanges];
    for (const set of this.syncedByKey.values()) synced.push(...set);
    for (const w of synced) {
      this.leaveSynced(w);
      w.nextRev = Math.max(w.nextRev, fromRevision);
      this.unsynced.add(w);
    }
    if (this.unsynced.size > 0) this.scheduleSync();
  }

  // ---------------------------------------------------------------- catching up

  private scheduleSync(): void {
    if (this.syncScheduled !== undefined || this.closed) return;
    this.syncScheduled = setImmediate(() => {
      this.syncScheduled = undefined;
      this.syncRound();
    });
  }

  /** One history batch to each unsynced watcher whose stream is ready. */
  private syncRound(): void {
    let more = false;
    for (const w of [...this.unsynced]) {
      if (w.state !== "unsynced" || !w.sink.ready) continue;
      this.catchUp(w);
      if (w.state === "unsynced" && w.sink.ready) more = true;
    }
    if (more) this.scheduleSync();
  }

  private catchUp(w: Watcher): void {
    let batch: ReturnType<WatchEventSource["eventsSince"]>;
    try {
      batch = this.source.eventsSince(w.nextRev, w.spec.key, w.spec.rangeEnd, this.batchEvents);
    } catch (e) {
      if (!(e instanceof CompactedError)) throw e;
      this.unsynced.delete(w);
      w.state = "removed";
      w.sink.compacted(w, e.compactRevision);
      return;
    }
    const current = this.source.revision;
    const out = filterEvents(w.spec, batch.events);
    w.nextRev = batch.revision + 1;
    if (out.length > 0) sendSafely(w, out, current);
    if (w.state !== "unsynced") return; // the sink dropped it while sending
    if (batch.revision >= current) {
      this.unsynced.delete(w);
      this.joinSynced(w);
      w.sink.synced?.(w);
    }
  }

  private joinSynced(w: Watcher): void {
    w.state = "synced";
    const b = w.bounds;
    if (b.kind === "range") {
      this.syncedRanges.add(w);
      return;
    }
    let set = this.syncedByKey.get(b.key);
    if (set === undefined) {
      set = new Set();
      this.syncedByKey.set(b.key, set);
    }
    set.add(w);
  }

  private leaveSynced(w: Watcher): void {
    const b = w.bounds;
    w.state = "unsynced";
    if (b.kind === "range") {
      this.syncedRanges.delete(w);
      return;
    }
    const set = this.syncedByKey.get(b.key);
    if (set === undefined) return;
    set.delete(w);
    if (set.size === 0) this.syncedByKey.delete(b.key);
  }
}

/** Applies the watcher's filters and drops prevKv it did not ask for. */
function filterEvents(spec: WatchSpec, events: readonly KvEvent[]): KvEvent[] {
  const out: KvEvent[] = [];
  for (const ev of events) {
    if (ev.type === "PUT" ? spec.noPut : spec.noDelete) continue;
    out.push(!spec.prevKv && ev.prevKv !== undefined ? { type: ev.type, kv: ev.kv } : ev);
  }
  return out;
}

/**
 * Sends, never throwing into the store's apply path: a sink that fails is the stream's
 * problem, and the stream removes its watchers when it closes.
 */
function sendSafely(w: Watcher, events: readonly KvEvent[], revision: number): void {
  try {
    w.sink.send(w, events, revision);
  } catch {
    // The stream is gone; its close handler removes the watcher.
  }
}
