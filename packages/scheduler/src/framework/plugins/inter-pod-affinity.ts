// InterPodAffinity: required pod affinity and anti-affinity of the incoming pod, and the
// required anti-affinity of the pods already placed, as a filter; preferred terms of both
// sides (and existing pods' required affinity, at weight 1) as a score. Topology domains are
// (topologyKey, node label value) pairs.
// Reference: https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#inter-pod-affinity-and-anti-affinity

import type { NodeInfo } from "../node-info.js";
import {
  type FilterPlugin,
  MAX_NODE_SCORE,
  type NodeFilter,
  type NodeScorer,
  type ScorePlugin,
} from "../plugin.js";
import { type AffinityTerm, type PodInfo, termMatches } from "../pod-info.js";
import type { Snapshot } from "../snapshot.js";

export const ERR_REASON_AFFINITY_RULES = "node(s) didn't match pod affinity rules";
export const ERR_REASON_ANTI_AFFINITY_RULES = "node(s) didn't match pod anti-affinity rules";
export const ERR_REASON_EXISTING_ANTI_AFFINITY_RULES =
  "node(s) didn't satisfy existing pods anti-affinity rules";

/** The weight of an existing pod's required affinity term when scoring (hardPodAffinityWeight). */
export const HARD_POD_AFFINITY_WEIGHT = 1;

const AFFINITY = Object.freeze([ERR_REASON_AFFINITY_RULES]);
const ANTI_AFFINITY = Object.freeze([ERR_REASON_ANTI_AFFINITY_RULES]);
const EXISTING_ANTI_AFFINITY = Object.freeze([ERR_REASON_EXISTING_ANTI_AFFINITY_RULES]);

/** Counts per topology domain: key -> value -> count. */
class TopologyCounts {
  readonly byKey = new Map<string, Map<string, number>>();

  add(key: string, value: string, delta: number): void {
    let values = this.byKey.get(key);
    if (values === undefined) {
      values = new Map();
      this.byKey.set(key, values);
    }
    values.set(value, (values.get(value) ?? 0) + delta);
  }

  get(key: string, value: string): number {
    return this.byKey.get(key)?.get(value) ?? 0;
  }

  get empty(): boolean {
    return this.byKey.size === 0;
  }

  /** Whether `node` lies in a domain with a count > 0. */
  hitsNode(node: NodeInfo): boolean {
    for (const [key, values] of this.byKey) {
      const v = node.labels[key];
      if (v !== undefined && (values.get(v) ?? 0) > 0) return true;
    }
    return false;
  }
}

function matchesAll(terms: readonly AffinityTerm[], pod: PodInfo, snapshot: Snapshot): boolean {
  for (const t of terms) if (!termMatches(t, pod, snapshot.namespaceLabels)) return false;
  return true;
}

export const interPodAffinityFilter: FilterPlugin = {
  name: "InterPodAffinity",
  preFilter(pod, snapshot): NodeFilter | undefined {
    const ns = snapshot.namespaceLabels;
    // Domains where a placed pod's required anti-affinity term selects the incoming pod
    // (kube-scheduler's getExistingAntiAffinityCounts), looking only at the terms that can:
    // the snapshot indexes them by a label value their selector requires.
    const existingAnti = new TopologyCounts();
    snapshot.forEachAntiAffinityTermSelecting(pod, (node, term) => {
      const value = node.labels[term.topologyKey];
      if (value !== undefined && termMatches(term, pod, ns)) {
        existingAnti.add(term.topologyKey, value, 1);
      }
    });
    const affinity = pod.requiredAffinity;
    const anti = pod.requiredAntiAffinity;
    if (affinity.length === 0 && anti.length === 0 && existingAnti.empty) return undefined;

    // The incoming pod's own terms look at the placed pods they may select (all of them for a
    // selector that pins no label): only pods with such terms pay this.
    const affinityCounts = new TopologyCounts();
    const antiCounts = new TopologyCounts();
    const first = affinity[0];
    if (first !== undefined) {
      snapshot.forEachCandidate(first.selector, (node, existing) => {
        if (!matchesAll(affinity, existing, snapshot)) return;
        for (const term of affinity) {
          const value = node.labels[term.topologyKey];
          if (value !== undefined) affinityCounts.add(term.topologyKey, value, 1);
        }
      });
    }
    for (const term of anti) {
      snapshot.forEachCandidate(term.selector, (node, existing) => {
        const value = node.labels[term.topologyKey];
        if (value !== undefined && termMatches(term, existing, ns)) {
          antiCounts.add(term.topologyKey, value, 1);
        }
      });
    }
    // The first pod of a group with affinity to itself may go anywhere its topology exists.
    const selfAffine = affinity.length > 0 && matchesAll(affinity, pod, snapshot);

    return (node) => {
      if (affinity.length > 0) {
        let podsExist = true;
        for (const term of affinity) {
          const value = node.labels[term.topologyKey];
          if (value === undefined) return AFFINITY;
          if (affinityCounts.get(term.topologyKey, value) <= 0) podsExist = false;
        }
        if (!podsExist && !(affinityCounts.empty && selfAffine)) return AFFINITY;
      }
      if (anti.length > 0) {
        for (const term of anti) {
          const value = node.labels[term.topologyKey];
          if (value !== undefined && antiCounts.get(term.topologyKey, value) > 0) {
            return ANTI_AFFINITY;
          }
        }
      }
      if (!existingAnti.empty && existingAnti.hitsNode(node)) return EXISTING_ANTI_AFFINITY;
      return undefined;
    };
  },
};

export const interPodAffinityScore: ScorePlugin = {
  name: "InterPodAffinity",
  preScore(pod, snapshot): NodeScorer | undefined {
    const ns = snapshot.namespaceLabels;
    const scores = new TopologyCounts();
    const addTerms = (
      terms: readonly AffinityTerm[],
      target: PodInfo,
      node: NodeInfo,
      sign: 1 | -1,
      weightOverride?: number,
    ): void => {
      for (const term of terms) {
        const value = node.labels[term.topologyKey];
        if (value !== undefined && termMatches(term, target, ns)) {
          scores.add(term.topologyKey, value, sign * (weightOverride ?? term.weight));
        }
      }
    };
    // The incoming pod's preferred terms, over the placed pods they may select.
    const incoming = (terms: readonly AffinityTerm[], sign: 1 | -1): void => {
      for (const term of terms) {
        snapshot.forEachCandidate(term.selector, (node, existing) => {
          const value = node.labels[term.topologyKey];
          if (value !== undefined && termMatches(term, existing, ns)) {
            scores.add(term.topologyKey, value, sign * term.weight);
          }
        });
      }
    };
    incoming(pod.preferredAffinity, 1);
    incoming(pod.preferredAntiAffinity, -1);
    // Placed pods' terms that select the incoming pod.
    for (const node of snapshot.nodesWithAffinityPods()) {
      for (const existing of node.podsWithAffinity.values()) {
        if (existing.requiredAffinity.length > 0) {
          addTerms(existing.requiredAffinity, pod, node, 1, HARD_POD_AFFINITY_WEIGHT);
        }
        addTerms(existing.preferredAffinity, pod, node, 1);
        addTerms(existing.preferredAntiAffinity, pod, node, -1);
      }
    }
    if (scores.empty) return undefined;
    return {
      score(node) {
        let s = 0;
        for (const [key, values] of scores.byKey) {
          const v = node.labels[key];
          if (v !== undefined) s += values.get(v) ?? 0;
        }
        return s;
      },
      normalize(list) {
        let min = Number.POSITIVE_INFINITY;
        let max = Number.NEGATIVE_INFINITY;
        for (const s of list) {
          if (s < min) min = s;
          if (s > max) max = s;
        }
        const range = max - min;
        for (let i = 0; i < list.length; i++) {
          list[i] =
            range === 0 ? 0 : Math.trunc((MAX_NODE_SCORE * ((list[i] as number) - min)) / range);
        }
      },
    };
  },
};
