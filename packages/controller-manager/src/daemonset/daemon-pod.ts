// Where a DaemonSet's pod belongs and what it looks like on one node (Kubernetes'
// pkg/controller/daemon: NodeShouldRunDaemonPod, util.AddOrUpdateDaemonPodTolerations,
// util.ReplaceDaemonSetPodNodeNameNodeAffinity, util.GetTargetNodeName).
// https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/#how-daemon-pods-are-scheduled
// https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/#taints-and-tolerations

import { clone, create } from "@bufbuild/protobuf";
import {
  AffinitySchema,
  labels,
  type Node,
  NodeAffinitySchema,
  NodeSelectorSchema,
  type NodeSelectorTerm,
  NodeSelectorTermSchema,
  type Pod,
  type PodTemplateSpec,
  PodTemplateSpecSchema,
  type Taint,
  type Toleration,
  TolerationSchema,
} from "@tug/api";
import {
  TAINT_NODE_DISK_PRESSURE,
  TAINT_NODE_MEMORY_PRESSURE,
  TAINT_NODE_NETWORK_UNAVAILABLE,
  TAINT_NODE_NOT_READY,
  TAINT_NODE_PID_PRESSURE,
  TAINT_NODE_UNREACHABLE,
  TAINT_NODE_UNSCHEDULABLE,
  toleratesTaint,
} from "../nodelifecycle/taints.js";

/** The node field a DaemonSet pod's required node affinity names (matchFields). */
export const NODE_NAME_FIELD = "metadata.name";

/** The label holding the hash of the DaemonSet revision a pod was made from. */
export const CONTROLLER_REVISION_HASH_LABEL = "controller-revision-hash";

/** The label holding the DaemonSet's generation when the pod was made (deprecated in Kubernetes). */
export const POD_TEMPLATE_GENERATION_LABEL = "pod-template-generation";

/**
 * The tolerations every daemon pod gets (AddOrUpdateDaemonPodTolerations): it stays on nodes
 * that are not ready or unreachable (NoExecute, forever: no tolerationSeconds), and is placed on
 * nodes under disk, memory or PID pressure and on cordoned nodes (NoSchedule). A pod on the host
 * network also tolerates an unavailable network.
 */
export function daemonPodTolerations(hostNetwork: boolean): Toleration[] {
  const exists = (key: string, effect: string) =>
    create(TolerationSchema, { key, operator: "Exists", effect });
  const result = [
    exists(TAINT_NODE_NOT_READY, "NoExecute"),
    exists(TAINT_NODE_UNREACHABLE, "NoExecute"),
    exists(TAINT_NODE_DISK_PRESSURE, "NoSchedule"),
    exists(TAINT_NODE_MEMORY_PRESSURE, "NoSchedule"),
    exists(TAINT_NODE_PID_PRESSURE, "NoSchedule"),
    exists(TAINT_NODE_UNSCHEDULABLE, "NoSchedule"),
  ];
  if (hostNetwork) result.push(exists(TAINT_NODE_NETWORK_UNAVAILABLE, "NoSchedule"));
  return result;
}

/** `existing` plus each of `added` whose key and effect no existing toleration already has. */
function withTolerations(existing: readonly Toleration[], added: readonly Toleration[]) {
  const out = existing.map((t) => clone(TolerationSchema, t));
  for (const t of added) {
    const at = out.findIndex((o) => o.key === t.key && o.effect === t.effect);
    if (at === -1) out.push(t);
    else out[at] = t;
  }
  return out;
}

/**
 * The pod template a DaemonSet uses for `nodeName`: the user's template plus the automatic
 * tolerations and a required node affinity `metadata.name In [nodeName]` that replaces the
 * template's required terms (already checked by `nodeShouldRunDaemonPod`), so that the default
 * scheduler binds the pod to that node (Kubernetes since 1.12). The template is copied.
 */
export function daemonPodTemplate(
  template: PodTemplateSpec | undefined,
  nodeName: string,
  extraLabels: Readonly<Record<string, string>> = {},
): PodTemplateSpec {
  const t =
    template === undefined
      ? create(PodTemplateSpecSchema, {})
      : clone(PodTemplateSpecSchema, template);
  t.metadata ??= create(PodTemplateSpecSchema).metadata;
  if (t.metadata !== undefined) t.metadata.labels = { ...t.metadata.labels, ...extraLabels };
  if (t.spec === undefined) return t;
  const spec = t.spec;
  spec.tolerations = withTolerations(spec.tolerations, daemonPodTolerations(spec.hostNetwork));
  spec.affinity ??= create(AffinitySchema, {});
  spec.affinity.nodeAffinity ??= create(NodeAffinitySchema, {});
  spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = create(
    NodeSelectorSchema,
    {
      nodeSelectorTerms: [
        create(NodeSelectorTermSchema, {
          matchFields: [{ key: NODE_NAME_FIELD, operator: "In", values: [nodeName] }],
        }),
      ],
    },
  );
  return t;
}

/**
 * The node a daemon pod is for (GetTargetNodeName): spec.nodeName once bound, else the node its
 * `metadata.name In [node]` affinity names; undefined for a pod that names no single node.
 */
export function targetNodeName(pod: Pod): string | undefined {
  const bound = pod.spec?.nodeName ?? "";
  if (bound !== "") return bound;
  const terms =
    pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
      ?.nodeSelectorTerms ?? [];
  for (const term of terms) {
    for (const f of term.matchFields) {
      if (f.key === NODE_NAME_FIELD && f.operator === "In" && f.values.length === 1) {
        return f.values[0];
      }
    }
  }
  return undefined;
}

/** Whether one node selector term accepts the node; an empty term accepts none. */
function termAccepts(term: NodeSelectorTerm, node: Node): boolean {
  if (term.matchExpressions.length === 0 && term.matchFields.length === 0) return false;
  if (term.matchExpressions.length > 0) {
    const selector = labels.Selector.fromNodeSelectorRequirements(term.matchExpressions);
    if (!selector.matches(node.metadata?.labels ?? {})) return false;
  }
  const name = node.metadata?.name ?? "";
  return term.matchFields.every((f) => {
    if (f.key !== NODE_NAME_FIELD) return false;
    if (f.operator === "In") return f.values.includes(name);
    if (f.operator === "NotIn") return !f.values.includes(name);
    return false;
  });
}

/**
 * Whether the template's spec.nodeSelector and required node affinity accept the node
 * (the scheduler's NodeAffinity filter, as the DaemonSet controller runs it). Throws for a
 * requirement that does not parse (validation keeps those out).
 */
export function templateSelectsNode(template: PodTemplateSpec | undefined, node: Node): boolean {
  const spec = template?.spec;
  const nodeLabels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(spec?.nodeSelector ?? {})) {
    if (nodeLabels[k] !== v) return false;
  }
  const required = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required === undefined) return true;
  return required.nodeSelectorTerms.some((term) => termAccepts(term, node));
}

/** Where a DaemonSet stands on a node (NodeShouldRunDaemonPod). */
export interface NodeDecision {
  /** A daemon pod should be created here if there is none. */
  readonly shouldRun: boolean;
  /** A daemon pod already here may stay. */
  readonly shouldContinueRunning: boolean;
}

function untolerated(
  taints: readonly Taint[],
  tolerations: readonly Toleration[],
  effects: string[],
) {
  return taints.some(
    (taint) => effects.includes(taint.effect) && !tolerations.some((t) => toleratesTaint(t, taint)),
  );
}

/**
 * Whether a daemon pod of `template` should run on `node`: the template's nodeName (if any) is
 * the node, its node selector and required affinity accept the node, and every NoSchedule and
 * NoExecute taint is tolerated (with the automatic tolerations). A pod already running may stay
 * despite an untolerated NoSchedule taint; only NoExecute ones evict it. A cordoned node still
 * gets its daemon pod (the automatic unschedulable toleration).
 */
export function nodeShouldRunDaemonPod(
  template: PodTemplateSpec | undefined,
  node: Node,
): NodeDecision {
  const nodeName = template?.spec?.nodeName ?? "";
  if (nodeName !== "" && nodeName !== node.metadata?.name) {
    return { shouldRun: false, shouldContinueRunning: false };
  }
  if (!templateSelectsNode(template, node)) {
    return { shouldRun: false, shouldContinueRunning: false };
  }
  const tolerations = withTolerations(
    template?.spec?.tolerations ?? [],
    daemonPodTolerations(template?.spec?.hostNetwork ?? false),
  );
  const taints = node.spec?.taints ?? [];
  return {
    shouldRun: !untolerated(taints, tolerations, ["NoSchedule", "NoExecute"]),
    shouldContinueRunning: !untolerated(taints, tolerations, ["NoExecute"]),
  };
}
