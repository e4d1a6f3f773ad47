// schedulePod: one scheduling cycle's decision for one pod (kube-scheduler's
// Scheduler.schedulePod): PreFilter, Filter over enough nodes (round-robin start,
// percentageOfNodesToScore), Score, NormalizeScore, weights, and a random pick among the best.
// Pure: it reads the snapshot and changes nothing but its round-robin position.
// Reference: https://kubernetes.io/docs/concepts/scheduling-eviction/scheduler-perf-tuning/

import type { NodeInfo } from "./node-info.js";
import type { NodeFilter, NodeScorer } from "./plugin.js";
import { type PodInfo, PodSpecError } from "./pod-info.js";
import type { Profile } from "./profile.js";
import { ResourceParseError } from "./resources.js";
import type { Snapshot } from "./snapshot.js";

/** Below this many nodes every node is checked (minFeasibleNodesToFind). */
export const MIN_FEASIBLE_NODES_TO_FIND = 100;
/** The floor of the adaptive percentage (minFeasibleNodesPercentageToFind). */
export const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;
/** kube-scheduler's message when the cluster has no node at all (ErrNoNodesAvailable). */
export const ERR_NO_NODES_AVAILABLE = "no nodes available to schedule pods";

export type ScheduleResult =
  | {
      readonly kind: "scheduled";
      readonly nodeName: string;
      /** Nodes the filters ran on. */
      readonly evaluatedNodes: number;
      /** Of those, how many fit. */
      readonly feasibleNodes: number;
    }
  | {
      readonly kind: "unschedulable";
      /** The FailedScheduling message: "0/3 nodes are available: 1 ..., 2 Insufficient cpu." */
      readonly message: string;
      /** Why each node was rejected, by node name (empty when there are no nodes). */
      readonly reasons: ReadonlyMap<string, readonly string[]>;
    }
  | {
      /** The pod's spec cannot be read (a bad selector or quantity): retrying will not help. */
      readonly kind: "error";
      readonly message: string;
    };

/**
 * "0/N nodes are available: <count> <reason>, ...." with the "<count> <reason>" strings sorted
 * as strings, as kube-scheduler's FitError.Error does.
 */
export function fitErrorMessage(
  numAllNodes: number,
  reasons: ReadonlyMap<string, readonly string[]>,
): string {
  const histogram = new Map<string, number>();
  for (const list of reasons.values()) {
    for (const r of list) histogram.set(r, (histogram.get(r) ?? 0) + 1);
  }
  const parts = [...histogram].map(([reason, count]) => `${count} ${reason}`);
  // Go's sort.Strings: byte order, not locale order.
  parts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const head = `0/${numAllNodes} nodes are available:`;
  return parts.length === 0 ? head : `${head} ${parts.join(", ")}.`;
}

export interface ScheduleAlgorithmOptions {
  /**
   * percentageOfNodesToScore: 0 (the default) is adaptive, 50% - nodes/125 with a floor of 5%;
   * 100 checks every node.
   */
  readonly percentageOfNodesToScore?: number;
  /** Uniform in [0, 1): breaks ties between equally scored nodes. Seed it in tests. */
  readonly random?: () => number;
}

export class ScheduleAlgorithm {
  private nextStartNodeIndex = 0;
  private readonly percentage: number;
  private readonly random: () => number;
  /** pickBest's per-node totals and one plugin's scores; grown as needed, never shrunk. */
  private totalBuffer = new Float64Array(0);
  private scoreBuffer = new Float64Array(0);

  constructor(
    private readonly profile: Profile,
    options: ScheduleAlgorithmOptions = {},
  ) {
    const p = options.percentageOfNodesToScore ?? 0;
    if (!(p >= 0 && p <= 100)) {
      throw new RangeError(`percentageOfNodesToScore must be within 0..100, got ${p}`);
    }
    this.percentage = p;
    this.random = options.random ?? Math.random;
  }

  /** How many feasible nodes to look for among `numAllNodes` (numFeasibleNodesToFind). */
  numFeasibleNodesToFind(numAllNodes: number): number {
    if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND || this.percentage >= 100) return numAllNodes;
    let pct = this.percentage;
    if (pct === 0) {
      pct = Math.max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND, 50 - Math.trunc(numAllNodes / 125));
    }
    const n = Math.trunc((numAllNodes * pct) / 100);
    return Math.max(n, MIN_FEASIBLE_NODES_TO_FIND);
  }

  /** Picks a node for `pod` in `snapshot`, or says why none fits. */
  schedulePod(pod: PodInfo, snapshot: Snapshot): ScheduleResult {
    try {
      return this.run(pod, snapshot);
    } catch (err) {
      if (err instanceof PodSpecError || err instanceof ResourceParseError) {
        return { kind: "error", message: err.message };
      }
      throw err;
    }
  }

  private run(pod: PodInfo, snapshot: Snapshot): ScheduleResult {
    const nodes = snapshot.nodeInfos();
    const numAll = nodes.length;
    if (numAll === 0) {
      return { kind: "unschedulable", message: ERR_NO_NODES_AVAILABLE, reasons: new Map() };
    }
    const filters: NodeFilter[] = [];
    for (const plugin of this.profile.filters) {
      const f = plugin.preFilter(pod, snapshot);
      if (f !== undefined) filters.push(f);
    }
    const want = this.numFeasibleNodesToFind(numAll);
    const feasible: NodeInfo[] = [];
    const reasons = new Map<string, readonly string[]>();
    const start = this.nextStartNodeIndex % numAll;
    let examined = 0;
    const nf = filters.length;
    for (; examined < numAll && feasible.length < want; examined++) {
      const node = nodes[(start + examined) % numAll] as NodeInfo;
      let failed: readonly string[] | undefined;
      for (let i = 0; i < nf; i++) {
        failed = (filters[i] as NodeFilter)(node);
        if (failed !== undefined) break;
      }
      if (failed === undefined) feasible.push(node);
      else reasons.set(node.name, failed);
    }
    this.nextStartNodeIndex = (start + examined) % numAll;
    if (feasible.length === 0) {
      return { kind: "unschedulable", message: fitErrorMessage(numAll, reasons), reasons };
    }
    const evaluatedNodes = examined;
    if (feasible.length === 1) {
      const only = feasible[0] as NodeInfo;
      return { kind: "scheduled", nodeName: only.name, evaluatedNodes, feasibleNodes: 1 };
    }
    const best = this.pickBest(pod, snapshot, feasible);
    return {
      kind: "scheduled",
      nodeName: best.name,
      evaluatedNodes,
      feasibleNodes: feasible.length,
    };
  }

  private pickBest(pod: PodInfo, snapshot: Snapshot, feasible: NodeInfo[]): NodeInfo {
    const n = feasible.length;
    // Reused from cycle to cycle: two typed arrays per pod were a share of the GC's work.
    if (this.totalBuffer.length < n) {
      this.totalBuffer = new Float64Array(n);
      this.scoreBuffer = new Float64Array(n);
    }
    const total = this.totalBuffer.subarray(0, n);
    total.fill(0);
    const scores = this.scoreBuffer.subarray(0, n);
    for (const { plugin, weight } of this.profile.scores) {
      const scorer: NodeScorer | undefined = plugin.preScore(pod, snapshot, feasible);
      if (scorer === undefined) continue;
      if (scorer.scoreAll !== undefined) scorer.scoreAll(feasible, scores);
      else for (let i = 0; i < n; i++) scores[i] = scorer.score(feasible[i] as NodeInfo);
      scorer.normalize?.(scores);
      for (let i = 0; i < n; i++) total[i] = (total[i] as number) + (scores[i] as number) * weight;
    }
    // selectHost: the highest total, ties broken uniformly at random (reservoir sampling).
    let bestIndex = 0;
    let bestScore = total[0] as number;
    let ties = 1;
    for (let i = 1; i < n; i++) {
      const s = total[i] as number;
      if (s > bestScore) {
        bestScore = s;
        bestIndex = i;
        ties = 1;
      } else if (s === bestScore) {
        ties++;
        if (this.random() * ties < 1) bestIndex = i;
      }
    }
    return feasible[bestIndex] as NodeInfo;
  }
}
