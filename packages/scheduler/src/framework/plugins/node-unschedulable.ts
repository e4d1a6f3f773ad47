// NodeUnschedulable: a cordoned node (spec.unschedulable) takes no new pods unless the pod
// tolerates the node.kubernetes.io/unschedulable:NoSchedule taint.
// Reference: https://kubernetes.io/docs/reference/scheduling/config/#scheduling-plugins

import type { Taint } from "@tug/api";
import type { FilterPlugin, NodeFilter } from "../plugin.js";
import { tolerated } from "../toleration.js";

export const ERR_REASON_UNSCHEDULABLE = "node(s) were unschedulable";
/** The taint a cordoned node carries (well-known label node.kubernetes.io/unschedulable). */
export const TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";

const REASONS = Object.freeze([ERR_REASON_UNSCHEDULABLE]);
const UNSCHEDULABLE_TAINT = {
  key: TAINT_NODE_UNSCHEDULABLE,
  value: "",
  effect: "NoSchedule",
} as Taint;

export const nodeUnschedulable: FilterPlugin = {
  name: "NodeUnschedulable",
  preFilter(pod): NodeFilter | undefined {
    if (tolerated(pod.pod.spec?.tolerations ?? [], UNSCHEDULABLE_TAINT)) return undefined;
    return (node) => (node.unschedulable ? REASONS : undefined);
  },
};
