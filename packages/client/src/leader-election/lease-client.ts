// The Lease a leader election contends for, and the three calls it needs on it: a small
// interface the typed client's coordination/v1 Lease resource implements.
// https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/lease-v1/

/**
 * The coordination/v1 LeaseSpec fields leader election reads and writes (client-go's
 * LeaderElectionRecord), as plain values.
 */
export interface LeaseRecord {
  /** Who holds the lease; "" when nobody does (released). */
  holderIdentity: string;
  /** How long others must wait, after they last saw the lease change, before taking it. */
  leaseDurationSeconds: number;
  /** When the current holder acquired it. */
  acquireTime: Date | undefined;
  /** When the current holder last renewed it. */
  renewTime: Date | undefined;
  /** How many times the lease has changed hands. */
  leaseTransitions: number;
}

/** A LeaseRecord as stored, with the Lease's resourceVersion, which an update must name. */
export interface StoredLeaseRecord {
  record: LeaseRecord;
  resourceVersion: string;
}

/**
 * One Lease object (a fixed namespace and name, like client-go's resourcelock.LeaseLock).
 * Every call may honour `signal` by rejecting early; a rejected call may still have taken
 * effect on the server (the elector assumes nothing either way).
 */
export interface LeaseClient {
  /** The stored lease; undefined when the Lease does not exist (NotFound). */
  get(signal: AbortSignal): Promise<StoredLeaseRecord | undefined>;
  /** Creates the Lease; rejects (AlreadyExists) when it exists. */
  create(record: LeaseRecord, signal: AbortSignal): Promise<StoredLeaseRecord>;
  /**
   * Replaces the record if the stored resourceVersion is still `resourceVersion`; rejects
   * (Conflict) otherwise: someone else wrote first.
   */
  update(
    record: LeaseRecord,
    resourceVersion: string,
    signal: AbortSignal,
  ): Promise<StoredLeaseRecord>;
  /** Names the lock in messages: "kube-system/tug-scheduler". */
  describe(): string;
}
