// PodTopologySpread: topologySpreadConstraints. DoNotSchedule constraints filter: placing the
// pod in a domain must not make (matching pods there + 1) - (fewest in any eligible domain)
// exceed maxSkew. ScheduleAnyway constraints score: fewer matching pods in the node's domain
// is better.
// Reference: https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/

import type { TopologySpreadConstraint } from "@tug/api";
import { labels } from "@tug/api";
import type { NodeInfo } from "../node-info.js";
import {
  type FilterPlugin,
  MAX_NODE_SCORE,
  type NodeFilter,
  type NodeScorer,
  type ScorePlugin,
} from "../plugin.js";
import { type PodInfo, PodSpecError } from "../pod-info.js";
import { requiredNodeAffinity } from "../required-node-affinity.js";
import type { Snapshot } from "../snapshot.js";
import { firstUntolerated } from "../toleration.js";

export const ERR_REASON_CONSTRAINTS_NOT_MATCH =
  "node(s) didn't match pod topology spread constraints";
export const ERR_REASON_NODE_LABEL_NOT_MATCH = `${ERR_REASON_CONSTRAINTS_NOT_MATCH} (missing required label)`;
export const LABEL_HOSTNAME = "kubernetes.io/hostname";

const NOT_MATCH = Object.freeze([ERR_REASON_CONSTRAINTS_NOT_MATCH]);
const LABEL_NOT_MATCH = Object.freeze([ERR_REASON_NODE_LABEL_NOT_MATCH]);

interface Constraint {
  readonly maxSkew: number;
  readonly topologyKey: string;
  readonly selector: labels.Selector;
  readonly minDomains: number;
  readonly honorNodeAffinity: boolean;
  readonly honorTaints: boolean;
}

function parseConstraints(pod: PodInfo, hard: boolean): Constraint[] {
  const out: Constraint[] = [];
  const list: readonly TopologySpreadConstraint[] = pod.pod.spec?.topologySpreadConstraints ?? [];
  list.forEach((c, i) => {
    if ((c.whenUnsatisfiable === "DoNotSchedule") !== hard) return;
    const field = `spec.topologySpreadConstraints[${i}]`;
    let selector: labels.Selector;
    try {
      selector = labels.Selector.fromObject(c.labelSelector);
      for (const key of c.matchLabelKeys) {
        const value = pod.labels[key];
        if (value !== undefined)
          selector = selector.add(labels.Requirement.create(key, "in", [value]));
      }
    } catch (err) {
      throw new PodSpecError(
        `${field}.labelSelector: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    out.push({
      maxSkew: c.maxSkew,
      topologyKey: c.topologyKey,
      selector,
      minDomains: c.minDomains ?? 1,
      honorNodeAffinity: (c.nodeAffinityPolicy ?? "Honor") === "Honor",
      honorTaints: (c.nodeTaintsPolicy ?? "Ignore") === "Honor",
    });
  });
  return out;
}

/** Calls `fn` with the node of every pod in `namespace` that `selector` selects, not being deleted. */
function forEachMatching(
  snapshot: Snapshot,
  selector: labels.Selector,
  namespace: string,
  fn: (node: NodeInfo) => void,
): void {
  snapshot.forEachCandidate(selector, (node, p) => {
    if (p.namespace !== namespace || p.pod.metadata?.deletionTimestamp !== undefined) return;
    if (selector.matches(p.labels)) fn(node);
  });
}

function hasAllKeys(node: NodeInfo, constraints: readonly Constraint[]): boolean {
  for (const c of constraints) if (node.labels[c.topologyKey] === undefined) return false;
  return true;
}

/** Whether `node` counts toward the domains of `c` (nodeAffinityPolicy, nodeTaintsPolicy). */
function eligible(pod: PodInfo, c: Constraint, node: NodeInfo): boolean {
  if (c.honorNodeAffinity && !requiredNodeAffinity(pod).matches(node)) return false;
  if (c.honorTaints && firstUntolerated(node.hardTaints, pod.pod.spec?.tolerations ?? [])) {
    return false;
  }
  return true;
}

export const podTopologySpreadFilter: FilterPlugin = {
  name: "PodTopologySpread",
  preFilter(pod, snapshot): NodeFilter | undefined {
    const constraints = parseConstraints(pod, true);
    if (constraints.length === 0) return undefined;
    const counts = constraints.map(() => new Map<string, number>());
    // Every eligible domain exists, with 0 until a matching pod is counted there.
    for (const node of snapshot.nodeInfos()) {
      if (!hasAllKeys(node, constraints)) continue;
      constraints.forEach((c, i) => {
        if (!eligible(pod, c, node)) return;
        const value = node.labels[c.topologyKey] as string;
        const domain = counts[i] as Map<string, number>;
        if (!domain.has(value)) domain.set(value, 0);
      });
    }
    constraints.forEach((c, i) => {
      const domain = counts[i] as Map<string, number>;
      forEachMatching(snapshot, c.selector, pod.namespace, (node) => {
        const value = node.labels[c.topologyKey];
        if (value === undefined) return;
        const current = domain.get(value);
        // Absent: the node is not eligible (or lacks another constraint's key).
        if (current !== undefined && hasAllKeys(node, constraints) && eligible(pod, c, node)) {
          domain.set(value, current + 1);
        }
      });
    });
    const minMatch = constraints.map((c, i) => {
      const domain = counts[i] as Map<string, number>;
      // Fewer eligible domains than minDomains: the global minimum is taken to be 0.
      if (domain.size < c.minDomains) return 0;
      let min = Number.POSITIVE_INFINITY;
      for (const n of domain.values()) if (n < min) min = n;
      return min === Number.POSITIVE_INFINITY ? 0 : min;
    });
    const selfMatch = constraints.map((c) => (c.selector.matches(pod.labels) ? 1 : 0));
    return (node) => {
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i] as Constraint;
        const value = node.labels[c.topologyKey];
        if (value === undefined) return LABEL_NOT_MATCH;
        const matchNum = (counts[i] as Map<string, number>).get(value) ?? 0;
        const skew = matchNum + (selfMatch[i] as number) - (minMatch[i] as number);
        if (skew > c.maxSkew) return NOT_MATCH;
      }
      return undefined;
    };
  },
};

export const podTopologySpreadScore: ScorePlugin = {
  name: "PodTopologySpread",
  preScore(pod, snapshot: Snapshot, feasible): NodeScorer | undefined {
    const constraints = parseConstraints(pod, false);
    if (constraints.length === 0) return undefined;
    // Domains of the feasible nodes that carry every key; the others are ignored (score 0).
    const domains = constraints.map(() => new Map<string, number>());
    let scoredNodes = 0;
    for (const node of feasible) {
      if (!hasAllKeys(node, constraints)) continue;
      scoredNodes++;
      constraints.forEach((c, i) => {
        if (c.topologyKey !== LABEL_HOSTNAME) {
          (domains[i] as Map<string, number>).set(node.labels[c.topologyKey] as string, 0);
        }
      });
    }
    if (scoredNodes === 0) return undefined;
    // Count matching pods per domain over every eligible node of the cluster, and per node
    // for hostname constraints.
    const perNode = constraints.map(() => new Map<string, number>());
    constraints.forEach((c, i) => {
      const domain = domains[i] as Map<string, number>;
      const hosts = perNode[i] as Map<string, number>;
      forEachMatching(snapshot, c.selector, pod.namespace, (node) => {
        if (c.topologyKey === LABEL_HOSTNAME) {
          hosts.set(node.name, (hosts.get(node.name) ?? 0) + 1);
          return;
        }
        const value = node.labels[c.topologyKey];
        if (value === undefined) return;
        const current = domain.get(value);
        if (current !== undefined && hasAllKeys(node, constraints) && eligible(pod, c, node)) {
          domain.set(value, current + 1);
        }
      });
    });
    // topologyNormalizingWeight: log(domains + 2), so many small domains weigh more.
    const weights = constraints.map((c, i) =>
      Math.log(
        (c.topologyKey === LABEL_HOSTNAME
          ? scoredNodes
          : (domains[i] as Map<string, number>).size) + 2,
      ),
    );
    const ignored = (node: NodeInfo) => !hasAllKeys(node, constraints);
    return {
      score(node) {
        if (ignored(node)) return -1;
        let s = 0;
        constraints.forEach((c, i) => {
          const cnt =
            c.topologyKey === LABEL_HOSTNAME
              ? ((perNode[i] as Map<string, number>).get(node.name) ?? 0)
              : ((domains[i] as Map<string, number>).get(node.labels[c.topologyKey] as string) ??
                0);
          s += cnt * (weights[i] as number) + (c.maxSkew - 1);
        });
        return Math.round(s);
      },
      normalize(scores) {
        let min = Number.POSITIVE_INFINITY;
        let max = 0;
        for (const s of scores) {
          if (s < 0) continue;
          if (s < min) min = s;
          if (s > max) max = s;
        }
        for (let i = 0; i < scores.length; i++) {
          const s = scores[i] as number;
          if (s < 0) scores[i] = 0;
          else if (max === 0) scores[i] = MAX_NODE_SCORE;
          else scores[i] = Math.trunc((MAX_NODE_SCORE * (max + min - s)) / max);
        }
      },
    };
  },
};
