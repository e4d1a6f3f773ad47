// The scheduling framework's extension points as tug uses them: a filter plugin's PreFilter
// looks at the pod once and returns the per-node Filter (closing over its PreFilter state); a
// score plugin's PreScore returns the per-node Score and an optional NormalizeScore.
// Reference: https://kubernetes.io/docs/concepts/scheduling-eviction/scheduling-framework/

import type { NodeInfo } from "./node-info.js";
import type { PodInfo } from "./pod-info.js";
import type { Snapshot } from "./snapshot.js";

/** The highest score a plugin gives a node (framework.MaxNodeScore). */
export const MAX_NODE_SCORE = 100;

/**
 * Checks one node for the pod the filter was prepared for: undefined when the node fits, else
 * the reasons it does not (texts as kube-scheduler's, counted in "0/N nodes are available").
 * The returned array may be shared: do not mutate it.
 */
export type NodeFilter = (node: NodeInfo) => readonly string[] | undefined;

export interface FilterPlugin {
  readonly name: string;
  /**
   * PreFilter: computes what the plugin needs about `pod` against `snapshot` once per cycle.
   * Returns undefined when the plugin has nothing to check for this pod (Skip).
   */
  preFilter(pod: PodInfo, snapshot: Snapshot): NodeFilter | undefined;
}

/** Scores the nodes that passed filtering, for the pod it was prepared for. */
export interface NodeScorer {
  /** The raw score of `node`; NormalizeScore maps the raw scores into 0..MAX_NODE_SCORE. */
  score(node: NodeInfo): number;
  /**
   * Optional: `out[i] = score(nodes[i])` for every node, in a loop of the plugin's own. The
   * framework's loop calls seven plugins' score() from one call site, which V8 cannot inline
   * (megamorphic); a plugin's own loop calls one function, which it can.
   */
  scoreAll?(nodes: readonly NodeInfo[], out: Float64Array): void;
  /** Rewrites `scores` (one per node of the list PreScore received, same order) in place. */
  normalize?(scores: Float64Array): void;
}

export interface ScorePlugin {
  readonly name: string;
  /**
   * PreScore: prepares scoring of `feasible` (owned by the caller, not to be kept). Returns
   * undefined when the plugin has no opinion on this pod: every node then scores 0 for it.
   */
  preScore(pod: PodInfo, snapshot: Snapshot, feasible: readonly NodeInfo[]): NodeScorer | undefined;
}

/**
 * framework's DefaultNormalizeScore: scales scores so the highest becomes MAX_NODE_SCORE (all
 * stay 0 when the highest is 0); with `reverse`, a high raw score becomes a low final one.
 */
export function defaultNormalizeScore(scores: Float64Array, reverse: boolean): void {
  let max = 0;
  for (const s of scores) if (s > max) max = s;
  if (max === 0) {
    if (reverse) scores.fill(MAX_NODE_SCORE);
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    let s = Math.trunc((MAX_NODE_SCORE * (scores[i] as number)) / max);
    if (reverse) s = MAX_NODE_SCORE - s;
    scores[i] = s;
  }
}
