// The proxy's view of Services and Endpoints: one entry per service port with the ready
// endpoints that serve it, as kube-proxy's ServicePortName → endpoints map. Endpoint ports are
// matched to service ports by name (the Endpoints controller names them after the service
// port; an unnamed single port matches ""), as in kube-proxy's endpoints change tracker.

import type { Endpoints, Service } from "@tug/api";

/** TCP or UDP: the protocols this proxy programs (SCTP services are skipped). */
export type ProxyProtocol = "TCP" | "UDP";

/** One ready endpoint of a service port. */
export interface ProxyEndpoint {
  readonly ip: string;
  readonly port: number;
}

/** A service port as the proxy programs it. */
export interface ProxyServicePort {
  readonly namespace: string;
  readonly name: string;
  /** The ServicePort's name; "" for a single unnamed port. */
  readonly portName: string;
  readonly protocol: ProxyProtocol;
  readonly clusterIp: string;
  readonly port: number;
  /** 0 when the service is not of type NodePort/LoadBalancer or has no node port yet. */
  readonly nodePort: number;
  /** Ready endpoints, sorted by IP then port so that the generated rules are stable. */
  readonly endpoints: readonly ProxyEndpoint[];
}

/** `<ns>/<name>:<port name>`: kube-proxy's ServicePortName, used in comments and chain hashes. */
export function servicePortName(sp: Pick<ProxyServicePort, "namespace" | "name" | "portName">) {
  return `${sp.namespace}/${sp.name}${sp.portName === "" ? "" : `:${sp.portName}`}`;
}

function protocolOf(protocol: string): ProxyProtocol | undefined {
  if (protocol === "" || protocol === "TCP") return "TCP";
  if (protocol === "UDP") return "UDP";
  return undefined;
}

function compareEndpoints(a: ProxyEndpoint, b: ProxyEndpoint): number {
  const ka = a.ip.split(".").map((o) => o.padStart(3, "0"));
  const kb = b.ip.split(".").map((o) => o.padStart(3, "0"));
  const c = ka.join(".").localeCompare(kb.join("."));
  return c !== 0 ? c : a.port - b.port;
}

/**
 * The service ports to program: services with a ClusterIP (not headless "None", not
 * ExternalName) joined with their Endpoints' ready addresses (notReadyAddresses are not
 * traffic targets). Sorted by namespace, name, port name and protocol. Pure.
 */
export function proxyServicePorts(
  services: readonly Service[],
  endpoints: readonly Endpoints[],
): ProxyServicePort[] {
  const byKey = new Map<string, Endpoints>();
  for (const ep of endpoints) {
    byKey.set(`${ep.metadata?.namespace ?? ""}/${ep.metadata?.name ?? ""}`, ep);
  }
  const out: ProxyServicePort[] = [];
  for (const svc of services) {
    const spec = svc.spec;
    const namespace = svc.metadata?.namespace ?? "";
    const name = svc.metadata?.name ?? "";
    if (spec === undefined || spec.type === "ExternalName") continue;
    const clusterIp = spec.clusterIp;
    if (clusterIp === "" || clusterIp === "None") continue;
    const eps = byKey.get(`${namespace}/${name}`);
    const nodePortType = spec.type === "NodePort" || spec.type === "LoadBalancer";
    for (const port of spec.ports) {
      const protocol = protocolOf(port.protocol);
      if (protocol === undefined) continue;
      const ready: ProxyEndpoint[] = [];
      const seen = new Set<string>();
      for (const subset of eps?.subsets ?? []) {
        const epPort = subset.ports.find(
          (p) => p.name === port.name && (protocolOf(p.protocol) ?? "") === protocol,
        );
        if (epPort === undefined) continue;
        for (const a of subset.addresses) {
          const key = `${a.ip}:${epPort.port}`;
          if (a.ip === "" || seen.has(key)) continue;
          seen.add(key);
          ready.push({ ip: a.ip, port: epPort.port });
        }
      }
      ready.sort(compareEndpoints);
      out.push({
        namespace,
        name,
        portName: port.name,
        protocol,
        clusterIp,
        port: port.port,
        nodePort: nodePortType ? port.nodePort : 0,
        endpoints: ready,
      });
    }
  }
  const key = (p: ProxyServicePort) => [p.namespace, p.name, p.portName, p.protocol];
  return out.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < ka.length; i++) {
      const c = (ka[i] ?? "").localeCompare(kb[i] ?? "");
      if (c !== 0) return c;
    }
    return 0;
  });
}
