// What kube-apiserver does to a Service update before validation
// (pkg/registry/core/service/storage/storage.go patchAllocatedValues, strategy.go
// dropTypeDependentFields): allocated values an update leaves empty are kept, and values the
// new type no longer uses are dropped when the update left them as they were.

import type { Service, ServicePort } from "@tug/api";

function hasClusterIp(svc: Service): boolean {
  return svc.spec !== undefined && svc.spec.type !== "ExternalName";
}

function hasNodePorts(svc: Service): boolean {
  const type = svc.spec?.type;
  return (
    type === "NodePort" ||
    (type === "LoadBalancer" && svc.spec?.allocateLoadBalancerNodePorts !== false)
  );
}

function nodePorts(ports: readonly ServicePort[]): number[] {
  return ports.map((p) => p.nodePort).filter((p) => p !== 0);
}

/**
 * patchAllocatedValues: an update that leaves clusterIP/clusterIPs empty keeps the stored ones
 * (clusterIP is immutable); a port whose nodePort is 0 keeps the nodePort of the stored port of
 * the same name unless another port of the update uses it. Then dropTypeDependentFields: a
 * change to a type without node ports clears node ports (and the externalTrafficPolicy) the
 * update did not change, and a change to ExternalName clears a clusterIP it did not change.
 * Mutates `next`.
 */
export function prepareServiceUpdate(next: Service, old: Service): void {
  const spec = next.spec;
  const oldSpec = old.spec;
  if (spec === undefined || oldSpec === undefined) return;
  if (hasClusterIp(old) && hasClusterIp(next)) {
    if (spec.clusterIp === "") spec.clusterIp = oldSpec.clusterIp;
    if (spec.clusterIps.length === 0) spec.clusterIps = [...oldSpec.clusterIps];
  }
  if (hasNodePorts(old) && hasNodePorts(next)) {
    const inUse = new Set(nodePorts(spec.ports));
    const byName = new Map(oldSpec.ports.map((p) => [p.name, p.nodePort]));
    for (const port of spec.ports) {
      const before = byName.get(port.name) ?? 0;
      if (port.nodePort === 0 && before !== 0 && !inUse.has(before)) {
        port.nodePort = before;
        inUse.add(before);
      }
    }
  }
  const sameNodePorts =
    spec.ports.length === oldSpec.ports.length &&
    spec.ports.every((p, i) => p.nodePort === oldSpec.ports[i]?.nodePort);
  if (hasNodePorts(old) && !hasNodePorts(next) && sameNodePorts) {
    for (const port of spec.ports) port.nodePort = 0;
  }
  const externallyAccessible = (svc: Service) =>
    svc.spec?.type === "NodePort" || svc.spec?.type === "LoadBalancer";
  if (
    externallyAccessible(old) &&
    !externallyAccessible(next) &&
    spec.externalTrafficPolicy === oldSpec.externalTrafficPolicy
  ) {
    spec.externalTrafficPolicy = "";
  }
  const sameClusterIps =
    spec.clusterIp === oldSpec.clusterIp &&
    spec.clusterIps.length === oldSpec.clusterIps.length &&
    spec.clusterIps.every((ip, i) => ip === oldSpec.clusterIps[i]);
  if (hasClusterIp(old) && !hasClusterIp(next) && sameClusterIps) {
    spec.clusterIp = "";
    spec.clusterIps = [];
  }
}
