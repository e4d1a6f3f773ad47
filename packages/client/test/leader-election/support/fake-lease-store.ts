// One Lease held in memory, with optimistic concurrency, seen through per-candidate clients
// whose requests take simulated time on a FakeClock and can fail.

import type {
  LeaseClient,
  LeaseRecord,
  StoredLeaseRecord,
} from "../../../src/leader-election/lease-client.js";
import type { Clock } from "../../../src/workqueue/clock.js";

export class ConflictError extends Error {
  readonly reason = "Conflict";
}

export class FakeLeaseStore {
  private stored: StoredLeaseRecord | undefined;
  private rv = 0;
  readonly writes: { at: number; holder: string }[] = [];

  constructor(private readonly clock: Clock) {}

  current(): StoredLeaseRecord | undefined {
    return this.stored === undefined ? undefined : copy(this.stored);
  }

  read(): StoredLeaseRecord | undefined {
    return this.current();
  }

  create(record: LeaseRecord): StoredLeaseRecord {
    if (this.stored !== undefined) {
      throw Object.assign(new Error("leases.coordination.k8s.io already exists"), {
        reason: "AlreadyExists",
      });
    }
    return this.write(record);
  }

  update(record: LeaseRecord, resourceVersion: string): StoredLeaseRecord {
    if (this.stored === undefined)
      throw Object.assign(new Error("lease not found"), { reason: "NotFound" });
    if (this.stored.resourceVersion !== resourceVersion) {
      throw new ConflictError(
        `Operation cannot be fulfilled on leases.coordination.k8s.io: the object has been modified`,
      );
    }
    return this.write(record);
  }

  private write(record: LeaseRecord): StoredLeaseRecord {
    this.rv++;
    this.stored = { record: { ...record }, resourceVersion: String(this.rv) };
    this.writes.push({ at: this.clock.now(), holder: record.holderIdentity });
    return copy(this.stored);
  }
}

export interface NetworkModel {
  /** Milliseconds a request takes to reach the store, and its answer to come back. */
  latency(): number;
  /** True when this request is lost (before or after the store applies it). */
  fails(): boolean;
}

export const perfectNetwork: NetworkModel = { latency: () => 0, fails: () => false };

/** A candidate's view of the store: requests travel `latency` each way and may be lost. */
export class FakeLeaseClient implements LeaseClient {
  /** While true, every request of this client fails (a partitioned candidate). */
  partitioned = false;

  constructor(
    private readonly store: FakeLeaseStore,
    private readonly clock: Clock,
    private readonly network: NetworkModel = perfectNetwork,
  ) {}

  describe(): string {
    return "kube-system/test-lease";
  }

  get(signal: AbortSignal): Promise<StoredLeaseRecord | undefined> {
    return this.call(signal, () => this.store.read());
  }

  create(record: LeaseRecord, signal: AbortSignal): Promise<StoredLeaseRecord> {
    return this.call(signal, () => this.store.create(record));
  }

  update(
    record: LeaseRecord,
    resourceVersion: string,
    signal: AbortSignal,
  ): Promise<StoredLeaseRecord> {
    return this.call(signal, () => this.store.update(record, resourceVersion));
  }

  private call<R>(_signal: AbortSignal, apply: () => R): Promise<R> {
    const lostBefore = this.partitioned || this.network.fails();
    const lostAfter = this.network.fails();
    return new Promise<R>((resolve, reject) => {
      this.clock.setTimeout(() => {
        // An aborted caller no longer waits, but a request already sent still lands.
        if (lostBefore || this.partitioned) {
          reject(new Error("request lost"));
          return;
        }
        let result: R;
        try {
          result = apply();
        } catch (error) {
          this.clock.setTimeout(() => reject(error), this.network.latency());
          return;
        }
        // The store applied it; the answer may still be lost on its way back.
        this.clock.setTimeout(() => {
          if (lostAfter || this.partitioned) reject(new Error("response lost"));
          else resolve(result);
        }, this.network.latency());
      }, this.network.latency());
    });
  }
}

function copy(lease: StoredLeaseRecord): StoredLeaseRecord {
  return { record: { ...lease.record }, resourceVersion: lease.resourceVersion };
}
