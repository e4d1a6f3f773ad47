// NodeName: a pod that names its node (spec.nodeName) fits only that node.
// Reference: https://kubernetes.io/docs/reference/scheduling/config/#scheduling-plugins

import type { FilterPlugin, NodeFilter } from "../plugin.js";

export const ERR_REASON_NODE_NAME = "node(s) didn't match the requested node name";
const REASONS = Object.freeze([ERR_REASON_NODE_NAME]);

export const nodeName: FilterPlugin = {
  name: "NodeName",
  preFilter(pod): NodeFilter | undefined {
    const wanted = pod.pod.spec?.nodeName ?? "";
    if (wanted === "") return undefined;
    return (node) => (node.name === wanted ? undefined : REASONS);
  },
};
