// The verbs of the tug API, independent of gRPC: each takes the decoded request and returns the
// response message, or throws. The order of the steps is Kubernetes' (k8s.io/apiserver
// pkg/endpoints/handlers and pkg/registry/generic/registry/store.go):
//   Create: decode -> strategy.prepareForCreate -> mutating admission -> defaults -> validation
//           -> validating admission (quota charged by compare-and-swap) -> size check ->
//           storage (nothing stored on dryRun);
//   Update: the same inside GuaranteedUpdate, with prepareForUpdate against the stored object
//           and optimistic concurrency on metadata.resourceVersion;
//   Delete: admission -> preconditions and the registry's deletion decision (graceful or
//           with finalizers: set deletionTimestamp and keep; else remove).
// Reads: "" is a quorum read from the store, "0" is served from the resource's watch cache.

import { create, type DescMessage, type Message, toBinary } from "@bufbuild/protobuf";
import { type Any, anyPack, anyUnpack } from "@bufbuild/protobuf/wkt";
import {
  allKinds,
  applyDefaults,
  applyJsonPatch,
  applyMergePatch,
  type Binding,
  decodeObject,
  EndpointSubsetSchema,
  type Endpoints,
  EndpointsSchema,
  FieldError,
  FieldErrorAggregate,
  FieldPath,
  fields,
  type JsonValue,
  type KindInfo,
  kindForResource,
  type LimitRange,
  labels,
  makeIntOrString,
  type Namespace,
  objectFromBinary,
  objectToBinary,
  objectToJson,
  type Pod,
  type PodDisruptionBudget,
  parseJsonPatch,
  type ResourceQuota,
  SelectorError,
  type Service,
  type ServiceAccount,
  ServiceSchema,
  StatusSchema,
  validateObject,
  validateUpdate,
} from "@tug/api";
import { apiv1 } from "@tug/client";
import type { AdmissionLookups } from "../admission/attributes.js";
import { type AdmissionChain, defaultAdmissionChain } from "../admission/chain.js";
import { chargedQuota, type QuotaCharge } from "../admission/resource-quota.js";
import { type ServiceAllocation, ServiceAllocator } from "../allocation/service-allocator.js";
import { type ApiObject, cloneObject, metaOf, timestampAtSeconds } from "../registry/api-object.js";
import { type DeleteOptions, decideDelete, removeAfterUpdate } from "../registry/deletion.js";
import { defaultRegistryEnv, type RegistryEnv } from "../registry/strategy.js";
import { isApiError, ApiError as StorageError } from "../storage/errors.js";
import type { EtcdClient } from "../storage/etcd-client.js";
import { LeaseManager } from "../storage/lease-manager.js";
import { DEFAULT_REGISTRY_PREFIX, UNCHANGED } from "../storage/object-store.js";
import type { WatchCacheOptions, WatchCloseReason } from "../storage/watch-cache.js";
import { listFromCache } from "./list-from-cache.js";
import { PackedObjects } from "./packed-objects.js";
import { ServedResource } from "./served-resource.js";
import { SharedWatchEvents } from "./shared-watch-events.js";
import { StatusError } from "./status-error.js";
import { anyFromStored } from "./stored-object-any.js";

/**
 * The largest object the server stores: etcd's default request limit is 1.5 MiB
 * (--max-request-bytes), and kube-apiserver refuses larger objects before they reach it.
 */
export const MAX_OBJECT_BYTES = 1.5 * 1024 * 1024;

/** The core/v1 resources admission reads, from their watch caches. */
const ADMISSION_RESOURCES = ["namespaces", "serviceaccounts", "limitranges", "resourcequotas"];

/**
 * How long a namespace deleted through this server is read live by admission: kube-apiserver's
 * NamespaceLifecycle forceLiveLookupTTL (30 s).
 */
const FORCE_LIVE_NAMESPACE_MS = 30_000;

/** How many times Create admits again when a quota it charges changed meanwhile. */
const QUOTA_ATTEMPTS = 5;

/** How many times Create draws a new generateName suffix when the name is taken. */
const GENERATE_NAME_ATTEMPTS = 3;

/** The namespaces every cluster has (kube-apiserver's system namespaces controller). */
export const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

/** The labels kube-apiserver puts on the `kubernetes` Service and its Endpoints. */
const KUBERNETES_SERVICE_LABELS = { component: "apiserver", provider: "kubernetes" };

const PATCH_MERGE = "application/merge-patch+json";
const PATCH_JSON = "application/json-patch+json";

/** Which part of an object an update replaces: spec and metadata, status, or finalizers. */
export type UpdateMode = "spec" | "status" | "finalize";

/**
 * Sends one event to a watcher. A promise means the connection is full: the watch reads no
 * further event until it settles, so a slow client's backlog builds up in the watch cache,
 * which closes it once its buffer is full (the client then watches again from its last
 * resourceVersion), instead of growing without bound in the connection.
 */
export type WatchSink = (event: apiv1.WatchEvent) => void | Promise<void>;

export interface ApiHandlersOptions {
  readonly etcd: EtcdClient;
  /** kube-apiserver's --etcd-prefix: keys are <prefix>/<group>/<resource>/... */
  readonly registryPrefix?: string;
  /** Clock, uids, randomness and the event TTL. */
  readonly env?: Partial<RegistryEnv>;
  readonly watchCache?: WatchCacheOptions;
  /** The admission chain; Kubernetes' default plugins (defaultAdmissionChain) when unset. */
  readonly admission?: AdmissionChain;
  /** Consistent lists ("") from the watch cache once caught up (default true); see list-from-cache.ts. */
  readonly consistentListFromCache?: boolean;
  /** --service-cluster-ip-range and --service-node-port-range; Kubernetes' defaults when unset. */
  readonly serviceRanges?: { readonly clusterIpRange?: string; readonly nodePortRange?: string };
}

function objectOf(kind: KindInfo, any: Any | undefined): ApiObject {
  if (any === undefined) {
    throw StatusError.badRequest(`object: Required value: send the ${kind.kind} to write`);
  }
  if (any.typeUrl !== `type.googleapis.com/${kind.schema.typeName}`) {
    throw StatusError.badRequest(
      `object: Invalid value: ${JSON.stringify(any.typeUrl)}: ${kind.resource} takes a ${kind.schema.typeName}`,
    );
  }
  const obj = anyUnpack(any, kind.schema);
  if (obj === undefined) {
    throw StatusError.badRequest(`object: Invalid value: not a ${kind.schema.typeName}`);
  }
  return obj as unknown as ApiObject;
}

/** Packs an object for the wire, with apiVersion and kind set. */
export function packObject(kind: KindInfo, obj: ApiObject): Any {
  const out = { ...obj, apiVersion: kind.apiVersion, kind: kind.kind } as unknown as Message;
  return anyPack(kind.schema, out as Parameters<typeof anyPack<DescMessage>>[1]);
}

function selectorError(e: unknown): never {
  if (e instanceof SelectorError) throw StatusError.badRequest(e.message);
  throw e;
}

export class ApiHandlers {
  private readonly resources = new Map<KindInfo, ServedResource>();
  readonly env: RegistryEnv;
  private readonly registryPrefix: string;
  /** One lease manager for every resource, so objects with the same TTL share leases. */
  private readonly leases: LeaseManager;

  private readonly admission: AdmissionChain;
  /** Watch events made once per cached object and shared by every watcher it goes to. */
  private readonly sharedEvents = new SharedWatchEvents();
  /** Cached objects packed once for every list served from the watch cache. */
  private readonly packed = new PackedObjects((kind, obj) =>
    this.packStored(this.served(kind), obj),
  );
  /** Admission's reads, from the watch caches (see cachedLookups). */
  private readonly lookups: AdmissionLookups;
  /** Admission's reads as quorum reads, for a create admitted again after a quota conflict. */
  private readonly freshLookups: AdmissionLookups;
  /** Services' cluster IPs and node ports (allocation/service-allocator.ts). */
  readonly services: ServiceAllocator;
  /** The Service allocation repair timer (startServiceAllocation). */
  private serviceRepair: NodeJS.Timeout | undefined;

  constructor(private readonly options: ApiHandlersOptions) {
    this.leases = new LeaseManager(options.etcd);
    this.admission = options.admission ?? defaultAdmissionChain();
    this.freshLookups = this.storeLookups();
    this.lookups = this.cachedLookups(this.freshLookups);
    this.env = defaultRegistryEnv(options.env);
    this.registryPrefix = options.registryPrefix ?? DEFAULT_REGISTRY_PREFIX;
    this.services = new ServiceAllocator(options.etcd, this.registryPrefix, {
      ...(options.serviceRanges?.clusterIpRange === undefined
        ? {}
        : { serviceClusterIpRange: options.serviceRanges.clusterIpRange }),
      ...(options.serviceRanges?.nodePortRange === undefined
        ? {}
        : { serviceNodePortRange: options.serviceRanges.nodePortRange }),
      random: this.env.random,
    });
  }

  /** What admission reads, answered by quorum reads of the store (never stale). */
  private storeLookups(): AdmissionLookups {
    const getOrUndefined = async <T>(
      group: string,
      resource: string,
      ref: { namespace?: string; name: string },
    ) => {
      try {
        return (await this.resourceOf(group, resource).store.get(ref)) as unknown as T;
      } catch (e) {
        if (isApiError(e, "NotFound")) return undefined;
        throw e;
      }
    };
    const listIn = async <T>(resource: string, namespace: string) =>
      (await this.resourceOf("", resource).store.list({ namespace })).items as unknown as T[];
    return {
      getNamespace: (name) => getOrUndefined<Namespace>("", "namespaces", { name }),
      listLimitRanges: (namespace) => listIn<LimitRange>("limitranges", namespace),
      listResourceQuotas: (namespace) => listIn<ResourceQuota>("resourcequotas", namespace),
      getServiceAccount: (namespace, name) =>
        getOrUndefined<ServiceAccount>("", "serviceaccounts", { namespace, name }),
    };
  }

  /**
   * What admission reads, from the resources' watch caches as kube-apiserver's plugins read
   * their informers: no store round trip per request. An object the cache does not hold (a
   * namespace or service account created a moment ago on another server) is looked up in the
   * store before it counts as missing, as NamespaceLifecycle and ServiceAccount do. Quotas and
   * limit ranges are as the cache holds them: one created in the last moment may not apply
   * yet (Kubernetes has the same window); a quota that changed since is caught by the charge's
   * compare-and-swap, and the create is admitted again with freshLookups.
   */
  private cachedLookups(store: AdmissionLookups): AdmissionLookups {
    // A synced cache answers at once (no promise turns on every create); one still filling
    // is waited for.
    const cachedOr = <T>(
      group: string,
      resource: string,
      ref: { namespace?: string; name: string },
      live: () => T | undefined | Promise<T | undefined>,
    ): T | undefined | Promise<T | undefined> => {
      const cache = this.resourceOf(group, resource).readyWatchCache();
      if (cache === undefined) return cachedOrWaiting(group, resource, ref, live);
      const held = cache.peek(ref) as unknown as T | undefined;
      return held ?? live();
    };
    const cachedOrWaiting = async <T>(
      group: string,
      resource: string,
      ref: { namespace?: string; name: string },
      live: () => T | undefined | Promise<T | undefined>,
    ): Promise<T | undefined> => {
      try {
        return (await this.resourceOf(group, resource).watchCache().get(ref, "0")) as unknown as T;
      } catch (e) {
        if (isApiError(e, "NotFound")) return live();
        throw e;
      }
    };
    const listIn = <T>(resource: string, namespace: string): T[] | Promise<T[]> => {
      const cache = this.resourceOf("", resource).watchCache();
      const held = cache.listNow({ namespace });
      if (held !== undefined) return held.items as unknown as T[];
      return cache.list({ namespace, resourceVersion: "0" }).then((r) => r.items as unknown as T[]);
    };
    // Namespaces deleted through this server in the last FORCE_LIVE_NAMESPACE_MS, by when
    // their lookups stop going to the store.
    const forceLive = new Map<string, number>();
    const getNamespace = (name: string) => {
      const until = forceLive.get(name);
      if (until !== undefined) {
        if (Date.now() < until) return store.getNamespace(name);
        forceLive.delete(name);
      }
      return cachedOr("", "namespaces", { name }, () => store.getNamespace(name));
    };
    return {
      getNamespace,
      namespaceDeleting: (name) => {
        forceLive.set(name, Date.now() + FORCE_LIVE_NAMESPACE_MS);
      },
      listLimitRanges: (namespace) => listIn<LimitRange>("limitranges", namespace),
      listResourceQuotas: (namespace) => listIn<ResourceQuota>("resourcequotas", namespace),
      getServiceAccount: (namespace, name) =>
        cachedOr("", "serviceaccounts", { namespace, name }, () =>
          store.getServiceAccount(namespace, name),
        ),
    };
  }

  /**
   * Starts the watch caches admission reads (namespaces, service accounts, limit ranges,
   * resource quotas), as kube-apiserver starts its admission informers before serving.
   */
  async startAdmissionCaches(): Promise<void> {
    await Promise.all(
      ADMISSION_RESOURCES.map((resource) => this.resourceOf("", resource).watchCache().start()),
    );
  }

  /** Every resource that has been used, for metrics. */
  servedResources(): ServedResource[] {
    return [...this.resources.values()];
  }

  /** The resource a request names; NotFound as Kubernetes answers an unknown path. */
  resolve(ref: apiv1.ResourceRef | undefined): ServedResource {
    const kind =
      ref === undefined
        ? undefined
        : kindForResource(ref.group === "core" ? "" : ref.group, ref.resource);
    if (
      ref === undefined ||
      kind === undefined ||
      kind.subresourceBody ||
      kind.listSchema === undefined ||
      (ref.version !== "" && ref.version !== kind.version)
    ) {
      throw StatusError.resourceNotFound();
    }
    return this.served(kind);
  }

  private served(kind: KindInfo): ServedResource {
    let res = this.resources.get(kind);
    if (res === undefined) {
      res = new ServedResource(
        kind,
        this.options.etcd,
        this.registryPrefix,
        this.leases,
        this.env,
        this.options.watchCache ?? {},
      );
      this.resources.set(kind, res);
    }
    return res;
  }

  private resourceOf(group: string, resource: string): ServedResource {
    return this.served(kindOrThrow(group, resource));
  }

  /**
   * `obj` packed for the wire, from the bytes the store holds it as when the store knows them
   * (stored-object-any.ts): for the watch cache's objects and the results of writes, which
   * nobody changes; otherwise packObject encodes it.
   */
  private packStored(res: ServedResource, obj: ApiObject): Any {
    const stored = res.store.storedBytesOf(obj);
    if (stored === undefined) return packObject(res.kind, obj);
    return anyFromStored(res.kind, stored, obj.metadata?.resourceVersion ?? "");
  }

  /** A response holding the object a write returned. */
  private storedResponse(res: ServedResource, obj: ApiObject): apiv1.ObjectResponse {
    return create(apiv1.ObjectResponseSchema, { object: this.packStored(res, obj) });
  }

  /** Stops every watch cache (and so every watch). */
  stop(): void {
    clearInterval(this.serviceRepair);
    for (const res of this.resources.values()) res.stop();
  }

  // --- Create ---------------------------------------------------------------------------------

  async create(req: apiv1.CreateRequest): Promise<apiv1.ObjectResponse> {
    if ((req.ref?.group ?? "") === "" && req.ref?.resource === "bindings") {
      return this.createBinding(req);
    }
    const res = this.resolve(req.ref);
    const requested = () => {
      const obj = objectOf(res.kind, req.object);
      this.placeInNamespace(res.kind, obj, req.ref?.namespace ?? "", "create");
      return obj;
    };
    // A retry starts again from the request's bytes.
    return this.createObject(res, requested(), req.dryRun, requested);
  }

  /** Sets or checks metadata.namespace against the request's namespace. */
  private placeInNamespace(
    kind: KindInfo,
    obj: ApiObject,
    requestNamespace: string,
    verb: string,
  ): void {
    const meta = metaOf(kind, obj);
    if (!kind.namespaced) {
      meta.namespace = "";
      return;
    }
    if (requestNamespace !== "" && meta.namespace !== "" && meta.namespace !== requestNamespace) {
      throw StatusError.badRequest(
        `the namespace of the provided object does not match the namespace sent on the request (${meta.namespace} vs ${requestNamespace})`,
      );
    }
    if (meta.namespace === "") meta.namespace = requestNamespace;
    if (meta.namespace === "") {
      throw StatusError.badRequest(
        `metadata.namespace: Required value: ${kind.resource} are namespaced; set the namespace to ${verb} in`,
      );
    }
  }

  /**
   * Admits and stores `obj`, which is handed over (changed in place). A retry (a quota that
   * changed meanwhile, a generated name taken) starts again from `again()`, a fresh copy of
   * the object as requested; by default one decoded from `obj`'s encoding before any change.
   */
  private async createObject(
    res: ServedResource,
    obj: ApiObject,
    dryRun: boolean,
    again: () => ApiObject = copier(res.kind, obj),
  ): Promise<apiv1.ObjectResponse> {
    const kind = res.kind;
    const requested = metaOf(kind, obj);
    if (requested.name === "" && requested.generateName === "") {
      throw this.invalid(kind, "", [
        FieldError.required(FieldPath.root("metadata", "name"), "name or generateName is required"),
      ]);
    }
    if (requested.resourceVersion !== "") {
      throw StatusError.badRequest(
        "metadata.resourceVersion: Invalid value: resourceVersion should not be set on objects to be created",
      );
    }
    const generated = requested.name === "" && requested.generateName !== "";
    for (let attempt = 1; ; attempt++) {
      const prepared = res.strategy.prepareForCreate(attempt === 1 ? obj : again());
      const meta = metaOf(kind, prepared);
      const outcome = await this.admission.admit(
        {
          operation: "CREATE",
          kind,
          namespace: meta.namespace,
          name: meta.name,
          object: prepared,
          oldObject: undefined,
          subresource: "",
          dryRun,
        },
        attempt === 1 ? this.lookups : this.freshLookups,
        () => {
          applyDefaults(prepared as unknown as Message);
          this.validate(kind, prepared, validateObject(prepared as unknown as Message));
        },
      );
      const allocation = this.allocationFor(kind);
      await this.allocateService(allocation, kind, prepared, undefined, dryRun);
      // Encoded once: for the size check and for the store.
      const encoded = res.store.encode(prepared);
      this.checkSize(kind, encoded.length);
      if (dryRun) return create(apiv1.ObjectResponseSchema, { object: packObject(kind, prepared) });
      if (!(await this.chargeQuotas(outcome.quotaCharges))) {
        await allocation?.abort();
        // A quota changed since admission read it: admit again against its new usage.
        if (attempt < QUOTA_ATTEMPTS) continue;
        throw StorageError.conflict(
          { group: "", resource: "resourcequotas" },
          outcome.quotaCharges[0]?.name ?? "",
        );
      }
      let stored: ApiObject;
      try {
        const ttl = res.strategy.ttlSeconds(prepared);
        stored = await res.store.create({ namespace: meta.namespace, name: meta.name }, prepared, {
          encoded,
          ...(ttl === undefined ? {} : { ttlSeconds: ttl }),
        });
      } catch (e) {
        await allocation?.abort();
        if (generated && isApiError(e, "AlreadyExists") && attempt < GENERATE_NAME_ATTEMPTS) {
          continue;
        }
        throw e;
      }
      await allocation?.commit(stored as unknown as Service);
      return this.storedResponse(res, stored);
    }
  }

  /** A Service's allocation of cluster IP and node ports; undefined for other kinds. */
  private allocationFor(kind: KindInfo): ServiceAllocation | undefined {
    return kind.group === "" && kind.kind === "Service" ? this.services.begin() : undefined;
  }

  /** allocation.allocate, with its field errors as Invalid of the Service. */
  private async allocateService(
    allocation: ServiceAllocation | undefined,
    kind: KindInfo,
    obj: ApiObject,
    old: ApiObject | undefined,
    dryRun: boolean,
  ): Promise<void> {
    if (allocation === undefined) return;
    try {
      await allocation.allocate(obj as unknown as Service, old as unknown as Service, dryRun);
    } catch (e) {
      if (e instanceof FieldErrorAggregate) {
        throw this.invalid(kind, obj.metadata?.name ?? "", [...e.errors]);
      }
      throw e;
    }
  }

  /** Gives back what a removed Service held. */
  private async released(kind: KindInfo, removed: ApiObject): Promise<ApiObject> {
    if (kind.group === "" && kind.kind === "Service") {
      await this.services.release(removed as unknown as Service);
    }
    return removed;
  }

  /**
   * Records admitted quota usage: each quota's status.used is written only if the quota is
   * still at the resourceVersion admission read. False when one had changed (admit again).
   */
  private async chargeQuotas(charges: readonly QuotaCharge[]): Promise<boolean> {
    const quotas = this.resourceOf("", "resourcequotas");
    for (const charge of charges) {
      try {
        await quotas.store.guaranteedUpdate(
          { namespace: charge.namespace, name: charge.name },
          (current) => {
            const next = chargedQuota(quotas.kind, current as unknown as ResourceQuota, charge);
            (next.metadata as NonNullable<ResourceQuota["metadata"]>).resourceVersion = "";
            return next as unknown as ApiObject;
          },
          { resourceVersion: charge.resourceVersion },
        );
      } catch (e) {
        if (isApiError(e, "Conflict")) return false;
        throw e;
      }
    }
    return true;
  }

  /** Throws Invalid (422) with every field error, as Kubernetes reports validation. */
  private validate(kind: KindInfo, obj: ApiObject, errors: FieldError[]): void {
    if (errors.length > 0) throw this.invalid(kind, obj.metadata?.name ?? "", errors);
  }

  private invalid(kind: KindInfo, name: string, errors: FieldError[]): StatusError {
    return StatusError.invalid(kind, name, new FieldErrorAggregate(errors));
  }

  /** RequestEntityTooLarge before anything is stored: `size` is the object's encoded length. */
  private checkSize(kind: KindInfo, size: number): void {
    if (size > MAX_OBJECT_BYTES) {
      throw new StatusError(
        "RequestEntityTooLarge",
        `Request entity too large: the ${kind.kind} is ${size} bytes, the limit is ${MAX_OBJECT_BYTES}`,
      );
    }
  }

  // --- Get and List ---------------------------------------------------------------------------

  async get(req: apiv1.GetRequest): Promise<apiv1.ObjectResponse> {
    const res = this.resolve(req.ref);
    const ref = this.objectRef(res, req.ref);
    if (req.resourceVersion === "0") {
      const { items } = await res.watchCache().list({
        ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }),
        resourceVersion: "0",
        filter: (o) => o.metadata?.name === ref.name,
      });
      const found = items[0];
      if (found === undefined) throw StorageError.notFound(res.kind, ref.name);
      return this.storedResponse(res, found);
    }
    return this.storedResponse(res, await res.store.get(ref));
  }

  private objectRef(
    res: ServedResource,
    ref: apiv1.ResourceRef | undefined,
  ): { namespace?: string; name: string } {
    const name = ref?.name ?? "";
    if (name === "") {
      throw StatusError.badRequest("name: Required value: give the name of the object");
    }
    return res.kind.namespaced ? { namespace: ref?.namespace ?? "", name } : { name };
  }

  /** The filter of a list or watch: label and field selectors, and one name when given. */
  private filterFor(
    res: ServedResource,
    labelSelector: string,
    fieldSelector: string,
    name = "",
  ): ((obj: ApiObject) => boolean) | undefined {
    let ls: labels.Selector;
    let fs: fields.Selector;
    try {
      ls = labels.Selector.parse(labelSelector);
      fs = fields.Selector.parse(fieldSelector);
    } catch (e) {
      return selectorError(e);
    }
    try {
      res.strategy.checkFieldSelector(fs);
    } catch (e) {
      return selectorError(e);
    }
    if (ls.isEverything() && fs.isEverything() && name === "") return undefined;
    return (obj) =>
      (name === "" || obj.metadata?.name === name) &&
      ls.matches(obj.metadata?.labels) &&
      (fs.isEverything() || fs.matches(res.strategy.fieldSet(obj)));
  }

  async list(req: apiv1.ListRequest): Promise<apiv1.ListResponse> {
    const res = this.resolve(req.ref);
    const namespace = res.kind.namespaced && req.ref?.namespace ? req.ref.namespace : undefined;
    const filter = this.filterFor(res, req.labelSelector, req.fieldSelector);
    const rv = req.resourceVersion;
    const match = req.resourceVersionMatch;
    if (match !== "" && match !== "Exact" && match !== "NotOlderThan") {
      throw StatusError.badRequest(
        `resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`,
      );
    }
    if (match !== "" && rv === "") {
      throw StatusError.badRequest(
        "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
      );
    }
    const served = await listFromCache(res, {
      namespace,
      filter,
      resourceVersion: rv,
      resourceVersionMatch: match,
      limit: req.limit,
      continue: req.continue,
      consistentListFromCache: this.options.consistentListFromCache ?? true,
    });
    if (served !== undefined) {
      return create(apiv1.ListResponseSchema, {
        items: served.items.map((o) => this.packed.packed(res.kind, o)),
        resourceVersion: served.resourceVersion,
        continue: served.continue ?? "",
        ...(served.remainingItemCount === undefined
          ? {}
          : { remainingItemCount: BigInt(served.remainingItemCount) }),
      });
    }
    // Paged: read pages of at most the items still wanted, so the continue token of the last
    // page read is exactly after the last item returned, however many the filter drops.
    const items: ApiObject[] = [];
    let cont = req.continue;
    let resourceVersion = "";
    let remaining: number | undefined;
    for (;;) {
      const want = req.limit > 0 ? req.limit - items.length : 0;
      const page = await res.store.list({
        ...(namespace === undefined ? {} : { namespace }),
        limit: want,
        ...(cont === "" ? {} : { continue: cont }),
        ...(cont === "" && match === "Exact" ? { resourceVersion: rv } : {}),
      });
      resourceVersion = page.resourceVersion;
      for (const o of page.items) if (filter === undefined || filter(o)) items.push(o);
      cont = page.continue ?? "";
      remaining = filter === undefined ? page.remainingItemCount : undefined;
      if (cont === "" || (req.limit > 0 && items.length >= req.limit)) break;
    }
    if (match === "NotOlderThan" && rv !== "0" && Number(resourceVersion) < Number(rv)) {
      throw StorageError.tooLargeResourceVersion(Number(rv), Number(resourceVersion));
    }
    return create(apiv1.ListResponseSchema, {
      items: items.map((o) => this.packStored(res, o)),
      resourceVersion,
      continue: cont,
      ...(cont !== "" && remaining !== undefined ? { remainingItemCount: BigInt(remaining) } : {}),
    });
  }

  // --- Update, UpdateStatus, Patch ------------------------------------------------------------

  /**
   * Update (PUT), UpdateStatus (PUT .../status) or Finalize (PUT namespaces/<name>/finalize):
   * what the request may change is the strategy's prepareForUpdate, prepareForStatusUpdate or
   * prepareForFinalize.
   */
  async update(req: apiv1.UpdateRequest, mode: UpdateMode): Promise<apiv1.ObjectResponse> {
    const res = this.resolve(req.ref);
    if (mode === "status" && !res.kind.hasStatus) throw StatusError.resourceNotFound();
    if (mode === "finalize" && res.kind.kind !== "Namespace") throw StatusError.resourceNotFound();
    const obj = objectOf(res.kind, req.object);
    this.placeInNamespace(res.kind, obj, req.ref?.namespace ?? "", "update");
    const meta = metaOf(res.kind, obj);
    const urlName = req.ref?.name ?? "";
    if (urlName !== "" && meta.name !== "" && meta.name !== urlName) {
      throw StatusError.badRequest(
        `the name of the object (${meta.name}) does not match the name on the URL (${urlName})`,
      );
    }
    if (meta.name === "") meta.name = urlName;
    const stored = await this.updateObject(
      res,
      meta.name,
      meta.namespace,
      req.dryRun,
      () => cloneObject(res.kind, obj),
      mode,
    );
    // A dry run's result was never stored: encode it.
    if (req.dryRun)
      return create(apiv1.ObjectResponseSchema, { object: packObject(res.kind, stored) });
    return this.storedResponse(res, stored);
  }

  /**
   * GuaranteedUpdate with the strategy: `next(current)` gives the requested object (re-run on
   * a race); its resourceVersion, when set, must be the stored one (else Conflict).
   */
  private async updateObject(
    res: ServedResource,
    name: string,
    namespace: string,
    dryRun: boolean,
    next: (current: ApiObject) => ApiObject,
    mode: UpdateMode,
  ): Promise<ApiObject> {
    const kind = res.kind;
    const ref = kind.namespaced ? { namespace, name } : { name };
    const allocation = mode === "spec" ? this.allocationFor(kind) : undefined;
    const tryUpdate = async (current: ApiObject): Promise<ApiObject> => {
      const requested = next(current);
      const rv = requested.metadata?.resourceVersion ?? "";
      const currentRv = current.metadata?.resourceVersion ?? "";
      if (rv !== "" && rv !== currentRv) throw StorageError.conflict(kind, name);
      const uid = requested.metadata?.uid ?? "";
      if (uid !== "" && uid !== current.metadata?.uid) {
        throw StorageError.conflict(
          kind,
          name,
          `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${current.metadata?.uid ?? ""}`,
        );
      }
      const prepared =
        mode === "status"
          ? res.strategy.prepareForStatusUpdate(requested, current)
          : mode === "finalize"
            ? res.strategy.prepareForFinalize(requested, current)
            : res.strategy.prepareForUpdate(requested, current);
      const meta = metaOf(kind, prepared);
      await this.admission.admit(
        {
          operation: "UPDATE",
          kind,
          namespace: meta.namespace,
          name: meta.name,
          object: prepared,
          oldObject: current,
          subresource: mode === "spec" ? "" : mode,
          dryRun,
        },
        this.lookups,
        () => {
          if (mode === "spec") applyDefaults(prepared as unknown as Message);
          this.validate(
            kind,
            prepared,
            validateUpdate(prepared as unknown as Message, current as unknown as Message),
          );
        },
      );
      await this.allocateService(allocation, kind, prepared, current, dryRun);
      meta.resourceVersion = "";
      this.checkSize(kind, encodedSize(kind, prepared));
      return prepared;
    };
    if (dryRun) {
      const current = await res.store.get(ref);
      const out = await tryUpdate(current);
      metaOf(kind, out).resourceVersion = current.metadata?.resourceVersion ?? "";
      return out;
    }
    let old: ApiObject | undefined;
    let stored: ApiObject;
    try {
      stored = await res.store.guaranteedUpdate(
        ref,
        (current) => {
          old = current;
          return tryUpdate(current);
        },
        undefined,
        // Start from the watch cache's copy, sparing a store read (kube-apiserver's cached
        // existing object); not when the update allocates (Service IPs and ports).
        allocation === undefined ? res.readyWatchCache()?.peek(ref) : undefined,
      );
    } catch (e) {
      await allocation?.abort();
      throw e;
    }
    await allocation?.commit(stored as unknown as Service, old as unknown as Service);
    return this.removeIfFinalized(res, stored, old, mode === "finalize");
  }

  /**
   * Kubernetes' shouldDeleteDuringUpdate: an update that removed the last finalizer of an
   * object marked for deletion (with no grace period pending) removes it.
   */
  private async removeIfFinalized(
    res: ServedResource,
    updated: ApiObject,
    old: ApiObject | undefined,
    finalized = false,
  ): Promise<ApiObject> {
    // A namespace whose last spec.finalizer Finalize removed, while it terminates, goes too.
    const namespaceDone =
      finalized &&
      updated.metadata?.deletionTimestamp !== undefined &&
      updated.metadata.finalizers.length === 0 &&
      ((updated as unknown as Namespace).spec?.finalizers.length ?? 0) === 0;
    if (old === undefined || !(namespaceDone || removeAfterUpdate(updated, old))) return updated;
    const meta = metaOf(res.kind, updated);
    const ref = res.kind.namespaced
      ? { namespace: meta.namespace, name: meta.name }
      : { name: meta.name };
    try {
      return await this.released(
        res.kind,
        await res.store.delete(ref, { resourceVersion: meta.resourceVersion }),
      );
    } catch (e) {
      if (isApiError(e, "NotFound") || isApiError(e, "Conflict")) return updated;
      throw e;
    }
  }

  async patch(req: apiv1.PatchRequest): Promise<apiv1.ObjectResponse> {
    const res = this.resolve(req.ref);
    if (req.status && !res.kind.hasStatus) throw StatusError.resourceNotFound();
    const ref = this.objectRef(res, req.ref);
    let patchDoc: JsonValue;
    try {
      patchDoc = JSON.parse(Buffer.from(req.patch).toString("utf8")) as JsonValue;
    } catch (e) {
      throw StatusError.badRequest(`patch: Invalid value: not JSON: ${(e as Error).message}`);
    }
    if (req.patchType !== PATCH_MERGE && req.patchType !== PATCH_JSON) {
      throw new StatusError(
        "UnsupportedMediaType",
        `the body of the request was in an unknown format - accepted media types include: ${PATCH_JSON}, ${PATCH_MERGE}`,
      );
    }
    const apply = (current: ApiObject): ApiObject => {
      const json = objectToJson(current as unknown as Message);
      const patched =
        req.patchType === PATCH_MERGE
          ? applyMergePatch(json, patchDoc)
          : applyJsonPatch(json, parseJsonPatch(patchDoc));
      const decoded = decodeObject(patched).message as unknown as ApiObject;
      if (decoded.$typeName !== res.kind.schema.typeName) {
        throw StatusError.badRequest("the patch changed the object's apiVersion or kind");
      }
      const meta = metaOf(res.kind, decoded);
      if (meta.name !== ref.name || (res.kind.namespaced && meta.namespace !== ref.namespace)) {
        throw StatusError.badRequest(
          `metadata.name: Invalid value: "${meta.name}": the patch may not change the object's name or namespace`,
        );
      }
      return decoded;
    };
    const stored = await this.updateObject(
      res,
      ref.name,
      ref.namespace ?? "",
      req.dryRun,
      apply,
      req.status ? "status" : "spec",
    );
    if (req.dryRun)
      return create(apiv1.ObjectResponseSchema, { object: packObject(res.kind, stored) });
    return this.storedResponse(res, stored);
  }

  // --- Delete ---------------------------------------------------------------------------------

  async delete(req: apiv1.DeleteRequest): Promise<apiv1.ObjectResponse> {
    const res = this.resolve(req.ref);
    const ref = this.objectRef(res, req.ref);
    const obj = await this.deleteObject(res, ref, {
      gracePeriodSeconds: req.gracePeriodSeconds,
      propagationPolicy: req.propagationPolicy,
      preconditions: req.preconditions,
      dryRun: req.dryRun,
    });
    return create(apiv1.ObjectResponseSchema, { object: packObject(res.kind, obj) });
  }

  /**
   * Deletes through the registry's decision (registry/deletion.ts): removed now, or written
   * back marked for deletion (graceful pods, finalizers, terminating namespaces), or left as
   * it is (a graceful deletion already pending).
   */
  private async deleteObject(
    res: ServedResource,
    ref: { namespace?: string; name: string },
    options: DeleteOptions & { dryRun: boolean },
  ): Promise<ApiObject> {
    const decide = (obj: ApiObject) => decideDelete(res.strategy, obj, options, this.env.now());
    const current = await res.store.get(ref);
    await this.admission.admit(
      {
        operation: "DELETE",
        kind: res.kind,
        namespace: ref.namespace ?? "",
        name: ref.name,
        object: undefined,
        oldObject: current,
        subresource: "",
        dryRun: options.dryRun,
      },
      this.lookups,
    );
    if (options.dryRun) return decide(current).object;
    for (;;) {
      let action = "keep" as "remove" | "update" | "keep";
      const after = await res.store.guaranteedUpdate(ref, (obj) => {
        const decision = decide(obj);
        action = decision.action;
        if (decision.action !== "update") return UNCHANGED;
        metaOf(res.kind, decision.object).resourceVersion = "";
        return decision.object;
      });
      if (action !== "remove") return after;
      try {
        return await this.released(
          res.kind,
          await res.store.delete(ref, { resourceVersion: after.metadata?.resourceVersion ?? "" }),
        );
      } catch (e) {
        // Written between the decision and the delete: decide again on the new state.
        if (!isApiError(e, "Conflict")) throw e;
      }
    }
  }

  async deleteCollection(req: apiv1.DeleteCollectionRequest): Promise<apiv1.ListResponse> {
    const res = this.resolve(req.ref);
    const namespace = res.kind.namespaced && req.ref?.namespace ? req.ref.namespace : undefined;
    const filter = this.filterFor(res, req.labelSelector, req.fieldSelector);
    const list = await res.store.list(namespace === undefined ? {} : { namespace });
    const deleted: ApiObject[] = [];
    for (const obj of list.items) {
      if (filter !== undefined && !filter(obj)) continue;
      const meta = metaOf(res.kind, obj);
      const ref = res.kind.namespaced
        ? { namespace: meta.namespace, name: meta.name }
        : { name: meta.name };
      try {
        deleted.push(
          await this.deleteObject(res, ref, {
            gracePeriodSeconds: req.gracePeriodSeconds,
            propagationPolicy: req.propagationPolicy,
            preconditions: undefined,
            dryRun: req.dryRun,
          }),
        );
      } catch (e) {
        // Deleted by someone else meanwhile: that is what was asked for.
        if (!isApiError(e, "NotFound")) throw e;
      }
    }
    return create(apiv1.ListResponseSchema, {
      items: deleted.map((o) => packObject(res.kind, o)),
      resourceVersion: list.resourceVersion,
    });
  }

  // --- Watch ----------------------------------------------------------------------------------

  /**
   * Streams changes to `send` until `signal` aborts, the timeout passes or the cache ends the
   * watch. A resourceVersion older than the cache's window sends an ERROR event with a Status
   * (Expired, 410) and ends. Resolves when the watch is over, with why the watch cache ended
   * it ("slow": the client did not keep up; undefined when it ended with an ERROR event).
   */
  async watch(
    req: apiv1.WatchRequest,
    send: WatchSink,
    signal: AbortSignal,
  ): Promise<WatchCloseReason | undefined> {
    const res = this.resolve(req.ref);
    const kind = res.kind;
    const namespace = kind.namespaced && req.ref?.namespace ? req.ref.namespace : undefined;
    const filter = this.filterFor(res, req.labelSelector, req.fieldSelector, req.ref?.name ?? "");
    let watcher: Awaited<ReturnType<ReturnType<ServedResource["watchCache"]>["watch"]>>;
    try {
      watcher = await res.watchCache().watch({
        ...(namespace === undefined ? {} : { namespace }),
        resourceVersion: req.resourceVersion,
        ...(filter === undefined ? {} : { filter }),
        allowBookmarks: req.allowWatchBookmarks,
      });
    } catch (e) {
      if (isApiError(e, "Expired") || isApiError(e, "Timeout")) {
        await send(errorEvent(new StatusError(e.reason, e.message)));
        return undefined;
      }
      throw e;
    }
    const stop = () => watcher.stop();
    signal.addEventListener("abort", stop, { once: true });
    const timer = req.timeoutSeconds > 0 ? setTimeout(stop, req.timeoutSeconds * 1000) : undefined;
    try {
      for await (const event of watcher) {
        if (event.type === "BOOKMARK") {
          const bookmark = create(kind.schema as DescMessage) as unknown as ApiObject;
          metaOf(kind, bookmark).resourceVersion = String(event.revision);
          await send(watchEvent("BOOKMARK", packObject(kind, bookmark)));
        } else {
          await send(
            this.sharedEvents.eventFor(kind, event.type, event.object, (_, type, obj) =>
              watchEvent(type, this.packStored(res, obj)),
            ),
          );
        }
      }
      return watcher.closeReason;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", stop);
      watcher.stop();
    }
  }

  /**
   * POST namespaces/<ns>/bindings with a Binding (the older spelling of pods/<name>/binding):
   * binds the pod the Binding names to its target node.
   */
  private async createBinding(req: apiv1.CreateRequest): Promise<apiv1.ObjectResponse> {
    const kind = kindOrThrow("", "bindings");
    const binding = objectOf(kind, req.object) as unknown as Binding;
    const namespace = binding.metadata?.namespace || req.ref?.namespace || "";
    if (namespace === "") {
      throw StatusError.badRequest(
        "metadata.namespace: Required value: bindings are namespaced; give the pod's namespace",
      );
    }
    if (req.dryRun) {
      throw StatusError.badRequest("dryRun: Unsupported value: bindings cannot be dry-run");
    }
    return this.bind(
      create(apiv1.BindRequestSchema, {
        namespace,
        name: binding.metadata?.name ?? "",
        nodeName: binding.target?.name ?? "",
        uid: binding.metadata?.uid ?? "",
      }),
    );
  }

  // --- Bind, Evict, Discover ------------------------------------------------------------------

  /** Binds a pod to a node (pods/binding): sets spec.nodeName and PodScheduled=True. */
  async bind(req: apiv1.BindRequest): Promise<apiv1.ObjectResponse> {
    const pods = this.resourceOf("", "pods");
    if (req.nodeName === "") {
      throw this.invalid(kindOrThrow("", "bindings"), req.name, [
        FieldError.required(FieldPath.root("target", "name"), ""),
      ]);
    }
    const binding = { group: "", resource: "pods/binding" };
    const ref = { namespace: req.namespace, name: req.name };
    const bound = await pods.store.guaranteedUpdate(
      ref,
      (obj) => {
        const current = obj as unknown as Pod;
        const meta = current.metadata;
        if (req.uid !== "" && meta?.uid !== req.uid) {
          throw StorageError.conflict(
            binding,
            req.name,
            `Precondition failed: UID in precondition: ${req.uid}, UID in object meta: ${meta?.uid ?? ""}`,
          );
        }
        if (meta?.deletionTimestamp !== undefined) {
          throw StorageError.conflict(
            binding,
            req.name,
            `pod ${req.name} is being deleted, cannot be assigned to a host`,
          );
        }
        const spec = current.spec;
        if (meta === undefined || spec === undefined) {
          throw new Error(`pod ${req.name} has no metadata or spec`);
        }
        if (spec.nodeName !== "") {
          throw StorageError.conflict(
            binding,
            req.name,
            `pod ${req.name} is already assigned to node "${spec.nodeName}"`,
          );
        }
        // The bound pod shares with `current` (the watch cache's copy, which must not change)
        // every part the binding leaves alone: only metadata, spec and the status conditions
        // are new objects, instead of a deep copy of the whole pod.
        const pod: Pod = {
          ...current,
          metadata: { ...meta, resourceVersion: "" },
          spec: { ...spec, nodeName: req.nodeName },
        };
        const status = current.status;
        if (status !== undefined) {
          const now = timestampAtSeconds(this.env.now());
          const existing = status.conditions.find((c) => c.type === "PodScheduled");
          const scheduled = {
            $typeName: "tug.core.v1.PodCondition" as const,
            ...existing,
            type: "PodScheduled",
            status: "True",
            reason: "",
            message: "",
            lastTransitionTime: existing?.status === "True" ? existing.lastTransitionTime : now,
          };
          pod.status = {
            ...status,
            conditions:
              existing === undefined
                ? [...status.conditions, scheduled]
                : status.conditions.map((c) => (c === existing ? scheduled : c)),
          };
        }
        return pod as unknown as ApiObject;
      },
      undefined,
      // From the watch cache's copy when it has one, as kube-apiserver's cacher does for every
      // GuaranteedUpdate: no store read; a stale copy fails the compare and is read again.
      pods.readyWatchCache()?.peek(ref),
    );
    return this.storedResponse(pods, bound);
  }

  /**
   * Evicts a pod (pods/eviction): refused with 429 when a PodDisruptionBudget that selects it
   * allows no disruption; otherwise the budget's disruptionsAllowed goes down by one and the
   * pod is deleted with the request's options.
   */
  async evict(req: apiv1.EvictRequest): Promise<apiv1.ObjectResponse> {
    const pods = this.resourceOf("", "pods");
    const ref = { namespace: req.namespace, name: req.name };
    const pod = (await pods.store.get(ref)) as unknown as Pod;
    const phase = pod.status?.phase ?? "";
    // Kubernetes evicts pods that are done, or not yet running, without asking a budget.
    if (phase !== "Succeeded" && phase !== "Failed" && phase !== "Pending") {
      await this.takeDisruption(pod);
    }
    const opts = req.deleteOptions;
    const obj = await this.deleteObject(pods, ref, {
      gracePeriodSeconds: opts?.gracePeriodSeconds,
      propagationPolicy: opts?.propagationPolicy ?? "",
      preconditions: opts?.preconditions,
      dryRun: opts?.dryRun ?? false,
    });
    return create(apiv1.ObjectResponseSchema, { object: packObject(pods.kind, obj) });
  }

  private async takeDisruption(pod: Pod): Promise<void> {
    const pdbs = this.resourceOf("policy", "poddisruptionbudgets");
    const namespace = pod.metadata?.namespace ?? "";
    const { items } = await pdbs.store.list({ namespace });
    const matching = (items as unknown as PodDisruptionBudget[]).filter((pdb) => {
      const selector = pdb.spec?.selector;
      if (selector === undefined) return false;
      try {
        const s = labels.Selector.fromObject(selector);
        return !s.isEverything() && s.matches(pod.metadata?.labels);
      } catch {
        return false;
      }
    });
    if (matching.length === 0) return;
    if (matching.length > 1) {
      throw new StatusError(
        "InternalError",
        "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
      );
    }
    const pdb = matching[0] as PodDisruptionBudget;
    const name = pdb.metadata?.name ?? "";
    await pdbs.store.guaranteedUpdate({ namespace, name }, (obj) => {
      const next = cloneObject(pdbs.kind, obj) as unknown as PodDisruptionBudget;
      const status = next.status;
      if (status === undefined || status.disruptionsAllowed <= 0) {
        throw new StatusError(
          "TooManyRequests",
          "Cannot evict pod as it would violate the pod's disruption budget.",
          {
            causes: [
              {
                reason: "DisruptionBudget",
                message: `The disruption budget ${name} needs ${status?.desiredHealthy ?? 0} healthy pods and has ${status?.currentHealthy ?? 0} currently`,
                field: "",
              },
            ],
          },
        );
      }
      status.disruptionsAllowed -= 1;
      status.disruptedPods[pod.metadata?.name ?? ""] = timestampAtSeconds(this.env.now());
      (next.metadata as NonNullable<PodDisruptionBudget["metadata"]>).resourceVersion = "";
      return next as unknown as ApiObject;
    });
  }

  discover(): apiv1.DiscoverResponse {
    const verbs = [
      "create",
      "delete",
      "deletecollection",
      "get",
      "list",
      "patch",
      "update",
      "watch",
    ];
    return create(apiv1.DiscoverResponseSchema, {
      resources: allKinds
        .filter((k) => !k.subresourceBody)
        .map((k) => ({
          group: k.group,
          version: k.version,
          name: k.resource,
          singularName: k.singular,
          shortNames: [...k.shortNames],
          kind: k.kind,
          namespaced: k.namespaced,
          verbs: k.listSchema === undefined ? ["create"] : verbs,
          hasStatus: k.hasStatus,
        })),
    });
  }

  /**
   * kube-apiserver's bootstrap controller: the `kubernetes` Service in `default` (the range's
   * first address, port 443 "https" to the API server's port) when absent, and this server's
   * address in its Endpoints. Addresses of servers that are gone are not removed yet.
   */
  async ensureKubernetesService(ip: string, port: number): Promise<void> {
    const services = this.resourceOf("", "services");
    const svc = create(ServiceSchema, {
      metadata: { name: "kubernetes", namespace: "default", labels: KUBERNETES_SERVICE_LABELS },
      spec: {
        type: "ClusterIP",
        clusterIp: this.services.apiServerServiceIp,
        sessionAffinity: "None",
        ports: [{ name: "https", protocol: "TCP", port: 443, targetPort: makeIntOrString(port) }],
      },
    }) as unknown as ApiObject;
    const exists = () =>
      services.store.get({ namespace: "default", name: "kubernetes" }).then(
        () => true,
        (e: unknown) => (isApiError(e, "NotFound") ? false : Promise.reject(e)),
      );
    if (!(await exists())) {
      try {
        await this.createObject(services, svc, false);
      } catch (e) {
        // Another API server created it meanwhile (its address reservation may answer first).
        if (!(await exists())) throw e;
      }
    }
    const endpoints = this.resourceOf("", "endpoints");
    const subset = { addresses: [{ ip }], ports: [{ name: "https", port, protocol: "TCP" }] };
    const ref = { namespace: "default", name: "kubernetes" };
    try {
      await endpoints.store.guaranteedUpdate(ref, (current) => {
        const ep = current as unknown as Endpoints;
        const listed = ep.subsets.some(
          (s) => s.addresses.some((a) => a.ip === ip) && s.ports.some((p) => p.port === port),
        );
        if (listed) return UNCHANGED;
        const next = cloneObject(endpoints.kind, current) as unknown as Endpoints;
        next.subsets.push(create(EndpointSubsetSchema, subset));
        (next.metadata as NonNullable<Endpoints["metadata"]>).resourceVersion = "";
        return next as unknown as ApiObject;
      });
    } catch (e) {
      if (!isApiError(e, "NotFound")) throw e;
      const ep = create(EndpointsSchema, {
        metadata: { name: "kubernetes", namespace: "default", labels: KUBERNETES_SERVICE_LABELS },
        subsets: [subset],
      }) as unknown as ApiObject;
      try {
        await this.createObject(endpoints, ep, false);
      } catch (again) {
        if (!isApiError(again, "AlreadyExists")) throw again;
      }
    }
  }

  /**
   * One round of the Services' allocation repair (ServiceAllocator.repair) over every Service
   * in the store; kube-apiserver runs its repair controllers every 3 minutes.
   */
  async repairServiceAllocations(): Promise<{ recorded: string[]; released: string[] }> {
    const { items } = await this.resourceOf("", "services").store.list({});
    return this.services.repair(items as unknown as Service[]);
  }

  /**
   * What kube-apiserver starts for Services: the `kubernetes` Service and this server's
   * Endpoints address (ensureKubernetesService), then the allocation repair every
   * `repairIntervalMs` (0: never); stop() ends it.
   */
  async startServiceAllocation(ip: string, port: number, repairIntervalMs: number): Promise<void> {
    await this.ensureKubernetesService(ip, port);
    if (repairIntervalMs > 0) {
      // A failed round (the store unavailable) is simply retried at the next.
      this.serviceRepair = setInterval(
        () => this.repairServiceAllocations().catch(() => {}),
        repairIntervalMs,
      );
      this.serviceRepair.unref();
    }
  }

  /** Creates the system namespaces that do not exist yet. */
  async ensureSystemNamespaces(): Promise<void> {
    const namespaces = this.resourceOf("", "namespaces");
    for (const name of SYSTEM_NAMESPACES) {
      const ns = create(namespaces.kind.schema as DescMessage, {
        metadata: { name },
      }) as unknown as ApiObject;
      try {
        await this.createObject(namespaces, ns, false);
      } catch (e) {
        if (!isApiError(e, "AlreadyExists")) throw e;
      }
    }
  }
}

function kindOrThrow(group: string, resource: string): KindInfo {
  const kind = kindForResource(group, resource);
  if (kind === undefined) throw new Error(`the scheme has no ${resource}.${group}`);
  return kind;
}

/** Makes fresh copies of `obj` as it is now (decoded from its encoding, made once). */
function copier(kind: KindInfo, obj: ApiObject): () => ApiObject {
  const bytes = objectToBinary(obj as unknown as Message);
  return () => objectFromBinary(kind, bytes) as unknown as ApiObject;
}

/** The bytes the object takes in the store. */
function encodedSize(kind: KindInfo, obj: ApiObject): number {
  return toBinary(kind.schema as DescMessage, obj as unknown as Message).length;
}

function watchEvent(type: string, object: Any): apiv1.WatchEvent {
  return create(apiv1.WatchEventSchema, { type, object });
}

/** The ERROR event that ends a watch, holding the Status. */
export function errorEvent(e: StatusError): apiv1.WatchEvent {
  return create(apiv1.WatchEventSchema, {
    type: "ERROR",
    object: anyPack(StatusSchema, e.toStatus()),
  });
}
