// The node constraints a pod must satisfy: spec.nodeSelector and the required node affinity
// (nodeaffinity.RequiredNodeAffinity). Used by the NodeAffinity filter and by
// PodTopologySpread's nodeAffinityPolicy: Honor.
// Reference: https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#node-affinity

import type { NodeSelectorRequirement, NodeSelectorTerm } from "@tug/api";
import { labels } from "@tug/api";
import type { NodeInfo } from "./node-info.js";
import { type PodInfo, PodSpecError } from "./pod-info.js";

/** The only field a node selector's matchFields may name. */
const FIELD_NODE_NAME = "metadata.name";

interface ParsedTerm {
  readonly expressions: labels.Selector | undefined;
  readonly fields: readonly NodeSelectorRequirement[];
}

/** A node selector term, parsed: labels by selector, fields by metadata.name In/NotIn. */
export class NodeSelectorTermMatcher {
  private constructor(private readonly term: ParsedTerm) {}

  /** Parses `term` at `field`; throws {@link PodSpecError} for a bad requirement. */
  static parse(term: NodeSelectorTerm, field: string): NodeSelectorTermMatcher {
    let expressions: labels.Selector | undefined;
    if (term.matchExpressions.length > 0) {
      try {
        expressions = labels.Selector.fromNodeSelectorRequirements(term.matchExpressions);
      } catch (err) {
        throw new PodSpecError(
          `${field}.matchExpressions: ${err instanceof Error ? err.message : String(err)}`,
          { cause: err },
        );
      }
    }
    term.matchFields.forEach((f, i) => {
      if (f.key !== FIELD_NODE_NAME) {
        throw new PodSpecError(
          `${field}.matchFields[${i}].key: Unsupported value: ${JSON.stringify(f.key)}: supported values: "${FIELD_NODE_NAME}"`,
        );
      }
      if (f.operator !== "In" && f.operator !== "NotIn") {
        throw new PodSpecError(
          `${field}.matchFields[${i}].operator: Unsupported value: ${JSON.stringify(f.operator)}: supported values: "In", "NotIn"`,
        );
      }
    });
    return new NodeSelectorTermMatcher({ expressions, fields: term.matchFields });
  }

  /** An empty term (no expressions, no fields) matches no node. */
  matches(node: NodeInfo): boolean {
    const { expressions, fields } = this.term;
    if (expressions === undefined && fields.length === 0) return false;
    if (expressions !== undefined && !expressions.matches(node.labels)) return false;
    for (const f of fields) {
      const inList = f.values.includes(node.name);
      if (f.operator === "In" ? !inList : inList) return false;
    }
    return true;
  }
}

/** spec.nodeSelector and required node affinity of one pod. */
export interface RequiredNodeAffinity {
  /** False when the pod constrains nothing (every node matches). */
  readonly constrains: boolean;
  matches(node: NodeInfo): boolean;
}

const cache = new WeakMap<PodInfo, RequiredNodeAffinity>();

/**
 * The pod's required node constraints, parsed once per PodInfo. A node matches when it has
 * every nodeSelector label and, if required node affinity is set, one of its terms (ORed).
 * Throws {@link PodSpecError} for a requirement that does not parse.
 */
export function requiredNodeAffinity(pod: PodInfo): RequiredNodeAffinity {
  const cached = cache.get(pod);
  if (cached !== undefined) return cached;
  const selector = pod.pod.spec?.nodeSelector ?? {};
  const selectorEntries = Object.entries(selector);
  const required =
    pod.pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const terms = required?.nodeSelectorTerms.map((t, i) =>
    NodeSelectorTermMatcher.parse(
      t,
      `spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[${i}]`,
    ),
  );
  const result: RequiredNodeAffinity = {
    constrains: selectorEntries.length > 0 || terms !== undefined,
    matches(node: NodeInfo): boolean {
      const nodeLabels = node.labels;
      for (const [k, v] of selectorEntries) if (nodeLabels[k] !== v) return false;
      if (terms === undefined) return true;
      for (const t of terms) if (t.matches(node)) return true;
      return false;
    },
  };
  cache.set(pod, result);
  return result;
}
