// A sandbox's /etc/resolv.conf from CRI's DNSConfig. Docker, on a user-defined network, points
// containers at its embedded resolver (127.0.0.11) and keeps the servers to itself; Kubernetes
// wants the pod to see exactly the kubelet's servers, searches and options (the cluster DNS,
// `<ns>.svc.cluster.local ...`, `ndots:5`). So, as cri-dockerd does, the file Docker made for
// the sandbox (its ResolvConfPath, shared by every container that joins the sandbox's network
// namespace) is rewritten after the sandbox starts. resolv.conf(5) format.

import { writeFileSync } from "node:fs";

/** CRI DNSConfig's fields (runtime.v1 DNSConfig). */
export interface SandboxDns {
  readonly servers: readonly string[];
  readonly searches: readonly string[];
  readonly options: readonly string[];
}

/** The resolv.conf text for a DNS config: one `nameserver` per server, then search, options. */
export function resolvConfText(dns: SandboxDns): string {
  const lines = dns.servers.map((s) => `nameserver ${s}`);
  if (dns.searches.length > 0) lines.push(`search ${dns.searches.join(" ")}`);
  if (dns.options.length > 0) lines.push(`options ${dns.options.join(" ")}`);
  return `${lines.join("\n")}\n`;
}

/**
 * Writes the sandbox's resolv.conf. The path is on the engine's host: the runtime must run on
 * the machine of the Docker engine it drives (as cri-dockerd must).
 */
export function writeResolvConf(path: string, dns: SandboxDns): void {
  if (path === "") {
    throw new Error(
      "Docker reported no ResolvConfPath for the sandbox; cannot write its DNS config",
    );
  }
  try {
    writeFileSync(path, resolvConfText(dns), { mode: 0o644 });
  } catch (e) {
    throw new Error(
      `cannot write the sandbox's resolv.conf at ${path} (tug-cri-docker must run on the Docker engine's host, as root): ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
}
