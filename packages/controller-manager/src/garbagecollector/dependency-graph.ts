// The garbage collector's view of ownership (Kubernetes' pkg/controller/garbagecollector
// GraphBuilder, without the IO): every object the informers know, by uid, with its owner
// references, and for each uid the objects that name it as an owner. Owners need not be known:
// a dependent may name an owner that is gone, or of a kind nobody watches.
// https://kubernetes.io/docs/concepts/architecture/garbage-collection/

import type { KindInfo, OwnerReference } from "@tug/api";

/** Kubernetes' finalizers for the two non-default propagation policies. */
export const FINALIZER_ORPHAN = "orphan";
export const FINALIZER_FOREGROUND = "foregroundDeletion";

/** One object as the graph holds it. Treat as read-only. */
export interface GraphNode {
  readonly kind: KindInfo;
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly owners: readonly OwnerReference[];
  readonly finalizers: readonly string[];
  readonly deleting: boolean;
}

/** Deleting, with the foregroundDeletion finalizer: waits for its blocking dependents. */
export function isDeletingDependents(node: GraphNode): boolean {
  return node.deleting && node.finalizers.includes(FINALIZER_FOREGROUND);
}

/** Deleting, with the orphan finalizer: its dependents are to be freed of it first. */
export function isOrphaning(node: GraphNode): boolean {
  return node.deleting && node.finalizers.includes(FINALIZER_ORPHAN);
}

export class DependencyGraph {
  private readonly nodes = new Map<string, GraphNode>();
  /** owner uid → uids of the objects naming it in ownerReferences. */
  private readonly dependents = new Map<string, Set<string>>();

  get(uid: string): GraphNode | undefined {
    return this.nodes.get(uid);
  }

  /** The objects naming `uid` as an owner (whether or not the owner is known). */
  dependentsOf(uid: string): GraphNode[] {
    const deps = this.dependents.get(uid);
    if (deps === undefined) return [];
    return [...deps].flatMap((d) => {
      const node = this.nodes.get(d);
      return node === undefined ? [] : [node];
    });
  }

  /**
   * Dependents that hold up a foreground deletion of `uid`: those whose reference to it has
   * blockOwnerDeletion=true.
   */
  blockingDependentsOf(uid: string): GraphNode[] {
    return this.dependentsOf(uid).filter((d) =>
      d.owners.some((o) => o.uid === uid && o.blockOwnerDeletion === true),
    );
  }

  /** Adds or replaces a node; returns the node it replaced. */
  upsert(node: GraphNode): GraphNode | undefined {
    const old = this.nodes.get(node.uid);
    if (old !== undefined) this.unlink(old);
    this.nodes.set(node.uid, node);
    for (const owner of node.owners) {
      let set = this.dependents.get(owner.uid);
      if (set === undefined) {
        set = new Set();
        this.dependents.set(owner.uid, set);
      }
      set.add(node.uid);
    }
    return old;
  }

  /** Removes a node; returns it if it was there. Its dependents stay, now with a missing owner. */
  remove(uid: string): GraphNode | undefined {
    const old = this.nodes.get(uid);
    if (old === undefined) return undefined;
    this.unlink(old);
    this.nodes.delete(uid);
    return old;
  }

  private unlink(node: GraphNode): void {
    for (const owner of node.owners) {
      const set = this.dependents.get(owner.uid);
      set?.delete(node.uid);
      if (set?.size === 0) this.dependents.delete(owner.uid);
    }
  }
}
