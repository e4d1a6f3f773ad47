// etcdserverpb.Cluster: list, add (voter or learner), remove and promote members.

import { StoreError } from "../errors.js";
import type { ClusterHandlers } from "../gen/etcd/etcdserverpb/Cluster.js";
import type { Member as ProtoMember } from "../gen/etcd/etcdserverpb/Member.js";
import type { EtcdBackend, Member } from "./backend.js";
import { header, int64, unary } from "./codec.js";
import type { EtcdHandlers } from "./server.js";

export function member(m: Member): ProtoMember {
  return {
    ID: m.id,
    name: m.name,
    peerURLs: [...m.peerUrls],
    clientURLs: [...m.clientUrls],
    isLearner: m.isLearner,
  };
}

/** etcd's ErrGRPCMemberBadURLs text. */
const BAD_URLS = "etcdserver: given member URLs are invalid";

/** etcd's types.NewURLs: http(s) or unix(s) URLs of a host:port, with no path. */
function checkPeerUrls(urls: readonly string[]): void {
  for (const u of urls) {
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      throw new StoreError("INVALID_ARGUMENT", BAD_URLS);
    }
    const schemeOk = ["http:", "https:", "unix:", "unixs:"].includes(url.protocol);
    const hostPortOk = url.hostname !== "" && url.port !== "";
    const pathOk = url.pathname === "" || url.pathname === "/";
    if (!schemeOk || !hostPortOk || !pathOk) throw new StoreError("INVALID_ARGUMENT", BAD_URLS);
  }
}

/** Cluster replies carry no revision, as etcd's do (their header is 0 there). */
export function clusterHandlers(backend: EtcdBackend): EtcdHandlers<ClusterHandlers> {
  return {
    MemberList: unary(async () => {
      const members = await backend.memberList();
      return { header: header(backend.header(), 0), members: members.map(member) };
    }),
    MemberAdd: unary(async (m) => {
      checkPeerUrls(m.peerURLs);
      const r = await backend.memberAdd(m.peerURLs, m.isLearner);
      return {
        header: header(backend.header(), 0),
        member: member(r.member),
        members: r.members.map(member),
      };
    }),
    MemberRemove: unary(async (m) => {
      const members = await backend.memberRemove(int64(m.ID));
      return { header: header(backend.header(), 0), members: members.map(member) };
    }),
    MemberPromote: unary(async (m) => {
      const members = await backend.memberPromote(int64(m.ID));
      return { header: header(backend.header(), 0), members: members.map(member) };
    }),
    MemberUpdate: unary(async () => {
      throw new StoreError("UNIMPLEMENTED", "tug-store: MemberUpdate is not supported");
    }),
  };
}
