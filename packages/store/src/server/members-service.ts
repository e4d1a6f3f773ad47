// tug.store.Members (proto/tug/store.proto): the calls one member makes to another on its
// peer URL, beside the Raft transport. etcd has the same over peer HTTP: lease keep-alives
// and time-to-live questions only the leader can answer (/leases, /leases/internal), and the
// member list a new member reads to learn its own id (/members). Added here: the leader's
// check that a learner has caught up, for a promote asked of a follower.
//
// Errors travel as gRPC statuses carrying the StoreError's code and text, so that an etcd
// error the leader raises (lease not found, not leader) reaches the client unchanged.

import * as grpc from "@grpc/grpc-js";
import type { GrpcServer, ServerMethodDefinition, UnaryHandler } from "@tug/grpc";
import type { LeaseTimeToLiveResult, Member } from "../api/backend.js";
import { StoreError } from "../errors.js";
import { tug } from "../gen/storepb.js";
import { asStoreError, fromCallError, peerTarget, toStatus } from "../transport/peer-wire.js";
import { memberFromProto, memberToProto } from "./membership.js";
import { longToNumber } from "./request-codec.js";

const pb = tug.store;

/** What a member answers with; implemented by the StoreServer. */
export interface MembersServiceBackend {
  readonly clusterId: number;
  /** Leader only (notLeader otherwise): renews and returns the granted TTL. */
  leaderKeepAlive(leaseId: number): Promise<number>;
  /** Leader only. */
  leaderTimeToLive(leaseId: number, keys: boolean): Promise<LeaseTimeToLiveResult>;
  /** Leader only: resolves if the learner may be promoted, else throws why not. */
  leaderLearnerReady(memberId: number): Promise<void>;
  currentMembers(): readonly Member[];
  /** Another member says this one was removed from the cluster. */
  removedNotice(memberId: number): void;
}

function serializer<T>(type: { encode(m: T): { finish(): Uint8Array } }) {
  return (m: T): Buffer => {
    const b = type.encode(m).finish();
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  };
}

function deserializer<T>(type: { decode(b: Uint8Array): T }, name: string) {
  return (b: Buffer): T => {
    try {
      return type.decode(b);
    } catch (e) {
      throw new StoreError("INVALID_ARGUMENT", `members service: malformed ${name}: ${String(e)}`, {
        cause: e,
      });
    }
  };
}

function method<Req, Res>(
  name: string,
  req: { encode(m: Req): { finish(): Uint8Array }; decode(b: Uint8Array): Req },
  res: { encode(m: Res): { finish(): Uint8Array }; decode(b: Uint8Array): Res },
): grpc.MethodDefinition<Req, Res> {
  return {
    path: `/tug.store.Members/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: serializer(req),
    requestDeserialize: deserializer(req, `${name} request`),
    responseSerialize: serializer(res),
    responseDeserialize: deserializer(res, `${name} reply`),
    originalName: name,
  };
}

const LEASE_KEEP_ALIVE = method("LeaseKeepAlive", pb.LeaseCall, pb.LeaseKeepAliveReply);
const LEASE_TIME_TO_LIVE = method("LeaseTimeToLive", pb.LeaseCall, pb.LeaseTimeToLiveReply);
const LEARNER_READY = method("LearnerReady", pb.LearnerReadyRequest, pb.LearnerReadyReply);
const LIST = method("List", pb.ListRequest, pb.ListReply);
const REMOVED = method("Removed", pb.RemovedNotice, pb.RemovedReply);

type Handlers = {
  LeaseKeepAlive: UnaryHandler<tug.store.LeaseCall, tug.store.ILeaseKeepAliveReply>;
  LeaseTimeToLive: UnaryHandler<tug.store.LeaseCall, tug.store.ILeaseTimeToLiveReply>;
  LearnerReady: UnaryHandler<tug.store.LearnerReadyRequest, tug.store.ILearnerReadyReply>;
  List: UnaryHandler<tug.store.ListRequest, tug.store.IListReply>;
  Removed: UnaryHandler<tug.store.RemovedNotice, tug.store.IRemovedReply>;
};

/** tug.store.Members, for GrpcServer.addService (and, method by method, for MembersClient). */
export const MEMBERS_SERVICE: { readonly [K in keyof Handlers]: ServerMethodDefinition } = {
  LeaseKeepAlive: LEASE_KEEP_ALIVE,
  LeaseTimeToLive: LEASE_TIME_TO_LIVE,
  LearnerReady: LEARNER_READY,
  List: LIST,
  Removed: REMOVED,
};

function sameCluster(backend: MembersServiceBackend, clusterId: number): void {
  if (clusterId !== backend.clusterId) {
    throw new StoreError(
      "FAILED_PRECONDITION",
      `caller belongs to cluster ${clusterId.toString(16)}, this is cluster ${backend.clusterId.toString(16)}`,
    );
  }
}

function unary<Req, Res>(fn: (req: Req) => Promise<Res>): UnaryHandler<Req, Res> {
  return (call, callback) => {
    fn(call.request).then(
      (res) => callback(null, res),
      (e: unknown) => callback(toStatus(asStoreError(e))),
    );
  };
}

/** Serves tug.store.Members on `server` (the member's peer gRPC server). */
export function addMembersService(server: GrpcServer, backend: MembersServiceBackend): void {
  const handlers: Handlers = {
    LeaseKeepAlive: unary(async (req) => {
      sameCluster(backend, longToNumber(req.clusterId));
      return { ttl: await backend.leaderKeepAlive(longToNumber(req.leaseId)) };
    }),
    LeaseTimeToLive: unary(async (req) => {
      sameCluster(backend, longToNumber(req.clusterId));
      const r = await backend.leaderTimeToLive(longToNumber(req.leaseId), req.keys);
      return { ttl: r.ttl, grantedTtl: r.grantedTtl, keys: [...r.keys] };
    }),
    LearnerReady: unary(async (req) => {
      sameCluster(backend, longToNumber(req.clusterId));
      await backend.leaderLearnerReady(longToNumber(req.memberId));
      return {};
    }),
    Removed: unary(async (req) => {
      sameCluster(backend, longToNumber(req.clusterId));
      backend.removedNotice(longToNumber(req.memberId));
      return {};
    }),
    List: unary(async () => ({
      clusterId: backend.clusterId,
      members: backend.currentMembers().map(memberToProto),
    })),
  };
  server.addService(MEMBERS_SERVICE, handlers);
}

/** A client of another member's Members service, at its peer URL. */
export class MembersClient {
  private readonly client: grpc.Client;

  constructor(readonly url: string) {
    this.client = new grpc.Client(peerTarget(url, "peer URL"), grpc.credentials.createInsecure());
  }

  close(): void {
    this.client.close();
  }

  private call<Req, Res>(
    m: grpc.MethodDefinition<Req, Res>,
    req: Req,
    timeoutMs: number,
  ): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        req,
        { deadline: Date.now() + timeoutMs },
        (err, res) => {
          if (err || res === undefined) reject(fromCallError(err));
          else resolve(res);
        },
      );
    });
  }

  async leaseKeepAlive(clusterId: number, leaseId: number, timeoutMs: number): Promise<number> {
    const r = await this.call(
      LEASE_KEEP_ALIVE,
      pb.LeaseCall.create({ clusterId, leaseId }),
      timeoutMs,
    );
    return longToNumber(r.ttl);
  }

  async leaseTimeToLive(
    clusterId: number,
    leaseId: number,
    keys: boolean,
    timeoutMs: number,
  ): Promise<LeaseTimeToLiveResult> {
    const r = await this.call(
      LEASE_TIME_TO_LIVE,
      pb.LeaseCall.create({ clusterId, leaseId, keys }),
      timeoutMs,
    );
    return {
      id: leaseId,
      ttl: longToNumber(r.ttl),
      grantedTtl: longToNumber(r.grantedTtl),
      keys: r.keys ?? [],
    };
  }

  /** Resolves if the leader says the learner may be promoted; throws its refusal otherwise. */
  async learnerReady(clusterId: number, memberId: number, timeoutMs: number): Promise<void> {
    await this.call(
      LEARNER_READY,
      pb.LearnerReadyRequest.create({ clusterId, memberId }),
      timeoutMs,
    );
  }

  async removed(clusterId: number, memberId: number, timeoutMs: number): Promise<void> {
    await this.call(REMOVED, pb.RemovedNotice.create({ clusterId, memberId }), timeoutMs);
  }

  async list(timeoutMs: number): Promise<{ clusterId: number; members: Member[] }> {
    const r = await this.call(LIST, pb.ListRequest.create({}), timeoutMs);
    return {
      clusterId: longToNumber(r.clusterId),
      members: (r.members ?? []).map(memberFromProto),
    };
  }
}
