// NodeResourcesFit: a pod fits a node when, for every resource it requests, the node's
// allocatable minus what its pods already request leaves enough, and the node accepts one
// more pod. Its score (strategy LeastAllocated) favours nodes with the most free cpu and
// memory, counting 100m / 200Mi for containers that request none.
// Reference: https://kubernetes.io/docs/concepts/scheduling-eviction/resource-bin-packing/

import type { NodeInfo } from "../node-info.js";
import {
  type FilterPlugin,
  MAX_NODE_SCORE,
  type NodeFilter,
  type NodeScorer,
  type ScorePlugin,
} from "../plugin.js";
import { RESOURCE_CPU, RESOURCE_EPHEMERAL_STORAGE, RESOURCE_MEMORY } from "../resources.js";

export const ERR_REASON_TOO_MANY_PODS = "Too many pods";

/** kube-scheduler's reason text for a resource that does not fit: "Insufficient cpu". */
export function insufficientReason(resource: string): string {
  return `Insufficient ${resource}`;
}

const INSUFFICIENT_CPU = insufficientReason(RESOURCE_CPU);
const INSUFFICIENT_MEMORY = insufficientReason(RESOURCE_MEMORY);
const INSUFFICIENT_EPHEMERAL = insufficientReason(RESOURCE_EPHEMERAL_STORAGE);

/** `reasons` with `reason` added, made on the first failure only. */
function withReason(reasons: string[] | undefined, reason: string): string[] {
  if (reasons === undefined) return [reason];
  reasons.push(reason);
  return reasons;
}

export const nodeResourcesFitFilter: FilterPlugin = {
  name: "NodeResourcesFit",
  preFilter(pod): NodeFilter {
    const r = pod.resources.requests;
    const scalar = r.scalar === undefined ? [] : [...r.scalar].filter(([, v]) => v > 0);
    const requestsAny = r.milliCpu > 0 || r.memory > 0 || r.ephemeralStorage > 0 || scalar.length;
    // Runs for every node examined: the reasons array is made only for a node that fails, and
    // only the node's own number fields are read (NodeInfo.freeMilliCpu ...).
    return (node: NodeInfo) => {
      let reasons: string[] | undefined;
      if (node.podRoom < 1) reasons = [ERR_REASON_TOO_MANY_PODS];
      if (!requestsAny) return reasons;
      if (r.milliCpu > 0 && r.milliCpu > node.freeMilliCpu) {
        reasons = withReason(reasons, INSUFFICIENT_CPU);
      }
      if (r.memory > 0 && r.memory > node.freeMemory) {
        reasons = withReason(reasons, INSUFFICIENT_MEMORY);
      }
      if (r.ephemeralStorage > 0 && r.ephemeralStorage > node.freeEphemeralStorage) {
        reasons = withReason(reasons, INSUFFICIENT_EPHEMERAL);
      }
      if (scalar.length === 0) return reasons;
      const alloc = node.allocatable;
      const used = node.requested;
      for (const [name, amount] of scalar) {
        const free = (alloc.scalar?.get(name) ?? 0) - (used.scalar?.get(name) ?? 0);
        if (amount > free) reasons = withReason(reasons, insufficientReason(name));
      }
      return reasons;
    };
  },
};

/** (capacity - requested) * 100 / capacity, 0 when over capacity (leastRequestedScore). */
function leastRequested(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

/** LeastAllocated over cpu and memory, weight 1 each (the default scoringStrategy). */
export const nodeResourcesFitScore: ScorePlugin = {
  name: "NodeResourcesFit",
  preScore(pod): NodeScorer {
    const cpu = pod.resources.nonZeroMilliCpu;
    const memory = pod.resources.nonZeroMemory;
    const score = (node: NodeInfo): number => {
      const c = leastRequested(node.nonZeroMilliCpu + cpu, node.allocatableMilliCpu);
      const m = leastRequested(node.nonZeroMemory + memory, node.allocatableMemory);
      return Math.trunc((c + m) / 2);
    };
    return {
      score,
      scoreAll(nodes, out) {
        for (let i = 0; i < nodes.length; i++) out[i] = score(nodes[i] as NodeInfo);
      },
    };
  },
};
