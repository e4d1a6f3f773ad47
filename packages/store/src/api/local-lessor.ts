// Leases for the single-node local backend: in memory, on the real clock. A Raft-backed store
// replaces this with a replicated lessor; the backend only needs the small Lessor interface.

import { performance } from "node:perf_hooks";
import { StoreError } from "../errors.js";

export interface LeaseInfo {
  readonly id: number;
  /** Whole seconds left, rounded down (as etcd reports). */
  readonly remaining: number;
  /** The TTL granted, in seconds. */
  readonly grantedTtl: number;
}

/**
 * Grants, renews and expires leases. It does not touch keys: when a lease expires it calls
 * the expiry handler, which must delete the lease's keys and then revoke() it.
 */
export interface Lessor {
  /** `id` 0: the lessor picks one. leaseExists when taken. Returns the id and granted TTL. */
  grant(id: number, ttlSeconds: number): { id: number; ttl: number };
  /** leaseNotFound. */
  revoke(id: number): void;
  /** Restarts the lease's TTL; returns it. leaseNotFound (also for a lease past its expiry). */
  renew(id: number): number;
  /** leaseNotFound. */
  info(id: number): LeaseInfo;
  /** Whether the lease exists and has not expired. */
  has(id: number): boolean;
  /** Every live lease, by id. */
  ids(): number[];
  /** The handler for expired leases (one call per lease). */
  onExpired(handler: (id: number) => void): void;
  close(): void;
}

export interface InMemoryLessorOptions {
  /**
   * Smallest TTL granted, in seconds; smaller requests get this. etcd's is 1.5 election
   * timeouts, rounded up: 2 s with its default timing.
   */
  minTtl?: number;
  /** Milliseconds on a monotonic clock. */
  now?: () => number;
  /** The first id the lessor picks; later ones count up from it. */
  firstId?: number;
  /** How often expiry is checked (etcd's lessor checks every 500 ms). */
  checkIntervalMs?: number;
}

interface Lease {
  readonly id: number;
  readonly ttl: number;
  expiresAt: number;
}

const DEFAULT_MIN_TTL = 2;
const DEFAULT_CHECK_INTERVAL_MS = 500;

export class InMemoryLessor implements Lessor {
  private readonly leases = new Map<number, Lease>();
  private readonly now: () => number;
  private readonly minTtl: number;
  private nextId: number;
  private handler: ((id: number) => void) | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(options: InMemoryLessorOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.minTtl = options.minTtl ?? DEFAULT_MIN_TTL;
    // Distinct across restarts of a process-lifetime store: milliseconds since the epoch,
    // shifted left 8 bits (< 2^53 until the year 3085), leave room for 256 grants per ms.
    this.nextId = options.firstId ?? Date.now() * 256;
    this.timer = setInterval(
      () => this.expireDue(),
      options.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS,
    );
    this.timer.unref();
  }

  grant(id: number, ttlSeconds: number): { id: number; ttl: number } {
    this.expireDue();
    if (id === 0) {
      while (this.leases.has(this.nextId)) this.nextId++;
      id = this.nextId++;
    } else if (this.leases.has(id)) {
      throw StoreError.etcd("leaseExists");
    }
    const ttl = Math.max(ttlSeconds, this.minTtl);
    this.leases.set(id, { id, ttl, expiresAt: this.now() + ttl * 1000 });
    return { id, ttl };
  }

  revoke(id: number): void {
    if (!this.leases.delete(id)) throw StoreError.etcd("leaseNotFound");
  }

  renew(id: number): number {
    this.expireDue();
    const l = this.leases.get(id);
    if (l === undefined) throw StoreError.etcd("leaseNotFound");
    l.expiresAt = this.now() + l.ttl * 1000;
    return l.ttl;
  }

  info(id: number): LeaseInfo {
    this.expireDue();
    const l = this.leases.get(id);
    if (l === undefined) throw StoreError.etcd("leaseNotFound");
    const remaining = Math.max(0, Math.floor((l.expiresAt - this.now()) / 1000));
    return { id, remaining, grantedTtl: l.ttl };
  }

  has(id: number): boolean {
    const l = this.leases.get(id);
    return l !== undefined && l.expiresAt > this.now();
  }

  ids(): number[] {
    this.expireDue();
    return [...this.leases.keys()];
  }

  onExpired(handler: (id: number) => void): void {
    this.handler = handler;
  }

  close(): void {
    clearInterval(this.timer);
  }

  /**
   * Hands every lease past its expiry to the handler, which revokes it. Without a handler an
   * expired lease is simply dropped.
   */
  private expireDue(): void {
    const now = this.now();
    for (const l of [...this.leases.values()]) {
      if (l.expiresAt > now || !this.leases.has(l.id)) continue;
      if (this.handler === undefined) this.leases.delete(l.id);
      else this.handler(l.id);
      // A handler that failed to revoke must not make the lease live forever.
      this.leases.delete(l.id);
    }
  }
}
