// NodeResourcesBalancedAllocation: favours nodes whose cpu and memory would be used in the
// same proportion after placing the pod: score = (1 - standard deviation of the used
// fractions) * 100, on the pods' actual requests.
// Reference: https://kubernetes.io/docs/reference/scheduling/config/#scheduling-plugins

import type { NodeInfo } from "../node-info.js";
import { MAX_NODE_SCORE, type NodeScorer, type ScorePlugin } from "../plugin.js";

export const balancedAllocation: ScorePlugin = {
  name: "NodeResourcesBalancedAllocation",
  preScore(pod): NodeScorer {
    const cpu = pod.resources.requests.milliCpu;
    const memory = pod.resources.requests.memory;
    const score = (node: NodeInfo): number => {
      const allocCpu = node.allocatableMilliCpu;
      const allocMemory = node.allocatableMemory;
      // A resource the node has none of is left out of the deviation.
      if (allocCpu === 0 || allocMemory === 0) return MAX_NODE_SCORE;
      const fc = Math.min(1, (node.requestedMilliCpu + cpu) / allocCpu);
      const fm = Math.min(1, (node.requestedMemory + memory) / allocMemory);
      // The standard deviation of two values is half their distance.
      const std = Math.abs(fc - fm) / 2;
      return Math.trunc((1 - std) * MAX_NODE_SCORE);
    };
    return {
      score,
      scoreAll(nodes, out) {
        for (let i = 0; i < nodes.length; i++) out[i] = score(nodes[i] as NodeInfo);
      },
    };
  },
};
