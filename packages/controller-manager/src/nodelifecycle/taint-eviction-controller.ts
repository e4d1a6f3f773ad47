// The taint eviction controller (Kubernetes' NoExecute taint manager,
// pkg/controller/tainteviction): a pod on a node with NoExecute taints it does not tolerate is
// deleted at once; one that tolerates them all for a while (tolerationSeconds) is deleted when
// the shortest of those times has passed since it was first seen under the taints, unless the
// taints go away first. A pod that tolerates them forever stays.
// https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/#taint-based-evictions

import { clone, create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Node, type Pod, PodConditionSchema, PodSchema, type Taint } from "@tug/api";
import {
  type ApiClient,
  type Clock,
  createLister,
  isApiError,
  isDeletedFinalStateUnknown,
  type Lister,
  metaNamespaceKeyFunc,
  RateLimitingQueue,
  realClock,
  type SharedIndexInformer,
} from "@tug/client";
import type { Controller, Syncable } from "../framework/controller.js";
import type { EventRecorder } from "../framework/event-recorder.js";
import { ensurePodNodeNameIndex, POD_NODE_NAME_INDEX } from "./pods-by-node.js";
import { matchingTolerations, minTolerationMs } from "./taints.js";

/** The pod condition that says why a pod is being deleted (Kubernetes' DisruptionTarget). */
export const DISRUPTION_TARGET_CONDITION = "DisruptionTarget";
export const DELETION_BY_TAINT_MANAGER_REASON = "DeletionByTaintManager";
export const TAINT_MANAGER_EVICTION_REASON = "TaintManagerEviction";

export interface TaintEvictionControllerOptions {
  readonly api: Pick<ApiClient, "delete" | "updateStatus">;
  readonly pods: SharedIndexInformer<Pod>;
  readonly nodes: SharedIndexInformer<Node>;
  readonly recorder: EventRecorder;
  /** Monotonic time for tolerationSeconds. */
  readonly clock?: Clock;
  readonly now?: () => Date;
  readonly queue?: RateLimitingQueue;
}

function noExecuteTaints(node: Node | undefined): Taint[] {
  return (node?.spec?.taints ?? []).filter((t) => t.effect === "NoExecute");
}

function sameTaints(a: readonly Taint[], b: readonly Taint[]): boolean {
  return (
    a.length === b.length &&
    a.every((t) => b.some((u) => u.key === t.key && u.value === t.value && u.effect === t.effect))
  );
}

export class TaintEvictionController implements Controller {
  readonly name = "taint-eviction-controller";
  readonly informers: readonly Syncable[];
  readonly queue: RateLimitingQueue;
  private readonly podLister: Lister<Pod>;
  private readonly nodeLister: Lister<Node>;
  private readonly clock: Clock;
  private readonly now: () => Date;
  /** Pods under taints they tolerate for a while: since when (this controller's clock), by key. */
  private readonly scheduled = new Map<string, { uid: string; sinceMs: number }>();

  constructor(private readonly options: TaintEvictionControllerOptions) {
    this.clock = options.clock ?? realClock;
    this.now = options.now ?? (() => new Date());
    this.queue = options.queue ?? new RateLimitingQueue({ clock: this.clock });
    this.informers = [options.pods, options.nodes];
    this.podLister = createLister(options.pods.getIndexer());
    this.nodeLister = createLister(options.nodes.getIndexer());
    ensurePodNodeNameIndex(options.pods);
    const enqueuePod = (pod: Pod) => {
      if ((pod.spec?.nodeName ?? "") !== "") this.queue.add(metaNamespaceKeyFunc(pod));
    };
    options.pods.addEventHandler({
      onAdd: enqueuePod,
      onUpdate: (_old, pod) => enqueuePod(pod),
      onDelete: (obj) => {
        const pod = isDeletedFinalStateUnknown(obj) ? obj.obj : obj;
        this.scheduled.delete(metaNamespaceKeyFunc(pod));
      },
    });
    const enqueuePodsOf = (node: Node) => {
      for (const pod of options.pods
        .getIndexer()
        .byIndex(POD_NODE_NAME_INDEX, node.metadata?.name ?? "")) {
        this.queue.add(metaNamespaceKeyFunc(pod));
      }
    };
    options.nodes.addEventHandler({
      onAdd: (node) => {
        if (noExecuteTaints(node).length > 0) enqueuePodsOf(node);
      },
      onUpdate: (old, node) => {
        if (!sameTaints(noExecuteTaints(old), noExecuteTaints(node))) enqueuePodsOf(node);
      },
      onDelete: (obj) => enqueuePodsOf(isDeletedFinalStateUnknown(obj) ? obj.obj : obj),
    });
  }

  /** processPodOnNode: evict now, later (re-queued for then), or never. */
  async reconcile(key: string): Promise<void> {
    const pod = this.podLister.get(key);
    if (pod === undefined || pod.metadata?.deletionTimestamp !== undefined) {
      this.scheduled.delete(key);
      return;
    }
    const taints = noExecuteTaints(this.nodeLister.get(pod.spec?.nodeName ?? ""));
    if (taints.length === 0) {
      this.cancel(key, pod);
      return;
    }
    const used = matchingTolerations(taints, pod.spec?.tolerations ?? []);
    if (used === undefined) {
      await this.evict(key, pod);
      return;
    }
    const allowedMs = minTolerationMs(used);
    if (allowedMs === Number.POSITIVE_INFINITY) {
      this.cancel(key, pod);
      return;
    }
    const uid = pod.metadata?.uid ?? "";
    const nowMs = this.clock.now();
    let entry = this.scheduled.get(key);
    if (entry === undefined || entry.uid !== uid) {
      entry = { uid, sinceMs: nowMs };
      this.scheduled.set(key, entry);
    }
    const dueMs = entry.sinceMs + allowedMs;
    if (nowMs >= dueMs) await this.evict(key, pod);
    else this.queue.addAfter(key, Math.ceil(dueMs - nowMs));
  }

  private cancel(key: string, pod: Pod): void {
    if (!this.scheduled.delete(key)) return;
    this.options.recorder.event(
      { apiVersion: "v1", kind: "Pod", metadata: pod.metadata },
      "Normal",
      TAINT_MANAGER_EVICTION_REASON,
      `Cancelling deletion of Pod ${key}`,
    );
  }

  /** Says why on the pod (DisruptionTarget), then deletes it with its default grace period. */
  private async evict(key: string, pod: Pod): Promise<void> {
    this.options.recorder.event(
      { apiVersion: "v1", kind: "Pod", metadata: pod.metadata },
      "Normal",
      TAINT_MANAGER_EVICTION_REASON,
      `Marking for deletion Pod ${key}`,
    );
    const ns = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    try {
      if (!pod.status?.conditions.some((c) => c.type === DISRUPTION_TARGET_CONDITION)) {
        const copy = clone(PodSchema, pod);
        copy.status?.conditions.push(
          create(PodConditionSchema, {
            type: DISRUPTION_TARGET_CONDITION,
            status: "True",
            reason: DELETION_BY_TAINT_MANAGER_REASON,
            message: "Taint manager: deleting due to NoExecute taint",
            lastTransitionTime: timestampFromDate(this.now()),
          }),
        );
        await this.options.api.updateStatus(PodSchema, copy);
      }
      await this.options.api.delete(PodSchema, name, {
        namespace: ns,
        preconditions: { uid: pod.metadata?.uid ?? "" },
      });
      this.scheduled.delete(key);
    } catch (error) {
      // Gone, or replaced by another pod of the same name (the uid precondition failed).
      if (isApiError(error, "NotFound") || isApiError(error, "Conflict")) {
        this.scheduled.delete(key);
        return;
      }
      throw error;
    }
  }
}
