// A thin etcd v3 client for tug-apiserver: the KV, Watch and Lease calls the storage layer
// needs, over several endpoints (--etcd-servers), on @tug/grpc's client core (node:http2) with
// tug-store's service definitions (their requestSerialize / responseDeserialize). Works against
// tug-store and etcd 3.4 alike: it uses only the etcd v3 wire protocol
// (https://etcd.io/docs/v3.4/learning/api/).

import {
  type CallOptions,
  type ChannelOptions,
  type ClientStream,
  GrpcChannel,
  requestNotSent,
  Status,
} from "@tug/grpc";
import { etcdServices } from "@tug/store";
import { AsyncQueue } from "./async-queue.js";

/**
 * Deadline of a unary call. etcdctl's --command-timeout default; a healthy member answers in
 * milliseconds, so a call this slow means the member is stuck (no quorum, partitioned) and the
 * next endpoint should be tried.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

/**
 * Compaction may walk the whole key space on a large store; etcd's own clients give it no
 * shorter deadline than a minute.
 */
export const COMPACT_TIMEOUT_MS = 60_000;

/**
 * How long a watch may take to be confirmed (created) before the stream is dropped and opened
 * again on the next endpoint: as long as any other request.
 */
export const WATCH_CREATE_TIMEOUT_MS = DEFAULT_REQUEST_TIMEOUT_MS;

/** Pause before retrying on another endpoint, so a cluster mid-election is not hammered. */
export const RETRY_BACKOFF_MS = 100;

/**
 * HTTP/2 keepalive, as etcd's clientv3 DialKeepAliveTime / DialKeepAliveTimeout: a watch
 * stream on a dead connection is noticed within 15 s and resumed elsewhere.
 */
const KEEPALIVE_TIME_MS = 10_000;
const KEEPALIVE_TIMEOUT_MS = 5_000;

const CHANNEL_OPTIONS: ChannelOptions = {
  keepaliveTimeMs: KEEPALIVE_TIME_MS,
  keepaliveTimeoutMs: KEEPALIVE_TIMEOUT_MS,
  keepalivePermitWithoutCalls: true,
  // A range over a large prefix may exceed gRPC's 4 MiB default; etcd's server bounds requests.
  maxReceiveMessageBytes: -1,
};

/** The methods this client calls: path and codecs from tug-store's etcd v3 definitions. */
type Services = typeof etcdServices;
const KV: Services["KV"]["service"] = etcdServices.KV.service;
const LEASE: Services["Lease"]["service"] = etcdServices.Lease.service;
const WATCH: Services["Watch"]["service"]["Watch"] = etcdServices.Watch.service.Watch;

/** What callers branch on. */
export type EtcdErrorCode =
  /** No member answered (down, no leader, leader changed): retry later. */
  | "unavailable"
  /** The deadline passed; a write may or may not have been applied. */
  | "deadline-exceeded"
  /** "etcdserver: mvcc: required revision has been compacted" */
  | "compacted"
  /** "etcdserver: mvcc: required revision is a future revision" */
  | "future-revision"
  /** "etcdserver: requested lease not found" */
  | "lease-not-found"
  /** The request was refused as malformed or too large. */
  | "invalid"
  | "canceled"
  | "internal";

/** One error type for every failure of the etcd client; `message` is the server's text. */
export class EtcdError extends Error {
  override readonly name = "EtcdError";
  readonly code: EtcdErrorCode;
  /** The gRPC status code, when the error came from a call. */
  readonly grpcCode: number | undefined;

  constructor(
    code: EtcdErrorCode,
    message: string,
    options?: { cause?: unknown; grpcCode?: number },
  ) {
    super(message, { cause: options?.cause });
    this.code = code;
    this.grpcCode = options?.grpcCode;
  }
}

/** Maps a gRPC error ({code, details}) to an EtcdError by status code and etcd's error texts. */
export function toEtcdError(e: unknown): EtcdError {
  if (e instanceof EtcdError) return e;
  const err = e as { code?: unknown; details?: unknown; message?: unknown } | undefined;
  const details = typeof err?.details === "string" ? err.details : String(err?.message ?? e);
  const grpcCode = typeof err?.code === "number" ? err.code : undefined;
  const opts = { cause: e, grpcCode };
  if (details.includes("required revision has been compacted")) {
    return new EtcdError("compacted", details, opts);
  }
  if (details.includes("required revision is a future revision")) {
    return new EtcdError("future-revision", details, opts);
  }
  if (details.includes("requested lease not found")) {
    return new EtcdError("lease-not-found", details, opts);
  }
  if (details.includes("no leader") || details.includes("leader changed")) {
    return new EtcdError("unavailable", details, opts);
  }
  switch (grpcCode) {
    case Status.UNAVAILABLE:
      return new EtcdError("unavailable", details, opts);
    case Status.DEADLINE_EXCEEDED:
      return new EtcdError("deadline-exceeded", details, opts);
    case Status.CANCELLED:
      return new EtcdError("canceled", details, opts);
    case Status.INVALID_ARGUMENT:
    case Status.FAILED_PRECONDITION:
    case Status.OUT_OF_RANGE:
    case Status.RESOURCE_EXHAUSTED:
      return new EtcdError("invalid", details, opts);
    default:
      return new EtcdError("internal", details, opts);
  }
}

/** A stored key: mvccpb.KeyValue with revisions as numbers (exact below 2^53). */
export interface KeyValue {
  readonly key: string;
  readonly value: Uint8Array;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  /** Lease id as a decimal string ("0": none); lease ids use all 64 bits. */
  readonly lease: string;
}

export interface RangeOptions {
  /** First key (inclusive). */
  readonly key: string;
  /** End of the range (exclusive); "\0" means every key >= key; absent means `key` alone. */
  readonly rangeEnd?: string | Uint8Array;
  /** Most keys to return; 0 = all. */
  readonly limit?: number;
  /** Read at this past revision; 0 = the latest. */
  readonly revision?: number;
  readonly countOnly?: boolean;
  readonly keysOnly?: boolean;
}

export interface RangeResult {
  /** In key order. */
  readonly kvs: readonly KeyValue[];
  /** More keys in the range than returned (limit). */
  readonly more: boolean;
  /** How many keys the whole range holds. */
  readonly count: number;
  /** The store revision the read was served at (the header revision). */
  readonly revision: number;
}

/** The outcome of a guarded write: on failure, the key as it is now (absent if missing). */
export type TxnOutcome =
  | { readonly succeeded: true; readonly revision: number; readonly prevKv?: KeyValue }
  | { readonly succeeded: false; readonly revision: number; readonly current?: KeyValue };

export interface WatchEvent {
  readonly type: "PUT" | "DELETE";
  /** For DELETE, modRevision is the deletion's revision and value is empty. */
  readonly kv: KeyValue;
  /** The previous state, when the watch asked for prevKv and it has not been compacted. */
  readonly prevKv?: KeyValue;
}

/** What a watch yields. After "compacted" the iteration ends. */
export type WatchBatch =
  /** Events of one or more revisions, in revision order. */
  | { readonly kind: "events"; readonly revision: number; readonly events: readonly WatchEvent[] }
  /** No change up to `revision` (progress notification). */
  | { readonly kind: "progress"; readonly revision: number }
  /** The revision to resume from was compacted; list again from `compactRevision` or later. */
  | { readonly kind: "compacted"; readonly compactRevision: number };

export interface WatchOptions {
  readonly key: string;
  /** As in RangeOptions; use prefixEnd(key) to watch a prefix. */
  readonly rangeEnd?: string | Uint8Array;
  /** First revision to report; 0 = changes after now. */
  readonly startRevision: number;
  readonly prevKv?: boolean;
  /** Ask the server for periodic progress notifications when idle. */
  readonly progressNotify?: boolean;
}

/** A watch: iterate for batches; close() ends it (the iteration then finishes). */
export interface EtcdWatch extends AsyncIterable<WatchBatch> {
  /** Asks the server for a progress notification (etcd 3.4's WatchProgressRequest). */
  requestProgress(): void;
  close(): void;
}

export interface EtcdClientOptions {
  /** Client URLs or host:port, e.g. ["http://127.0.0.1:2379"]; tried in order. */
  readonly endpoints: readonly string[];
  readonly requestTimeoutMs?: number;
}

/** The end of the range holding every key that starts with `prefix` (etcd's GetPrefixRangeEnd). */
export function prefixEnd(prefix: string | Uint8Array): Buffer {
  const end = Buffer.from(typeof prefix === "string" ? Buffer.from(prefix, "utf8") : prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    const b = end[i] ?? 0xff;
    if (b < 0xff) {
      end[i] = b + 1;
      return end.subarray(0, i + 1);
    }
  }
  // Every byte is 0xff: the range runs to the end of the key space.
  return Buffer.from([0]);
}

/** The decoded request and response types of a method definition. */
type RequestOf<M> = M extends { requestSerialize: (request: infer R) => Buffer } ? R : never;
type ResponseOf<M> = M extends { responseDeserialize: (bytes: Buffer) => infer R } ? R : never;

type TxnRequest = RequestOf<Services["KV"]["service"]["Txn"]>;
type RangeRequest = RequestOf<Services["KV"]["service"]["Range"]>;
type RawKeyValue = ResponseOf<Services["KV"]["service"]["Range"]>["kvs"][number];
type WatchRequest = RequestOf<Services["Watch"]["service"]["Watch"]>;
type RawWatchResponse = ResponseOf<Services["Watch"]["service"]["Watch"]>;

interface Endpoint {
  readonly address: string;
  /** One HTTP/2 session for KV, Watch and Lease calls alike. */
  channel?: GrpcChannel;
}

function toKey(s: string | Uint8Array): Buffer {
  return typeof s === "string" ? Buffer.from(s, "utf8") : Buffer.from(s);
}

function toKeyValue(kv: RawKeyValue): KeyValue {
  return {
    key: kv.key.toString("utf8"),
    value: kv.value,
    createRevision: Number(kv.createRevision),
    modRevision: Number(kv.modRevision),
    version: Number(kv.version),
    lease: kv.lease,
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Whether a failed write certainly did not reach a leader's log, so sending it again is safe:
 * the member had no leader, or the request never reached a member at all (no connection, or the
 * stream was refused).
 */
function writeWasNotApplied(e: EtcdError): boolean {
  if (e.code !== "unavailable") return false;
  return e.message.includes("no leader") || requestNotSent(e.cause);
}

export class EtcdClient {
  private readonly endpoints: Endpoint[];
  private current = 0;
  private readonly requestTimeoutMs: number;
  private closed = false;
  private readonly watches = new Set<WatchStream>();
  /** How many Watch gRPC streams this client has opened (for tests and metrics). */
  watchStreamsOpened = 0;

  constructor(options: EtcdClientOptions) {
    if (options.endpoints.length === 0) {
      throw new Error("EtcdClient: endpoints is empty; give at least one etcd client URL");
    }
    this.endpoints = options.endpoints.map((e) => ({
      address: e.replace(/^[a-z]+:\/\//, "").replace(/\/$/, ""),
    }));
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  private channel(ep: Endpoint): GrpcChannel {
    ep.channel ??= new GrpcChannel(ep.address, CHANNEL_OPTIONS);
    return ep.channel;
  }

  private options(timeoutMs = this.requestTimeoutMs): CallOptions {
    return { deadline: Date.now() + timeoutMs };
  }

  /** The endpoint to use now. */
  private pickEndpoint(): Endpoint {
    const ep = this.endpoints[this.current % this.endpoints.length];
    if (ep === undefined) throw new Error("no endpoint");
    return ep;
  }

  private moveOn(from: Endpoint): void {
    if (this.pickEndpoint() === from) this.current = (this.current + 1) % this.endpoints.length;
  }

  /**
   * Runs `op` on the current endpoint; on "unavailable" (and, for reads, a deadline) moves to
   * the next endpoint and retries: reads always, writes only when they were certainly not
   * applied. Each endpoint gets two tries.
   */
  private async call<T>(idempotent: boolean, op: (ep: Endpoint) => Promise<T>): Promise<T> {
    const attempts = this.endpoints.length * 2;
    let last: EtcdError | undefined;
    for (let i = 0; i < attempts; i++) {
      if (this.closed) throw new EtcdError("canceled", "etcd client closed");
      const ep = this.pickEndpoint();
      try {
        return await op(ep);
      } catch (e) {
        const err = toEtcdError(e);
        last = err;
        const retriable =
          err.code === "unavailable" || (idempotent && err.code === "deadline-exceeded");
        if (!retriable) throw err;
        this.moveOn(ep);
        if (!idempotent && !writeWasNotApplied(err)) throw err;
        await sleep(RETRY_BACKOFF_MS);
      }
    }
    throw last ?? new EtcdError("unavailable", "no etcd endpoint answered");
  }

  private rawRange(ep: Endpoint, req: RangeRequest) {
    return this.channel(ep).unary(KV.Range, req, this.options());
  }

  /** Reads one key, linearizably. */
  async get(key: string): Promise<{ kv?: KeyValue; revision: number }> {
    const res = await this.range({ key });
    const kv = res.kvs[0];
    return kv === undefined ? { revision: res.revision } : { kv, revision: res.revision };
  }

  /** A linearizable range read (serializable reads could be stale after a failover). */
  async range(o: RangeOptions): Promise<RangeResult> {
    const res = await this.call(true, (ep) =>
      this.rawRange(ep, {
        key: toKey(o.key),
        rangeEnd: o.rangeEnd === undefined ? undefined : toKey(o.rangeEnd),
        limit: o.limit ?? 0,
        revision: o.revision ?? 0,
        countOnly: o.countOnly ?? false,
        keysOnly: o.keysOnly ?? false,
      }),
    );
    return {
      kvs: res.kvs.map(toKeyValue),
      more: res.more,
      count: Number(res.count),
      revision: Number(res.header?.revision ?? 0),
    };
  }

  /** A raw Txn, for callers that need other compares (e.g. the compactor). Not retried. */
  async txn(req: TxnRequest): Promise<{ succeeded: boolean; revision: number }> {
    const res = await this.call(false, (ep) => this.rawTxn(ep, req));
    return { succeeded: res.succeeded, revision: Number(res.header?.revision ?? 0) };
  }

  private rawTxn(ep: Endpoint, req: TxnRequest) {
    return this.channel(ep).unary(KV.Txn, req, this.options());
  }

  /** Puts `key` only if it does not exist (create_revision == 0). */
  async create(key: string, value: Uint8Array, lease = "0"): Promise<TxnOutcome> {
    return this.guardedPut(key, value, { target: "CREATE", createRevision: 0 }, lease);
  }

  /**
   * Puts `key` only if its mod revision is still `modRevision`. `lease`: the lease to attach,
   * or "keep" for the one the key has (etcd's ignore_lease; the compare guarantees the key
   * exists, which ignore_lease requires).
   */
  async update(
    key: string,
    value: Uint8Array,
    modRevision: number,
    lease: string = "0",
  ): Promise<TxnOutcome> {
    return this.guardedPut(key, value, { target: "MOD", modRevision }, lease);
  }

  /** Puts `key` only if its version (writes since creation; 0 = absent) is still `version`. */
  async putIfVersion(key: string, value: Uint8Array, version: number): Promise<TxnOutcome> {
    return this.guardedPut(key, value, { target: "VERSION", version }, "0");
  }

  private async guardedPut(
    key: string,
    value: Uint8Array,
    cmp:
      | { target: "CREATE"; createRevision: number }
      | { target: "MOD"; modRevision: number }
      | { target: "VERSION"; version: number },
    lease: string,
  ): Promise<TxnOutcome> {
    const k = toKey(key);
    const res = await this.call(false, (ep) =>
      this.rawTxn(ep, {
        compare: [{ result: "EQUAL", key: k, ...cmp }],
        success: [
          {
            requestPut:
              lease === "keep"
                ? { key: k, value: Buffer.from(value), ignoreLease: true }
                : { key: k, value: Buffer.from(value), lease },
          },
        ],
        failure: [{ requestRange: { key: k } }],
      }),
    );
    const revision = Number(res.header?.revision ?? 0);
    if (res.succeeded) return { succeeded: true, revision };
    const kv = res.responses[0]?.responseRange?.kvs[0];
    return kv === undefined
      ? { succeeded: false, revision }
      : { succeeded: false, revision, current: toKeyValue(kv) };
  }

  /**
   * Deletes `key` if its mod revision is still `modRevision` (any revision when absent).
   * On success prevKv is the deleted state.
   */
  async delete(key: string, modRevision?: number): Promise<TxnOutcome> {
    const k = toKey(key);
    const res = await this.call(false, (ep) =>
      this.rawTxn(ep, {
        compare:
          modRevision === undefined
            ? []
            : [{ result: "EQUAL", target: "MOD", key: k, modRevision }],
        success: [{ requestDeleteRange: { key: k, prevKv: true } }],
        failure: [{ requestRange: { key: k } }],
      }),
    );
    const revision = Number(res.header?.revision ?? 0);
    if (res.succeeded) {
      const prev = res.responses[0]?.responseDeleteRange?.prevKvs[0];
      return prev === undefined
        ? { succeeded: true, revision }
        : { succeeded: true, revision, prevKv: toKeyValue(prev) };
    }
    const kv = res.responses[0]?.responseRange?.kvs[0];
    return kv === undefined
      ? { succeeded: false, revision }
      : { succeeded: false, revision, current: toKeyValue(kv) };
  }

  /** Compacts history up to `revision`; "compacted" if it already was. */
  async compact(revision: number): Promise<void> {
    await this.call(true, (ep) =>
      this.channel(ep).unary(
        KV.Compact,
        { revision, physical: false },
        this.options(COMPACT_TIMEOUT_MS),
      ),
    );
  }

  /** Grants a lease; returns its id (decimal string) and the TTL the server chose. */
  async grant(ttlSeconds: number): Promise<{ id: string; ttl: number }> {
    const res = await this.call(false, (ep) =>
      this.channel(ep).unary(LEASE.LeaseGrant, { TTL: ttlSeconds, ID: 0 }, this.options()),
    );
    if (res.error !== "") throw new EtcdError("internal", res.error);
    return { id: res.ID, ttl: Number(res.TTL) };
  }

  /** Renews a lease once; returns the TTL it now has ("lease-not-found" if it expired). */
  async keepAliveOnce(id: string): Promise<number> {
    return this.call(
      true,
      (ep) =>
        new Promise<number>((resolve, reject) => {
          const stream = this.channel(ep).stream(LEASE.LeaseKeepAlive, this.options(), {
            onMessage: (res) => {
              const ttl = Number(res.TTL);
              if (ttl <= 0)
                reject(new EtcdError("lease-not-found", "etcdserver: requested lease not found"));
              else resolve(ttl);
              // One answer is all this call wants; the CANCELLED this reports is then ignored.
              stream.cancel();
            },
            onEnd: (e) =>
              reject(
                e === null
                  ? new EtcdError("unavailable", "lease keep-alive stream ended without an answer")
                  : toEtcdError(e),
              ),
          });
          stream.write({ ID: id });
        }),
    );
  }

  async revoke(id: string): Promise<void> {
    await this.call(true, (ep) =>
      this.channel(ep).unary(LEASE.LeaseRevoke, { ID: id }, this.options()),
    );
  }

  /**
   * Watches a key or range. Resumes after a broken stream (on the next endpoint) from the
   * revision after the last one seen, so no event is lost or repeated; yields "compacted" and
   * ends if that revision is gone.
   */
  watch(o: WatchOptions): EtcdWatch {
    if (this.closed) throw new EtcdError("canceled", "etcd client closed");
    const w = new WatchStream(this, o, () => this.watches.delete(w));
    this.watches.add(w);
    w.open();
    return w;
  }

  /** @internal For WatchStream: a fresh stream on the current endpoint. */
  openWatchStream(handlers: {
    onMessage(res: RawWatchResponse): void;
    onEnd(error: unknown): void;
  }): { stream: ClientStream<WatchRequest, RawWatchResponse>; endpoint: Endpoint } {
    const endpoint = this.pickEndpoint();
    this.watchStreamsOpened++;
    const stream = this.channel(endpoint).stream(WATCH, undefined, {
      onMessage: handlers.onMessage,
      onEnd: (e) =>
        handlers.onEnd(e ?? new EtcdError("unavailable", "watch stream ended by the server")),
    });
    return { stream, endpoint };
  }

  /** @internal For WatchStream: give up on an endpoint whose stream failed. */
  endpointFailed(ep: Endpoint): void {
    this.moveOn(ep);
  }

  /** Ends every watch and closes the connections. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.watches]) w.close();
    for (const ep of this.endpoints) ep.channel?.close();
  }
}

class WatchStream implements EtcdWatch {
  private readonly queue: AsyncQueue<WatchBatch>;
  private stream: ClientStream<WatchRequest, RawWatchResponse> | undefined;
  /** The next revision to report: where a resumed stream starts (0 = now, not yet known). */
  private nextRevision: number;
  private closed = false;
  private createTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: EtcdClient,
    private readonly o: WatchOptions,
    private readonly onClose: () => void,
  ) {
    this.nextRevision = o.startRevision;
    this.queue = new AsyncQueue<WatchBatch>(() => this.close());
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchBatch> {
    return this.queue[Symbol.asyncIterator]();
  }

  open(): void {
    if (this.closed) return;
    let created = false;
    let failed = false;
    const { stream, endpoint } = this.client.openWatchStream({
      onMessage: (res) =>
        this.onResponse(res, () => {
          created = true;
          clearTimeout(this.createTimer);
        }),
      onEnd: (why) => fail(why),
    });
    this.stream = stream;
    const fail = (why: unknown) => {
      if (failed || this.closed) return;
      failed = true;
      clearTimeout(this.createTimer);
      stream.cancel();
      const err = toEtcdError(why);
      if (
        err.code === "unavailable" ||
        err.code === "deadline-exceeded" ||
        err.code === "canceled" ||
        err.code === "internal"
      ) {
        this.client.endpointFailed(endpoint);
        setTimeout(() => this.open(), RETRY_BACKOFF_MS).unref();
      } else {
        this.finish(err);
      }
    };
    this.createTimer = setTimeout(() => {
      if (!created) fail(new EtcdError("deadline-exceeded", "watch was not created in time"));
    }, WATCH_CREATE_TIMEOUT_MS);
    this.createTimer.unref();
    stream.write({
      createRequest: {
        key: toKey(this.o.key),
        rangeEnd: this.o.rangeEnd === undefined ? undefined : toKey(this.o.rangeEnd),
        startRevision: this.nextRevision,
        prevKv: this.o.prevKv ?? false,
        progressNotify: this.o.progressNotify ?? false,
      },
    });
  }

  /** One WatchResponse: creation, cancel or compaction, events, or a progress notification. */
  private onResponse(res: RawWatchResponse, onCreated: () => void): void {
    if (this.closed) return;
    const revision = Number(res.header?.revision ?? 0);
    if (res.created) {
      onCreated();
      if (this.nextRevision === 0) this.nextRevision = revision + 1;
    }
    if (res.canceled || Number(res.compactRevision) > 0) {
      const compactRevision = Number(res.compactRevision);
      if (compactRevision > 0) {
        this.queue.push({ kind: "compacted", compactRevision });
        this.finish();
      } else {
        this.finish(new EtcdError("canceled", res.cancelReason || "watch canceled by the server"));
      }
      return;
    }
    if (res.events.length > 0) {
      const events: WatchEvent[] = [];
      for (const e of res.events) {
        if (e.kv === null) continue;
        const kv = toKeyValue(e.kv);
        events.push(
          e.prevKv === null || e.prevKv.key.length === 0
            ? { type: e.type, kv }
            : { type: e.type, kv, prevKv: toKeyValue(e.prevKv) },
        );
      }
      const last = events[events.length - 1];
      if (last !== undefined) {
        this.nextRevision = last.kv.modRevision + 1;
        this.queue.push({ kind: "events", revision: last.kv.modRevision, events });
      }
    } else if (!res.created && revision > 0) {
      // A progress notification: nothing in range changed up to `revision`.
      if (revision + 1 > this.nextRevision) this.nextRevision = revision + 1;
      this.queue.push({ kind: "progress", revision });
    }
  }

  requestProgress(): void {
    if (this.closed) return;
    this.stream?.write({ progressRequest: {} });
  }

  private finish(error?: EtcdError): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.createTimer);
    this.stream?.cancel();
    this.onClose();
    if (error === undefined) this.queue.end();
    else this.queue.fail(error);
  }

  close(): void {
    this.finish();
  }
}
