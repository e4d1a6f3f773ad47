// OwnerSpread: spreads the pods of one controller (the owner reference with controller: true,
// e.g. a ReplicaSet) across nodes and zones, in the manner of kube-scheduler's former
// SelectorSpread plugin: fewer pods of the same owner on the node (and in its zone, weighted
// 2/3 when nodes carry zones) scores higher. kube-scheduler now does this with default
// topology spread constraints computed from Services and ReplicaSets; tug keys it on the
// owner reference so the scheduler needs no Service or ReplicaSet informer.
// Reference: https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/#internal-default-constraints

import type { NodeInfo } from "../node-info.js";
import { MAX_NODE_SCORE, type NodeScorer, type ScorePlugin } from "../plugin.js";

/** The share of the zone count in the score when nodes carry zones (SelectorSpread's 2/3). */
const ZONE_WEIGHTING = 2 / 3;

export const ownerSpread: ScorePlugin = {
  name: "OwnerSpread",
  preScore(pod, snapshot, feasible): NodeScorer | undefined {
    if (pod.ownerUid === "") return undefined;
    // Looked up once per cycle, not once per node: this runs for every feasible node.
    const perNode = snapshot.ownerPodsByNode(pod.ownerUid);
    return {
      score(node) {
        return perNode?.get(node.name) ?? 0;
      },
      scoreAll(nodes, out) {
        if (perNode === undefined) out.fill(0);
        else
          for (let i = 0; i < nodes.length; i++)
            out[i] = perNode.get((nodes[i] as NodeInfo).name) ?? 0;
      },
      // `scores[i]` is the count on `feasible[i]`: sum them per zone over the feasible nodes.
      // Most nodes hold none of the owner's pods: their zone is noted, not counted.
      normalize(scores) {
        let maxNode = 0;
        let haveZones = false;
        const zoneCounts = new Map<string, number>();
        for (let i = 0; i < scores.length; i++) {
          const s = scores[i] as number;
          const zone = (feasible[i] as NodeInfo).zone;
          if (zone !== undefined) haveZones = true;
          if (s === 0) continue;
          if (s > maxNode) maxNode = s;
          if (zone !== undefined) zoneCounts.set(zone, (zoneCounts.get(zone) ?? 0) + s);
        }
        let maxZone = 0;
        for (const c of zoneCounts.values()) if (c > maxZone) maxZone = c;
        for (let i = 0; i < scores.length; i++) {
          const s = scores[i] as number;
          let f = maxNode > 0 ? (MAX_NODE_SCORE * (maxNode - s)) / maxNode : MAX_NODE_SCORE;
          const zone = haveZones ? (feasible[i] as NodeInfo).zone : undefined;
          if (zone !== undefined) {
            const z = maxZone > 0 ? (zoneCounts.get(zone) ?? 0) : 0;
            const zoneScore =
              maxZone > 0 ? (MAX_NODE_SCORE * (maxZone - z)) / maxZone : MAX_NODE_SCORE;
            f = f * (1 - ZONE_WEIGHTING) + ZONE_WEIGHTING * zoneScore;
          }
          scores[i] = Math.trunc(f);
        }
      },
    };
  },
};
