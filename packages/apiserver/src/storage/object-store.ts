// tug-apiserver's storage.Interface: Kubernetes objects kept in etcd v3 under
// /registry/<group>/<resource>/[<namespace>/]<name>, with resourceVersion = the key's mod
// revision. Generic over the object type through a codec; the semantics follow
// k8s.io/apiserver/pkg/storage (Create, Get, GetList with limit/continue, GuaranteedUpdate,
// Delete with preconditions, Watch) and the API concepts doc
// (https://kubernetes.io/docs/reference/using-api/api-concepts/).

import {
  ApiError,
  CONTINUE_EXPIRED_MESSAGE,
  type GroupResource,
  isApiError,
  WATCH_EXPIRED_MESSAGE,
} from "./errors.js";
import {
  type EtcdClient,
  EtcdError,
  type EtcdWatch,
  type KeyValue,
  prefixEnd,
} from "./etcd-client.js";
import { LeaseManager } from "./lease-manager.js";

/** The most written objects kept for the store watch to hand out (see ObjectStore.recentWrites). */
const RECENT_WRITES_LIMIT = 1000;

/** Where Kubernetes keeps objects in etcd (kube-apiserver's --etcd-prefix default). */
export const DEFAULT_REGISTRY_PREFIX = "/registry";

/** How the store turns objects into bytes and reaches the two metadata fields it manages. */
export interface ObjectCodec<T> {
  encode(obj: T): Uint8Array;
  /** Must return a new object: the store hands it out and may set its resourceVersion. */
  decode(bytes: Uint8Array): T;
  resourceVersionOf(obj: T): string;
  /** Returns `obj` with metadata.resourceVersion set (a copy or `obj` itself, mutated). */
  withResourceVersion(obj: T, resourceVersion: string): T;
  /** metadata.uid, for delete and update preconditions. */
  uidOf(obj: T): string;
}

/** A resource and whether its objects live in namespaces. */
export interface ResourceInfo extends GroupResource {
  readonly namespaced: boolean;
}

/** One object's name; `namespace` only for namespaced resources. */
export interface ObjectRef {
  readonly namespace?: string;
  readonly name: string;
}

/** Kubernetes' Preconditions (metav1.Preconditions): the write happens only if they hold. */
export interface Preconditions {
  readonly uid?: string;
  readonly resourceVersion?: string;
}

/** Returned by a tryUpdate function to leave the object as it is (no write, no new revision). */
export const UNCHANGED: unique symbol = Symbol("unchanged");

/**
 * Computes the next state from the current one. Called again with the fresh state when another
 * writer won the race, so it must not have side effects; it may throw an ApiError to refuse.
 */
export type TryUpdate<T> = (current: T) => T | typeof UNCHANGED | Promise<T | typeof UNCHANGED>;

export interface ListOptions {
  /** List one namespace; absent: all namespaces (or a cluster-scoped resource). */
  readonly namespace?: string;
  /** Most items in one page; 0 or absent: all. */
  readonly limit?: number;
  /** The continue token of the previous page. */
  readonly continue?: string;
  /** Read at exactly this resourceVersion (resourceVersionMatch=Exact); absent: the latest. */
  readonly resourceVersion?: string;
}

export interface ListResult<T> {
  /** In key order (namespace, then name). */
  readonly items: T[];
  /** The revision the whole list (all its pages) is served at. */
  readonly resourceVersion: string;
  /** Present when more items remain: pass it as ListOptions.continue. */
  readonly continue?: string;
  /** How many items the following pages hold, when known. */
  readonly remainingItemCount?: number;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface ObjectEvent<T> {
  readonly type: WatchEventType;
  /** For DELETED: the last stored state, with resourceVersion = the deletion's revision. */
  readonly object: T;
  /** The etcd key, e.g. /registry/core/pods/default/web. */
  readonly key: string;
  readonly revision: number;
}

/** Nothing under the watched prefix changed up to `revision` (etcd progress notification). */
export interface ProgressEvent {
  readonly type: "PROGRESS";
  readonly revision: number;
}

/**
 * A watch over objects. Iterating yields events in revision order; the iteration fails with an
 * ApiError Expired (410) when the requested revision was compacted, which clients answer by
 * listing again.
 */
export interface ObjectWatch<T> extends AsyncIterable<ObjectEvent<T> | ProgressEvent> {
  /** Asks the store for a progress event with the current revision. */
  requestProgress(): void;
  close(): void;
}

export interface WatchOptions {
  readonly namespace?: string;
  /**
   * Events after this resourceVersion. "" or "0": first an ADDED event for every existing
   * object (as of one list), then changes after that list.
   */
  readonly resourceVersion: string;
  /** Ask etcd for periodic progress events when nothing changes. */
  readonly progressNotify?: boolean;
}

interface ContinueToken {
  /** Kubernetes' continue token version. */
  v: string;
  rv: number;
  /** The key to resume at, relative to the resource's prefix. */
  start: string;
}

const CONTINUE_TOKEN_VERSION = "meta.k8s.io/v1";

/** Maps a store error to the ApiError a client sees. */
export function toApiError(e: unknown): ApiError {
  if (isApiError(e)) return e;
  if (e instanceof EtcdError) {
    switch (e.code) {
      case "unavailable":
        return ApiError.serviceUnavailable(`etcd is unavailable: ${e.message}`, e);
      case "deadline-exceeded":
        return ApiError.timeout(`etcd did not answer in time: ${e.message}`, e);
      case "compacted":
        return ApiError.expired(e.message);
      default:
        return ApiError.internal(e.message, e);
    }
  }
  return ApiError.internal(e instanceof Error ? e.message : String(e), e);
}

function parseResourceVersion(rv: string, field: string): number {
  if (!/^\d+$/.test(rv)) {
    throw ApiError.badRequest(
      `${field}: Invalid value: "${rv}": must be a resourceVersion returned by the server (a decimal number)`,
    );
  }
  return Number(rv);
}

export interface ObjectStoreOptions {
  /** Default DEFAULT_REGISTRY_PREFIX ("/registry"). */
  readonly registryPrefix?: string;
  /** Leases for objects with a TTL; share one manager across resources to share leases. */
  readonly leases?: LeaseManager;
}

/** storage.Interface over one resource. */
export class ObjectStore<T> {
  /** "/registry/<group>/<resource>/" */
  readonly resourcePrefix: string;

  private readonly leases: LeaseManager;
  /**
   * The stored bytes (value in etcd) of each object this store decoded or wrote, so that they
   * need not be made again: see storedBytesOf. Weak: an object no one holds takes its bytes.
   */
  private readonly storedBytes = new WeakMap<object, Uint8Array>();
  /**
   * Objects this store has just written, by key, until its watch delivers their revision: the
   * watch hands out the written object itself instead of decoding the bytes it was made from.
   * Kept only while a watch is open (the watch cache's). A write whose event arrived before its
   * own response is forgotten at the next event of its key, or pushed out by later writes.
   */
  private readonly recentWrites = new Map<string, { revision: number; object: T }>();
  private openWatches = 0;

  constructor(
    private readonly client: EtcdClient,
    readonly resource: ResourceInfo,
    private readonly codec: ObjectCodec<T>,
    /** The registry prefix (a string, as before options existed) or options. */
    options: string | ObjectStoreOptions = {},
  ) {
    const o = typeof options === "string" ? { registryPrefix: options } : options;
    const group = resource.group === "" ? "core" : resource.group;
    this.resourcePrefix = `${o.registryPrefix ?? DEFAULT_REGISTRY_PREFIX}/${group}/${resource.resource}/`;
    this.leases = o.leases ?? new LeaseManager(client);
  }

  /** The store's current revision (a linearizable read of one key). */
  async currentRevision(): Promise<number> {
    try {
      return (await this.client.get(this.resourcePrefix)).revision;
    } catch (e) {
      throw toApiError(e);
    }
  }

  /**
   * Every key of the resource with its mod revision, as of `revision` (a keys-only range):
   * lets a cache check that it holds exactly the state at that revision.
   */
  async keyRevisions(revision: number): Promise<Map<string, number>> {
    try {
      const res = await this.client.range({
        key: this.resourcePrefix,
        rangeEnd: prefixEnd(this.resourcePrefix),
        revision,
        keysOnly: true,
      });
      return new Map(res.kvs.map((kv) => [kv.key, kv.modRevision]));
    } catch (e) {
      throw toApiError(e);
    }
  }

  /** The key of one object; checks that a namespace is given exactly when the resource needs one. */
  keyFor(ref: ObjectRef): string {
    if (ref.name === "")
      throw ApiError.badRequest("metadata.name: Required value: name is required");
    if (this.resource.namespaced) {
      if (ref.namespace === undefined || ref.namespace === "") {
        throw ApiError.badRequest(
          `metadata.namespace: Required value: ${this.resource.resource} are namespaced; give a namespace`,
        );
      }
      return `${this.resourcePrefix}${ref.namespace}/${ref.name}`;
    }
    if (ref.namespace !== undefined && ref.namespace !== "") {
      throw ApiError.badRequest(
        `metadata.namespace: Forbidden: ${this.resource.resource} are cluster-scoped; leave namespace empty`,
      );
    }
    return `${this.resourcePrefix}${ref.name}`;
  }

  /** The prefix of a namespace's objects, or of all objects of the resource. */
  prefixFor(namespace?: string): string {
    return this.resource.namespaced && namespace !== undefined && namespace !== ""
      ? `${this.resourcePrefix}${namespace}/`
      : this.resourcePrefix;
  }

  private decode(kv: KeyValue, resourceVersion = kv.modRevision): T {
    let obj: T;
    try {
      obj = this.codec.decode(kv.value);
    } catch (e) {
      throw ApiError.internal(`cannot decode ${kv.key}: ${(e as Error).message}`, e);
    }
    return this.remember(this.codec.withResourceVersion(obj, String(resourceVersion)), kv.value);
  }

  private remember(obj: T, bytes: Uint8Array): T {
    if (typeof obj === "object" && obj !== null) this.storedBytes.set(obj, bytes);
    return obj;
  }

  /** Records a write for the watch (see recentWrites); returns the object. */
  private written(key: string, revision: number, obj: T): T {
    if (this.openWatches === 0) return obj;
    this.recentWrites.delete(key);
    this.recentWrites.set(key, { revision, object: obj });
    if (this.recentWrites.size > RECENT_WRITES_LIMIT) {
      const oldest = this.recentWrites.keys().next();
      if (oldest.done !== true) this.recentWrites.delete(oldest.value);
    }
    return obj;
  }

  /** The object this store wrote as `key` at `revision`, if it still has it. */
  private takeWritten(key: string, revision: number): T | undefined {
    const w = this.recentWrites.get(key);
    if (w === undefined || w.revision > revision) return undefined;
    this.recentWrites.delete(key);
    return w.revision === revision ? w.object : undefined;
  }

  /**
   * The bytes to store: the object without resourceVersion (etcd keeps it as mod revision).
   * The object is left as it was.
   */
  encode(obj: T): Uint8Array {
    const rv = this.codec.resourceVersionOf(obj);
    const bytes = this.codec.encode(this.codec.withResourceVersion(obj, ""));
    if (rv !== "") this.codec.withResourceVersion(obj, rv);
    return bytes;
  }

  /**
   * The bytes `obj` is stored as (its encoding without resourceVersion), when this store
   * decoded it from the store or wrote it: reused instead of encoding it again. The answer
   * holds only while the object is unchanged since, so ask only about objects that nobody
   * mutates: the watch cache's (immutable once cached) and the result of a write before the
   * caller changes it. Undefined when the store does not know the object.
   */
  storedBytesOf(obj: T): Uint8Array | undefined {
    return typeof obj === "object" && obj !== null ? this.storedBytes.get(obj) : undefined;
  }

  /**
   * Stores a new object; AlreadyExists if the name is taken. With `ttlSeconds`, the object is
   * removed by the store after that long (a lease shared with objects created around the same
   * time, so it may live up to 5% longer, at most 60 s), as Kubernetes does for Events.
   * `encoded`: `encode(obj)`, when the caller has made it already (to check the size).
   * Returns the stored object with its resourceVersion: `obj` itself, handed over (set through
   * the codec's withResourceVersion), not a copy decoded again. It is shared with the store
   * watch, which delivers it as the write's event: the caller must not change it.
   */
  async create(
    ref: ObjectRef,
    obj: T,
    options: { ttlSeconds?: number; encoded?: Uint8Array } = {},
  ): Promise<T> {
    const key = this.keyFor(ref);
    if (this.codec.resourceVersionOf(obj) !== "") {
      throw ApiError.badRequest(
        "metadata.resourceVersion: Invalid value: resourceVersion should not be set on objects to be created",
      );
    }
    const bytes = options.encoded ?? this.encode(obj);
    try {
      const ttl = options.ttlSeconds ?? 0;
      let lease = ttl > 0 ? await this.leases.getLease(ttl) : "0";
      let res: Awaited<ReturnType<EtcdClient["create"]>>;
      try {
        res = await this.client.create(key, bytes, lease);
      } catch (e) {
        // A shared lease the store already expired (clocks differ): take a fresh one, once.
        if (!(e instanceof EtcdError && e.code === "lease-not-found" && ttl > 0)) throw e;
        this.leases.reset();
        lease = await this.leases.getLease(ttl);
        res = await this.client.create(key, bytes, lease);
      }
      if (!res.succeeded) throw ApiError.alreadyExists(this.resource, ref.name);
      const stored = this.codec.withResourceVersion(obj, String(res.revision));
      return this.written(key, res.revision, this.remember(stored, bytes));
    } catch (e) {
      throw toApiError(e);
    }
  }

  /** Reads one object (a linearizable read); NotFound if absent. */
  async get(ref: ObjectRef): Promise<T> {
    const key = this.keyFor(ref);
    const kv = await this.client.get(key).then(
      (r) => r.kv,
      (e: unknown) => Promise.reject(toApiError(e)),
    );
    if (kv === undefined) throw ApiError.notFound(this.resource, ref.name);
    return this.decode(kv);
  }

  /**
   * Lists objects in key order. Pages (limit + continue) are all read at the revision of the
   * first page, so together they are one consistent snapshot; once that revision is compacted
   * a continue token fails with Expired (410).
   */
  async list(options: ListOptions = {}): Promise<ListResult<T>> {
    const { entries, ...rest } = await this.listEntries(options);
    return { items: entries.map((e) => e.object), ...rest };
  }

  /** As list(), with each object's key (for caches keyed like the store). */
  async listEntries(
    options: ListOptions = {},
  ): Promise<Omit<ListResult<T>, "items"> & { entries: { key: string; object: T }[] }> {
    const listPrefix = this.prefixFor(options.namespace);
    let start = listPrefix;
    let revision = 0;
    if (options.continue !== undefined && options.continue !== "") {
      const token = this.decodeContinue(options.continue);
      start = this.resourcePrefix + token.start;
      if (!start.startsWith(listPrefix)) {
        throw ApiError.badRequest(
          "continue: Invalid value: the continue token was issued for another namespace; list without it",
        );
      }
      revision = token.rv;
    } else if (options.resourceVersion !== undefined && options.resourceVersion !== "") {
      revision = parseResourceVersion(options.resourceVersion, "resourceVersion");
    }
    const limit = options.limit ?? 0;
    let res: Awaited<ReturnType<EtcdClient["range"]>>;
    try {
      res = await this.client.range({
        key: start,
        rangeEnd: prefixEnd(listPrefix),
        limit,
        revision,
      });
    } catch (e) {
      if (e instanceof EtcdError && e.code === "compacted") {
        throw ApiError.expired(
          options.continue !== undefined && options.continue !== ""
            ? CONTINUE_EXPIRED_MESSAGE
            : "The resourceVersion for the provided list is too old.",
        );
      }
      throw toApiError(e);
    }
    const readAt = revision === 0 ? res.revision : revision;
    const entries = res.kvs.map((kv) => ({ key: kv.key, object: this.decode(kv) }));
    const last = res.kvs[res.kvs.length - 1];
    if (!res.more || last === undefined) return { entries, resourceVersion: String(readAt) };
    return {
      entries,
      resourceVersion: String(readAt),
      continue: this.continueAfter(last.key, readAt),
      remainingItemCount: res.count - entries.length,
    };
  }

  /**
   * The continue token of a page that ends at `key`, read at `revision`: the next page is read
   * from the store at that revision, starting after `key`. The watch cache issues the same
   * tokens for the first pages it serves, so every later page is one consistent snapshot.
   */
  continueAfter(key: string, revision: number): string {
    if (!key.startsWith(this.resourcePrefix)) {
      throw new RangeError(`${key} is not a key of ${this.resourcePrefix}`);
    }
    return this.encodeContinue({
      v: CONTINUE_TOKEN_VERSION,
      rv: revision,
      start: `${key.slice(this.resourcePrefix.length)}\u0000`,
    });
  }

  private encodeContinue(token: ContinueToken): string {
    return Buffer.from(JSON.stringify(token), "utf8").toString("base64url");
  }

  private decodeContinue(s: string): ContinueToken {
    const invalid = (why: string) =>
      ApiError.badRequest(`continue: Invalid value: "${s}": ${why}; list again without continue`);
    let token: unknown;
    try {
      token = JSON.parse(Buffer.from(s, "base64url").toString("utf8"));
    } catch {
      throw invalid("not a continue token");
    }
    const t = token as Partial<ContinueToken> | null;
    if (t === null || typeof t !== "object" || t.v !== CONTINUE_TOKEN_VERSION) {
      throw invalid("not a continue token of this server");
    }
    if (typeof t.rv !== "number" || !Number.isSafeInteger(t.rv) || t.rv <= 0) {
      throw invalid("its resourceVersion is not valid");
    }
    if (typeof t.start !== "string" || t.start.startsWith("/") || t.start.includes("..")) {
      throw invalid("its start key is not valid");
    }
    return { v: t.v, rv: t.rv, start: t.start };
  }

  private checkPreconditions(
    name: string,
    obj: T,
    p: Preconditions | undefined,
    forDelete: boolean,
  ): void {
    if (p === undefined) return;
    const uid = this.codec.uidOf(obj);
    if (p.uid !== undefined && p.uid !== "" && p.uid !== uid) {
      throw ApiError.conflict(
        this.resource,
        name,
        `Precondition failed: UID in precondition: ${p.uid}, UID in object meta: ${uid}`,
      );
    }
    const rv = this.codec.resourceVersionOf(obj);
    if (p.resourceVersion !== undefined && p.resourceVersion !== "" && p.resourceVersion !== rv) {
      throw forDelete
        ? ApiError.conflict(
            this.resource,
            name,
            `Precondition failed: ResourceVersion in precondition: ${p.resourceVersion}, ResourceVersion in object meta: ${rv}`,
          )
        : ApiError.conflict(this.resource, name);
    }
  }

  private async currentKv(key: string, name: string): Promise<KeyValue> {
    const kv = await this.client.get(key).then(
      (r) => r.kv,
      (e: unknown) => Promise.reject(toApiError(e)),
    );
    if (kv === undefined) throw ApiError.notFound(this.resource, name);
    return kv;
  }

  /**
   * Kubernetes' GuaranteedUpdate: reads the object, applies `tryUpdate`, and writes the result
   * only if nobody wrote in between (compare on the mod revision); when somebody did, starts
   * again from their state, so no update is lost. Conflict only when `preconditions` fail
   * (a caller's stale resourceVersion); NotFound if the object is (or becomes) absent. A
   * result that encodes to the stored bytes is not written. The object keeps its lease (TTL).
   * Returns the stored object: the result of `tryUpdate` itself with its new resourceVersion
   * (not a copy, and shared with the store watch as create's is), or the current state when
   * nothing was written.
   *
   * `cachedExisting`: the object as the watch cache holds it, used as the current state
   * instead of a read from the store (kube-apiserver's GuaranteedUpdate with a cached existing
   * object). The compare-and-swap catches a stale copy; and whatever the copy leads to short
   * of a successful write (a failed precondition, an error from `tryUpdate`, no change), is
   * decided again from a fresh read before it is returned. Never mutated.
   */
  async guaranteedUpdate(
    ref: ObjectRef,
    tryUpdate: TryUpdate<T>,
    preconditions?: Preconditions,
    cachedExisting?: T,
  ): Promise<T> {
    const key = this.keyFor(ref);
    const cachedRv =
      cachedExisting === undefined ? 0 : Number(this.codec.resourceVersionOf(cachedExisting));
    // The state to start from: the cached copy (its bytes and lease unknown), or the store's.
    let state: { current: T; kv?: KeyValue; modRevision: number } =
      cachedExisting !== undefined && cachedRv > 0
        ? { current: cachedExisting, modRevision: cachedRv }
        : await this.currentKv(key, ref.name).then((kv) => ({
            current: this.decode(kv),
            kv,
            modRevision: kv.modRevision,
          }));
    const fresh = async () => {
      const kv = await this.currentKv(key, ref.name);
      return { current: this.decode(kv), kv, modRevision: kv.modRevision };
    };
    for (;;) {
      const fromCache = state.kv === undefined;
      let next: T | typeof UNCHANGED;
      try {
        this.checkPreconditions(ref.name, state.current, preconditions, false);
        next = await tryUpdate(state.current);
      } catch (e) {
        if (!fromCache) throw e;
        state = await fresh();
        continue;
      }
      const storedBytes =
        state.kv?.value ?? this.storedBytesOf(state.current) ?? this.encode(state.current);
      const bytes = next === UNCHANGED ? storedBytes : this.encode(next);
      if (next === UNCHANGED || Buffer.from(bytes).equals(Buffer.from(storedBytes))) {
        if (fromCache) {
          state = await fresh();
          continue;
        }
        return this.decode(state.kv as KeyValue);
      }
      let res: Awaited<ReturnType<EtcdClient["update"]>>;
      try {
        res = await this.client.update(key, bytes, state.modRevision, state.kv?.lease ?? "keep");
      } catch (e) {
        throw toApiError(e);
      }
      if (res.succeeded) {
        // The written object itself, unless tryUpdate handed back the current state (which
        // may be the cache's and must not change).
        if (next === state.current) {
          const again = this.decode({
            key,
            value: bytes,
            createRevision: state.kv?.createRevision ?? 0,
            modRevision: res.revision,
            version: (state.kv?.version ?? 0) + 1,
            lease: state.kv?.lease ?? "0",
          });
          return this.written(key, res.revision, again);
        }
        const stored = this.codec.withResourceVersion(next, String(res.revision));
        return this.written(key, res.revision, this.remember(stored, bytes));
      }
      if (res.current === undefined) throw ApiError.notFound(this.resource, ref.name);
      state = {
        current: this.decode(res.current),
        kv: res.current,
        modRevision: res.current.modRevision,
      };
    }
  }

  /**
   * Deletes an object if `preconditions` hold (Conflict otherwise); NotFound if absent.
   * Returns the deleted object: its last state, with resourceVersion = the deletion's revision.
   */
  async delete(ref: ObjectRef, preconditions?: Preconditions): Promise<T> {
    const key = this.keyFor(ref);
    let kv = await this.currentKv(key, ref.name);
    for (;;) {
      this.checkPreconditions(ref.name, this.decode(kv), preconditions, true);
      let res: Awaited<ReturnType<EtcdClient["delete"]>>;
      try {
        res = await this.client.delete(key, kv.modRevision);
      } catch (e) {
        throw toApiError(e);
      }
      if (res.succeeded) return this.decode(res.prevKv ?? kv, res.revision);
      if (res.current === undefined) throw ApiError.notFound(this.resource, ref.name);
      kv = res.current;
    }
  }

  /**
   * Watches the resource (one namespace or all) from a resourceVersion; see WatchOptions.
   * ADDED for a key's first version, MODIFIED for later ones, DELETED with the last state.
   */
  watch(options: WatchOptions): ObjectWatch<T> {
    const prefix = this.prefixFor(options.namespace);
    const rv = options.resourceVersion;
    const fromRevision =
      rv === "" || rv === "0" ? undefined : parseResourceVersion(rv, "resourceVersion");
    const state: { watch: EtcdWatch | undefined; closed: boolean } = {
      watch: undefined,
      closed: false,
    };
    const self = this;
    async function* events(): AsyncGenerator<ObjectEvent<T> | ProgressEvent> {
      let start: number;
      if (fromRevision === undefined) {
        const list = await self.client
          .range({ key: prefix, rangeEnd: prefixEnd(prefix) })
          .catch((e: unknown) => Promise.reject(toApiError(e)));
        for (const kv of list.kvs) {
          yield { type: "ADDED", object: self.decode(kv), key: kv.key, revision: kv.modRevision };
        }
        start = list.revision + 1;
      } else {
        start = fromRevision + 1;
      }
      if (state.closed) return;
      self.openWatches++;
      const watch = self.client.watch({
        key: prefix,
        rangeEnd: prefixEnd(prefix),
        startRevision: start,
        prevKv: true,
        progressNotify: options.progressNotify ?? false,
      });
      state.watch = watch;
      try {
        for await (const batch of watch) {
          if (batch.kind === "compacted") throw ApiError.expired(WATCH_EXPIRED_MESSAGE);
          if (batch.kind === "progress") {
            yield { type: "PROGRESS", revision: batch.revision };
            continue;
          }
          for (const e of batch.events) {
            const revision = e.kv.modRevision;
            if (e.type === "PUT") {
              const type = e.kv.createRevision === revision ? "ADDED" : "MODIFIED";
              const object = self.takeWritten(e.kv.key, revision) ?? self.decode(e.kv);
              yield { type, object, key: e.kv.key, revision };
            } else {
              if (e.prevKv === undefined) {
                throw ApiError.internal(
                  `etcd sent no previous state for the deletion of ${e.kv.key}`,
                );
              }
              yield {
                type: "DELETED",
                object: self.decode(e.prevKv, revision),
                key: e.kv.key,
                revision,
              };
            }
          }
        }
      } catch (e) {
        throw toApiError(e);
      } finally {
        watch.close();
        self.openWatches--;
        if (self.openWatches === 0) self.recentWrites.clear();
      }
    }
    const iterator = events();
    return {
      [Symbol.asyncIterator]: () => iterator,
      requestProgress: () => state.watch?.requestProgress(),
      close: () => {
        state.closed = true;
        state.watch?.close();
      },
    };
  }
}
