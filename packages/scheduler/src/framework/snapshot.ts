// The scheduler's cache and snapshot in one: every node with the pods bound or assumed on it,
// updated incrementally from informer events. kube-scheduler copies its cache into a snapshot
// at the start of each cycle because binding runs on other goroutines; tug's scheduler runs a
// cycle synchronously on one thread, so nothing can change the cache during a cycle and the
// cache itself serves as the snapshot.
//
// Assumed pods (kube-scheduler's cache.AssumePod): right after the scheduler picks a node, the
// pod is counted there before the Bind call returns, so the next cycle sees its requests. When
// the informer delivers the bound pod the assumption is confirmed; when the bind fails the
// scheduler forgets it. An assumed pod whose bound version never arrives stays assumed
// (kube-scheduler's default since 1.28: assumed pods do not expire).

import type { labels, Namespace, Node, Pod } from "@tug/api";
import { NodeInfo } from "./node-info.js";
import { type AffinityTerm, newPodInfo, type PodInfo, podKey } from "./pod-info.js";

interface PodState {
  info: PodInfo;
  nodeName: string;
  assumed: boolean;
  /** Its required anti-affinity terms as indexed (antiTermsByPin / unpinnedAntiTerms). */
  antiTerms: PlacedAntiTerm[] | undefined;
}

/** A required anti-affinity term of a placed pod, with the node the pod is on. */
interface PlacedAntiTerm {
  readonly nodeName: string;
  readonly term: AffinityTerm;
  /** The "key=value" bucket it is indexed under; undefined: among the unpinned terms. */
  readonly pin: string | undefined;
}

/** "key=value" of a label value `selector` requires (the first such), or undefined. */
function pinOf(selector: AffinityTerm["selector"]): string | undefined {
  for (const r of selector.requirements) {
    const value = selector.requiresExactMatch(r.key);
    if (value !== undefined) return `${r.key}=${value}`;
  }
  return undefined;
}

/** Whether a pod has finished (its resources are free again). */
export function isTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === "Succeeded" || phase === "Failed";
}

/**
 * All NodeInfos of the cluster. Read methods return arrays owned by the snapshot: do not
 * mutate them, and do not hold them across a change.
 */
export class Snapshot {
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly pods = new Map<string, PodState>();
  /** ownerUid -> nodeName -> pods of that owner on that node. */
  private readonly owners = new Map<string, Map<string, number>>();
  private readonly namespaces = new Map<string, labels.LabelSet>();
  /** "key=value" -> pods carrying that label (by pod key), for selectors that pin a label. */
  private readonly byLabel = new Map<string, Map<string, PodState>>();
  /**
   * Placed pods' required anti-affinity terms by a label value their selector requires: a pod
   * without that label cannot be selected by them, so an incoming pod looks only at the
   * buckets of its own labels (and at the unpinned terms) instead of at every such term.
   */
  private readonly antiTermsByPin = new Map<string, Set<PlacedAntiTerm>>();
  private readonly unpinnedAntiTerms = new Set<PlacedAntiTerm>();
  private nodeList: NodeInfo[] | undefined;
  private affinityList: NodeInfo[] | undefined;

  /** Nodes that have a Node object: the candidates, in a stable order. */
  nodeInfos(): readonly NodeInfo[] {
    if (this.nodeList === undefined) {
      this.nodeList = [...this.nodes.values()].filter((n) => n.node !== undefined);
    }
    return this.nodeList;
  }

  numNodes(): number {
    return this.nodeInfos().length;
  }

  /** The NodeInfo of `name`, with or without a Node object. */
  get(name: string): NodeInfo | undefined {
    return this.nodes.get(name);
  }

  /** Nodes (with a Node object) holding a pod with any pod (anti-)affinity term. */
  nodesWithAffinityPods(): readonly NodeInfo[] {
    if (this.affinityList === undefined) {
      this.affinityList = this.nodeInfos().filter((n) => n.podsWithAffinity.size > 0);
    }
    return this.affinityList;
  }

  /**
   * Calls `fn` for every required anti-affinity term of a placed pod (on a node with a Node
   * object) that may select `pod`, with that pod's node: the terms whose selector requires a
   * label value `pod` carries, and those that pin none. A superset: the caller still checks
   * the term (termMatches). The callback must not change the snapshot.
   */
  forEachAntiAffinityTermSelecting(
    pod: PodInfo,
    fn: (node: NodeInfo, term: AffinityTerm) => void,
  ): void {
    if (this.antiTermsByPin.size > 0) {
      for (const label of Object.keys(pod.labels)) {
        const bucket = this.antiTermsByPin.get(`${label}=${pod.labels[label]}`);
        if (bucket !== undefined) for (const t of bucket) this.callWithNode(t, fn);
      }
    }
    for (const t of this.unpinnedAntiTerms) this.callWithNode(t, fn);
  }

  private callWithNode(t: PlacedAntiTerm, fn: (node: NodeInfo, term: AffinityTerm) => void): void {
    const node = this.nodes.get(t.nodeName);
    if (node?.node !== undefined) fn(node, t.term);
  }

  /**
   * Calls `fn` for every pod `selector` may select, with its node: when the selector pins a
   * label value (`app=web`, `app in (web)`), only the pods carrying it; otherwise every pod.
   * A superset: the caller still checks the selector (and the namespace). The callback must
   * not change the snapshot. Pods on nodes without a Node object are included (their node
   * has no labels, so no topology domain).
   */
  forEachCandidate(selector: labels.Selector, fn: (node: NodeInfo, pod: PodInfo) => void): void {
    if (!selector.selectable) return;
    let best: Map<string, PodState> | undefined;
    let pinned = false;
    for (const r of selector.requirements) {
      const value = selector.requiresExactMatch(r.key);
      if (value === undefined) continue;
      pinned = true;
      const bucket = this.byLabel.get(`${r.key}=${value}`);
      if (bucket === undefined) return;
      if (best === undefined || bucket.size < best.size) best = bucket;
    }
    if (pinned && best !== undefined) {
      for (const state of best.values()) {
        const node = this.nodes.get(state.nodeName);
        if (node !== undefined) fn(node, state.info);
      }
      return;
    }
    for (const node of this.nodes.values()) {
      for (const pod of node.pods.values()) fn(node, pod);
    }
  }

  /** How many pods controlled by `ownerUid` are on `nodeName`. */
  ownerPodsOn(ownerUid: string, nodeName: string): number {
    return this.owners.get(ownerUid)?.get(nodeName) ?? 0;
  }

  /**
   * The pods controlled by `ownerUid`, counted by node name (nodes without any are absent);
   * undefined when it has none. Owned by the snapshot: read it within the cycle, never change it.
   */
  ownerPodsByNode(ownerUid: string): ReadonlyMap<string, number> | undefined {
    return this.owners.get(ownerUid);
  }

  /** Labels of namespace `name`, for namespaceSelector; undefined when unknown. */
  readonly namespaceLabels = (name: string): labels.LabelSet | undefined =>
    this.namespaces.get(name);

  setNamespace(namespace: Namespace): void {
    this.namespaces.set(namespace.metadata?.name ?? "", namespace.metadata?.labels ?? {});
  }

  removeNamespace(name: string): void {
    this.namespaces.delete(name);
  }

  /** Adds or replaces a Node. Throws ResourceParseError for unparsable allocatable. */
  setNode(node: Node): void {
    const name = node.metadata?.name ?? "";
    const existing = this.nodes.get(name);
    const info = existing ?? new NodeInfo(name);
    info.setNode(node);
    if (existing === undefined) this.nodes.set(name, info);
    this.invalidateLists();
  }

  /** Removes a Node; pods still bound to it keep a NodeInfo without a Node until they go. */
  removeNode(name: string): void {
    const info = this.nodes.get(name);
    if (info === undefined) return;
    if (info.pods.size === 0) this.nodes.delete(name);
    else info.clearNode();
    this.invalidateLists();
  }

  /**
   * Adds or replaces a pod from the informer. A pod without spec.nodeName is not on any
   * node and is ignored (dropping an older bound version); a terminal pod is removed. A bound
   * pod confirms an assumption. Throws PodSpecError for a spec the scheduler cannot read.
   */
  setPod(pod: Pod): void {
    const key = podKey(pod);
    const nodeName = pod.spec?.nodeName ?? "";
    if (nodeName === "" || isTerminal(pod)) {
      const state = this.pods.get(key);
      // An unbound update of an assumed pod is the informer lagging behind our bind: keep it.
      if (state !== undefined && !(state.assumed && nodeName === "" && !isTerminal(pod))) {
        this.removePod(key);
      }
      return;
    }
    const info = newPodInfo(pod);
    this.removePod(key);
    this.place(info, nodeName, false);
  }

  /** Removes the pod with `key` wherever it is (bound or assumed). */
  removePod(key: string): void {
    const state = this.pods.get(key);
    if (state === undefined) return;
    this.pods.delete(key);
    const node = this.nodes.get(state.nodeName);
    if (node !== undefined) {
      const had = node.podsWithAffinity.size > 0;
      node.removePod(key);
      if (node.node === undefined && node.pods.size === 0) {
        this.nodes.delete(state.nodeName);
        this.invalidateLists();
      } else if (had !== node.podsWithAffinity.size > 0) {
        this.affinityList = undefined;
      }
    }
    if (state.antiTerms !== undefined) {
      for (const t of state.antiTerms) {
        if (t.pin === undefined) {
          this.unpinnedAntiTerms.delete(t);
          continue;
        }
        const bucket = this.antiTermsByPin.get(t.pin);
        if (bucket !== undefined) {
          bucket.delete(t);
          if (bucket.size === 0) this.antiTermsByPin.delete(t.pin);
        }
      }
    }
    for (const label of Object.keys(state.info.labels)) {
      const bucketKey = `${label}=${state.info.labels[label]}`;
      const bucket = this.byLabel.get(bucketKey);
      if (bucket !== undefined) {
        bucket.delete(key);
        if (bucket.size === 0) this.byLabel.delete(bucketKey);
      }
    }
    if (state.info.ownerUid !== "") {
      const perNode = this.owners.get(state.info.ownerUid);
      if (perNode !== undefined) {
        const n = (perNode.get(state.nodeName) ?? 0) - 1;
        if (n > 0) perNode.set(state.nodeName, n);
        else perNode.delete(state.nodeName);
        if (perNode.size === 0) this.owners.delete(state.info.ownerUid);
      }
    }
  }

  /**
   * Counts `pod` on `nodeName` before its binding is confirmed. Throws when the pod is already
   * in the cache (bound or assumed): scheduling it again would count it twice.
   */
  assumePod(pod: PodInfo, nodeName: string): void {
    if (this.pods.has(pod.key)) {
      throw new Error(`pod ${pod.key} is already in the scheduler cache; it cannot be assumed`);
    }
    this.place(pod, nodeName, true);
  }

  /** Drops an assumed pod whose bind failed. A confirmed (bound) pod is left alone. */
  forgetPod(key: string): void {
    if (this.pods.get(key)?.assumed === true) this.removePod(key);
  }

  isAssumed(key: string): boolean {
    return this.pods.get(key)?.assumed === true;
  }

  /** The node a pod is bound or assumed on, or undefined when the cache does not hold it. */
  nodeOf(key: string): string | undefined {
    return this.pods.get(key)?.nodeName;
  }

  /** Number of pods in the cache (bound and assumed). */
  numPods(): number {
    return this.pods.size;
  }

  /** Number of assumed pods: picked, bind not yet seen by the informer. O(pods), for scrapes. */
  numAssumedPods(): number {
    let n = 0;
    for (const state of this.pods.values()) if (state.assumed) n++;
    return n;
  }

  private place(info: PodInfo, nodeName: string, assumed: boolean): void {
    let node = this.nodes.get(nodeName);
    if (node === undefined) {
      node = new NodeInfo(nodeName);
      this.nodes.set(nodeName, node);
    }
    const had = node.podsWithAffinity.size > 0;
    node.addPod(info);
    if (had !== node.podsWithAffinity.size > 0) this.affinityList = undefined;
    const state: PodState = { info, nodeName, assumed, antiTerms: undefined };
    this.pods.set(info.key, state);
    if (info.requiredAntiAffinity.length > 0) {
      state.antiTerms = [];
      for (const term of info.requiredAntiAffinity) {
        const t: PlacedAntiTerm = { nodeName, term, pin: pinOf(term.selector) };
        state.antiTerms.push(t);
        if (t.pin === undefined) {
          this.unpinnedAntiTerms.add(t);
          continue;
        }
        let bucket = this.antiTermsByPin.get(t.pin);
        if (bucket === undefined) {
          bucket = new Set();
          this.antiTermsByPin.set(t.pin, bucket);
        }
        bucket.add(t);
      }
    }
    for (const label of Object.keys(info.labels)) {
      const bucketKey = `${label}=${info.labels[label]}`;
      let bucket = this.byLabel.get(bucketKey);
      if (bucket === undefined) {
        bucket = new Map();
        this.byLabel.set(bucketKey, bucket);
      }
      bucket.set(info.key, state);
    }
    if (info.ownerUid !== "") {
      let perNode = this.owners.get(info.ownerUid);
      if (perNode === undefined) {
        perNode = new Map();
        this.owners.set(info.ownerUid, perNode);
      }
      perNode.set(nodeName, (perNode.get(nodeName) ?? 0) + 1);
    }
  }

  private invalidateLists(): void {
    this.nodeList = undefined;
    this.affinityList = undefined;
  }
}
