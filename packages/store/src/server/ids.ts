// Member, cluster and request ids, derived as etcd derives them (etcdserver/api/membership),
// then cut to 53 bits so that they are exact JavaScript numbers end to end.

import { createHash } from "node:crypto";

/** The low 53 bits of the first 8 bytes of a SHA-1, big-endian as etcd reads them; never 0. */
function id53(digest: Buffer): number {
  const high = digest.readUInt32BE(0) & 0x1f_ffff; // 21 bits
  const low = digest.readUInt32BE(4);
  return high * 2 ** 32 + low || 1;
}

/**
 * etcd's computeMemberId: SHA-1 of the member's peer URLs (sorted, joined with nothing), the
 * cluster token and, for a member added at run time, the time of the addition in Unix
 * seconds. Members of a new cluster leave `addedAtUnixSeconds` out, so every member of it
 * computes every other's id from --initial-cluster alone.
 */
export function computeMemberId(
  peerUrls: readonly string[],
  clusterToken: string,
  addedAtUnixSeconds?: number,
): number {
  const h = createHash("sha1");
  h.update([...peerUrls].sort().join(""));
  h.update(clusterToken);
  if (addedAtUnixSeconds !== undefined) h.update(String(addedAtUnixSeconds));
  return id53(h.digest());
}

/** etcd's RaftCluster.genID: SHA-1 of the sorted member ids as big-endian uint64s. */
export function computeClusterId(memberIds: readonly number[]): number {
  const ids = [...memberIds].sort((a, b) => a - b);
  const b = Buffer.alloc(8 * ids.length);
  for (const [i, id] of ids.entries()) b.writeBigUInt64BE(BigInt(id), 8 * i);
  return id53(createHash("sha1").update(b).digest());
}

/**
 * Request ids of one member: unique among its requests across restarts, so that an entry
 * replayed from the log after a restart never resolves a new request's waiter. Like etcd's
 * idutil.Generator, the sequence starts from the wall clock (here ms × 1024), so a restarted
 * member starts past every id it used before unless it proposed more than 1024 requests per
 * millisecond of its previous life on average.
 */
export class RequestIds {
  private next: number;

  constructor(nowMs: number) {
    this.next = Math.floor(nowMs) * 1024;
  }

  take(): number {
    return this.next++;
  }
}
