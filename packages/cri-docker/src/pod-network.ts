// The one place that decides how a pod sandbox is networked. For now every pod joins Docker's
// default bridge network ("bridge"), so a pod gets an address on the docker0 subnet reachable
// from this host; pods that ask for the node's network namespace (NamespaceMode NODE) get
// Docker's "host" mode. Pod networking across nodes (a per-node pod CIDR bridge, routes) will
// replace `podNetworkMode` and `networkReady` and nothing else.

import type Docker from "dockerode";

/** The Docker network every pod sandbox joins. */
export const POD_NETWORK = "bridge";

/** The Docker NetworkMode of a sandbox: the pod network, or "host" for host-network pods. */
export function podNetworkMode(hostNetwork: boolean): string {
  return hostNetwork ? "host" : POD_NETWORK;
}

/**
 * The pod's IP as Docker reports it for the sandbox container: its address on the pod
 * network; "" for host-network pods (the kubelet uses the node's IP for them).
 */
export function podIp(info: Docker.ContainerInspectInfo): string {
  const networks = info.NetworkSettings?.Networks ?? {};
  return networks[POD_NETWORK]?.IPAddress ?? "";
}

/** NetworkReady: whether the pod network exists, with the reason and message CRI reports. */
export async function networkReady(
  docker: Docker,
): Promise<{ ready: boolean; reason: string; message: string }> {
  try {
    await docker.getNetwork(POD_NETWORK).inspect();
    return { ready: true, reason: "", message: "" };
  } catch (e) {
    return {
      ready: false,
      reason: "NetworkPluginNotReady",
      message: `Docker network "${POD_NETWORK}" is not available: ${e instanceof Error ? e.message : String(e)}`,
    };
  }
}
