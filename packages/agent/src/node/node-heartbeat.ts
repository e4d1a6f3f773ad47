// Registers the Node and keeps it alive: the status (conditions with heartbeat times, capacity,
// allocatable) every --node-status-update-frequency, and the node Lease in kube-node-lease
// renewed every NODE_LEASE_RENEW_MS (the kubelet's node lease controller: renew interval 10 s,
// leaseDurationSeconds 40; https://kubernetes.io/docs/concepts/architecture/leases/).

import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type Lease, LeaseSchema, LeaseSpecSchema, type Node, NodeSchema } from "@tug/api";
import { type ApiClient, isApiError } from "@tug/client";
import { errorText, type Logger } from "../log.js";
import {
  initialNode,
  type NodeIdentity,
  nodeCapacity,
  nodeStatus,
  type RuntimeHealth,
} from "./node-object.js";

/** The namespace of node leases. */
export const NODE_LEASE_NAMESPACE = "kube-node-lease";
/** How often the lease is renewed (the kubelet's renewInterval, 10 s). */
export const NODE_LEASE_RENEW_MS = 10_000;
/** The default --node-lease-duration-seconds. */
export const NODE_LEASE_DURATION_SECONDS = 40;
/** The default --node-status-update-frequency (10 s). */
export const NODE_STATUS_UPDATE_MS = 10_000;

export interface NodeHeartbeatOptions {
  client: ApiClient;
  identity: NodeIdentity;
  health: () => Promise<RuntimeHealth>;
  statusUpdateMs: number;
  leaseRenewMs: number;
  leaseDurationSeconds: number;
  log: Logger;
}

export class NodeHeartbeat {
  private timers: NodeJS.Timeout[] = [];
  private node: Node | undefined;
  private stopped = false;
  private readonly busy = new Set<Promise<unknown>>();
  /** Status updates and lease renewals that succeeded (metrics). */
  statusUpdates = 0;
  leaseRenewals = 0;

  constructor(private readonly o: NodeHeartbeatOptions) {}

  /** The Node as last read or written. */
  get current(): Node | undefined {
    return this.node;
  }

  /**
   * Creates the Node, or adopts the existing one (its labels and taints given by flags are
   * merged in), then posts the first status.
   */
  async register(): Promise<Node> {
    const want = initialNode(this.o.identity);
    try {
      this.node = await this.o.client.create(NodeSchema, want);
    } catch (e) {
      if (!isApiError(e, "AlreadyExists")) throw e;
      await retryOnConflict(() => this.adopt(want));
    }
    // The controller manager writes the new Node too (pod CIDR, taints): a lost race is retried
    // on a fresh read, as client-go's RetryOnConflict does.
    await retryOnConflict(() => this.updateStatus());
    await this.renewLease();
    return this.node as Node;
  }

  /** Merges the labels and taints given by flags into an existing Node of this name. */
  private async adopt(want: Node): Promise<void> {
    const existing = await this.o.client.get(NodeSchema, this.o.identity.name);
    existing.metadata = {
      ...(existing.metadata ?? want.metadata),
      labels: { ...(existing.metadata?.labels ?? {}), ...(want.metadata?.labels ?? {}) },
    } as Node["metadata"];
    const taints = [...(existing.spec?.taints ?? [])];
    for (const t of want.spec?.taints ?? []) {
      if (!taints.some((x) => x.key === t.key && x.effect === t.effect)) taints.push(t);
    }
    existing.spec = { ...(existing.spec ?? want.spec), taints } as Node["spec"];
    this.node = await this.o.client.update(NodeSchema, existing);
  }

  /** Starts the status and lease loops. */
  start(): void {
    this.loop(() => this.updateStatus(), this.o.statusUpdateMs, "update node status");
    this.loop(() => this.renewLease(), this.o.leaseRenewMs, "renew node lease");
  }

  private loop(fn: () => Promise<void>, everyMs: number, what: string): void {
    const tick = () => {
      if (this.stopped) return;
      const p = fn()
        .catch((e: unknown) => this.o.log.warn(`cannot ${what}`, { error: errorText(e) }))
        .finally(() => {
          this.busy.delete(p);
          if (!this.stopped) this.timers.push(setTimeout(tick, everyMs));
        });
      this.busy.add(p);
    };
    this.timers.push(setTimeout(tick, everyMs));
  }

  /** Posts the node's status (UpdateStatus on a fresh read). */
  async updateStatus(): Promise<void> {
    const health = await this.o.health();
    const fresh = await this.o.client.get(NodeSchema, this.o.identity.name);
    const capacity = nodeCapacity(this.o.identity);
    const status = nodeStatus(
      this.o.identity,
      capacity,
      fresh.status?.conditions ?? [],
      health,
      Date.now(),
    );
    fresh.status = {
      ...status,
      images: fresh.status?.images ?? [],
      volumesInUse: fresh.status?.volumesInUse ?? [],
    };
    this.node = await this.o.client.updateStatus(NodeSchema, fresh);
    this.statusUpdates++;
  }

  /** Creates or renews the node's Lease. */
  async renewLease(): Promise<void> {
    const name = this.o.identity.name;
    const now = timestampFromMs(Date.now());
    let lease: Lease;
    try {
      lease = await this.o.client.get(LeaseSchema, name, { namespace: NODE_LEASE_NAMESPACE });
    } catch (e) {
      if (!isApiError(e, "NotFound")) throw e;
      const node = this.node;
      await this.o.client.create(
        LeaseSchema,
        create(LeaseSchema, {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: {
            name,
            namespace: NODE_LEASE_NAMESPACE,
            ownerReferences:
              node?.metadata?.uid !== undefined && node.metadata.uid !== ""
                ? [{ apiVersion: "v1", kind: "Node", name, uid: node.metadata.uid }]
                : [],
          },
          spec: {
            holderIdentity: name,
            leaseDurationSeconds: this.o.leaseDurationSeconds,
            renewTime: now,
          },
        }),
      );
      this.leaseRenewals++;
      return;
    }
    const spec = lease.spec ?? create(LeaseSpecSchema);
    spec.holderIdentity = name;
    spec.leaseDurationSeconds = this.o.leaseDurationSeconds;
    spec.renewTime = now;
    lease.spec = spec;
    await this.o.client.update(LeaseSchema, lease);
    this.leaseRenewals++;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.allSettled([...this.busy]);
  }
}

/** client-go's retry.DefaultRetry: 5 attempts, 10 ms apart, growing; only Conflicts retry. */
const CONFLICT_RETRY_ATTEMPTS = 5;
const CONFLICT_RETRY_BASE_MS = 10;

async function retryOnConflict(fn: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= CONFLICT_RETRY_ATTEMPTS || !isApiError(e, "Conflict")) throw e;
      await new Promise((resolve) => setTimeout(resolve, CONFLICT_RETRY_BASE_MS * attempt));
    }
  }
}
