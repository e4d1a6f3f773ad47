// The configuration of one StoreServer, with etcd's names and defaults where etcd has them,
// and its checks: a bad value fails start() with an error naming the flag and the fix, before
// anything is written to the data directory.

import { StoreError } from "../errors.js";
import type { FaultInjector } from "../transport/index.js";
import type { SyncFile } from "../wal/index.js";
import type { PeerListener } from "./peer-listener.js";

/** etcd's --heartbeat-interval default, ms. */
export const DEFAULT_HEARTBEAT_MS = 100;
/** etcd's --election-timeout default, ms. */
export const DEFAULT_ELECTION_MS = 1000;
/** etcd's --snapshot-count default (3.4): applied entries between snapshots. */
export const DEFAULT_SNAPSHOT_COUNT = 100_000;
/** etcd's --initial-cluster-token default. */
export const DEFAULT_CLUSTER_TOKEN = "etcd-cluster";

export interface InitialMember {
  readonly name: string;
  readonly peerUrls: readonly string[];
}

/** Structured logging: `fields` are flat key/values for a JSON line. */
export interface StoreLogger {
  log(
    level: "debug" | "info" | "warn" | "error",
    msg: string,
    fields?: Readonly<Record<string, unknown>>,
  ): void;
}

export interface StoreServerConfig {
  /** etcd's --name. */
  readonly name: string;
  /** etcd's --data-dir: holds wal/ and snap/. */
  readonly dataDir: string;
  /**
   * The peer gRPC server, already listening (see listenPeer). A started StoreServer closes it
   * on close(); when start() fails, the caller closes it (closing twice is harmless).
   */
  readonly peer: PeerListener;
  /** etcd's --initial-advertise-peer-urls. Default: the peer listener's URL. */
  readonly advertisePeerUrls?: readonly string[];
  /** etcd's --advertise-client-urls, published in the member list; see also setClientUrls. */
  readonly advertiseClientUrls?: readonly string[];
  /** etcd's --initial-cluster: every member of a new cluster; for a joining member, whom to ask. */
  readonly initialCluster: readonly InitialMember[];
  /** etcd's --initial-cluster-state. Ignored when the data directory already holds a WAL. */
  readonly initialClusterState?: "new" | "existing";
  /** etcd's --initial-cluster-token: member and cluster ids derive from it. */
  readonly initialClusterToken?: string;
  /** etcd's --heartbeat-interval, ms: one Raft tick. */
  readonly heartbeatMs?: number;
  /** etcd's --election-timeout, ms: a multiple of heartbeatMs, at least 5 of them (etcd's rule). */
  readonly electionMs?: number;
  /** etcd's --snapshot-count. */
  readonly snapshotCount?: number;
  /** etcd's --snapshot-catchup-entries: log kept behind a snapshot for slow followers. */
  readonly snapshotCatchUpEntries?: number;
  /** etcd's --max-learners. */
  readonly maxLearners?: number;
  /** etcd's --experimental-lease-checkpoint-interval (ms); absent: checkpointing off. */
  readonly leaseCheckpointIntervalMs?: number;
  /** How long a proposal or linearizable read may wait. Default: 5 s + 2 × electionMs (etcd's). */
  readonly requestTimeoutMs?: number;
  /**
   * On a broken stream from the leader (its process died), pre-vote after a short random wait
   * instead of waiting out the election timeout. Default true. See docs in store-server.ts.
   */
  readonly fastFailover?: boolean;
  /** Uniform in [0, 1): election timeouts, failover jitter, chosen lease ids. Seed it in tests. */
  readonly random?: () => number;
  /** A monotonic clock in ms (lease expiry, timeouts). Default performance.now. */
  readonly now?: () => number;
  /** Wall-clock ms since the epoch (ids of added members, request ids). Default Date.now. */
  readonly wallClock?: () => number;
  /** Faults injected into outgoing peer messages (local chaos). */
  readonly faults?: FaultInjector;
  /**
   * How the WAL makes a file durable (tests gate or count syncs). Default: fdatasync on the
   * event loop's thread once the turn's writes have left (syncAfterTurn), on every member.
   */
  readonly syncFile?: SyncFile;
  readonly logger?: StoreLogger;
}

export interface ResolvedConfig {
  readonly name: string;
  readonly dataDir: string;
  readonly advertisePeerUrls: readonly string[];
  readonly clientUrls: readonly string[];
  readonly initialCluster: readonly InitialMember[];
  readonly initialClusterState: "new" | "existing";
  readonly clusterToken: string;
  readonly heartbeatMs: number;
  readonly electionMs: number;
  readonly electionTicks: number;
  readonly snapshotCount: number;
  readonly snapshotCatchUpEntries: number | undefined;
  readonly maxLearners: number;
  readonly leaseCheckpointIntervalMs: number | undefined;
  readonly requestTimeoutMs: number;
  readonly fastFailover: boolean;
  readonly random: () => number;
  readonly now: () => number;
  readonly wallClock: () => number;
}

function bad(flag: string, why: string): never {
  throw new StoreError("INVALID_ARGUMENT", `--${flag}: ${why}`);
}

function checkUrls(flag: string, urls: readonly string[]): void {
  if (urls.length === 0) bad(flag, "give at least one URL, e.g. http://10.0.0.1:2380");
  for (const u of urls) {
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      bad(flag, `"${u}" is not a URL; want http://host:port`);
    }
    if (
      url.protocol !== "http:" ||
      url.port === "" ||
      (url.pathname !== "/" && url.pathname !== "")
    ) {
      bad(flag, `"${u}" is not of the form http://host:port`);
    }
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = [...a].sort();
  const sb = [...b].sort();
  return sa.length === sb.length && sa.every((u, i) => u === sb[i]);
}

/** Fills in defaults and checks every value; throws StoreError INVALID_ARGUMENT naming the flag. */
export function resolveConfig(c: StoreServerConfig): ResolvedConfig {
  if (c.name === "") bad("name", "must not be empty");
  if (c.dataDir === "") bad("data-dir", "must not be empty");
  const heartbeatMs = c.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const electionMs = c.electionMs ?? DEFAULT_ELECTION_MS;
  if (!Number.isInteger(heartbeatMs) || heartbeatMs <= 0) {
    bad("heartbeat-interval", `${heartbeatMs} is not a positive number of milliseconds`);
  }
  if (!Number.isInteger(electionMs) || electionMs < 5 * heartbeatMs) {
    bad(
      "election-timeout",
      `${electionMs} ms should be at least 5 times --heartbeat-interval (${heartbeatMs} ms)`,
    );
  }
  if (electionMs % heartbeatMs !== 0) {
    bad(
      "election-timeout",
      `${electionMs} ms is not a multiple of --heartbeat-interval (${heartbeatMs} ms): Raft counts it in heartbeats`,
    );
  }
  const snapshotCount = c.snapshotCount ?? DEFAULT_SNAPSHOT_COUNT;
  if (!Number.isSafeInteger(snapshotCount) || snapshotCount < 1) {
    bad("snapshot-count", `${snapshotCount} must be a positive integer`);
  }
  const catchUp = c.snapshotCatchUpEntries;
  if (catchUp !== undefined && (!Number.isSafeInteger(catchUp) || catchUp < 0)) {
    bad("snapshot-catchup-entries", `${catchUp} must be a non-negative integer`);
  }
  const maxLearners = c.maxLearners ?? 1;
  if (!Number.isSafeInteger(maxLearners) || maxLearners < 0) {
    bad("max-learners", `${maxLearners} must be a non-negative integer`);
  }
  const advertisePeerUrls = c.advertisePeerUrls ?? [c.peer.url];
  checkUrls("initial-advertise-peer-urls", advertisePeerUrls);
  const clientUrls = c.advertiseClientUrls ?? [];
  if (clientUrls.length > 0) checkUrls("advertise-client-urls", clientUrls);
  const initialClusterState = c.initialClusterState ?? "new";
  const names = new Set<string>();
  for (const m of c.initialCluster) {
    if (m.name === "") bad("initial-cluster", "a member has an empty name");
    if (names.has(m.name)) bad("initial-cluster", `member name ${m.name} appears twice`);
    names.add(m.name);
    checkUrls("initial-cluster", m.peerUrls);
  }
  if (initialClusterState === "new") {
    const self = c.initialCluster.find((m) => m.name === c.name);
    if (self === undefined) {
      bad(
        "initial-cluster",
        `has no member named ${c.name} (--name): add ${c.name}=${advertisePeerUrls[0]}`,
      );
    }
    if (!sameSet(self.peerUrls, advertisePeerUrls)) {
      bad(
        "initial-cluster",
        `has ${c.name}=${self.peerUrls.join(",")} but --initial-advertise-peer-urls is ${advertisePeerUrls.join(",")}: they must match`,
      );
    }
  }
  return {
    name: c.name,
    dataDir: c.dataDir,
    advertisePeerUrls,
    clientUrls,
    initialCluster: c.initialCluster,
    initialClusterState,
    clusterToken: c.initialClusterToken ?? DEFAULT_CLUSTER_TOKEN,
    heartbeatMs,
    electionMs,
    electionTicks: electionMs / heartbeatMs,
    snapshotCount,
    snapshotCatchUpEntries: catchUp,
    maxLearners,
    leaseCheckpointIntervalMs: c.leaseCheckpointIntervalMs,
    requestTimeoutMs: c.requestTimeoutMs ?? 5000 + 2 * electionMs,
    fastFailover: c.fastFailover ?? true,
    random: c.random ?? Math.random,
    now: c.now ?? (() => performance.now()),
    wallClock: c.wallClock ?? Date.now,
  };
}
