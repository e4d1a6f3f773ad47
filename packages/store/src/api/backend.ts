// What the etcd v3 gRPC services call: the store behind the wire protocol. The gRPC layer
// decodes and validates requests, calls the backend, and encodes replies with a header; the
// backend decides how a request is ordered and applied (one in-process keyspace for now, Raft
// later). Requests and responses are the MVCC keyspace's (../mvcc/types.ts), which mirror
// etcdserverpb field for field.
//
// Numbers: revisions, lease ids and member ids are JS numbers below 2^53. The gRPC layer
// refuses a client-chosen lease id at or above 2^53; a larger id in any other request names
// nothing that exists, and backends simply do not find it.
//
// Errors: methods reject with StoreError (../errors.ts), using etcd's texts where etcd has one
// (StoreError.etcd("leaseNotFound") etc.); the gRPC layer turns them into statuses verbatim.

import type {
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  EventListener,
  EventsSince,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from "../mvcc/index.js";

/** etcdserverpb.ResponseHeader: who answered, at which revision and Raft term. */
export interface ResponseHeaderInfo {
  readonly clusterId: number;
  readonly memberId: number;
  /** The store revision the reply reflects; the current one unless the operation says. */
  readonly revision: number;
  readonly raftTerm: number;
}

/** etcdserverpb.Member. */
export interface Member {
  readonly id: number;
  /** Empty until the member has started. */
  readonly name: string;
  readonly peerUrls: readonly string[];
  /** Empty until the member has started. */
  readonly clientUrls: readonly string[];
  readonly isLearner: boolean;
}

export interface MemberAddResult {
  readonly member: Member;
  /** Every member after the addition. */
  readonly members: readonly Member[];
}

export interface LeaseGrantResult {
  readonly id: number;
  /** The TTL granted, in seconds (the server may raise a too small one). */
  readonly ttl: number;
}

export interface LeaseTimeToLiveResult {
  readonly id: number;
  /** Whole seconds left (rounded down, as etcd does). */
  readonly ttl: number;
  /** The TTL the lease was granted with, in seconds. */
  readonly grantedTtl: number;
  /** The keys attached to the lease, in key order; empty unless asked for. */
  readonly keys: readonly Uint8Array[];
}

/** etcdserverpb.StatusResponse, less its header. */
export interface StatusResult {
  /** The etcd version whose API this member speaks, e.g. "3.4.0". */
  readonly version: string;
  readonly dbSize: number;
  readonly dbSizeInUse: number;
  /** The member this member believes leads; 0 when it knows of none. */
  readonly leader: number;
  /** Raft's commit index. */
  readonly raftIndex: number;
  readonly raftTerm: number;
  readonly raftAppliedIndex: number;
  /** Alarms and health problems, as text. */
  readonly errors: readonly string[];
  readonly isLearner: boolean;
}

export interface HashKvResult {
  /** A hash over the keys' history up to `revision` (see Keyspace.hash). */
  readonly hash: number;
  readonly compactRevision: number;
  /** The revision hashed at. */
  readonly revision: number;
}

/**
 * A point-in-time image of the store, streamed to `etcdctl snapshot save`. The Maintenance
 * service sends the chunks and then the image's SHA-256, as etcd does. `size` must be a
 * multiple of 512 bytes: etcd's image is a bbolt file, a whole number of pages, and clients
 * (etcdctl 3.5's snapshot save and every version's snapshot restore) tell whether the SHA-256
 * trailer is present from `size % 512 == 32`.
 */
export interface SnapshotImage {
  /** The store revision the image holds. */
  readonly revision: number;
  /** Total bytes the chunks add up to. */
  readonly size: number;
  readonly chunks: AsyncIterable<Uint8Array>;
}

/**
 * The applied events of the local store, for watches. Events reach listeners in revision
 * order, each revision once, after it is applied; history since the compact revision can be
 * replayed. The MVCC Keyspace is one.
 */
export interface WatchEventSource {
  /** The last applied revision. */
  readonly revision: number;
  /** History before this revision is gone (0: never compacted). */
  readonly compactRevision: number;
  /** Calls `listener` with the events of each later revision; returns the unsubscribe. */
  subscribe(listener: EventListener): () => void;
  /**
   * Calls `listener` after the state was replaced by a snapshot (a follower that fell too far
   * behind): the revisions from `fromRevision` on were never emitted, and watchers must catch
   * up on them from history — or learn that it was compacted (etcd's watchableStore.Restore).
   */
  onRestore?(listener: (fromRevision: number) => void): () => void;
  /**
   * The events at revisions >= startRev touching [key, rangeEnd) (rangeEnd as in
   * RangeRequest), in order. Throws CompactedError (carrying the compact revision) when
   * startRev is below the compact revision. With `limit` > 0 it may stop early, at the end of a
   * revision; the result's `revision` tells the last revision covered.
   */
  eventsSince(
    startRev: number,
    key: Uint8Array,
    rangeEnd?: Uint8Array,
    limit?: number,
  ): EventsSince;
}

export interface EtcdBackend {
  /** cluster_id, member_id and raft_term now, with the current revision. */
  header(): ResponseHeaderInfo;

  /** Applied events, for the watch hub. */
  readonly watchSource: WatchEventSource;

  /** Linearizable unless `r.serializable`. The response's revision is the store's then. */
  range(r: RangeRequest): Promise<RangeResponse>;
  put(r: PutRequest): Promise<PutResponse>;
  deleteRange(r: DeleteRangeRequest): Promise<DeleteRangeResponse>;
  /** A read-only txn whose ranges are all serializable may be served locally. */
  txn(r: TxnRequest): Promise<TxnResponse>;
  /**
   * Drops history before `revision`. compacted if not above the compact revision,
   * futureRevision past the current one. `physical`: resolve once the space is reclaimed.
   */
  compact(revision: number, physical: boolean): Promise<CompactionResponse>;

  /**
   * `id` 0: the backend chooses one (below 2^53). leaseExists if taken. The service has
   * checked that `ttl` is at most etcd's MaxLeaseTTL and `id` is in 0..2^53-1; a backend may
   * raise a too small TTL to its minimum.
   */
  leaseGrant(ttl: number, id: number): Promise<LeaseGrantResult>;
  /** Deletes the lease's keys in one revision. leaseNotFound. */
  leaseRevoke(id: number): Promise<void>;
  /** Renews the lease for its granted TTL, which it returns. leaseNotFound. */
  leaseKeepAlive(id: number): Promise<number>;
  /** leaseNotFound once the lease is gone. */
  leaseTimeToLive(id: number, withKeys: boolean): Promise<LeaseTimeToLiveResult>;
  /** Every live lease's id. */
  leaseLeases(): Promise<readonly number[]>;

  memberList(): Promise<readonly Member[]>;
  /** peerUrlExists, tooManyLearners. */
  memberAdd(peerUrls: readonly string[], isLearner: boolean): Promise<MemberAddResult>;
  /** memberNotFound. Resolves with the members left. */
  memberRemove(id: number): Promise<readonly Member[]>;
  /** memberNotFound, memberNotLearner, learnerNotReady. */
  memberPromote(id: number): Promise<readonly Member[]>;

  status(): Promise<StatusResult>;
  /** compacted / futureRevision as Range; `revision` 0: the current one. */
  hashKv(revision: number): Promise<HashKvResult>;
  snapshot(): Promise<SnapshotImage>;
  /** Hands leadership to `targetId`. */
  moveLeader(targetId: number): Promise<void>;
}
