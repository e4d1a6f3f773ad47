// The node IPAM controller (Kubernetes' pkg/controller/nodeipam, the RangeAllocator): gives
// every node a pod CIDR of its own — spec.podCIDR and spec.podCIDRs — cut from the cluster CIDR,
// and takes it back when the node is deleted. The agent builds its pod bridge on that range.
// https://kubernetes.io/docs/concepts/architecture/nodes/ (podCIDR)
// https://kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/

import { clone, create } from "@bufbuild/protobuf";
import { type Node, NodeSchema, NodeSpecSchema } from "@tug/api";
import {
  type ApiClient,
  createLister,
  isApiError,
  isDeletedFinalStateUnknown,
  type Lister,
  RateLimitingQueue,
  type SharedIndexInformer,
} from "@tug/client";
import type { Controller, Syncable } from "../framework/controller.js";
import type { EventRecorder } from "../framework/event-recorder.js";
import { CidrSet } from "./cidr-set.js";

/**
 * --cluster-cidr. kube-controller-manager has no default (and allocates nothing without one);
 * tug allocates by default and takes flannel's customary range.
 */
export const DEFAULT_CLUSTER_CIDR = "10.244.0.0/16";
/** --node-cidr-mask-size: kube-controller-manager's IPv4 default, 256 addresses per node. */
export const DEFAULT_NODE_CIDR_MASK_SIZE = 24;

export interface NodeIpamControllerOptions {
  readonly api: Pick<ApiClient, "get" | "update">;
  readonly nodes: SharedIndexInformer<Node>;
  readonly recorder: EventRecorder;
  readonly clusterCidr?: string;
  readonly nodeCidrMaskSize?: number;
  readonly queue?: RateLimitingQueue;
}

function podCidrsOf(node: Node | undefined): string[] {
  const spec = node?.spec;
  if (spec === undefined) return [];
  if (spec.podCidrs.length > 0) return [...spec.podCidrs];
  return spec.podCidr === "" ? [] : [spec.podCidr];
}

export class NodeIpamController implements Controller {
  readonly name = "nodeipam";
  readonly informers: readonly Syncable[];
  readonly queue: RateLimitingQueue;
  readonly cidrs: CidrSet;
  private readonly nodeLister: Lister<Node>;
  private occupied = false;

  /** Throws when --cluster-cidr or --node-cidr-mask-size is invalid. */
  constructor(private readonly options: NodeIpamControllerOptions) {
    this.cidrs = new CidrSet(
      options.clusterCidr ?? DEFAULT_CLUSTER_CIDR,
      options.nodeCidrMaskSize ?? DEFAULT_NODE_CIDR_MASK_SIZE,
    );
    this.queue = options.queue ?? new RateLimitingQueue();
    this.informers = [options.nodes];
    this.nodeLister = createLister(options.nodes.getIndexer());
    options.nodes.addEventHandler({
      onAdd: (node) => this.queue.add(node.metadata?.name ?? ""),
      onUpdate: (_old, node) => {
        if (podCidrsOf(node).length === 0) this.queue.add(node.metadata?.name ?? "");
      },
      onDelete: (obj) => {
        const node = isDeletedFinalStateUnknown(obj) ? obj.obj : obj;
        // A deleted node's ranges are free again.
        for (const cidr of podCidrsOf(node)) this.cidrs.release(cidr);
        // Nodes waiting for a range need not wait out their back-off.
        for (const waiting of this.nodeLister.list()) {
          if (podCidrsOf(waiting).length === 0) this.queue.add(waiting.metadata?.name ?? "");
        }
      },
    });
  }

  /** Marks every range nodes already hold as taken, once, before the first allocation. */
  private occupyExisting(): void {
    if (this.occupied) return;
    this.occupied = true;
    for (const node of this.nodeLister.list()) {
      for (const cidr of podCidrsOf(node)) this.cidrs.occupy(cidr);
    }
  }

  async reconcile(name: string): Promise<void> {
    this.occupyExisting();
    const cached = this.nodeLister.get(name);
    if (cached === undefined) return;
    const held = podCidrsOf(cached);
    if (held.length > 0) {
      for (const cidr of held) this.cidrs.occupy(cidr);
      return;
    }
    // The cache may lag a range given a moment ago: ask the API server before giving another.
    let node: Node;
    try {
      node = await this.options.api.get(NodeSchema, name);
    } catch (error) {
      if (isApiError(error, "NotFound")) return;
      throw error;
    }
    if (podCidrsOf(node).length > 0) return;
    const cidr = this.cidrs.allocateNext();
    if (cidr === undefined) {
      this.options.recorder.event(
        { apiVersion: "v1", kind: "Node", metadata: node.metadata },
        "Normal",
        "CIDRNotAvailable",
        `Node ${name} status is now: CIDRNotAvailable`,
      );
      throw new Error(
        `node ${name}: every /${this.cidrs.nodeMaskSize} of --cluster-cidr is taken (${this.cidrs.size} node ranges); widen --cluster-cidr or lengthen --node-cidr-mask-size`,
      );
    }
    const updated = clone(NodeSchema, node);
    updated.spec ??= create(NodeSpecSchema);
    updated.spec.podCidr = cidr;
    updated.spec.podCidrs = [cidr];
    try {
      await this.options.api.update(NodeSchema, updated);
    } catch (error) {
      this.cidrs.release(cidr);
      if (isApiError(error, "NotFound")) return;
      throw error;
    }
  }
}
