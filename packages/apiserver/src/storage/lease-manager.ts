// Leases for objects with a TTL (Events), shared the way kube-apiserver's leaseManager
// (k8s.io/apiserver/pkg/storage/etcd3/lease_manager.go) shares them: one lease serves every
// object created within a short reuse window, instead of one lease (and one RPC) per object.

import type { EtcdClient } from "./etcd-client.js";

/** kube-apiserver's default: a lease is reused for up to 5% of its TTL ... */
export const LEASE_REUSE_PERCENT = 0.05;
/** ... and at most 60 s, so objects outlive their TTL by at most a minute. */
export const MAX_LEASE_REUSE_SECONDS = 60;

export class LeaseManager {
  private prevId = "0";
  private prevTtl = 0;
  /** When the previous lease expires (ms since the epoch), as granted. */
  private prevExpiresAt = 0;
  private pending: { ttl: number; lease?: Promise<string> } | undefined;

  constructor(
    private readonly client: EtcdClient,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A lease that lives at least `ttlSeconds` and at most `ttlSeconds` plus the reuse window.
   * Concurrent callers share one grant.
   */
  async getLease(ttlSeconds: number): Promise<string> {
    const reuse = Math.min(Math.floor(ttlSeconds * LEASE_REUSE_PERCENT), MAX_LEASE_REUSE_SECONDS);
    const now = this.now();
    const valid = now + ttlSeconds * 1000 < this.prevExpiresAt;
    const sufficient = now + (ttlSeconds + reuse) * 1000 > this.prevExpiresAt;
    if (this.prevId !== "0" && this.prevTtl === ttlSeconds + reuse && valid && sufficient) {
      return this.prevId;
    }
    if (this.pending?.ttl === ttlSeconds && this.pending.lease !== undefined) {
      return this.pending.lease;
    }
    const entry: { ttl: number; lease?: Promise<string> } = { ttl: ttlSeconds };
    entry.lease = (async () => {
      try {
        const granted = await this.client.grant(ttlSeconds + reuse);
        this.prevId = granted.id;
        this.prevTtl = ttlSeconds + reuse;
        this.prevExpiresAt = now + (ttlSeconds + reuse) * 1000;
        return granted.id;
      } finally {
        if (this.pending === entry) this.pending = undefined;
      }
    })();
    this.pending = entry;
    return entry.lease;
  }

  /** Forgets the current lease (after the store reported it not found). */
  reset(): void {
    this.prevId = "0";
    this.prevExpiresAt = 0;
  }
}
