// ApiClient: the typed client of tug-apiserver's gRPC service (client-go's dynamic client with
// typed results). Every verb takes the kind as a KindInfo (from @tug/api's scheme) or as the
// kind's message schema (PodSchema), and returns messages of that kind. Failures are ApiError.
// Several server addresses may be given: a call that cannot reach one (UNAVAILABLE) is sent to
// the next, as client-go does behind a load balancer.
//
// Unary calls and watches go through @tug/grpc's GrpcChannel (gRPC spoken directly over
// node:http2): a grpc-js client spent 160-195 µs of CPU per unary call here, which for a
// scheduler binding hundreds of pods a second was a third of its CPU. Logs and Exec, rare and
// long-lived, stay on grpc-js (pod-streams.ts is written against its stream types).

import {
  create,
  type DescMessage,
  type Message,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { type Any, anyPack } from "@bufbuild/protobuf/wkt";
import {
  Client,
  credentials,
  status as grpcStatus,
  InterceptingCall,
  type Interceptor,
  Metadata,
} from "@grpc/grpc-js";
import { allKinds, type KindInfo, kindForResource } from "@tug/api";
import { type CallOptions, GrpcChannel, Metadata as GrpcMetadata } from "@tug/grpc";
import { ApiError } from "./api-error.js";
import { apiv1 } from "./api-imports.js";
import { unpackObject } from "./object-any.js";
import {
  type ExecOptions,
  ExecSession,
  LogStream,
  type LogsOptions,
  logsRequest,
} from "./pod-streams.js";
import { type ApiMethodName, apiServiceDefinition } from "./service-definition.js";
import { WatchStream } from "./watch-stream.js";

/** How long a unary call may take unless the caller says otherwise (kubectl's --request-timeout is unset; a bound keeps a dead server from hanging controllers). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** Largest message a client accepts: a full list of a big collection may be many MiB. */
const MAX_RECEIVE_MESSAGE_BYTES = 256 * 1024 * 1024;

export interface ApiClientOptions {
  /** tug-apiserver addresses, "host:port" (a leading http:// is ignored); tried in order. */
  readonly servers: readonly string[];
  /** Deadline of each unary call; DEFAULT_REQUEST_TIMEOUT_MS when unset. */
  readonly requestTimeoutMs?: number;
  /**
   * Bearer token sent with every call (metadata "authorization: Bearer <token>", as kubectl's
   * --token sends the HTTP header); unset or "" sends no credentials (anonymous).
   */
  readonly token?: string;
}

/** A kind as a KindInfo, or as its message schema (PodSchema). */
export type KindArg = KindInfo | DescMessage;

/** The message type of a kind argument: Pod for PodSchema; any Message for a KindInfo. */
export type ObjectOf<K extends KindArg> = K extends DescMessage ? MessageShape<K> : Message;

/** Where one object or a collection lives. */
export interface Scope {
  /** Namespace of a namespaced kind; empty or unset for cluster-scoped kinds and all namespaces. */
  readonly namespace?: string;
}

export interface CallControl {
  /** Cancels the call; it then rejects with ApiError reason "Cancelled". */
  readonly signal?: AbortSignal;
  /** Overrides the client's deadline for this call. */
  readonly timeoutMs?: number;
}

export interface GetOptions extends Scope, CallControl {
  /** "" (the latest, a quorum read) or "0" (the server's cache). */
  readonly resourceVersion?: string;
}

export interface ListOptions extends Scope, CallControl {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly continue?: string;
  readonly resourceVersion?: string;
  /** "NotOlderThan" or "Exact"; see ListRequest. */
  readonly resourceVersionMatch?: string;
}

export interface ListResult<T> {
  readonly items: T[];
  readonly resourceVersion: string;
  /** Non-empty when more pages remain. */
  readonly continue: string;
  readonly remainingItemCount?: number;
}

export interface WriteOptions extends CallControl {
  /** Validate and admit, store nothing. */
  readonly dryRun?: boolean;
}

export type PatchType = "merge" | "json";

const PATCH_CONTENT_TYPES: Readonly<Record<PatchType, string>> = {
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
};

export interface PatchOptions extends Scope, WriteOptions {
  /** "merge" (RFC 7386 JSON merge patch) or "json" (RFC 6902 JSON patch). */
  readonly type: PatchType;
  /** The patch: JSON text, or a value to serialize. */
  readonly patch: string | unknown;
  /** Patch the status subresource. */
  readonly status?: boolean;
}

export interface DeleteOptions extends Scope, WriteOptions {
  readonly gracePeriodSeconds?: number;
  /** "Orphan", "Background" or "Foreground". */
  readonly propagationPolicy?: string;
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
}

export interface DeleteCollectionOptions extends Scope, WriteOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly gracePeriodSeconds?: number;
  readonly propagationPolicy?: string;
}

export interface WatchOptions extends Scope {
  /** Watch one object. */
  readonly name?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Changes after this version; "" or "0" starts with the current objects as ADDED. */
  readonly resourceVersion?: string;
  readonly allowWatchBookmarks?: boolean;
  readonly timeoutSeconds?: number;
  /** Ends the watch (as cancel() does). */
  readonly signal?: AbortSignal;
}

/** The KindInfo of a kind argument; throws for a schema that is not an API kind. */
export function kindInfoOf(kind: KindArg): KindInfo {
  if ("resource" in kind) return kind;
  const found = allKinds.find((k) => k.schema.typeName === kind.typeName);
  if (found === undefined) {
    throw new TypeError(
      `${kind.typeName} is not an API kind; pass the schema of an object kind such as PodSchema`,
    );
  }
  return found;
}

function refOf(kind: KindInfo, namespace = "", name = ""): apiv1.ResourceRef {
  return create(apiv1.ResourceRefSchema, {
    group: kind.group,
    version: kind.version,
    resource: kind.resource,
    namespace: kind.namespaced ? namespace : "",
    name,
  });
}

function packObject(kind: KindInfo, obj: Message): Any {
  if (obj.$typeName !== kind.schema.typeName) {
    throw new TypeError(
      `expected a ${kind.schema.typeName} for ${kind.resource}, got a ${obj.$typeName}`,
    );
  }
  return anyPack(kind.schema, obj);
}

function metaOf(obj: Message): { name: string; namespace: string } {
  const meta = (obj as { metadata?: { name?: string; namespace?: string } }).metadata;
  return { name: meta?.name ?? "", namespace: meta?.namespace ?? "" };
}

/** Adds "authorization: Bearer <token>" to every call's metadata. */
function bearerToken(token: string): Interceptor {
  return (options, next) =>
    new InterceptingCall(next(options), {
      start(metadata, listener, start) {
        metadata.set("authorization", `Bearer ${token}`);
        start(metadata, listener);
      },
    });
}

/** A method of the service as @tug/grpc's channel takes it (path and codecs). */
interface ApiMethod<Req, Res> {
  readonly path: string;
  readonly requestSerialize: (request: Req) => Uint8Array;
  readonly responseDeserialize: (bytes: Buffer) => Res;
}

/** The method `name` of the service; throws for a name the service lacks. */
function methodOf<Req, Res>(name: ApiMethodName): ApiMethod<Req, Res> {
  const def = apiServiceDefinition[name];
  if (def === undefined) throw new TypeError(`no method ${name}`);
  return def as unknown as ApiMethod<Req, Res>;
}

/**
 * Method `name` taking its request already encoded and leaving its reply undecoded: for calls
 * whose caller needs only success or the error (a failure's Status travels in the trailers,
 * never in the reply message, so nothing is lost). Built once per method.
 */
const rawMethods = new Map<ApiMethodName, ApiMethod<Uint8Array, undefined>>();
function rawMethodOf(name: ApiMethodName): ApiMethod<Uint8Array, undefined> {
  let def = rawMethods.get(name);
  if (def === undefined) {
    def = {
      path: methodOf(name).path,
      requestSerialize: (bytes) => bytes,
      responseDeserialize: () => undefined,
    };
    rawMethods.set(name, def);
  }
  return def;
}

/**
 * A Create request encoded once (ApiClient.encodeCreate), to be sent by createEncoded any
 * number of times: by a caller that retries the same object, or that prepares a burst of
 * creates ahead (a benchmark whose own encoding would compete with the system it measures).
 */
export interface EncodedCreate {
  /** The tug.apiserver.v1.CreateRequest, serialized. Not to be mutated. */
  readonly bytes: Uint8Array;
}

/**
 * The CreateRequest for `obj`: in its metadata.namespace, or in options.namespace when it names
 * none (as kubectl puts a manifest without a namespace into the context's namespace).
 */
function createRequestOf<K extends KindArg>(
  kind: K,
  obj: ObjectOf<K>,
  options: Pick<WriteOptions, "dryRun"> & Scope,
): apiv1.CreateRequest {
  const info = kindInfoOf(kind);
  return create(apiv1.CreateRequestSchema, {
    ref: refOf(info, metaOf(obj).namespace || options.namespace),
    object: packObject(info, obj),
    dryRun: options.dryRun ?? false,
  });
}

/** Calls that only read, so sending one again is harmless. */
const IDEMPOTENT_READS: ReadonlySet<ApiMethodName> = new Set(["Get", "List", "Discover"]);

/** client-go's rest client retries a 429 with Retry-After up to 10 times. */
const MAX_THROTTLED_RETRIES = 10;

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

export class ApiClient {
  private readonly servers: string[];
  /** Unary calls and watches, one channel (one HTTP/2 session) per server. */
  private readonly channels: (GrpcChannel | undefined)[];
  /** Logs and Exec only (grpc-js), created on their first use. */
  private readonly clients: (Client | undefined)[];
  private current = 0;
  private readonly requestTimeoutMs: number;
  private readonly token: string;
  /** The metadata of every call: the bearer token, or nothing. Built once, never changed. */
  private readonly metadata: GrpcMetadata | undefined;
  private closed = false;

  constructor(options: ApiClientOptions) {
    if (options.servers.length === 0) {
      throw new TypeError("ApiClient: servers is empty; give at least one tug-apiserver address");
    }
    this.servers = options.servers.map((s) => s.replace(/^[a-z]+:\/\//, "").replace(/\/$/, ""));
    this.channels = this.servers.map(() => undefined);
    this.clients = this.servers.map(() => undefined);
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.token = options.token ?? "";
    if (/\s/.test(this.token)) {
      throw new TypeError(
        'ApiClient: the token contains whitespace; give the bare token, without "Bearer "',
      );
    }
    if (this.token !== "") {
      this.metadata = new GrpcMetadata();
      this.metadata.set("authorization", `Bearer ${this.token}`);
    }
  }

  private channel(index: number): GrpcChannel {
    let c = this.channels[index];
    if (c === undefined) {
      c = new GrpcChannel(this.servers[index] as string, {
        maxReceiveMessageBytes: MAX_RECEIVE_MESSAGE_BYTES,
      });
      this.channels[index] = c;
    }
    return c;
  }

  /** The grpc-js client of Logs and Exec. */
  private client(index: number): Client {
    let c = this.clients[index];
    if (c === undefined) {
      c = new Client(this.servers[index] as string, credentials.createInsecure(), {
        "grpc.max_receive_message_length": MAX_RECEIVE_MESSAGE_BYTES,
        ...(this.token === "" ? {} : { interceptors: [bearerToken(this.token)] }),
      });
      this.clients[index] = c;
    }
    return c;
  }

  private callOnce<Req, Res>(
    index: number,
    def: ApiMethod<Req, Res>,
    request: Req,
    control: CallControl,
  ): Promise<Res> {
    const options: CallOptions = {
      deadline: Date.now() + (control.timeoutMs ?? this.requestTimeoutMs),
      ...(this.metadata === undefined ? {} : { metadata: this.metadata }),
      ...(control.signal === undefined ? {} : { signal: control.signal }),
    };
    return new Promise<Res>((resolve, reject) => {
      this.channel(index).unaryCallback<Req, Res>(def, request, options, (err, res) => {
        // A raw method's reply is undefined on success: the error decides.
        if (err !== null) reject(ApiError.fromGrpc(err));
        else resolve(res as Res);
      });
    });
  }

  /**
   * A unary call; reads (Get, List, Discover) refused with 429 TooManyRequests are sent again
   * after the Status' retryAfterSeconds, as client-go does with Retry-After (at most
   * MAX_THROTTLED_RETRIES times, and never past the call's timeout or its abort signal).
   */
  private async call<Req, Res>(
    method: ApiMethodName,
    request: Req,
    control: CallControl = {},
    def: ApiMethod<Req, Res> = methodOf<Req, Res>(method),
  ): Promise<Res> {
    const deadline = Date.now() + (control.timeoutMs ?? this.requestTimeoutMs);
    for (let retry = 0; ; retry++) {
      try {
        return await this.callAnyServer<Req, Res>(def, request, {
          ...control,
          timeoutMs: Math.max(1, deadline - Date.now()),
        });
      } catch (e) {
        const waitMs = e instanceof ApiError ? e.details.retryAfterSeconds * 1000 : 0;
        const retriable =
          IDEMPOTENT_READS.has(method) &&
          e instanceof ApiError &&
          e.fromServer &&
          e.reason === "TooManyRequests" &&
          waitMs > 0 &&
          retry < MAX_THROTTLED_RETRIES &&
          Date.now() + waitMs < deadline &&
          control.signal?.aborted !== true;
        if (!retriable) throw e;
        await sleep(waitMs, control.signal);
      }
    }
  }

  /** A unary call, moving on to the next server while one is unreachable. */
  private async callAnyServer<Req, Res>(
    def: ApiMethod<Req, Res>,
    request: Req,
    control: CallControl,
  ): Promise<Res> {
    if (this.closed) throw new TypeError("ApiClient: closed");
    let lastError: unknown;
    for (let attempt = 0; attempt < this.servers.length; attempt++) {
      const index = (this.current + attempt) % this.servers.length;
      try {
        const res = await this.callOnce<Req, Res>(index, def, request, control);
        this.current = index;
        return res;
      } catch (e) {
        lastError = e;
        // Only a server that could not be reached is skipped: a Status came from a server
        // that took the call, and a write it took must not be sent twice.
        if (!(e instanceof ApiError) || e.grpcCode !== grpcStatus.UNAVAILABLE || e.fromServer) {
          throw e;
        }
      }
    }
    throw lastError;
  }

  /**
   * Creates an object in its metadata.namespace, or in options.namespace when it names none
   * (as kubectl puts a manifest without a namespace into the context's namespace).
   */
  async create<K extends KindArg>(
    kind: K,
    obj: ObjectOf<K>,
    options: WriteOptions & Scope = {},
  ): Promise<ObjectOf<K>> {
    const res = await this.call<apiv1.CreateRequest, apiv1.ObjectResponse>(
      "Create",
      createRequestOf(kind, obj, options),
      options,
    );
    return unpackObject(res.object) as ObjectOf<K>;
  }

  /**
   * Encodes a Create of `obj` (as create() would send it) for createEncoded; the object may be
   * changed afterwards without changing the encoded request.
   */
  encodeCreate<K extends KindArg>(
    kind: K,
    obj: ObjectOf<K>,
    options: Pick<WriteOptions, "dryRun"> & Scope = {},
  ): EncodedCreate {
    return { bytes: toBinary(apiv1.CreateRequestSchema, createRequestOf(kind, obj, options)) };
  }

  /**
   * Sends a Create that encodeCreate prepared and resolves with nothing: the created object in
   * the reply is not decoded (the failures are ApiErrors, as create()'s).
   */
  async createEncoded(encoded: EncodedCreate, control: CallControl = {}): Promise<void> {
    await this.call("Create", encoded.bytes, control, rawMethodOf("Create"));
  }

  /**
   * create() for a caller that does not use the created object (an Event writer): the reply is
   * not decoded, which for a burst of creates was about a quarter of a client's CPU per call.
   */
  createWithoutResult<K extends KindArg>(
    kind: K,
    obj: ObjectOf<K>,
    options: WriteOptions & Scope = {},
  ): Promise<void> {
    return this.createEncoded(this.encodeCreate(kind, obj, options), options);
  }

  async get<K extends KindArg>(
    kind: K,
    name: string,
    options: GetOptions = {},
  ): Promise<ObjectOf<K>> {
    const info = kindInfoOf(kind);
    const res = await this.call<apiv1.GetRequest, apiv1.ObjectResponse>(
      "Get",
      create(apiv1.GetRequestSchema, {
        ref: refOf(info, options.namespace, name),
        resourceVersion: options.resourceVersion ?? "",
      }),
      options,
    );
    return unpackObject(res.object) as ObjectOf<K>;
  }

  async list<K extends KindArg>(
    kind: K,
    options: ListOptions = {},
  ): Promise<ListResult<ObjectOf<K>>> {
    const info = kindInfoOf(kind);
    const res = await this.call<apiv1.ListRequest, apiv1.ListResponse>(
      "List",
      create(apiv1.ListRequestSchema, {
        ref: refOf(info, options.namespace),
        labelSelector: options.labelSelector ?? "",
        fieldSelector: options.fieldSelector ?? "",
        limit: options.limit ?? 0,
        continue: options.continue ?? "",
        resourceVersion: options.resourceVersion ?? "",
        resourceVersionMatch: options.resourceVersionMatch ?? "",
      }),
      options,
    );
    return listResult<ObjectOf<K>>(res);
  }

  private async put<K extends KindArg>(
    method: "Update" | "UpdateStatus" | "Finalize",
    kind: K,
    obj: ObjectOf<K>,
    options: WriteOptions,
  ): Promise<ObjectOf<K>> {
    const info = kindInfoOf(kind);
    const { name, namespace } = metaOf(obj);
    const res = await this.call<apiv1.UpdateRequest, apiv1.ObjectResponse>(
      method,
      create(apiv1.UpdateRequestSchema, {
        ref: refOf(info, namespace, name),
        object: packObject(info, obj),
        dryRun: options.dryRun ?? false,
      }),
      options,
    );
    return unpackObject(res.object) as ObjectOf<K>;
  }

  /** Replaces spec and metadata; Conflict when obj's resourceVersion is stale (set it to "" to overwrite). */
  update<K extends KindArg>(
    kind: K,
    obj: ObjectOf<K>,
    options: WriteOptions = {},
  ): Promise<ObjectOf<K>> {
    return this.put("Update", kind, obj, options);
  }

  /** Replaces status (the status subresource). */
  updateStatus<K extends KindArg>(
    kind: K,
    obj: ObjectOf<K>,
    options: WriteOptions = {},
  ): Promise<ObjectOf<K>> {
    return this.put("UpdateStatus", kind, obj, options);
  }

  /**
   * Replaces a namespace's spec.finalizers (namespaces/<name>/finalize), as the namespace
   * controller does once the namespace is empty; a terminating namespace left without
   * finalizers is removed.
   */
  finalize<K extends KindArg>(
    kind: K,
    obj: ObjectOf<K>,
    options: WriteOptions = {},
  ): Promise<ObjectOf<K>> {
    return this.put("Finalize", kind, obj, options);
  }

  async patch<K extends KindArg>(
    kind: K,
    name: string,
    options: PatchOptions,
  ): Promise<ObjectOf<K>> {
    const info = kindInfoOf(kind);
    const text = typeof options.patch === "string" ? options.patch : JSON.stringify(options.patch);
    const res = await this.call<apiv1.PatchRequest, apiv1.ObjectResponse>(
      "Patch",
      create(apiv1.PatchRequestSchema, {
        ref: refOf(info, options.namespace, name),
        patchType: PATCH_CONTENT_TYPES[options.type],
        patch: Buffer.from(text, "utf8"),
        status: options.status ?? false,
        dryRun: options.dryRun ?? false,
      }),
      options,
    );
    return unpackObject(res.object) as ObjectOf<K>;
  }

  /**
   * Deletes an object; returns it as the server last had it (with deletionTimestamp set when
   * deletion waits for a grace period or finalizers).
   */
  async delete<K extends KindArg>(
    kind: K,
    name: string,
    options: DeleteOptions = {},
  ): Promise<ObjectOf<K>> {
    const info = kindInfoOf(kind);
    const res = await this.call<apiv1.DeleteRequest, apiv1.ObjectResponse>(
      "Delete",
      deleteRequest(refOf(info, options.namespace, name), options),
      options,
    );
    return unpackObject(res.object) as ObjectOf<K>;
  }

  async deleteCollection<K extends KindArg>(
    kind: K,
    options: DeleteCollectionOptions = {},
  ): Promise<ListResult<ObjectOf<K>>> {
    const info = kindInfoOf(kind);
    const res = await this.call<apiv1.DeleteCollectionRequest, apiv1.ListResponse>(
      "DeleteCollection",
      create(apiv1.DeleteCollectionRequestSchema, {
        ref: refOf(info, options.namespace),
        labelSelector: options.labelSelector ?? "",
        fieldSelector: options.fieldSelector ?? "",
        gracePeriodSeconds: options.gracePeriodSeconds,
        propagationPolicy: options.propagationPolicy ?? "",
        dryRun: options.dryRun ?? false,
      }),
      options,
    );
    return listResult<ObjectOf<K>>(res);
  }

  /** Binds a pod to a node (what a scheduler does); returns the bound pod. */
  async bind(
    namespace: string,
    name: string,
    nodeName: string,
    options: CallControl & { uid?: string } = {},
  ): Promise<Message> {
    const res = await this.call<apiv1.BindRequest, apiv1.ObjectResponse>(
      "Bind",
      create(apiv1.BindRequestSchema, { namespace, name, nodeName, uid: options.uid ?? "" }),
      options,
    );
    return unpackObject(res.object);
  }

  /**
   * Binds a pod to a node and resolves with nothing, as client-go's Bind does: the bound pod in
   * the reply is not decoded. For a scheduler, which sees the bound pod on its watch anyway and
   * binds hundreds of pods a second, decoding each reply was 3% of its CPU.
   */
  async bindWithoutResult(
    namespace: string,
    name: string,
    nodeName: string,
    options: CallControl & { uid?: string } = {},
  ): Promise<void> {
    const request = create(apiv1.BindRequestSchema, {
      namespace,
      name,
      nodeName,
      uid: options.uid ?? "",
    });
    await this.call(
      "Bind",
      toBinary(apiv1.BindRequestSchema, request),
      options,
      rawMethodOf("Bind"),
    );
  }

  /** Evicts a pod (a delete that respects PodDisruptionBudgets); returns the pod. */
  async evict(
    namespace: string,
    name: string,
    options: Omit<DeleteOptions, "namespace"> = {},
  ): Promise<Message> {
    const pods = kindForResource("", "pods") as KindInfo;
    const res = await this.call<apiv1.EvictRequest, apiv1.ObjectResponse>(
      "Evict",
      create(apiv1.EvictRequestSchema, {
        namespace,
        name,
        deleteOptions: deleteRequest(refOf(pods, namespace, name), options),
      }),
      options,
    );
    return unpackObject(res.object);
  }

  /** The resources the server serves. */
  async discover(control: CallControl = {}): Promise<apiv1.ApiResource[]> {
    const res = await this.call<apiv1.DiscoverRequest, apiv1.DiscoverResponse>(
      "Discover",
      create(apiv1.DiscoverRequestSchema, {}),
      control,
    );
    return res.resources;
  }

  /**
   * Watches a resource. The stream yields ADDED/MODIFIED/DELETED/BOOKMARK events; a server
   * ERROR event is thrown from the iterator as ApiError (Expired, code 410: list again).
   * cancel() (or the signal) ends it cleanly.
   */
  watch<K extends KindArg>(kind: K, options: WatchOptions = {}): WatchStream<ObjectOf<K>> {
    return this.startWatch(kind, options, unpackObject as (any: Any | undefined) => ObjectOf<K>);
  }

  /**
   * watch(), with each event's object left as the server sent it: the google.protobuf.Any
   * holding the object's bytes (an ERROR event is still thrown as ApiError). For a reader that
   * needs a field or two of each object and reads them from the bytes itself: unpacking a pod
   * is most of a watch event's cost.
   */
  watchUndecoded(kind: KindArg, options: WatchOptions = {}): WatchStream<Any> {
    return this.startWatch(kind, options, undecoded);
  }

  private startWatch<T>(
    kind: KindArg,
    options: WatchOptions,
    decode: (any: Any | undefined) => T,
  ): WatchStream<T> {
    if (this.closed) throw new TypeError("ApiClient: closed");
    const info = kindInfoOf(kind);
    const request = create(apiv1.WatchRequestSchema, {
      ref: refOf(info, options.namespace, options.name),
      labelSelector: options.labelSelector ?? "",
      fieldSelector: options.fieldSelector ?? "",
      resourceVersion: options.resourceVersion ?? "",
      allowWatchBookmarks: options.allowWatchBookmarks ?? false,
      timeoutSeconds: options.timeoutSeconds ?? 0,
    });
    const index = this.current;
    const call = this.channel(index).serverStream(
      methodOf<apiv1.WatchRequest, apiv1.WatchEvent>("Watch"),
      request,
      this.metadata === undefined ? {} : { metadata: this.metadata },
    );
    return new WatchStream<T>(
      call,
      options.signal,
      (e) => {
        // The next call tries the next server if this one turns out unreachable.
        if (e.grpcCode === grpcStatus.UNAVAILABLE && !e.fromServer && this.current === index) {
          this.current = (index + 1) % this.servers.length;
        }
      },
      decode,
    );
  }

  /**
   * A container's log (kubectl logs): bytes as the agent of the pod's node sends them; with
   * follow, until the container ends or options.signal aborts.
   */
  logs(pod: string, options: LogsOptions = {}): LogStream {
    if (this.closed) throw new TypeError("ApiClient: closed");
    const def = apiServiceDefinition.Logs;
    if (def === undefined) throw new TypeError("no method Logs");
    const call = this.client(this.current).makeServerStreamRequest<
      apiv1.LogsRequest,
      apiv1.LogsChunk
    >(
      def.path,
      def.requestSerialize as (m: apiv1.LogsRequest) => Buffer,
      def.responseDeserialize as (b: Buffer) => apiv1.LogsChunk,
      logsRequest(pod, options),
      new Metadata(),
      {},
    );
    return new LogStream(call, options.signal);
  }

  /** Runs a command in a container (kubectl exec); see ExecSession. */
  exec(pod: string, options: ExecOptions): ExecSession {
    if (this.closed) throw new TypeError("ApiClient: closed");
    const def = apiServiceDefinition.Exec;
    if (def === undefined) throw new TypeError("no method Exec");
    const call = this.client(this.current).makeBidiStreamRequest<apiv1.ExecFrame, apiv1.ExecFrame>(
      def.path,
      def.requestSerialize as (m: apiv1.ExecFrame) => Buffer,
      def.responseDeserialize as (b: Buffer) => apiv1.ExecFrame,
      new Metadata(),
      {},
    );
    return new ExecSession(call, pod, options);
  }

  /** Closes every connection; calls in flight fail. */
  close(): void {
    this.closed = true;
    for (const c of this.channels) c?.close();
    for (const c of this.clients) c?.close();
  }
}

/** An event's object as sent; a missing one is the server's error. */
function undecoded(any: Any | undefined): Any {
  if (any === undefined) {
    throw new ApiError({
      reason: "InternalError",
      code: 500,
      grpcCode: grpcStatus.INTERNAL,
      message: "the server sent a watch event without an object",
    });
  }
  return any;
}

function listResult<T>(res: apiv1.ListResponse): ListResult<T> {
  return {
    items: res.items.map((any) => unpackObject(any) as T),
    resourceVersion: res.resourceVersion,
    continue: res.continue,
    ...(res.remainingItemCount === undefined
      ? {}
      : { remainingItemCount: Number(res.remainingItemCount) }),
  };
}

function deleteRequest(
  ref: apiv1.ResourceRef,
  options: Omit<DeleteOptions, "namespace">,
): apiv1.DeleteRequest {
  return create(apiv1.DeleteRequestSchema, {
    ref,
    gracePeriodSeconds: options.gracePeriodSeconds,
    propagationPolicy: options.propagationPolicy ?? "",
    preconditions:
      options.preconditions === undefined
        ? undefined
        : create(apiv1.PreconditionsSchema, {
            uid: options.preconditions.uid,
            resourceVersion: options.preconditions.resourceVersion,
          }),
    dryRun: options.dryRun ?? false,
  });
}
