// Typed etcd v3 gRPC clients over the generated types, for tests that speak the protocol
// directly: promise-returning unary calls and a Watch stream read reply by reply.

import { type ClientDuplexStream, credentials, type ServiceError } from "@grpc/grpc-js";
import { etcdServices } from "../../src/api/etcd-proto.js";
import type { AlarmRequest } from "../../src/gen/etcd/etcdserverpb/AlarmRequest.js";
import type { AlarmResponse__Output } from "../../src/gen/etcd/etcdserverpb/AlarmResponse.js";
import type { ClusterClient } from "../../src/gen/etcd/etcdserverpb/Cluster.js";
import type { CompactionRequest } from "../../src/gen/etcd/etcdserverpb/CompactionRequest.js";
import type { CompactionResponse__Output } from "../../src/gen/etcd/etcdserverpb/CompactionResponse.js";
import type { DefragmentResponse__Output } from "../../src/gen/etcd/etcdserverpb/DefragmentResponse.js";
import type { DeleteRangeRequest } from "../../src/gen/etcd/etcdserverpb/DeleteRangeRequest.js";
import type { DeleteRangeResponse__Output } from "../../src/gen/etcd/etcdserverpb/DeleteRangeResponse.js";
import type { HashKVRequest } from "../../src/gen/etcd/etcdserverpb/HashKVRequest.js";
import type { HashKVResponse__Output } from "../../src/gen/etcd/etcdserverpb/HashKVResponse.js";
import type { KVClient } from "../../src/gen/etcd/etcdserverpb/KV.js";
import type { LeaseClient } from "../../src/gen/etcd/etcdserverpb/Lease.js";
import type { LeaseGrantRequest } from "../../src/gen/etcd/etcdserverpb/LeaseGrantRequest.js";
import type { LeaseGrantResponse__Output } from "../../src/gen/etcd/etcdserverpb/LeaseGrantResponse.js";
import type { LeaseLeasesResponse__Output } from "../../src/gen/etcd/etcdserverpb/LeaseLeasesResponse.js";
import type { LeaseRevokeRequest } from "../../src/gen/etcd/etcdserverpb/LeaseRevokeRequest.js";
import type { LeaseRevokeResponse__Output } from "../../src/gen/etcd/etcdserverpb/LeaseRevokeResponse.js";
import type { LeaseTimeToLiveRequest } from "../../src/gen/etcd/etcdserverpb/LeaseTimeToLiveRequest.js";
import type { LeaseTimeToLiveResponse__Output } from "../../src/gen/etcd/etcdserverpb/LeaseTimeToLiveResponse.js";
import type { MaintenanceClient } from "../../src/gen/etcd/etcdserverpb/Maintenance.js";
import type { MemberAddRequest } from "../../src/gen/etcd/etcdserverpb/MemberAddRequest.js";
import type { MemberAddResponse__Output } from "../../src/gen/etcd/etcdserverpb/MemberAddResponse.js";
import type { MemberPromoteResponse__Output } from "../../src/gen/etcd/etcdserverpb/MemberPromoteResponse.js";
import type { MemberRemoveResponse__Output } from "../../src/gen/etcd/etcdserverpb/MemberRemoveResponse.js";
import type { MoveLeaderResponse__Output } from "../../src/gen/etcd/etcdserverpb/MoveLeaderResponse.js";
import type { PutRequest } from "../../src/gen/etcd/etcdserverpb/PutRequest.js";
import type { PutResponse__Output } from "../../src/gen/etcd/etcdserverpb/PutResponse.js";
import type { RangeRequest } from "../../src/gen/etcd/etcdserverpb/RangeRequest.js";
import type { RangeResponse__Output } from "../../src/gen/etcd/etcdserverpb/RangeResponse.js";
import type { StatusResponse__Output } from "../../src/gen/etcd/etcdserverpb/StatusResponse.js";
import type { TxnRequest } from "../../src/gen/etcd/etcdserverpb/TxnRequest.js";
import type { TxnResponse__Output } from "../../src/gen/etcd/etcdserverpb/TxnResponse.js";
import type { WatchRequest } from "../../src/gen/etcd/etcdserverpb/WatchRequest.js";
import type { WatchResponse__Output } from "../../src/gen/etcd/etcdserverpb/WatchResponse.js";

const OPTIONS = { "grpc.max_receive_message_length": -1 };

/** The KV service's calls as promises. */
export interface Kv {
  range(r: RangeRequest): Promise<RangeResponse__Output>;
  put(r: PutRequest): Promise<PutResponse__Output>;
  deleteRange(r: DeleteRangeRequest): Promise<DeleteRangeResponse__Output>;
  txn(r: TxnRequest): Promise<TxnResponse__Output>;
  compact(r: CompactionRequest): Promise<CompactionResponse__Output>;
}

function kvCalls(kv: KVClient): Kv {
  return {
    range: (r) => call((cb) => kv.Range(r, cb)),
    put: (r) => call((cb) => kv.Put(r, cb)),
    deleteRange: (r) => call((cb) => kv.DeleteRange(r, cb)),
    txn: (r) => call((cb) => kv.Txn(r, cb)),
    compact: (r) => call((cb) => kv.Compact(r, cb)),
  };
}

/** The other unary calls the tests make, as promises. */
export interface Calls {
  leaseGrant(r: LeaseGrantRequest): Promise<LeaseGrantResponse__Output>;
  leaseRevoke(r: LeaseRevokeRequest): Promise<LeaseRevokeResponse__Output>;
  leaseTimeToLive(r: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse__Output>;
  leaseLeases(): Promise<LeaseLeasesResponse__Output>;
  memberAdd(r: MemberAddRequest): Promise<MemberAddResponse__Output>;
  memberRemove(id: string): Promise<MemberRemoveResponse__Output>;
  memberPromote(id: string): Promise<MemberPromoteResponse__Output>;
  status(): Promise<StatusResponse__Output>;
  alarm(r: AlarmRequest): Promise<AlarmResponse__Output>;
  hashKv(r: HashKVRequest): Promise<HashKVResponse__Output>;
  defragment(): Promise<DefragmentResponse__Output>;
  moveLeader(targetId: string): Promise<MoveLeaderResponse__Output>;
}

export interface Clients {
  calls: Calls;
  kv: Kv;
  kvClient: KVClient;
  clusterClient: ClusterClient;
  lease: LeaseClient;
  maintenance: MaintenanceClient;
  close(): void;
}

export function clients(endpoint: string): Clients {
  const c = credentials.createInsecure();
  const kv = new etcdServices.KV(endpoint, c, OPTIONS);
  const lease = new etcdServices.Lease(endpoint, c, OPTIONS);
  const maintenance = new etcdServices.Maintenance(endpoint, c, OPTIONS);
  const cluster = new etcdServices.Cluster(endpoint, c, OPTIONS);
  const calls: Calls = {
    leaseGrant: (r) => call((cb) => lease.LeaseGrant(r, cb)),
    leaseRevoke: (r) => call((cb) => lease.LeaseRevoke(r, cb)),
    leaseTimeToLive: (r) => call((cb) => lease.LeaseTimeToLive(r, cb)),
    leaseLeases: () => call((cb) => lease.LeaseLeases({}, cb)),
    memberAdd: (r) => call((cb) => cluster.MemberAdd(r, cb)),
    memberRemove: (id) => call((cb) => cluster.MemberRemove({ ID: id }, cb)),
    memberPromote: (id) => call((cb) => cluster.MemberPromote({ ID: id }, cb)),
    status: () => call((cb) => maintenance.Status({}, cb)),
    alarm: (r) => call((cb) => maintenance.Alarm(r, cb)),
    hashKv: (r) => call((cb) => maintenance.HashKV(r, cb)),
    defragment: () => call((cb) => maintenance.Defragment({}, cb)),
    moveLeader: (id) => call((cb) => maintenance.MoveLeader({ targetID: id }, cb)),
  };
  return {
    calls,
    clusterClient: cluster,
    kv: kvCalls(kv),
    kvClient: kv,
    lease,
    maintenance,
    close: () => {
      kv.close();
      lease.close();
      maintenance.close();
      cluster.close();
    },
  };
}

/** A unary call as a promise: `call((cb) => client.Method(req, cb))`. */
export function call<T>(
  invoke: (cb: (err: ServiceError | null, value?: T) => void) => unknown,
): Promise<T> {
  return new Promise((resolve, reject) => {
    invoke((err, value) => {
      if (err) reject(err);
      else if (value === undefined) reject(new Error("no reply"));
      else resolve(value);
    });
  });
}

/** One Watch stream; replies are queued and read in order. */
export class WatchStream {
  private readonly client: InstanceType<typeof etcdServices.Watch>;
  private readonly stream: ClientDuplexStream<WatchRequest, WatchResponse__Output>;
  private readonly replies: WatchResponse__Output[] = [];
  private waiters: (() => void)[] = [];
  private ended: Error | undefined;

  constructor(endpoint: string) {
    this.client = new etcdServices.Watch(endpoint, credentials.createInsecure(), OPTIONS);
    this.stream = this.client.Watch();
    this.stream.on("data", (r: WatchResponse__Output) => {
      this.replies.push(r);
      this.wake();
    });
    this.stream.on("error", (e: Error) => {
      this.ended = e;
      this.wake();
    });
    this.stream.on("end", () => {
      this.ended ??= new Error("watch stream ended");
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(req: WatchRequest): void {
    this.stream.write(req);
  }

  /** The next reply. */
  async next(): Promise<WatchResponse__Output> {
    for (;;) {
      const r = this.replies.shift();
      if (r !== undefined) return r;
      if (this.ended) throw this.ended;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Stops reading from the network: the server's writes back up. */
  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  /** Replies already received and not yet read. */
  get buffered(): number {
    return this.replies.length;
  }

  close(): void {
    this.stream.cancel();
    this.client.close();
  }
}
