// TaintToleration: filters out nodes with a NoSchedule or NoExecute taint the pod does not
// tolerate; scores nodes by how few PreferNoSchedule taints the pod does not tolerate.
// Reference: https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/

import type { Toleration } from "@tug/api";
import { type NodeInfo, TAINT_EFFECT_PREFER_NO_SCHEDULE } from "../node-info.js";
import {
  defaultNormalizeScore,
  type FilterPlugin,
  type NodeFilter,
  type NodeScorer,
  type ScorePlugin,
} from "../plugin.js";
import { firstUntolerated, tolerated } from "../toleration.js";

/** kube-scheduler's reason text: "node(s) had untolerated taint {key: value}". */
export function untoleratedTaintReason(key: string, value: string): string {
  return `node(s) had untolerated taint {${key}: ${value}}`;
}

export const taintTolerationFilter: FilterPlugin = {
  name: "TaintToleration",
  preFilter(pod): NodeFilter | undefined {
    const tolerations = pod.pod.spec?.tolerations ?? [];
    return (node) => {
      if (node.hardTaints.length === 0) return undefined;
      const taint = firstUntolerated(node.hardTaints, tolerations);
      return taint === undefined ? undefined : [untoleratedTaintReason(taint.key, taint.value)];
    };
  },
};

export const taintTolerationScore: ScorePlugin = {
  name: "TaintToleration",
  preScore(pod): NodeScorer | undefined {
    // Only tolerations that can apply to PreferNoSchedule taints count.
    const tolerations: Toleration[] = (pod.pod.spec?.tolerations ?? []).filter(
      (t) => t.effect === "" || t.effect === TAINT_EFFECT_PREFER_NO_SCHEDULE,
    );
    const score = (node: NodeInfo): number => {
      let n = 0;
      for (const taint of node.preferNoScheduleTaints) if (!tolerated(tolerations, taint)) n++;
      return n;
    };
    return {
      score,
      scoreAll(nodes, out) {
        for (let i = 0; i < nodes.length; i++) out[i] = score(nodes[i] as NodeInfo);
      },
      normalize(scores) {
        defaultNormalizeScore(scores, true);
      },
    };
  },
};
