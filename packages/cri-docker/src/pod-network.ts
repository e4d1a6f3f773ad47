// The one place that decides how a pod sandbox is networked. Every pod joins one Docker network,
// the runtime's `--pod-network` (Docker's default "bridge" unless told otherwise; tug-agent's node
// network is the bridge network `tug-<node>` on the node's pod CIDR), so a pod's IP is its
// sandbox's address on that network. Pods that ask for the node's network namespace
// (NamespaceMode NODE) get Docker's "host" mode.

import type Docker from "dockerode";

/** The Docker network sandboxes join unless the runtime is given `--pod-network`. */
export const DEFAULT_POD_NETWORK = "bridge";

/** The Docker NetworkMode of a sandbox: the pod network, or "host" for host-network pods. */
export function podNetworkMode(hostNetwork: boolean, podNetwork: string): string {
  return hostNetwork ? "host" : podNetwork;
}

/**
 * The pod's IP as Docker reports it for the sandbox container: its address on the network the
 * sandbox was created on (its NetworkMode, so a runtime restarted with another `--pod-network`
 * still reports the pods it made), else on `podNetwork`; "" for host-network pods (the kubelet
 * uses the node's IP for them).
 */
export function podIp(info: Docker.ContainerInspectInfo, podNetwork: string): string {
  const networks = info.NetworkSettings?.Networks ?? {};
  const mode = info.HostConfig?.NetworkMode ?? "";
  if (mode === "host") return "";
  return networks[mode]?.IPAddress || networks[podNetwork]?.IPAddress || "";
}

/**
 * NetworkReady: whether the pod network exists, with the reason and message CRI reports. A
 * node network made by tug-agent exists once node IPAM gave the node its pod CIDR.
 */
export async function networkReady(
  docker: Docker,
  podNetwork: string,
): Promise<{ ready: boolean; reason: string; message: string }> {
  try {
    await docker.getNetwork(podNetwork).inspect();
    return { ready: true, reason: "", message: "" };
  } catch (e) {
    return {
      ready: false,
      reason: "NetworkPluginNotReady",
      message: `Docker network "${podNetwork}" is not available (tug-agent creates tug-<node> once the node has a pod CIDR): ${e instanceof Error ? e.message : String(e)}`,
    };
  }
}
