// The Endpoints of a Service, computed from the pods its selector matches (the pure half of
// Kubernetes' pkg/controller/endpoint): each pod with an IP is an address — ready, or not ready
// unless the service publishes not-ready addresses — on the ports its containers give the
// service's target ports; addresses with the same ports share a subset (RepackSubsets).
// https://kubernetes.io/docs/reference/kubernetes-api/service-resources/endpoints-v1/
// https://kubernetes.io/docs/concepts/services-networking/service/

import { create } from "@bufbuild/protobuf";
import {
  type EndpointAddress,
  EndpointAddressSchema,
  type EndpointPort,
  EndpointPortSchema,
  type EndpointSubset,
  EndpointSubsetSchema,
  intOrString,
  ObjectReferenceSchema,
  type Pod,
  type Service,
  type ServicePort,
} from "@tug/api";

/** Most addresses one Endpoints object holds; the rest are dropped and the object says so. */
export const MAX_ENDPOINTS_CAPACITY = 1000;
/** Annotation set to "truncated" on an Endpoints object that hit MAX_ENDPOINTS_CAPACITY. */
export const OVER_CAPACITY_ANNOTATION = "endpoints.kubernetes.io/over-capacity";
/** Label on the Endpoints of a headless service (clusterIP None). */
export const HEADLESS_LABEL = "service.kubernetes.io/headless";

function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** The port number a pod serves `servicePort` on (FindPort); undefined if it has no such port. */
export function findPort(pod: Pod, servicePort: ServicePort): number | undefined {
  const target = intOrString(servicePort.targetPort);
  const protocol = servicePort.protocol || "TCP";
  if (typeof target === "string") {
    for (const container of pod.spec?.containers ?? []) {
      for (const port of container.ports) {
        if (port.name === target && (port.protocol || "TCP") === protocol) {
          return port.containerPort;
        }
      }
    }
    return undefined;
  }
  return target === undefined || target === 0 ? servicePort.port : target;
}

/** Whether a pod belongs in the service's Endpoints at all (ShouldPodBeInEndpoints). */
function podInEndpoints(pod: Pod, publishNotReady: boolean): boolean {
  const phase = pod.status?.phase ?? "";
  if (phase === "Succeeded" || phase === "Failed") return false;
  if ((pod.status?.podIp ?? "") === "") return false;
  return publishNotReady || pod.metadata?.deletionTimestamp === undefined;
}

function address(pod: Pod, service: Service): EndpointAddress {
  const spec = pod.spec;
  const hostname =
    spec !== undefined && spec.hostname !== "" && spec.subdomain === service.metadata?.name
      ? spec.hostname
      : "";
  return create(EndpointAddressSchema, {
    ip: pod.status?.podIp ?? "",
    hostname,
    ...(spec?.nodeName ? { nodeName: spec.nodeName } : {}),
    targetRef: create(ObjectReferenceSchema, {
      kind: "Pod",
      namespace: pod.metadata?.namespace ?? "",
      name: pod.metadata?.name ?? "",
      uid: pod.metadata?.uid ?? "",
    }),
  });
}

function portKey(p: EndpointPort): string {
  return `${p.name}\x00${p.port}\x00${p.protocol}\x00${p.appProtocol ?? ""}`;
}

function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  return (
    a.ip.localeCompare(b.ip, "en") ||
    (a.targetRef?.uid ?? "").localeCompare(b.targetRef?.uid ?? "", "en")
  );
}

export interface ComputedEndpoints {
  readonly subsets: EndpointSubset[];
  /** True when addresses beyond MAX_ENDPOINTS_CAPACITY were dropped. */
  readonly truncated: boolean;
}

/**
 * The subsets of `service`'s Endpoints given the pods its selector matched. Deterministic:
 * subsets ordered by their ports, addresses by IP, ports by name.
 */
export function computeEndpointSubsets(
  service: Service,
  pods: readonly Pod[],
  capacity = MAX_ENDPOINTS_CAPACITY,
): ComputedEndpoints {
  const spec = service.spec;
  const publishNotReady = spec?.publishNotReadyAddresses === true;
  const servicePorts = spec?.ports ?? [];
  const headless = spec?.clusterIp === "None";
  // Per address: the ports it serves, and whether it is ready.
  const groups = new Map<
    string,
    { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }
  >();
  const add = (ports: EndpointPort[], addr: EndpointAddress, ready: boolean) => {
    const sorted = [...ports].sort((a, b) => portKey(a).localeCompare(portKey(b), "en"));
    const key = sorted.map(portKey).join("\x01");
    let group = groups.get(key);
    if (group === undefined) {
      group = { ports: sorted, ready: [], notReady: [] };
      groups.set(key, group);
    }
    (ready ? group.ready : group.notReady).push(addr);
  };
  for (const pod of pods) {
    if (!podInEndpoints(pod, publishNotReady)) continue;
    const ready = publishNotReady || isPodReady(pod);
    const addr = address(pod, service);
    if (servicePorts.length === 0) {
      // A headless service without ports still lists its pods (for DNS).
      if (headless) add([], addr, ready);
      continue;
    }
    const ports: EndpointPort[] = [];
    for (const sp of servicePorts) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      ports.push(
        create(EndpointPortSchema, {
          name: sp.name,
          port,
          protocol: sp.protocol || "TCP",
          ...(sp.appProtocol === undefined ? {} : { appProtocol: sp.appProtocol }),
        }),
      );
    }
    if (ports.length > 0) add(ports, addr, ready);
  }
  let room = capacity;
  let truncated = false;
  const take = (list: EndpointAddress[]) => {
    list.sort(compareAddresses);
    if (list.length > room) {
      truncated = true;
      list.length = room;
    }
    room -= list.length;
    return list;
  };
  const subsets: EndpointSubset[] = [];
  for (const key of [...groups.keys()].sort()) {
    const g = groups.get(key);
    if (g === undefined) continue;
    // Ready addresses are kept first when the object is full.
    const addresses = take(g.ready);
    const notReadyAddresses = take(g.notReady);
    if (addresses.length + notReadyAddresses.length === 0) continue;
    subsets.push(create(EndpointSubsetSchema, { addresses, notReadyAddresses, ports: g.ports }));
  }
  return { subsets, truncated };
}
