// The default scheduling profile: kube-scheduler's default filter order and score weights.
// Reference: https://kubernetes.io/docs/reference/scheduling/config/#scheduling-plugins

import type { FilterPlugin, ScorePlugin } from "./plugin.js";
import { balancedAllocation } from "./plugins/balanced-allocation.js";
import { interPodAffinityFilter, interPodAffinityScore } from "./plugins/inter-pod-affinity.js";
import { nodeAffinityFilter, nodeAffinityScore } from "./plugins/node-affinity.js";
import { nodeName } from "./plugins/node-name.js";
import { nodePorts } from "./plugins/node-ports.js";
import { nodeResourcesFitFilter, nodeResourcesFitScore } from "./plugins/node-resources-fit.js";
import { nodeUnschedulable } from "./plugins/node-unschedulable.js";
import { ownerSpread } from "./plugins/owner-spread.js";
import { podTopologySpreadFilter, podTopologySpreadScore } from "./plugins/pod-topology-spread.js";
import { taintTolerationFilter, taintTolerationScore } from "./plugins/taint-toleration.js";

export interface WeightedScorePlugin {
  readonly plugin: ScorePlugin;
  readonly weight: number;
}

/** Which plugins run, in order: filters stop at the first that rejects a node. */
export interface Profile {
  /** The schedulerName this profile serves (pods' spec.schedulerName). */
  readonly schedulerName: string;
  readonly filters: readonly FilterPlugin[];
  readonly scores: readonly WeightedScorePlugin[];
}

/** The scheduler a pod gets when its spec.schedulerName is empty. */
export const DEFAULT_SCHEDULER_NAME = "default-scheduler";

/**
 * kube-scheduler's defaults: filters NodeUnschedulable, NodeName, TaintToleration,
 * NodeAffinity, NodePorts, NodeResourcesFit, PodTopologySpread, InterPodAffinity; score weights
 * TaintToleration 3, NodeAffinity 2, PodTopologySpread 2, InterPodAffinity 2,
 * NodeResourcesFit (LeastAllocated) 1, BalancedAllocation 1, and OwnerSpread 1 (the weight
 * SelectorSpread had).
 */
export function defaultProfile(schedulerName = DEFAULT_SCHEDULER_NAME): Profile {
  return {
    schedulerName,
    filters: [
      nodeUnschedulable,
      nodeName,
      taintTolerationFilter,
      nodeAffinityFilter,
      nodePorts,
      nodeResourcesFitFilter,
      podTopologySpreadFilter,
      interPodAffinityFilter,
    ],
    scores: [
      { plugin: taintTolerationScore, weight: 3 },
      { plugin: nodeAffinityScore, weight: 2 },
      { plugin: podTopologySpreadScore, weight: 2 },
      { plugin: interPodAffinityScore, weight: 2 },
      { plugin: nodeResourcesFitScore, weight: 1 },
      { plugin: balancedAllocation, weight: 1 },
      { plugin: ownerSpread, weight: 1 },
    ],
  };
}
