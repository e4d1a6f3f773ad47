// The DaemonSet controller (Kubernetes' pkg/controller/daemon): one pod per eligible node, made
// from the current ControllerRevision of the template and bound to its node by a required node
// affinity `metadata.name In [node]`; excess and failed pods deleted (failed ones with back-off);
// RollingUpdate (maxUnavailable / maxSurge) and OnDelete; history truncated to
// revisionHistoryLimit; status written.
// https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/

import { clone } from "@bufbuild/protobuf";
import {
  type ControllerRevision,
  type DaemonSet,
  DaemonSetSchema,
  type DaemonSetStatus,
  DaemonSetStatusSchema,
  intOrString,
  type Node,
  type Pod,
  PodSchema,
} from "@tug/api";
import {
  type ApiClient,
  type Clock,
  createLister,
  isDeletedFinalStateUnknown,
  type Lister,
  metaNamespaceKeyFunc,
  RateLimitingQueue,
  realClock,
  type SharedIndexInformer,
} from "@tug/client";
import { apiClaimActions, isGone } from "../framework/api-claim-actions.js";
import type { Controller, Syncable } from "../framework/controller.js";
import { claimObjects, getControllerOf } from "../framework/controller-ref.js";
import type { EventRecorder } from "../framework/event-recorder.js";
import { ControllerExpectations } from "../framework/expectations.js";
import { deletePodsExpecting, type PodControl } from "../framework/pod-control.js";
import { isPodReady } from "../framework/pod-state.js";
import {
  nonEmptySelector,
  ownerIdentity,
  resolveControllerOf,
  writeStatus,
} from "../framework/workload-owner.js";
import { ensureCurrentRevision, pruneHistory } from "../history/controller-revision.js";
import { SLOW_START_INITIAL_BATCH_SIZE, slowStartBatch } from "../replicaset/slow-start.js";
import {
  CONTROLLER_REVISION_HASH_LABEL,
  daemonPodTemplate,
  type NodeDecision,
  nodeShouldRunDaemonPod,
  POD_TEMPLATE_GENERATION_LABEL,
  targetNodeName,
} from "./daemon-pod.js";
import { planManage, planRollingUpdate, rollingUpdateBounds } from "./daemon-set-plan.js";
import { calculateDaemonSetStatus, daemonSetStatusUnchanged } from "./daemon-set-status.js";
import { FailedPodBackoff } from "./failed-pod-backoff.js";

/** Most daemon pods created or deleted in one sync (kube-controller-manager's BurstReplicas for DaemonSets). */
export const DAEMON_SET_BURST_REPLICAS = 250;

export const DAEMON_SET_API_VERSION = "apps/v1";
export const DAEMON_SET_KIND = "DaemonSet";
/** The event for a failed daemon pod about to be deleted and replaced. */
export const FAILED_DAEMON_POD_REASON = "FailedDaemonPod";

export interface DaemonSetControllerOptions {
  readonly api: Pick<ApiClient, "get" | "create" | "update" | "updateStatus" | "delete">;
  readonly daemonSets: SharedIndexInformer<DaemonSet>;
  readonly nodes: SharedIndexInformer<Node>;
  readonly pods: SharedIndexInformer<Pod>;
  readonly revisions: SharedIndexInformer<ControllerRevision>;
  readonly podControl: PodControl;
  readonly recorder: EventRecorder;
  readonly clock?: Clock;
  readonly queue?: RateLimitingQueue;
  readonly burstReplicas?: number;
  /** Aborts when the controller must stop: no new creation batch starts after. */
  readonly signal?: AbortSignal;
}

/** What one sync saw: the DaemonSet, every node with its decision, the pods by node. */
interface SyncSnapshot {
  readonly key: string;
  readonly ds: DaemonSet;
  readonly nodes: readonly { readonly node: Node; readonly decision: NodeDecision }[];
  readonly podsByNode: ReadonlyMap<string, Pod[]>;
  readonly hash: string;
  readonly nowMs: number;
}

function nodeFacts(node: Node): string {
  return JSON.stringify([node.metadata?.labels, node.spec?.taints, node.spec?.unschedulable]);
}

export class DaemonSetController implements Controller {
  readonly name = "daemonset";
  readonly informers: readonly Syncable[];
  readonly queue: RateLimitingQueue;
  readonly expectations: ControllerExpectations;
  private readonly dsLister: Lister<DaemonSet>;
  private readonly nodeLister: Lister<Node>;
  private readonly podLister: Lister<Pod>;
  private readonly revisionLister: Lister<ControllerRevision>;
  private readonly clock: Clock;
  private readonly backoff: FailedPodBackoff;

  constructor(private readonly options: DaemonSetControllerOptions) {
    this.clock = options.clock ?? realClock;
    this.queue = options.queue ?? new RateLimitingQueue({ clock: this.clock });
    this.expectations = new ControllerExpectations(this.clock);
    this.backoff = new FailedPodBackoff(this.clock);
    this.informers = [options.daemonSets, options.nodes, options.pods, options.revisions];
    this.dsLister = createLister(options.daemonSets.getIndexer());
    this.nodeLister = createLister(options.nodes.getIndexer());
    this.podLister = createLister(options.pods.getIndexer());
    this.revisionLister = createLister(options.revisions.getIndexer());
    const enqueue = (ds: DaemonSet) => this.queue.add(metaNamespaceKeyFunc(ds));
    options.daemonSets.addEventHandler({
      onAdd: enqueue,
      onUpdate: (_old, ds) => enqueue(ds),
      onDelete: (obj) => {
        const key = metaNamespaceKeyFunc(obj);
        this.expectations.delete(key);
        this.queue.add(key);
      },
    });
    const enqueueAll = () => {
      for (const ds of this.dsLister.list()) enqueue(ds);
    };
    options.nodes.addEventHandler({
      onAdd: enqueueAll,
      // Only what decides eligibility matters; heartbeats change nothing.
      onUpdate: (old, node) => {
        if (nodeFacts(old) !== nodeFacts(node)) enqueueAll();
      },
      onDelete: enqueueAll,
    });
    options.pods.addEventHandler({
      onAdd: (pod) => this.podChanged(pod, undefined),
      onUpdate: (old, pod) => this.podChanged(pod, old),
      onDelete: (obj) => this.podGone(isDeletedFinalStateUnknown(obj) ? obj.obj : obj),
    });
  }

  private ownerOf(pod: Pod): DaemonSet | undefined {
    return resolveControllerOf(this.dsLister, DAEMON_SET_KIND, pod);
  }

  private podChanged(pod: Pod, old: Pod | undefined): void {
    if (old?.metadata?.resourceVersion === pod.metadata?.resourceVersion && old !== undefined) {
      return;
    }
    if (pod.metadata?.deletionTimestamp !== undefined) {
      // Being deleted: observe the deletion as early as possible.
      this.podGone(pod);
      return;
    }
    const oldOwner = old === undefined ? undefined : this.ownerOf(old);
    const owner = this.ownerOf(pod);
    if (oldOwner !== undefined && oldOwner.metadata?.uid !== owner?.metadata?.uid) {
      this.queue.add(metaNamespaceKeyFunc(oldOwner));
    }
    if (owner !== undefined) {
      const key = metaNamespaceKeyFunc(owner);
      if (old === undefined) this.expectations.creationObserved(key);
      this.queue.add(key);
      const minReady = owner.spec?.minReadySeconds ?? 0;
      if (minReady > 0 && old !== undefined && !isPodReady(old) && isPodReady(pod)) {
        this.queue.addAfter(key, minReady * 1000 + 1);
      }
      return;
    }
    if (getControllerOf(pod.metadata) !== undefined) return;
    // An orphan: every DaemonSet whose selector matches may adopt it.
    const podLabels = pod.metadata?.labels ?? {};
    for (const ds of this.dsLister.namespace(pod.metadata?.namespace ?? "").list()) {
      const selector = nonEmptySelector(ds.spec?.selector);
      if (selector?.matches(podLabels) === true) this.queue.add(metaNamespaceKeyFunc(ds));
    }
  }

  private podGone(pod: Pod): void {
    const owner = this.ownerOf(pod);
    if (owner === undefined) return;
    const key = metaNamespaceKeyFunc(owner);
    this.expectations.deletionObserved(key, metaNamespaceKeyFunc(pod));
    this.queue.add(key);
  }

  private identity(ds: DaemonSet) {
    return ownerIdentity(DAEMON_SET_API_VERSION, DAEMON_SET_KIND, ds.metadata);
  }

  /** syncDaemonSet: revision, claim, manage, roll, truncate history, write status. */
  async reconcile(key: string): Promise<void> {
    const ds = this.dsLister.get(key);
    if (ds === undefined) {
      this.expectations.delete(key);
      return;
    }
    const meta = ds.metadata;
    if (meta?.deletionTimestamp !== undefined) return;
    const ns = meta?.namespace ?? "";
    const selector = nonEmptySelector(ds.spec?.selector);
    if (selector === undefined) {
      this.options.recorder.event(
        this.identity(ds),
        "Warning",
        "SelectingAll",
        "This daemon set is selecting all pods. A non-empty selector is required.",
      );
      return;
    }
    const uid = meta?.uid ?? "";
    const owned = await claimObjects(
      { uid, deleting: false, matches: (l) => selector.matches(l) },
      this.podLister.namespace(ns).list(),
      apiClaimActions(this.options.api, PodSchema, {
        ...this.identity(ds),
        namespace: ns,
        schema: DaemonSetSchema,
      }),
      isGone,
    );
    const revisions = this.revisionLister
      .namespace(ns)
      .list()
      .filter((r) => getControllerOf(r.metadata)?.uid === uid);
    const current = await ensureCurrentRevision(
      this.options.api,
      { ...this.identity(ds), namespace: ns, labels: ds.spec?.template?.metadata?.labels ?? {} },
      revisions,
      ds.spec?.template,
      ds.status?.collisionCount,
    );
    const hash = current.hash;
    const podsByNode = new Map<string, Pod[]>();
    for (const pod of owned) {
      const node = targetNodeName(pod);
      if (node === undefined) continue;
      const list = podsByNode.get(node);
      if (list === undefined) podsByNode.set(node, [pod]);
      else list.push(pod);
    }
    const nodes = this.nodeLister.list().map((node) => ({
      node,
      decision: this.decide(ds, node),
    }));
    const nowMs = this.clock.now();
    const minReadySeconds = ds.spec?.minReadySeconds ?? 0;
    let syncError: unknown;
    if (this.expectations.satisfied(key)) {
      try {
        // The rolling update plans from the same snapshot of pods, so it runs only when the
        // manage step changed nothing (its creations may already be in the cache by now).
        const snapshot: SyncSnapshot = { key, ds, nodes, podsByNode, hash, nowMs };
        const changed = await this.manage(snapshot);
        if (!changed && ds.spec?.updateStrategy?.type !== "OnDelete") {
          await this.rollingUpdate(snapshot);
        }
        if (this.expectations.satisfied(key)) {
          await this.truncateHistory(ds, revisions, current.revision, owned);
        }
      } catch (error) {
        syncError = error;
      }
    }
    const live = new Map<string, Pod[]>();
    for (const [node, pods] of podsByNode) {
      const active = pods.filter((p) => p.metadata?.deletionTimestamp === undefined);
      if (active.length > 0) live.set(node, active);
    }
    const status = calculateDaemonSetStatus(ds, {
      nodes: nodes.map(({ node, decision }) => ({
        name: node.metadata?.name ?? "",
        shouldRun: decision.shouldRun,
      })),
      podsByNode: live,
      hash,
      minReadySeconds,
      nowMs,
    });
    if (current.collisionCount !== undefined) status.collisionCount = current.collisionCount;
    await this.writeStatus(ds, status);
    if (syncError !== undefined) throw syncError;
    if (minReadySeconds > 0 && status.numberReady > status.numberAvailable) {
      this.queue.addAfter(key, minReadySeconds * 1000);
    }
  }

  private decide(ds: DaemonSet, node: Node): NodeDecision {
    try {
      return nodeShouldRunDaemonPod(ds.spec?.template, node);
    } catch {
      // A template requirement that does not parse (validation keeps those out) selects nothing.
      return { shouldRun: false, shouldContinueRunning: false };
    }
  }

  private async manage(snapshot: SyncSnapshot): Promise<boolean> {
    const { key, ds, nodes, podsByNode, hash, nowMs } = snapshot;
    const backoffKey = (node: string) => `${ds.metadata?.uid ?? ""}/${node}`;
    const plan = planManage({
      nodes,
      podsByNode,
      hash,
      allowsSurge: this.allowsSurge(ds, nodes),
      minReadySeconds: ds.spec?.minReadySeconds ?? 0,
      nowMs,
      inBackoff: (node) => this.backoff.inBackoff(backoffKey(node)),
    });
    for (const node of plan.backingOff) {
      this.queue.addAfter(key, this.backoff.remainingMs(backoffKey(node)) + 1);
    }
    for (const pod of plan.failed) {
      const node = targetNodeName(pod) ?? "";
      this.backoff.next(backoffKey(node));
      this.options.recorder.event(
        this.identity(ds),
        "Warning",
        FAILED_DAEMON_POD_REASON,
        `Found failed daemon pod ${pod.metadata?.namespace}/${pod.metadata?.name} on node ${node}, will try to kill it`,
      );
    }
    return this.syncNodes(key, ds, plan.remove, plan.createOn, hash);
  }

  /** maxSurge > 0 under RollingUpdate. */
  private allowsSurge(ds: DaemonSet, nodes: readonly { decision: NodeDecision }[]): boolean {
    return (this.bounds(ds, nodes)?.maxSurge ?? 0) > 0;
  }

  private bounds(ds: DaemonSet, nodes: readonly { decision: NodeDecision }[]) {
    const strategy = ds.spec?.updateStrategy;
    if (strategy?.type === "OnDelete") return undefined;
    const desired = nodes.filter((n) => n.decision.shouldRun).length;
    return rollingUpdateBounds(
      intOrString(strategy?.rollingUpdate?.maxSurge),
      intOrString(strategy?.rollingUpdate?.maxUnavailable),
      desired,
    );
  }

  private async rollingUpdate(snapshot: SyncSnapshot): Promise<void> {
    const { key, ds, nodes, podsByNode, hash, nowMs } = snapshot;
    const bounds = this.bounds(ds, nodes);
    if (bounds === undefined) return;
    const shouldRun = new Set(
      nodes.filter((n) => n.decision.shouldRun).map((n) => n.node.metadata?.name ?? ""),
    );
    const plan = planRollingUpdate({
      podsByNode,
      hash,
      ...bounds,
      minReadySeconds: ds.spec?.minReadySeconds ?? 0,
      nowMs,
      shouldRun: (node) => shouldRun.has(node),
    });
    await this.syncNodes(key, ds, plan.remove, plan.createOn, hash);
  }

  /**
   * Creates a pod on each of `createOn` (slow start, at most burstReplicas) or, when there is
   * nothing to create, deletes `remove`. One kind per sync: the expectations record one kind,
   * and the other follows in the sync their observation triggers. True when it wrote anything.
   */
  private async syncNodes(
    key: string,
    ds: DaemonSet,
    remove: readonly Pod[],
    createOn: readonly string[],
    hash: string,
  ): Promise<boolean> {
    const burst = this.options.burstReplicas ?? DAEMON_SET_BURST_REPLICAS;
    const ns = ds.metadata?.namespace ?? "";
    const owner = this.identity(ds);
    if (createOn.length > 0) {
      const nodes = createOn.slice(0, burst);
      this.expectations.expectCreations(key, nodes.length);
      const generation = String(ds.metadata?.generation ?? 0);
      let next = 0;
      const result = await slowStartBatch(
        nodes.length,
        SLOW_START_INITIAL_BATCH_SIZE,
        () => {
          const node = nodes[next++] ?? "";
          const template = daemonPodTemplate(ds.spec?.template, node, {
            [CONTROLLER_REVISION_HASH_LABEL]: hash,
            [POD_TEMPLATE_GENERATION_LABEL]: generation,
          });
          return this.options.podControl.createPod(ns, template, owner);
        },
        () => this.options.signal?.aborted === true,
      );
      for (let i = result.successes; i < nodes.length; i++) this.expectations.creationObserved(key);
      if (result.error !== undefined) throw result.error;
      return true;
    }
    if (remove.length === 0) return false;
    const victims = remove.slice(0, burst);
    await deletePodsExpecting(this.options.podControl, this.expectations, key, ns, victims, owner);
    return true;
  }

  /** Deletes old revisions beyond revisionHistoryLimit that no live pod was made from. */
  private async truncateHistory(
    ds: DaemonSet,
    revisions: readonly ControllerRevision[],
    current: ControllerRevision,
    pods: readonly Pod[],
  ): Promise<void> {
    const usedHashes = new Set(pods.map((p) => p.metadata?.labels[CONTROLLER_REVISION_HASH_LABEL]));
    const inUse = new Set<string>([current.metadata?.name ?? ""]);
    for (const r of revisions) {
      if (usedHashes.has(r.metadata?.labels[CONTROLLER_REVISION_HASH_LABEL])) {
        inUse.add(r.metadata?.name ?? "");
      }
    }
    await pruneHistory(this.options.api, revisions, inUse, ds.spec?.revisionHistoryLimit);
  }

  private async writeStatus(ds: DaemonSet, status: DaemonSetStatus): Promise<void> {
    if (daemonSetStatusUnchanged(ds, status)) return;
    await writeStatus(this.options.api, DaemonSetSchema, ds, (copy) => {
      copy.status = clone(DaemonSetStatusSchema, status);
      copy.status.observedGeneration = Number(copy.metadata?.generation ?? 0);
    });
  }
}
