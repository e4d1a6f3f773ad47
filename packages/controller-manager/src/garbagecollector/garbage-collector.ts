// The garbage collector (Kubernetes' pkg/controller/garbagecollector): objects whose owners are
// all gone are deleted (background cascade); an owner deleted in the foreground
// (foregroundDeletion finalizer) has its dependents deleted first and is removed once none
// that block it remain; an owner deleted with the orphan finalizer has itself removed from its
// dependents' ownerReferences first. The ownership graph is fed by one informer per kind.
// https://kubernetes.io/docs/concepts/architecture/garbage-collection/
// https://kubernetes.io/docs/concepts/overview/working-with-objects/owners-dependents/

import { clone, type Message } from "@bufbuild/protobuf";
import { allKinds, type KindInfo, kindFor, type ObjectMeta, type OwnerReference } from "@tug/api";
import {
  type ApiClient,
  apiListerWatcher,
  type CacheObject,
  isApiError,
  isDeletedFinalStateUnknown,
  RateLimitingQueue,
  type SharedInformerFactory,
} from "@tug/client";
import type { Controller, Syncable } from "../framework/controller.js";
import {
  DependencyGraph,
  FINALIZER_FOREGROUND,
  FINALIZER_ORPHAN,
  type GraphNode,
  isDeletingDependents,
  isOrphaning,
} from "./dependency-graph.js";

/** kube-controller-manager's --concurrent-gc-syncs. */
export const DEFAULT_CONCURRENT_GC_SYNCS = 20;

/** Kinds the garbage collector never watches (Kubernetes' ignoredResources): events. */
const IGNORED_RESOURCES = new Set(["/events", "events.k8s.io/events"]);

/** Every listable kind but events: what the garbage collector watches by default. */
export function garbageCollectedKinds(): KindInfo[] {
  return allKinds.filter(
    (k) =>
      k.listSchema !== undefined &&
      !k.subresourceBody &&
      !IGNORED_RESOURCES.has(`${k.group}/${k.resource}`),
  );
}

/** The informer factory key of a kind, as the controller manager names its informers. */
export function informerKey(kind: KindInfo): string {
  return kind.group === ""
    ? `${kind.version}/${kind.resource}`
    : `${kind.group}/${kind.version}/${kind.resource}`;
}

export interface GarbageCollectorOptions {
  readonly api: Pick<ApiClient, "get" | "update" | "delete">;
  /** Where the collector gets (or shares) one informer per watched kind. */
  readonly factory: SharedInformerFactory;
  /** The ListerWatcher source for the informers the collector asks for. */
  readonly client: ApiClient;
  /** Kinds to watch; default garbageCollectedKinds(). */
  readonly kinds?: readonly KindInfo[];
  readonly queue?: RateLimitingQueue;
}

type Meta = ObjectMeta | undefined;

function metaOf(obj: CacheObject): Meta {
  return (obj as { metadata?: ObjectMeta }).metadata;
}

type OwnerState = "solid" | "dangling" | "waiting";

/**
 * One Syncable for many informers, listening to the stop signal once rather than once per
 * informer (dozens of listeners on one AbortSignal would trip Node's leak warning).
 */
function allSynced(informers: readonly Syncable[]): Syncable {
  return {
    waitForCacheSync: (signal) =>
      new Promise<boolean>((resolve) => {
        if (signal?.aborted) {
          resolve(false);
          return;
        }
        const onAbort = () => resolve(false);
        signal?.addEventListener("abort", onAbort, { once: true });
        // Informers release their waiters (with false) when they stop, so this settles.
        void Promise.all(informers.map((i) => i.waitForCacheSync())).then((synced) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(synced.every(Boolean));
        });
      }),
  };
}

const DELETE = "delete/";
const ORPHAN = "orphan/";

export class GarbageCollector implements Controller {
  readonly name = "garbagecollector";
  readonly informers: readonly Syncable[];
  readonly queue: RateLimitingQueue;
  readonly graph = new DependencyGraph();

  constructor(private readonly options: GarbageCollectorOptions) {
    this.queue = options.queue ?? new RateLimitingQueue();
    const informers: Syncable[] = [];
    for (const kind of options.kinds ?? garbageCollectedKinds()) {
      const informer = options.factory.informerFor<CacheObject>({
        key: informerKey(kind),
        newListerWatcher: () => apiListerWatcher(options.client, kind),
      });
      informer.addEventHandler({
        onAdd: (obj) => this.observe(kind, obj),
        onUpdate: (_old, obj) => this.observe(kind, obj),
        onDelete: (obj) => this.forget(isDeletedFinalStateUnknown(obj) ? obj.obj : obj),
      });
      informers.push(informer);
    }
    this.informers = [allSynced(informers)];
  }

  /** processGraphChanges for an added or changed object. */
  private observe(kind: KindInfo, obj: CacheObject): void {
    const meta = metaOf(obj);
    if (meta === undefined || meta.uid === "") return;
    const node: GraphNode = {
      kind,
      uid: meta.uid,
      namespace: meta.namespace,
      name: meta.name,
      owners: meta.ownerReferences,
      finalizers: meta.finalizers,
      deleting: meta.deletionTimestamp !== undefined,
    };
    const old = this.graph.upsert(node);
    // An owner not in the graph may be gone: check (and collect) the dependent.
    if (node.owners.some((o) => this.graph.get(o.uid) === undefined)) {
      this.queue.add(DELETE + node.uid);
    }
    if (isOrphaning(node)) this.queue.add(ORPHAN + node.uid);
    if (isDeletingDependents(node)) {
      this.queue.add(DELETE + node.uid);
      for (const dep of this.graph.dependentsOf(node.uid)) this.queue.add(DELETE + dep.uid);
    }
    // References dropped: an owner waiting for this dependent may be free to go.
    for (const ref of old?.owners ?? []) {
      if (node.owners.some((o) => o.uid === ref.uid)) continue;
      this.enqueueIfWaiting(ref.uid);
    }
  }

  /** processGraphChanges for a deleted object. */
  private forget(obj: CacheObject): void {
    const uid = metaOf(obj)?.uid ?? "";
    const removed = this.graph.remove(uid);
    for (const dep of this.graph.dependentsOf(uid)) this.queue.add(DELETE + dep.uid);
    for (const ref of removed?.owners ?? []) this.enqueueIfWaiting(ref.uid);
  }

  private enqueueIfWaiting(ownerUid: string): void {
    const owner = this.graph.get(ownerUid);
    if (owner !== undefined && isDeletingDependents(owner)) this.queue.add(DELETE + owner.uid);
  }

  async reconcile(key: string): Promise<void> {
    if (key.startsWith(ORPHAN)) await this.attemptToOrphan(key.slice(ORPHAN.length));
    else if (key.startsWith(DELETE)) await this.attemptToDelete(key.slice(DELETE.length));
  }

  /** attemptToDeleteItem: delete an object none of whose owners remains. */
  private async attemptToDelete(uid: string): Promise<void> {
    const node = this.graph.get(uid);
    if (node === undefined) return;
    if (isDeletingDependents(node)) {
      await this.processDeletingDependents(node);
      return;
    }
    if (node.deleting || node.owners.length === 0) return;
    const states = await Promise.all(
      node.owners.map(async (ref) => ({ ref, state: await this.ownerState(node, ref) })),
    );
    const solid = states.filter((s) => s.state === "solid");
    const notSolid = states.filter((s) => s.state !== "solid").map((s) => s.ref.uid);
    if (solid.length > 0) {
      // Still owned: only the references to owners that are gone or going are dropped.
      if (notSolid.length > 0) await this.removeOwnerReferences(node, notSolid);
      return;
    }
    const waiting = states.some((s) => s.state === "waiting");
    let policy: "Foreground" | "Background" | "Orphan";
    if (waiting && this.graph.dependentsOf(uid).length > 0) {
      // An owner waits for this one in the foreground: its own dependents go first too.
      policy = "Foreground";
    } else if (node.finalizers.includes(FINALIZER_ORPHAN)) {
      policy = "Orphan";
    } else if (node.finalizers.includes(FINALIZER_FOREGROUND)) {
      policy = "Foreground";
    } else {
      policy = "Background";
    }
    try {
      await this.options.api.delete(node.kind, node.name, {
        namespace: node.namespace,
        propagationPolicy: policy,
        preconditions: { uid },
      });
    } catch (error) {
      if (!isApiError(error, "NotFound") && !isApiError(error, "Conflict")) throw error;
    }
  }

  /**
   * Whether an owner reference holds: the owner is known (or, not in the graph, found by a
   * live read with the same uid), is gone, or is itself waiting on its dependents.
   */
  private async ownerState(node: GraphNode, ref: OwnerReference): Promise<OwnerState> {
    const known = this.graph.get(ref.uid);
    if (known !== undefined) return isDeletingDependents(known) ? "waiting" : "solid";
    const kind = kindFor(ref.apiVersion, ref.kind);
    // A kind this server does not know cannot be shown absent: keep the dependent.
    if (kind === undefined) return "solid";
    // A cluster-scoped object cannot be owned by a namespaced one.
    if (kind.namespaced && node.namespace === "") return "dangling";
    try {
      const owner = await this.options.api.get(kind, ref.name, {
        namespace: kind.namespaced ? node.namespace : "",
      });
      const meta = (owner as { metadata?: ObjectMeta }).metadata;
      if (meta?.uid !== ref.uid) return "dangling";
      const deletingDependents =
        meta.deletionTimestamp !== undefined && meta.finalizers.includes(FINALIZER_FOREGROUND);
      return deletingDependents ? "waiting" : "solid";
    } catch (error) {
      if (isApiError(error, "NotFound")) return "dangling";
      throw error;
    }
  }

  /** processDeletingDependentsItem: finish a foreground deletion once nothing blocks it. */
  private async processDeletingDependents(node: GraphNode): Promise<void> {
    const blocking = this.graph.blockingDependentsOf(node.uid);
    if (blocking.length === 0) {
      await this.removeFinalizer(node, FINALIZER_FOREGROUND);
      return;
    }
    for (const dep of blocking) {
      if (!isDeletingDependents(dep)) this.queue.add(DELETE + dep.uid);
    }
  }

  /** attemptToOrphan: free every dependent of the owner, then drop the orphan finalizer. */
  private async attemptToOrphan(uid: string): Promise<void> {
    const node = this.graph.get(uid);
    if (node === undefined || !isOrphaning(node)) return;
    for (const dep of this.graph.dependentsOf(uid)) {
      await this.removeOwnerReferences(dep, [uid]);
    }
    await this.removeFinalizer(node, FINALIZER_ORPHAN);
  }

  /** Reads the object fresh, changes its metadata, writes it back (Conflict is retried). */
  private async modify(node: GraphNode, change: (meta: ObjectMeta) => boolean): Promise<void> {
    let current: Message;
    try {
      current = await this.options.api.get(node.kind, node.name, { namespace: node.namespace });
    } catch (error) {
      if (isApiError(error, "NotFound")) return;
      throw error;
    }
    const copy = clone(node.kind.schema, current) as Message & { metadata?: ObjectMeta };
    if (copy.metadata === undefined || copy.metadata.uid !== node.uid) return;
    if (!change(copy.metadata)) return;
    try {
      await this.options.api.update(node.kind, copy);
    } catch (error) {
      if (!isApiError(error, "NotFound")) throw error;
    }
  }

  private removeOwnerReferences(node: GraphNode, ownerUids: readonly string[]): Promise<void> {
    return this.modify(node, (meta) => {
      const kept = meta.ownerReferences.filter((o) => !ownerUids.includes(o.uid));
      if (kept.length === meta.ownerReferences.length) return false;
      meta.ownerReferences = kept;
      return true;
    });
  }

  private removeFinalizer(node: GraphNode, finalizer: string): Promise<void> {
    return this.modify(node, (meta) => {
      if (!meta.finalizers.includes(finalizer)) return false;
      meta.finalizers = meta.finalizers.filter((f) => f !== finalizer);
      return true;
    });
  }
}
