// The one place that decides which network a pod sandbox joins and which IP the pod gets.
// Today the CRI runtime attaches every sandbox to Docker's default bridge (tug-cri-docker's
// pod-network.ts) and reports the address in PodSandboxStatus; host-network pods share the
// node's namespace and take the node's IP, as the kubelet does. Per-node pod CIDRs and routes
// (a later task) replace `defaultPodNetwork` and nothing else in the agent.

import { cri } from "@tug/cri-docker";

/** How the agent networks a pod's sandbox. */
export interface PodNetwork {
  /** The sandbox's namespace options: the node's network for hostNetwork pods. */
  readonly hostNetworkMode: (hostNetwork: boolean) => { network: cri.NamespaceMode };
  /** The pod's IP from its sandbox's status; the node's IP for host-network pods. */
  podIp(status: cri.PodSandboxStatus | undefined, hostNetwork: boolean, hostIp: string): string;
}

/** The runtime's default network (Docker's bridge through tug-cri-docker). */
export const defaultPodNetwork: PodNetwork = {
  hostNetworkMode: (hostNetwork) => ({
    network: hostNetwork ? cri.NamespaceMode.NODE : cri.NamespaceMode.POD,
  }),
  podIp(status, hostNetwork, hostIp) {
    if (hostNetwork) return hostIp;
    return status?.network?.ip ?? "";
  },
};
