// Who a member is and what it starts from, decided before anything is written: a restart
// (its WAL says who it is), the first start of a member of a new cluster (ids derived from
// --initial-cluster as etcd derives them), or a member joining a running cluster (it asks
// the others for the member list and finds itself there by its peer URLs).
//
// On a restart the membership comes from the log, so --initial-cluster and
// --initial-cluster-state are ignored, as etcd ignores them once a data dir exists: a member
// restarted with the flags it was first started with, after members were added or removed,
// starts. What is refused is a data dir of another cluster, told by the cluster token the
// data dir was created with (kept beside the WAL in identity.json).

import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Member } from "../api/backend.js";
import { StoreError } from "../errors.js";
import { Wal } from "../wal/index.js";
import type { InitialMember, ResolvedConfig } from "./config.js";
import { computeClusterId, computeMemberId } from "./ids.js";
import { MembersClient } from "./members-service.js";

/** How long a new member tries each listed peer for the member list (etcd's GetCluster). */
const JOIN_LIST_TIMEOUT_MS = 2000;

export interface StartPlan {
  readonly memberId: number;
  readonly clusterId: number;
  /** A new cluster's members, to bootstrap Raft with (when the storage is empty). */
  readonly bootstrap?: readonly Member[];
  /** Peers to reach before the log tells who they are: a joining member's fetched list. */
  readonly knownMembers: readonly Member[];
  /** Flags this start ignores, and why, for the log (a restart after a membership change). */
  readonly ignored?: string;
}

/** What a data dir was created as; written at a member's first start. */
interface DataDirIdentity {
  readonly name: string;
  readonly clusterToken: string;
  readonly memberId: string;
  readonly clusterId: string;
}

const IDENTITY_FILE = "identity.json";

async function readIdentity(dataDir: string): Promise<DataDirIdentity | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, IDENTITY_FILE), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  try {
    const v = JSON.parse(text) as Partial<DataDirIdentity>;
    if (typeof v.clusterToken === "string" && typeof v.memberId === "string") {
      return v as DataDirIdentity;
    }
  } catch {
    // fall through: a damaged identity file
  }
  throw new StoreError(
    "FAILED_PRECONDITION",
    `--data-dir ${dataDir}: ${IDENTITY_FILE} is damaged; restore it, or start with an empty --data-dir`,
  );
}

async function writeIdentity(c: ResolvedConfig, plan: StartPlan): Promise<void> {
  const identity: DataDirIdentity = {
    name: c.name,
    clusterToken: c.clusterToken,
    memberId: plan.memberId.toString(16),
    clusterId: plan.clusterId.toString(16),
  };
  await mkdir(c.dataDir, { recursive: true });
  const path = join(c.dataDir, IDENTITY_FILE);
  await writeFile(`${path}.tmp`, `${JSON.stringify(identity, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}

/** Who this member is, and what it starts from: its WAL, a new cluster, or a joined one. */
export async function planStart(c: ResolvedConfig): Promise<StartPlan> {
  const walDir = join(c.dataDir, "wal");
  const fresh = c.initialClusterState === "new" ? newClusterPlan(c) : undefined;
  if (!(await Wal.exists(walDir))) {
    const plan = fresh ?? (await joinPlan(c));
    await writeIdentity(c, plan);
    return plan;
  }
  const { metadata } = await Wal.snapshotMarkers(walDir);
  const identity = await readIdentity(c.dataDir);
  const held = `member ${metadata.memberId.toString(16)} of cluster ${metadata.clusterId.toString(16)}`;
  const sameIds =
    fresh === undefined ||
    (fresh.memberId === metadata.memberId && fresh.clusterId === metadata.clusterId);
  if (fresh !== undefined && !sameIds) {
    // Another cluster's data, unless the token matches what this data dir was created with:
    // then the cluster's membership has changed since, and the log knows it.
    if (identity === undefined || identity.clusterToken !== c.clusterToken) {
      const created =
        identity === undefined
          ? ""
          : ` (created with --initial-cluster-token ${identity.clusterToken})`;
      throw new StoreError(
        "FAILED_PRECONDITION",
        `--data-dir ${c.dataDir} holds ${held}${created}, ` +
          `but --name, --initial-cluster and --initial-cluster-token make this member ${fresh.memberId.toString(16)} of cluster ${fresh.clusterId.toString(16)}: ` +
          "start it with the flags its data directory was created with, or with an empty --data-dir",
      );
    }
  }
  const plan: StartPlan = {
    memberId: metadata.memberId,
    clusterId: metadata.clusterId,
    // A new cluster whose first Ready never reached the disk bootstraps again (init checks
    // that the log is empty).
    ...(fresh !== undefined && sameIds ? { bootstrap: fresh.bootstrap } : {}),
    knownMembers: [],
    ...(sameIds
      ? {}
      : {
          ignored: `--initial-cluster and --initial-cluster-state are ignored: --data-dir ${c.dataDir} already holds ${held}, whose membership comes from its log`,
        }),
  };
  if (identity === undefined) await writeIdentity(c, plan);
  return plan;
}

function newClusterPlan(c: ResolvedConfig): StartPlan & { bootstrap: readonly Member[] } {
  const members: Member[] = c.initialCluster.map((m: InitialMember) => ({
    id: computeMemberId(m.peerUrls, c.clusterToken),
    name: m.name,
    peerUrls: [...m.peerUrls],
    clientUrls: [],
    isLearner: false,
  }));
  const ids = new Set(members.map((m) => m.id));
  if (ids.size !== members.length) {
    throw new StoreError(
      "INVALID_ARGUMENT",
      "--initial-cluster: two members have the same peer URLs (member ids derive from them)",
    );
  }
  const self = members.find((m) => m.name === c.name) as Member;
  return {
    memberId: self.id,
    clusterId: computeClusterId(members.map((m) => m.id)),
    bootstrap: members,
    knownMembers: [],
  };
}

/**
 * A member joining a running cluster (etcd's GetClusterFromRemotePeers): asks the other
 * members listed in --initial-cluster for the member list, and finds itself there by its peer
 * URLs, put there by `etcdctl member add`.
 */
async function joinPlan(c: ResolvedConfig): Promise<StartPlan> {
  const own = new Set(c.advertisePeerUrls);
  const urls = c.initialCluster.flatMap((m) => m.peerUrls).filter((u) => !own.has(u));
  if (urls.length === 0) {
    throw new StoreError(
      "INVALID_ARGUMENT",
      "--initial-cluster: a member joining an existing cluster needs the peer URL of at least one running member",
    );
  }
  const errors: string[] = [];
  for (const url of urls) {
    const client = new MembersClient(url);
    try {
      const { clusterId, members } = await client.list(JOIN_LIST_TIMEOUT_MS);
      const self = members.find((m) => m.peerUrls.some((u) => own.has(u)));
      if (self === undefined) {
        throw new StoreError(
          "FAILED_PRECONDITION",
          `the cluster at ${url} has no member with peer URL ${c.advertisePeerUrls.join(",")}: add it first (etcdctl member add ${c.name} --peer-urls=${c.advertisePeerUrls.join(",")})`,
        );
      }
      return { memberId: self.id, clusterId, knownMembers: members };
    } catch (e) {
      if (e instanceof StoreError && e.code === "FAILED_PRECONDITION") throw e;
      errors.push(`${url}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      client.close();
    }
  }
  throw new StoreError(
    "UNAVAILABLE",
    `cannot get the member list from any member of --initial-cluster (${errors.join("; ")}): start the running members first, or check the URLs`,
  );
}
