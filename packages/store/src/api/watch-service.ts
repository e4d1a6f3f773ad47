// etcdserverpb.Watch: one bidirectional stream carries many watchers (etcd's
// serverWatchStream). The client creates and cancels watchers and asks for progress; the
// server answers each create with a "created" reply, then sends each watcher's events (one
// reply per revision once it is synced), a compacted-and-canceled reply if its start revision
// is gone, and progress notifications.

import type { ServerDuplexCall } from "@tug/grpc";
import type { WatchHandlers } from "../gen/etcd/etcdserverpb/Watch.js";
import type { WatchCreateRequest__Output } from "../gen/etcd/etcdserverpb/WatchCreateRequest.js";
import type { WatchRequest__Output } from "../gen/etcd/etcdserverpb/WatchRequest.js";
import type { WatchResponse } from "../gen/etcd/etcdserverpb/WatchResponse.js";
import { compareBytes, type KvEvent } from "../mvcc/index.js";
import type { EtcdBackend } from "./backend.js";
import { bytes, header, int64 } from "./codec.js";
import type { EtcdHandlers } from "./server.js";
import type { Watcher, WatchHub, WatchSink } from "./watch-hub.js";

/** etcd's default --experimental-watch-progress-notify-interval. */
export const DEFAULT_PROGRESS_NOTIFY_INTERVAL_MS = 10 * 60 * 1000;

/**
 * Bytes a stream may have queued for the client before its watchers stop receiving live
 * events and fall back to catching up from history (etcd bounds each watch stream's channel
 * the same way). Large enough for bursts, small enough that a stalled client costs little.
 */
const DEFAULT_MAX_PENDING_BYTES = 8 * 1024 * 1024;

/** Roughly what a KeyValue costs on the wire beyond its key and value (five varint fields). */
const KV_OVERHEAD_BYTES = 40;

/** etcd's mvcc errors for a create it refuses. */
const ERR_DUPLICATE_ID = "mvcc: duplicate watch ID provided on the WatchStream";
const ERR_EMPTY_RANGE = "mvcc: watcher range is empty";

/** The watch id of replies that answer a progress request rather than one watcher. */
const PROGRESS_WATCH_ID = -1;

export interface WatchServiceOptions {
  /** How often a watcher that asked for progress_notify and got nothing hears the revision. */
  progressNotifyIntervalMs?: number;
  /** A fragmenting watcher's replies are split to stay under this (etcd: --max-request-bytes). */
  maxResponseBytes: number;
  maxPendingBytes?: number;
}

export class WatchService {
  private readonly streams = new Set<WatchStream>();

  constructor(
    private readonly backend: EtcdBackend,
    private readonly hub: WatchHub,
    private readonly options: WatchServiceOptions,
  ) {}

  handlers(): EtcdHandlers<WatchHandlers> {
    return {
      Watch: (call) => {
        const stream = new WatchStream(call, this.backend, this.hub, this.options, () =>
          this.streams.delete(stream),
        );
        this.streams.add(stream);
      },
    };
  }

  /** Ends every stream (the server is shutting down). */
  close(): void {
    for (const s of [...this.streams]) s.close(true);
  }
}

type Call = ServerDuplexCall<WatchRequest__Output, WatchResponse>;

class WatchStream implements WatchSink {
  private readonly watchers = new Map<number, Watcher>();
  /** Watchers with progress_notify: true when nothing was sent to them since the last tick. */
  private readonly progress = new Map<number, boolean>();
  private readonly fragment = new Set<number>();
  private nextId = 0;
  private pendingBytes = 0;
  private progressRequested = false;
  private closed = false;
  private readonly ticker: NodeJS.Timeout;
  private readonly maxPendingBytes: number;

  constructor(
    private readonly call: Call,
    private readonly backend: EtcdBackend,
    private readonly hub: WatchHub,
    private readonly options: WatchServiceOptions,
    private readonly onClose: () => void,
  ) {
    this.maxPendingBytes = options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
    const interval = options.progressNotifyIntervalMs ?? DEFAULT_PROGRESS_NOTIFY_INTERVAL_MS;
    this.ticker = setInterval(() => this.progressTick(), interval);
    this.ticker.unref();
    call.on("data", (req: WatchRequest__Output) => this.onRequest(req));
    // The client half-closed: etcd ends the stream too.
    call.on("end", () => this.close(true));
    call.on("cancelled", () => this.close(false));
    call.on("error", () => this.close(false));
    call.on("close", () => this.close(false));
  }

  get ready(): boolean {
    return !this.closed && this.pendingBytes < this.maxPendingBytes;
  }

  close(endCall: boolean): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.ticker);
    for (const w of this.watchers.values()) this.hub.remove(w);
    this.watchers.clear();
    this.onClose();
    if (endCall) {
      try {
        this.call.end();
      } catch {
        // already gone
      }
    }
  }

  // ---------------------------------------------------------------- requests

  private onRequest(req: WatchRequest__Output): void {
    if (this.closed) return;
    switch (req.requestUnion) {
      case "createRequest":
        if (req.createRequest) this.create(req.createRequest);
        return;
      case "cancelRequest":
        if (req.cancelRequest) this.cancel(int64(req.cancelRequest.watchId));
        return;
      case "progressRequest":
        this.progressRequested = true;
        this.maybeSendRequestedProgress();
        return;
      default:
        // etcd ignores a request it does not know rather than ending the stream.
        return;
    }
  }

  private create(c: WatchCreateRequest__Output): void {
    // "\0" is the smallest key: an empty key watches from the start of the keyspace.
    const key = c.key.length === 0 ? new Uint8Array([0]) : bytes(c.key);
    const rangeEnd = bytes(c.rangeEnd);
    const revision = this.backend.watchSource.revision;
    const refuse = (reason: string) =>
      this.write({
        header: header(this.backend.header(), revision),
        watchId: -1,
        created: true,
        canceled: true,
        cancelReason: reason,
      });
    const toEnd = rangeEnd.length === 1 && rangeEnd[0] === 0;
    if (rangeEnd.length > 0 && !toEnd && compareBytes(key, rangeEnd) >= 0) {
      refuse(ERR_EMPTY_RANGE);
      return;
    }
    let id = int64(c.watchId);
    if (id !== 0) {
      if (this.watchers.has(id)) {
        refuse(ERR_DUPLICATE_ID);
        return;
      }
    } else {
      while (this.watchers.has(this.nextId)) this.nextId++;
      id = this.nextId++;
    }
    const noPut = c.filters.includes("NOPUT");
    const noDelete = c.filters.includes("NODELETE");
    this.write({ header: header(this.backend.header(), revision), watchId: id, created: true });
    const w = this.hub.add(id, this, {
      key,
      rangeEnd,
      startRevision: int64(c.startRevision),
      prevKv: c.prevKv,
      noPut,
      noDelete,
    });
    this.watchers.set(id, w);
    if (c.progressNotify) this.progress.set(id, true);
    if (c.fragment) this.fragment.add(id);
  }

  private cancel(id: number): void {
    const w = this.watchers.get(id);
    // etcd answers nothing for an id it does not know.
    if (w === undefined) return;
    this.forget(id, w);
    this.write({ header: header(this.backend.header()), watchId: id, canceled: true });
  }

  private forget(id: number, w: Watcher): void {
    this.hub.remove(w);
    this.watchers.delete(id);
    this.progress.delete(id);
    this.fragment.delete(id);
    this.maybeSendRequestedProgress();
  }

  // ---------------------------------------------------------------- progress

  private progressTick(): void {
    for (const [id, quiet] of this.progress) {
      const w = this.watchers.get(id);
      if (quiet && w !== undefined && this.hub.isSynced(w)) {
        this.write({ header: header(this.backend.header()), watchId: id });
      }
      this.progress.set(id, true);
    }
  }

  /**
   * Answers a progress request once every watcher of the stream is synced: the header's
   * revision then promises that every later event on the stream is newer. (etcd 3.4 answers at
   * once, which breaks that promise while a watcher catches up; later etcd releases wait.)
   */
  private maybeSendRequestedProgress(): void {
    if (!this.progressRequested || this.closed) return;
    for (const w of this.watchers.values()) if (!this.hub.isSynced(w)) return;
    this.progressRequested = false;
    this.write({ header: header(this.backend.header()), watchId: PROGRESS_WATCH_ID });
  }

  // ---------------------------------------------------------------- WatchSink

  send(w: Watcher, events: readonly KvEvent[], revision: number): void {
    if (this.closed) return;
    const h = header(this.backend.header(), revision);
    if (this.progress.has(w.id)) this.progress.set(w.id, false);
    if (this.fragment.has(w.id) && events.length > 1) {
      for (const part of fragments(events, this.options.maxResponseBytes)) {
        this.write({ header: h, watchId: w.id, events: part.events, fragment: part.more });
      }
    } else {
      this.write({ header: h, watchId: w.id, events: events as KvEvent[] });
    }
    if (this.progressRequested && this.hub.isSynced(w)) this.maybeSendRequestedProgress();
  }

  synced(): void {
    this.maybeSendRequestedProgress();
  }

  compacted(w: Watcher, compactRevision: number): void {
    if (this.closed) return;
    this.watchers.delete(w.id);
    this.progress.delete(w.id);
    this.fragment.delete(w.id);
    this.write({
      header: header(this.backend.header()),
      watchId: w.id,
      canceled: true,
      compactRevision,
    });
    this.maybeSendRequestedProgress();
  }

  // ---------------------------------------------------------------- writing

  private write(resp: WatchResponse): void {
    if (this.closed) return;
    const size = responseBytes(resp.events as readonly KvEvent[] | undefined);
    this.pendingBytes += size;
    this.call.write(resp, () => {
      const wasReady = this.ready;
      this.pendingBytes -= size;
      if (!wasReady && this.ready) this.hub.resume(this);
    });
  }
}

/** Roughly the encoded size of a reply holding these events. */
function responseBytes(events: readonly KvEvent[] | undefined): number {
  let n = 32;
  if (events === undefined) return n;
  for (const ev of events) {
    n += ev.kv.key.length + ev.kv.value.length + KV_OVERHEAD_BYTES;
    if (ev.prevKv !== undefined) {
      n += ev.prevKv.key.length + ev.prevKv.value.length + KV_OVERHEAD_BYTES;
    }
  }
  return n;
}

/**
 * etcd's sendFragments: consecutive parts each under `max` bytes (but at least one event), all
 * but the last flagged `more`. Events are never split.
 */
function fragments(
  events: readonly KvEvent[],
  max: number,
): { events: KvEvent[]; more: boolean }[] {
  if (responseBytes(events) < max) return [{ events: [...events], more: false }];
  const parts: { events: KvEvent[]; more: boolean }[] = [];
  let cur: KvEvent[] = [];
  let size = responseBytes([]);
  for (const ev of events) {
    const evBytes = responseBytes([ev]) - responseBytes([]);
    if (cur.length > 0 && size + evBytes >= max) {
      parts.push({ events: cur, more: true });
      cur = [];
      size = responseBytes([]);
    }
    cur.push(ev);
    size += evBytes;
  }
  parts.push({ events: cur, more: false });
  return parts;
}
