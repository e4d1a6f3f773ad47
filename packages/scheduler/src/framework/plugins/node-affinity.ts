// NodeAffinity: filters by spec.nodeSelector and required node affinity; scores by the sum of
// the weights of the preferred node affinity terms a node matches.
// Reference: https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#node-affinity

import {
  defaultNormalizeScore,
  type FilterPlugin,
  type NodeFilter,
  type NodeScorer,
  type ScorePlugin,
} from "../plugin.js";
import { NodeSelectorTermMatcher, requiredNodeAffinity } from "../required-node-affinity.js";

export const ERR_REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
const REASONS = Object.freeze([ERR_REASON_NODE_AFFINITY]);

export const nodeAffinityFilter: FilterPlugin = {
  name: "NodeAffinity",
  preFilter(pod): NodeFilter | undefined {
    const required = requiredNodeAffinity(pod);
    if (!required.constrains) return undefined;
    return (node) => (required.matches(node) ? undefined : REASONS);
  },
};

export const nodeAffinityScore: ScorePlugin = {
  name: "NodeAffinity",
  preScore(pod): NodeScorer | undefined {
    const preferred =
      pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    const terms: { weight: number; matcher: NodeSelectorTermMatcher }[] = [];
    preferred.forEach((p, i) => {
      // An empty preferred term matches every node with weight 0: a no-op.
      if (p.weight === 0 || p.preference === undefined) return;
      terms.push({
        weight: p.weight,
        matcher: NodeSelectorTermMatcher.parse(
          p.preference,
          `spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[${i}].preference`,
        ),
      });
    });
    if (terms.length === 0) return undefined;
    return {
      score(node) {
        let s = 0;
        for (const t of terms) if (t.matcher.matches(node)) s += t.weight;
        return s;
      },
      normalize(scores) {
        defaultNormalizeScore(scores, false);
      },
    };
  },
};
