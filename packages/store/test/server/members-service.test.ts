// tug.store.Members on a member's peer listener (a GrpcServer), called by MembersClient (a
// grpc-js client, as older members are): answers, etcd's error texts and codes carried
// through unchanged, the cluster-id check, and what an unknown caller gets.

import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import type { Member } from "../../src/api/backend.js";
import { StoreError } from "../../src/errors.js";
import { listenPeer, type PeerListener } from "../../src/server/index.js";
import { addMembersService, MembersClient } from "../../src/server/members-service.js";

const CLUSTER = 0x1f2e;
const TIMEOUT_MS = 10_000;

const MEMBERS: Member[] = [
  { id: 0xa1, name: "m1", peerUrls: ["http://127.0.0.1:2380"], clientUrls: [], isLearner: false },
  { id: 0xb2, name: "", peerUrls: ["http://127.0.0.1:2480"], clientUrls: [], isLearner: true },
];

const opened: { close(): void }[] = [];

afterEach(() => {
  for (const o of opened.splice(0)) o.close();
});

async function serve(): Promise<{ peer: PeerListener; client: MembersClient; removed: number[] }> {
  const removed: number[] = [];
  const peer = await listenPeer("http://127.0.0.1:0");
  opened.push(peer);
  addMembersService(peer.server, {
    clusterId: CLUSTER,
    leaderKeepAlive: async (leaseId) => {
      if (leaseId !== 7) throw StoreError.etcd("leaseNotFound");
      return 30;
    },
    leaderTimeToLive: async (leaseId, keys) => ({
      id: leaseId,
      ttl: 12,
      grantedTtl: 30,
      keys: keys ? [Buffer.from("k1")] : [],
    }),
    leaderLearnerReady: async (memberId) => {
      if (memberId === 0xb2) throw StoreError.etcd("notLeader");
    },
    currentMembers: () => MEMBERS,
    removedNotice: (memberId) => removed.push(memberId),
  });
  const client = new MembersClient(peer.url);
  opened.push(client);
  return { peer, client, removed };
}

async function refusal(p: Promise<unknown>): Promise<StoreError> {
  try {
    await p;
  } catch (e) {
    return e as StoreError;
  }
  throw new Error("the call succeeded; a refusal was expected");
}

describe("tug.store.Members on the peer listener", () => {
  it("answers a grpc-js client: list, keep-alive, time-to-live, removed notice", async () => {
    const { client, removed } = await serve();
    expect(await client.list(TIMEOUT_MS)).toEqual({ clusterId: CLUSTER, members: MEMBERS });
    expect(await client.leaseKeepAlive(CLUSTER, 7, TIMEOUT_MS)).toBe(30);
    const ttl = await client.leaseTimeToLive(CLUSTER, 7, true, TIMEOUT_MS);
    expect({ ...ttl, keys: ttl.keys.map((k) => Buffer.from(k).toString()) }).toEqual({
      id: 7,
      ttl: 12,
      grantedTtl: 30,
      keys: ["k1"],
    });
    await client.learnerReady(CLUSTER, 0xc3, TIMEOUT_MS);
    await client.removed(CLUSTER, 0xa1, TIMEOUT_MS);
    expect(removed).toEqual([0xa1]);
  });

  it("carries the leader's etcd errors to the caller with their code and text", async () => {
    const { client } = await serve();
    const notFound = await refusal(client.leaseKeepAlive(CLUSTER, 8, TIMEOUT_MS));
    expect(notFound).toBeInstanceOf(StoreError);
    expect([notFound.code, notFound.message]).toEqual([
      "NOT_FOUND",
      "etcdserver: requested lease not found",
    ]);
    const notLeader = await refusal(client.learnerReady(CLUSTER, 0xb2, TIMEOUT_MS));
    expect([notLeader.code, notLeader.message]).toEqual(["UNAVAILABLE", "etcdserver: not leader"]);
  });

  it("refuses a caller from another cluster, naming both clusters", async () => {
    const { client, removed } = await serve();
    const e = await refusal(client.removed(0xabc, 0xa1, TIMEOUT_MS));
    expect([e.code, e.message]).toEqual([
      "FAILED_PRECONDITION",
      "caller belongs to cluster abc, this is cluster 1f2e",
    ]);
    expect(removed).toEqual([]);
  });

  it("answers a method it does not serve with UNIMPLEMENTED", async () => {
    const { peer } = await serve();
    const raw = new grpc.Client(new URL(peer.url).host, grpc.credentials.createInsecure());
    opened.push(raw);
    const err = await new Promise<grpc.ServiceError | null>((resolve) =>
      raw.makeUnaryRequest(
        "/tug.store.Members/Promote",
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.alloc(0),
        (e) => resolve(e),
      ),
    );
    expect(err?.code).toBe(grpc.status.UNIMPLEMENTED);
  });
});

describe("listenPeer", () => {
  it("refuses a port already in use, naming the URL", async () => {
    const first = await listenPeer("http://127.0.0.1:0");
    opened.push(first);
    const e = await refusal(listenPeer(first.url));
    expect(e.code).toBe("UNAVAILABLE");
    expect(e.message).toMatch(
      new RegExp(`^cannot listen for peers on ${first.url.replace(/[.]/g, "\\.")}: .*EADDRINUSE`),
    );
  });
});
