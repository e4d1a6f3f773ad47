// PodInfo: a pod with everything the scheduler reads from it parsed once (requests, host
// ports, (anti-)affinity terms, owner), so that filters and scores run on plain data.
// Mirrors kube-scheduler's framework.PodInfo.

import type { Pod, PodAffinityTerm, WeightedPodAffinityTerm } from "@tug/api";
import { labels } from "@tug/api";
import { type PodRequests, podRequests } from "./resources.js";

type Selector = labels.Selector;
type LabelSet = labels.LabelSet;

const EMPTY_LABELS: LabelSet = Object.freeze({});

/** A host port a container asks for: protocol (TCP by default), host IP (0.0.0.0 = all). */
export interface HostPort {
  readonly protocol: string;
  readonly ip: string;
  readonly port: number;
}

/** The wildcard host IP: a port bound on it conflicts with the same port on any IP. */
export const ANY_HOST_IP = "0.0.0.0";

/**
 * One pod (anti-)affinity term, parsed: the pods it selects are those whose namespace is in
 * `namespaces` or matches `namespaceSelector`, and whose labels match `selector`
 * (kube-scheduler's framework.AffinityTerm).
 * Reference: https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#inter-pod-affinity-and-anti-affinity
 */
export interface AffinityTerm {
  readonly selector: Selector;
  readonly namespaces: ReadonlySet<string>;
  /** Nothing when absent; Everything for `{}` (all namespaces). */
  readonly namespaceSelector: Selector;
  readonly topologyKey: string;
  /** The weight of a preferred term; 1 for a required one. */
  readonly weight: number;
}

/** Labels of a namespace by name, for namespaceSelector; undefined when unknown. */
export type NamespaceLabels = (namespace: string) => LabelSet | undefined;

/** Whether `term` selects `pod` (framework.AffinityTerm.Matches). */
export function termMatches(
  term: AffinityTerm,
  pod: PodInfo,
  namespaceLabels: NamespaceLabels,
): boolean {
  if (!term.namespaces.has(pod.namespace)) {
    if (term.namespaceSelector.isEverything()) {
      // every namespace
    } else if (!term.namespaceSelector.matches(namespaceLabels(pod.namespace))) {
      return false;
    }
  }
  return term.selector.matches(pod.labels);
}

/** The pod's "namespace/name", the key of the scheduler's cache and queue. */
export function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`;
}

/** Thrown when a pod's spec cannot be read by the scheduler; the message names the field. */
export class PodSpecError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PodSpecError";
  }
}

function parseTerm(pod: Pod, term: PodAffinityTerm, weight: number, field: string): AffinityTerm {
  const podLabels = pod.metadata?.labels ?? EMPTY_LABELS;
  let selector: Selector;
  try {
    selector = labels.Selector.fromObject(term.labelSelector);
    // matchLabelKeys / mismatchLabelKeys narrow the selector by the incoming pod's own labels.
    for (const key of term.matchLabelKeys) {
      const value = podLabels[key];
      if (value !== undefined) {
        selector = selector.add(labels.Requirement.create(key, "in", [value]));
      }
    }
    for (const key of term.mismatchLabelKeys) {
      const value = podLabels[key];
      if (value !== undefined) {
        selector = selector.add(labels.Requirement.create(key, "notin", [value]));
      }
    }
  } catch (err) {
    throw new PodSpecError(
      `${field}.labelSelector: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  let namespaceSelector: Selector;
  try {
    namespaceSelector = labels.Selector.fromObject(term.namespaceSelector);
  } catch (err) {
    throw new PodSpecError(
      `${field}.namespaceSelector: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  const namespaces = new Set(term.namespaces);
  if (namespaces.size === 0 && term.namespaceSelector === undefined) {
    namespaces.add(pod.metadata?.namespace ?? "");
  }
  return { selector, namespaces, namespaceSelector, topologyKey: term.topologyKey, weight };
}

function parseTerms(pod: Pod, terms: readonly PodAffinityTerm[], field: string): AffinityTerm[] {
  return terms.map((t, i) => parseTerm(pod, t, 1, `${field}[${i}]`));
}

function parseWeighted(
  pod: Pod,
  terms: readonly WeightedPodAffinityTerm[],
  field: string,
): AffinityTerm[] {
  const out: AffinityTerm[] = [];
  terms.forEach((t, i) => {
    if (t.podAffinityTerm === undefined || t.weight === 0) return;
    out.push(parseTerm(pod, t.podAffinityTerm, t.weight, `${field}[${i}].podAffinityTerm`));
  });
  return out;
}

function hostPorts(pod: Pod): HostPort[] {
  const out: HostPort[] = [];
  const spec = pod.spec;
  if (spec === undefined) return out;
  for (const list of [spec.initContainers, spec.containers]) {
    for (const c of list) {
      for (const p of c.ports) {
        if (p.hostPort <= 0) continue;
        out.push({
          protocol: p.protocol === "" ? "TCP" : p.protocol,
          ip: p.hostIp === "" ? ANY_HOST_IP : p.hostIp,
          port: p.hostPort,
        });
      }
    }
  }
  return out;
}

const NO_TERMS: readonly AffinityTerm[] = Object.freeze([]);

/**
 * A pod as the scheduler holds it. Immutable once built; build a new one when the pod changes.
 * Built by {@link newPodInfo}, which throws {@link PodSpecError} for a spec it cannot read.
 */
export interface PodInfo {
  readonly pod: Pod;
  /** "namespace/name". */
  readonly key: string;
  readonly uid: string;
  readonly namespace: string;
  readonly labels: LabelSet;
  readonly resources: PodRequests;
  readonly hostPorts: readonly HostPort[];
  readonly requiredAffinity: readonly AffinityTerm[];
  readonly requiredAntiAffinity: readonly AffinityTerm[];
  readonly preferredAffinity: readonly AffinityTerm[];
  readonly preferredAntiAffinity: readonly AffinityTerm[];
  /** The uid of the controller owner (a ReplicaSet, a StatefulSet...), "" when none. */
  readonly ownerUid: string;
  /** spec.priority, 0 when unset. */
  readonly priority: number;
}

/** Whether the pod has any pod (anti-)affinity term, required or preferred. */
export function hasAffinity(p: PodInfo): boolean {
  return (
    p.requiredAffinity.length > 0 ||
    p.requiredAntiAffinity.length > 0 ||
    p.preferredAffinity.length > 0 ||
    p.preferredAntiAffinity.length > 0
  );
}

/** Parses `pod` once for the scheduler. Throws {@link PodSpecError} naming the bad field. */
export function newPodInfo(pod: Pod): PodInfo {
  const affinity = pod.spec?.affinity;
  const pa = affinity?.podAffinity;
  const paa = affinity?.podAntiAffinity;
  const base = "spec.affinity";
  let resources: PodRequests;
  try {
    resources = podRequests(pod);
  } catch (err) {
    throw new PodSpecError(err instanceof Error ? err.message : String(err), { cause: err });
  }
  const owner = pod.metadata?.ownerReferences.find((o) => o.controller === true);
  return {
    pod,
    key: podKey(pod),
    uid: pod.metadata?.uid ?? "",
    namespace: pod.metadata?.namespace ?? "",
    labels: pod.metadata?.labels ?? EMPTY_LABELS,
    resources,
    hostPorts: hostPorts(pod),
    requiredAffinity:
      pa === undefined
        ? NO_TERMS
        : parseTerms(
            pod,
            pa.requiredDuringSchedulingIgnoredDuringExecution,
            `${base}.podAffinity.requiredDuringSchedulingIgnoredDuringExecution`,
          ),
    requiredAntiAffinity:
      paa === undefined
        ? NO_TERMS
        : parseTerms(
            pod,
            paa.requiredDuringSchedulingIgnoredDuringExecution,
            `${base}.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution`,
          ),
    preferredAffinity:
      pa === undefined
        ? NO_TERMS
        : parseWeighted(
            pod,
            pa.preferredDuringSchedulingIgnoredDuringExecution,
            `${base}.podAffinity.preferredDuringSchedulingIgnoredDuringExecution`,
          ),
    preferredAntiAffinity:
      paa === undefined
        ? NO_TERMS
        : parseWeighted(
            pod,
            paa.preferredDuringSchedulingIgnoredDuringExecution,
            `${base}.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution`,
          ),
    ownerUid: owner?.uid ?? "",
    priority: pod.spec?.priority ?? 0,
  };
}
