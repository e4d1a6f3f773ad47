// The downward API: pod fields and container resources as strings, for env vars (valueFrom
// fieldRef / resourceFieldRef) and downwardAPI volume files
// (https://kubernetes.io/docs/concepts/workloads/pods/downward-api/).

import { type Container, type Pod, Quantity } from "@tug/api";
import { ContainerConfigError } from "./container-config-error.js";

/** What only the node knows about a pod: its IPs, and the node's allocatable (for unset limits). */
export interface PodRuntimeFacts {
  podIp: string;
  hostIp: string;
  /** Node allocatable, resource name → quantity text. */
  allocatable: Readonly<Record<string, string>>;
}

const KEYED = /^metadata\.(labels|annotations)\['([^']+)'\]$/;

/** The value of a fieldRef path (metadata.name, status.podIP, metadata.labels['app'] ...). */
export function podFieldValue(pod: Pod, path: string, facts: PodRuntimeFacts): string {
  const md = pod.metadata;
  const keyed = KEYED.exec(path);
  if (keyed !== null) {
    const map = keyed[1] === "labels" ? md?.labels : md?.annotations;
    return map?.[keyed[2] as string] ?? "";
  }
  switch (path) {
    case "metadata.name":
      return md?.name ?? "";
    case "metadata.namespace":
      return md?.namespace ?? "";
    case "metadata.uid":
      return md?.uid ?? "";
    case "metadata.labels":
      return formatMap(md?.labels ?? {});
    case "metadata.annotations":
      return formatMap(md?.annotations ?? {});
    case "spec.nodeName":
      return pod.spec?.nodeName ?? "";
    case "spec.serviceAccountName":
      return pod.spec?.serviceAccountName ?? "";
    case "status.podIP":
    case "status.podIPs":
      return facts.podIp;
    case "status.hostIP":
    case "status.hostIPs":
      return facts.hostIp;
    default:
      throw new ContainerConfigError(
        `unsupported fieldPath "${path}": use metadata.name, metadata.namespace, metadata.uid, ` +
          "metadata.labels['<key>'], metadata.annotations['<key>'], spec.nodeName, " +
          "spec.serviceAccountName, status.podIP or status.hostIP",
      );
  }
}

/** key="value" lines sorted by key, as the kubelet writes labels and annotations files. */
function formatMap(map: Readonly<Record<string, string>>): string {
  return Object.keys(map)
    .sort()
    .map((k) => `${k}=${JSON.stringify(map[k])}`)
    .join("\n");
}

/**
 * A container resource (limits.cpu, requests.memory ...) divided by `divisor`, rounded up as
 * the kubelet's ExtractContainerResourceValue does; an unset limit is the node's allocatable.
 */
export function resourceFieldValue(
  container: Container,
  resource: string,
  divisorText: string,
  facts: PodRuntimeFacts,
): string {
  const [kind, name] = resource.split(".", 2) as [string, string | undefined];
  if ((kind !== "limits" && kind !== "requests") || name === undefined || name === "") {
    throw new ContainerConfigError(
      `unsupported resource "${resource}": use limits.cpu, limits.memory, requests.cpu, requests.memory or limits.ephemeral-storage`,
    );
  }
  const own = kind === "limits" ? container.resources?.limits : container.resources?.requests;
  let text = own?.[name];
  if (text === undefined && kind === "limits") text = facts.allocatable[name];
  if (text === undefined) text = "0";
  const value = Quantity.parse(text);
  const divisor = Quantity.parse(divisorText === "" ? "1" : divisorText);
  if (divisor.isZero()) {
    throw new ContainerConfigError(`divisor of resource "${resource}" must not be zero`);
  }
  const num = value.milliValue();
  const den = divisor.milliValue();
  return String((num + den - 1n) / den);
}
