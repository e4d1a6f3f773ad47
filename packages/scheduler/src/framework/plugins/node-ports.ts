// NodePorts: a pod asking for host ports fits only nodes where none of them is taken (same
// protocol and port, on the same host IP or where either side binds 0.0.0.0).
// Reference: https://kubernetes.io/docs/reference/scheduling/config/#scheduling-plugins

import type { FilterPlugin, NodeFilter } from "../plugin.js";

export const ERR_REASON_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports";
const REASONS = Object.freeze([ERR_REASON_NODE_PORTS]);

export const nodePorts: FilterPlugin = {
  name: "NodePorts",
  preFilter(pod): NodeFilter | undefined {
    const wanted = pod.hostPorts;
    if (wanted.length === 0) return undefined;
    return (node) => {
      if (node.usedPorts.size === 0) return undefined;
      for (const p of wanted) if (node.portConflicts(p)) return REASONS;
      return undefined;
    };
  },
};
