// A single in-process member without Raft: the MVCC keyspace, an in-memory lessor on the real
// clock, and a member list of one. Every request applies at once, in arrival order; the
// "Raft" index counts applied writes and the term stays 1. It serves the etcd v3 API to
// etcdctl and clients for tests and development, and is the reference the Raft-backed server
// must answer the same as.

import { createHash } from "node:crypto";
import { StoreError } from "../errors.js";
import {
  type CompactionResponse,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  isReadOnlyTxn,
  Keyspace,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type TxnRequest,
  type TxnResponse,
} from "../mvcc/index.js";
import type {
  EtcdBackend,
  HashKvResult,
  LeaseGrantResult,
  LeaseTimeToLiveResult,
  Member,
  MemberAddResult,
  ResponseHeaderInfo,
  SnapshotImage,
  StatusResult,
  WatchEventSource,
} from "./backend.js";
import { InMemoryLessor, type Lessor } from "./local-lessor.js";

/** The etcd release whose API tug-store speaks, as Status reports it. */
export const ETCD_API_VERSION = "3.4.0";

/** etcd's default --max-learners. */
const MAX_LEARNERS = 1;

/** The local image: magic, then sections (see encodeImage). */
const IMAGE_MAGIC = Buffer.from("TUGSNAP1", "latin1");
const IMAGE_ALIGN = 512;

export interface LocalBackendOptions {
  /** The member's name (etcd's --name). */
  name?: string;
  peerUrls?: readonly string[];
  /** The URLs clients reach it at; setClientUrls() can fill them in once the server listens. */
  clientUrls?: readonly string[];
  /** etcd's --initial-cluster-token: member and cluster ids derive from it and the URLs. */
  clusterToken?: string;
  memberId?: number;
  clusterId?: number;
  lessor?: Lessor;
  /** Milliseconds since the epoch, for ids of added members. */
  wallClock?: () => number;
}

export class LocalBackend implements EtcdBackend {
  readonly keyspace: Keyspace;
  readonly watchSource: WatchEventSource;
  private readonly lessor: Lessor;
  private readonly memberId: number;
  private readonly clusterId: number;
  private readonly clusterToken: string;
  private readonly wallClock: () => number;
  private members: Member[];
  private appliedIndex = 1;
  private readonly raftTerm = 1;

  constructor(options: LocalBackendOptions = {}) {
    this.clusterToken = options.clusterToken ?? "tug-store";
    const peerUrls = options.peerUrls ?? ["http://localhost:2380"];
    this.memberId = options.memberId ?? idFrom([...peerUrls].sort().join(","), this.clusterToken);
    this.clusterId = options.clusterId ?? idFrom(String(this.memberId), this.clusterToken);
    this.wallClock = options.wallClock ?? Date.now;
    this.members = [
      {
        id: this.memberId,
        name: options.name ?? "default",
        peerUrls: [...peerUrls],
        clientUrls: [...(options.clientUrls ?? [])],
        isLearner: false,
      },
    ];
    this.lessor = options.lessor ?? new InMemoryLessor();
    this.keyspace = new Keyspace({ leaseExists: (id) => this.lessor.has(id) });
    this.watchSource = this.keyspace;
    this.lessor.onExpired((id) => this.write(() => this.revoke(id)));
  }

  /** Sets this member's client URLs (known once the gRPC server listens). */
  setClientUrls(urls: readonly string[]): void {
    this.members = this.members.map((m) =>
      m.id === this.memberId ? { ...m, clientUrls: [...urls] } : m,
    );
  }

  close(): void {
    this.lessor.close();
  }

  header(): ResponseHeaderInfo {
    return {
      clusterId: this.clusterId,
      memberId: this.memberId,
      revision: this.keyspace.revision,
      raftTerm: this.raftTerm,
    };
  }

  // ---------------------------------------------------------------- KV

  async range(r: RangeRequest): Promise<RangeResponse> {
    return this.keyspace.range(r);
  }

  async put(r: PutRequest): Promise<PutResponse> {
    const owned = ownedPut(r);
    return this.write(() => this.keyspace.put(owned));
  }

  async deleteRange(r: DeleteRangeRequest): Promise<DeleteRangeResponse> {
    return this.write(() => this.keyspace.deleteRange(r));
  }

  async txn(r: TxnRequest): Promise<TxnResponse> {
    if (isReadOnlyTxn(r)) return this.keyspace.txn(r);
    const owned = ownedTxn(r);
    return this.write(() => this.keyspace.txn(owned));
  }

  async compact(revision: number, _physical: boolean): Promise<CompactionResponse> {
    return this.write(() => this.keyspace.compact(revision));
  }

  // ---------------------------------------------------------------- leases

  async leaseGrant(ttl: number, id: number): Promise<LeaseGrantResult> {
    return this.write(() => this.lessor.grant(id, ttl));
  }

  async leaseRevoke(id: number): Promise<void> {
    this.lessor.info(id); // leaseNotFound, also once expired
    this.write(() => this.revoke(id));
  }

  async leaseKeepAlive(id: number): Promise<number> {
    return this.lessor.renew(id);
  }

  async leaseTimeToLive(id: number, withKeys: boolean): Promise<LeaseTimeToLiveResult> {
    const info = this.lessor.info(id);
    return {
      id,
      ttl: info.remaining,
      grantedTtl: info.grantedTtl,
      keys: withKeys ? this.keyspace.keysWithLease(id) : [],
    };
  }

  async leaseLeases(): Promise<readonly number[]> {
    return this.lessor.ids();
  }

  /** Deletes the lease's keys in one revision, then the lease (etcd's lessor.Revoke). */
  private revoke(id: number): void {
    const keys = this.keyspace.keysWithLease(id);
    if (keys.length > 0) this.keyspace.deleteKeys(keys);
    try {
      this.lessor.revoke(id);
    } catch {
      // already gone
    }
  }

  // ---------------------------------------------------------------- members

  async memberList(): Promise<readonly Member[]> {
    return this.members;
  }

  /**
   * Records the member. Without Raft nothing replicates to it, so it never starts: it keeps an
   * empty name and client URLs, and a learner can never be promoted.
   */
  async memberAdd(peerUrls: readonly string[], isLearner: boolean): Promise<MemberAddResult> {
    for (const m of this.members) {
      if (m.peerUrls.some((u) => peerUrls.includes(u))) throw StoreError.etcd("peerUrlExists");
    }
    if (isLearner && this.members.filter((m) => m.isLearner).length >= MAX_LEARNERS) {
      throw StoreError.etcd("tooManyLearners");
    }
    let id = idFrom([...peerUrls].sort().join(","), `${this.clusterToken}/${this.wallClock()}`);
    while (this.members.some((m) => m.id === id)) id = (id % 0xfffffffffffff) + 1;
    const member: Member = { id, name: "", peerUrls: [...peerUrls], clientUrls: [], isLearner };
    this.write(() => {
      this.members = [...this.members, member];
    });
    return { member, members: this.members };
  }

  async memberRemove(id: number): Promise<readonly Member[]> {
    if (!this.members.some((m) => m.id === id)) throw StoreError.etcd("memberNotFound");
    if (id === this.memberId) {
      throw new StoreError(
        "FAILED_PRECONDITION",
        "tug-store: the local backend cannot remove its only started member",
      );
    }
    this.write(() => {
      this.members = this.members.filter((m) => m.id !== id);
    });
    return this.members;
  }

  async memberPromote(id: number): Promise<readonly Member[]> {
    const m = this.members.find((x) => x.id === id);
    if (m === undefined) throw StoreError.etcd("memberNotFound");
    if (!m.isLearner) throw StoreError.etcd("memberNotLearner");
    // It never started, so it is not in sync with the leader.
    throw StoreError.etcd("learnerNotReady");
  }

  // ---------------------------------------------------------------- maintenance

  async status(): Promise<StatusResult> {
    const size = this.keyspace.sizeBytes();
    return {
      version: ETCD_API_VERSION,
      dbSize: size,
      dbSizeInUse: size,
      leader: this.memberId,
      raftIndex: this.appliedIndex,
      raftTerm: this.raftTerm,
      raftAppliedIndex: this.appliedIndex,
      errors: [],
      isLearner: false,
    };
  }

  async hashKv(revision: number): Promise<HashKvResult> {
    const rev = revision > 0 ? revision : this.keyspace.revision;
    return {
      hash: this.keyspace.hash(rev),
      compactRevision: this.keyspace.compactRevision,
      revision: rev,
    };
  }

  async snapshot(): Promise<SnapshotImage> {
    const image = encodeImage(
      this.keyspace.serialize(),
      this.lessor.ids().map((id) => this.lessor.info(id)),
    );
    return {
      revision: this.keyspace.revision,
      size: image.length,
      chunks: (async function* () {
        yield image;
      })(),
    };
  }

  async moveLeader(targetId: number): Promise<void> {
    if (targetId !== this.memberId) {
      throw new StoreError("FAILED_PRECONDITION", "etcdserver: bad leader transferee");
    }
  }

  /** Applies a write: one more entry in the emulated Raft log. */
  private write<T>(apply: () => T): T {
    const result = apply();
    this.appliedIndex++;
    return result;
  }
}

/** A member or cluster id as etcd derives one (SHA-1 of what identifies it), in 52 bits. */
function idFrom(what: string, salt: string): number {
  const digest = createHash("sha1").update(what).update("\0").update(salt).digest();
  const id = digest.readUIntBE(0, 6) * 16 + (digest[6] as number) / 16;
  return Math.floor(id) || 1;
}

/**
 * The local backend's snapshot image: "TUGSNAP1", the keyspace (a uint32 length, then
 * Keyspace.serialize()), the leases (a uint32 count, then per lease its id, granted TTL and
 * remaining seconds as float64s: integers below 2^53 are exact), zero padding to a multiple of
 * 512 bytes (see SnapshotImage). All integers big-endian.
 */
function encodeImage(
  keyspace: Uint8Array,
  leases: readonly { id: number; grantedTtl: number; remaining: number }[],
): Uint8Array {
  const body = IMAGE_MAGIC.length + 4 + keyspace.length + 4 + leases.length * 24;
  const size = Math.ceil(body / IMAGE_ALIGN) * IMAGE_ALIGN;
  const out = Buffer.alloc(size);
  let off = IMAGE_MAGIC.copy(out, 0);
  off = out.writeUInt32BE(keyspace.length, off);
  out.set(keyspace, off);
  off += keyspace.length;
  off = out.writeUInt32BE(leases.length, off);
  for (const l of leases) {
    off = out.writeDoubleBE(l.id, off);
    off = out.writeDoubleBE(l.grantedTtl, off);
    off = out.writeDoubleBE(l.remaining, off);
  }
  return out;
}

/**
 * The put with its key and value copied: decoded requests hold views into the received gRPC
 * message (codec.ts), which the keyspace, keeping what it is given, must not pin.
 */
function ownedPut(r: PutRequest): PutRequest {
  const out: PutRequest = { ...r, key: new Uint8Array(r.key) };
  if (r.value !== undefined) out.value = new Uint8Array(r.value);
  return out;
}

/** The txn with the puts in its branches, nested txns' included, owned (ownedPut). */
function ownedTxn(r: TxnRequest): TxnRequest {
  const ops = (list: readonly RequestOp[] | undefined): RequestOp[] | undefined =>
    list?.map((op) => {
      if ("requestPut" in op) return { requestPut: ownedPut(op.requestPut) };
      if ("requestTxn" in op) return { requestTxn: ownedTxn(op.requestTxn) };
      return op;
    });
  return { ...r, success: ops(r.success), failure: ops(r.failure) };
}
