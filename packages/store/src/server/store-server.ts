// One member of a tug-store cluster: the Raft-backed EtcdBackend behind the etcd v3 gRPC
// services. It drives a RawNode (@tug/raft) with a WAL on disk (DiskStorage), a peer
// transport (Transport) and the replicated state machine (StateMachine: MVCC keyspace, lessor,
// member list), in the shape of etcd's EtcdServer + raftNode.
//
// The Ready loop, one Ready at a time, strictly in order (docs/raft.md):
//   1. persist the snapshot, entries and hard state (DiskStorage.persist resolves after the
//      fsync when the Ready says mustSync);
//   2. send the messages — except that a leader whose term and vote are already durable sends
//      first and persists in parallel (Raft thesis §10.2.1, as etcd does): its appends only
//      ever carry a commit index it has made durable, because the acknowledgements of this
//      Ready's entries come back into the core while it waits, and what they commit leaves in
//      a later Ready, after this one's fsync; and nothing is applied before it is durable here;
//   3. apply the committed entries, resolving the waiting requests with their results — those
//      already on this member's disk (written by earlier Readies) while step 1's write is in
//      flight, as etcd applies in parallel with its WAL write; never an entry before it is
//      durable here (a leader counts its own unwritten entries toward the commit quorum);
//   4. advance.
// While step 1 waits for the disk (the fsync blocks the loop, after the turn's writes have left),
// requests and acknowledgements queue up; they are proposed to the core and all go to disk
// together in the next Ready (group commit: the batch grows with the load, which is where
// throughput comes from).
//
// Requests and results: a write is proposed as a log entry tagged (proposer, request id) and
// resolves when this member applies that entry, so only after it is durable on a quorum.
// Followers forward proposals to the leader inside Raft (MsgProp). A request fails at once with
// "no leader" when no leader is known, with "leader changed" as soon as this member learns of a
// leader other than the one it proposed under (the entry may be lost; the client retries
// elsewhere at once instead of waiting out a timeout), and with "request timed out" after
// requestTimeoutMs.
//
// Reads: serializable reads are served from the local keyspace. Linearizable ones wait for a
// read index (Raft thesis §6.4), batched (read-index-loop.ts).
//
// Leases: every member applies grants, revokes and checkpoints from the log; only the leader
// keeps expiry clocks (Lessor.promote on becoming leader, demote on losing it), proposes a
// revoke for each lease it finds expired, and answers keep-alives and time-to-live. A follower
// forwards those two to the leader over the Members service on the leader's peer URL (etcd
// forwards them over its peer HTTP endpoints).
//
// Fast failover: when the stream from the leader breaks (its process died: the connection was
// reset, not closed), this follower forgets the leader at once, so that it grants other
// members' pre-votes without waiting out its election timeout, and pre-votes itself after a
// random wait in [0, 2 × heartbeat) so that the followers that all saw the same break do not
// split the vote. This is safe only with pre-vote and check-quorum, which @tug/raft always has
// on here: if the leader is in fact alive (only this one stream broke), the other followers
// still hear from it, reject the pre-vote, and no term is raised; the leader is never deposed
// by a member that merely lost its connection to it.

import { EventEmitter } from "node:events";
import { fdatasyncSync } from "node:fs";
import { performance } from "node:perf_hooks";
import {
  type ConfChange,
  type ConfChangeType,
  decodeConfChange,
  type Entry,
  isEmptyHardState,
  isEmptySnapshot,
  type Message,
  NONE,
  type NodeId,
  RaftError,
  type RaftEvent,
  RawNode,
  type Ready,
  type Role,
  type Snapshot,
  type SoftState,
  type Status,
} from "@tug/raft";
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
} from "../api/backend.js";
import { ETCD_API_VERSION } from "../api/local-backend.js";
import { StoreError } from "../errors.js";
import {
  EXPIRY_CHECK_INTERVAL_MS,
  LEASE_REVOKE_RATE,
  MAX_CHECKPOINT_BATCH,
  MAX_LEASE_TTL,
  minLeaseTtl,
} from "../lease/index.js";
import {
  type CompactionResponse,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  isReadOnlyTxn,
  isSerializableTxn,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type TxnRequest,
  type TxnResponse,
} from "../mvcc/index.js";
import { Transport } from "../transport/index.js";
import { DiskStorage, type SyncFile, syncAfterTurn } from "../wal/index.js";
import {
  type ResolvedConfig,
  resolveConfig,
  type StoreLogger,
  type StoreServerConfig,
} from "./config.js";
import { computeMemberId, RequestIds } from "./ids.js";
import { addMembersService, MembersClient, type MembersServiceBackend } from "./members-service.js";
import { decodeConfChangeContext, encodeConfChangeContext } from "./membership.js";
import { Histogram, type PeerMetrics, type StoreServerMetrics } from "./metrics.js";
import type { PeerListener } from "./peer-listener.js";
import { ReadIndexLoop } from "./read-index-loop.js";
import {
  decodeBatch,
  encodeBatch,
  encodeRequest,
  type StoreOp,
  type StoreRequest,
} from "./request-codec.js";
import { planStart, type StartPlan } from "./start-plan.js";
import { type OpResult, type OpResults, StateMachine } from "./state-machine.js";

/** etcd's maxUncommittedEntries bound (raft MaxUncommittedEntriesSize): 1 GiB. */
const MAX_UNCOMMITTED_BYTES = 1 << 30;

/**
 * Most bytes of requests in one batch entry. Raft sends at least one entry per append however
 * large, so a batch stays under its default maxSizePerMsg (1 MiB); one larger request goes
 * alone.
 */
const MAX_BATCH_BYTES = 1 << 20;

/** Between attempts to publish this member's name and client URLs (etcd retries its publish). */
const PUBLISH_RETRY_MS = 500;

/** etcd's readyPercent: a learner is promotable once its log holds 90% of the leader's. */
const LEARNER_READY_PERCENT = 0.9;

/** The Maintenance snapshot image: magic, big-endian uint64 length, a StateSnapshot, padding. */
const IMAGE_MAGIC = Buffer.from("TUGSTOR1", "latin1");
const IMAGE_ALIGN = 512;

const SILENT: StoreLogger = { log: () => {} };

export interface StoreServerEvents {
  /** Every event of the Raft core (role changes, elections, snapshots, conf changes). */
  raft: [event: RaftEvent];
  /** This member now follows (or is) `lead`; 0: it knows of no leader. */
  "leader-changed": [lead: NodeId, term: number];
  "role-changed": [role: Role, term: number];
  /** This member was removed from the cluster; it stops shortly after. */
  removed: [];
  /** The member stopped because of an error it cannot go on from (a failed fsync, a bug). */
  fatal: [error: Error];
}

export interface RaftStatus extends Status {
  readonly memberId: NodeId;
  readonly clusterId: number;
  readonly name: string;
}

interface Waiter {
  readonly resolve: (result: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly deadline: number;
  /** The leader this member knew when it proposed. */
  readonly lead: NodeId;
}

interface Condition {
  readonly check: () => boolean;
  readonly resolve: (met: boolean) => void;
}

function sameUrls(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((u, i) => u === b[i]);
}

export class StoreServer implements EtcdBackend, MembersServiceBackend {
  readonly memberId: number;
  readonly clusterId: number;
  readonly name: string;
  readonly watchSource: WatchEventSource;
  readonly events = new EventEmitter<StoreServerEvents>();

  private readonly c: ResolvedConfig;
  private readonly logger: StoreLogger;
  private readonly sm: StateMachine;
  private readonly rawNode: RawNode;
  private readonly transport: Transport;
  private readonly ids: RequestIds;
  private clientUrls: readonly string[];

  // The Raft view as of the last Ready.
  private role: Role = "follower";
  private lead: NodeId = NONE;
  /** The last leader known (never reset to NONE): a change of it fails stale requests. */
  private lastLead: NodeId = NONE;
  private term: number;
  private commitIndex: number;
  private appliedIndex: number;
  private snapshotIndex: number;
  private persistedTerm: number;
  private persistedVote: NodeId;

  // Requests.
  private readonly waiters = new Map<number, Waiter>();
  /** Requests not yet proposed: they go to Raft as one entry before the next Ready. */
  private batch: Uint8Array[] = [];
  private batchIds: number[] = [];
  private batchBytes = 0;
  private readonly reads: ReadIndexLoop;
  private appliedWaiters: { index: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  private readonly conditions = new Set<Condition>();

  // The loop.
  private loopRunning = false;
  private loopScheduled = false;
  private loopPromise: Promise<void> = Promise.resolve();
  private tickTimer: NodeJS.Timeout | undefined;
  private leaseTimer: NodeJS.Timeout | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private closing: Promise<void> | undefined;
  private snapshotting = false;
  private publishing = false;
  private nextPublishAt = 0;
  private readonly leaderClients = new Map<string, MembersClient>();
  private readonly peer: PeerListener;
  private removedSelf = false;
  /** Where removed members were, to tell them if they keep sending (not replicated). */
  private readonly removedPeerUrls = new Map<NodeId, string>();
  private readonly toldRemovedAt = new Map<NodeId, number>();

  // Counters.
  private leaderChanges = 0;
  private proposalsFailed = 0;
  private readonly fsyncHistogram: Histogram;
  private readonly snapshotHistogram = Histogram.diskLatency();

  /** Opens (or creates) the member's data directory and starts it. See StoreServerConfig. */
  static async start(config: StoreServerConfig): Promise<StoreServer> {
    const c = resolveConfig(config);
    const logger = config.logger ?? SILENT;
    const plan = await planStart(c);
    if (plan.ignored !== undefined) logger.log("warn", plan.ignored);
    const fsyncHistogram = Histogram.diskLatency();
    let server: StoreServer | undefined;
    // Every member syncs on the event loop's thread, blocking only after the turn's replies,
    // appends and forwarded proposals have reached their sockets (syncAfterTurn): the
    // thread-pool round trip is CPU on every member (the worker's wake-up preempts the loop on
    // a busy machine; 10% of the leader's samples under put64). The leader's appends still
    // leave before its own fsync (thesis §10.2.1); what it gives up is reading acknowledgements
    // and requests during the flush, which it then takes in one batch. A/B of the leader's
    // sync, bench:store put64: member CPU per put -10 to -15% in 4 of 5 pairs, p99 no worse
    // (docs/store.md, "Measured 2026-12-06 08:44–08:52"). The histogram times the flush alone.
    const observe = (t0: number): void => fsyncHistogram.observe((performance.now() - t0) / 1000);
    const onLoopThread = syncAfterTurn((fd) => {
      const t0 = performance.now();
      fdatasyncSync(fd);
      observe(t0);
    });
    const timedSync: SyncFile = async (fh) => {
      if (config.syncFile === undefined) return onLoopThread(fh);
      const t0 = performance.now();
      await config.syncFile(fh);
      observe(t0);
    };
    const storage = await DiskStorage.open(c.dataDir, {
      metadata: { clusterId: plan.clusterId, memberId: plan.memberId },
      ...(c.snapshotCatchUpEntries !== undefined
        ? { catchUpEntries: c.snapshotCatchUpEntries }
        : {}),
      wal: { syncFile: timedSync, logger: { warn: (m) => logger.log("warn", m) } },
    });
    try {
      server = new StoreServer(c, config, plan, storage, fsyncHistogram, logger);
      await server.init(plan);
      return server;
    } catch (e) {
      if (server !== undefined) await server.close({ transferLeadership: false });
      else await storage.close();
      throw e;
    }
  }

  private constructor(
    c: ResolvedConfig,
    config: StoreServerConfig,
    plan: StartPlan,
    private readonly storage: DiskStorage,
    fsyncHistogram: Histogram,
    logger: StoreLogger,
  ) {
    this.c = c;
    this.logger = logger;
    this.memberId = plan.memberId;
    this.clusterId = plan.clusterId;
    this.name = c.name;
    this.clientUrls = c.clientUrls;
    this.fsyncHistogram = fsyncHistogram;
    this.ids = new RequestIds(c.wallClock());
    this.sm = new StateMachine({
      lessor: {
        minTtl: minLeaseTtl(c.electionTicks, c.heartbeatMs),
        random: c.random,
        ...(c.leaseCheckpointIntervalMs !== undefined
          ? { checkpointIntervalMs: c.leaseCheckpointIntervalMs }
          : {}),
      },
      maxLearners: c.maxLearners,
    });
    this.watchSource = this.sm.events;

    const snap = storage.snapshot();
    if (snap.metadata.index > 0) this.sm.restore(snap.data);
    this.appliedIndex = snap.metadata.index;
    this.snapshotIndex = snap.metadata.index;
    const hs = storage.initialState().hardState;
    this.term = hs.term;
    this.commitIndex = Math.max(hs.commit, snap.metadata.index);
    this.persistedTerm = hs.term;
    this.persistedVote = hs.vote;

    this.rawNode = new RawNode({
      id: this.memberId,
      electionTick: c.electionTicks,
      heartbeatTick: 1,
      storage,
      random: (n) => Math.min(n - 1, Math.floor(c.random() * n)),
      applied: snap.metadata.index,
      maxUncommittedEntriesSize: MAX_UNCOMMITTED_BYTES,
      // Under load the leader's appends do its heartbeats' work: fewer messages per put.
      skipHeartbeatAfterAppend: true,
      // The proposals stepped while a Ready is handled go to each follower as one append.
      batchAppends: true,
    });

    this.reads = new ReadIndexLoop({
      memberId: this.memberId,
      lead: () => this.rawNode.lead,
      readIndex: (ctx) => this.rawNode.readIndex(ctx),
      nextId: () => this.ids.take(),
      now: c.now,
      timeoutMs: c.requestTimeoutMs,
      applied: () => this.appliedIndex,
      refused: (e) => this.proposeError(e),
      kick: () => this.kick(),
    });
    this.transport = new Transport({
      id: this.memberId,
      clusterId: this.clusterId,
      ...(config.faults !== undefined ? { faults: config.faults } : {}),
      onMessage: (m) => {
        if (this.stopped) return;
        if (this.sm.membership.isRemoved(m.from)) {
          this.tellRemoved(m.from);
          return;
        }
        try {
          this.rawNode.step(m);
        } catch (e) {
          // A late reply from a removed member, or garbage: drop it, as etcd does.
          if (!(e instanceof RaftError) || e.reason === "invariant-violated") throw e;
          this.logger.log("debug", "dropped a peer message", {
            type: m.type,
            from: m.from,
            error: e.message,
          });
          return;
        }
        this.kick();
      },
      // The snapshot reaches the disk in the Ready that installs it (DiskStorage.persist), and
      // this member acknowledges it to the leader only in that Ready's messages.
      onSnapshot: async () => {},
      onUnreachable: (id) => {
        if (this.stopped) return;
        this.rawNode.reportUnreachable(id);
        this.kick();
      },
      onSnapshotStatus: (id, status) => {
        if (this.stopped) return;
        this.rawNode.reportSnapshot(id, status);
        this.kick();
      },
      onPeerStreamBroken: (id, reason) => this.onPeerStreamBroken(id, reason),
      onPeerError: (id, error) =>
        this.logger.log("warn", "peer error", { peer: id?.toString(16), error: error.message }),
    });
    this.transport.attach(config.peer.server);
    addMembersService(config.peer.server, this);
    this.peer = config.peer;
  }

  /** Bootstraps a new cluster, replays the log, and starts the timers. */
  private async init(plan: StartPlan): Promise<void> {
    const hs = this.storage.initialState().hardState;
    if (plan.bootstrap !== undefined && this.storage.lastIndex() === 0 && isEmptyHardState(hs)) {
      this.rawNode.bootstrap(
        plan.bootstrap.map((m) => ({
          id: m.id,
          context: encodeConfChangeContext({ member: m, proposer: 0, id: 0 }),
        })),
      );
      this.logger.log("info", "bootstrapping a new cluster", {
        cluster: this.clusterId.toString(16),
        members: plan.bootstrap.map((m) => `${m.name}=${m.id.toString(16)}`).join(","),
      });
    }
    for (const m of [
      ...this.sm.membership.list(),
      ...(plan.bootstrap ?? []),
      ...plan.knownMembers,
    ]) {
      this.addPeer(m);
    }
    // Replay what the WAL holds beyond the snapshot before serving anything.
    await this.runReadyLoop();
    if (this.sm.membership.isRemoved(this.memberId)) {
      throw new StoreError(
        "FAILED_PRECONDITION",
        `member ${this.memberId.toString(16)} was removed from the cluster: it cannot start again on this data directory; add it anew (etcdctl member add) with an empty --data-dir`,
      );
    }
    this.tickTimer = setInterval(() => this.onTick(), this.c.heartbeatMs);
    this.leaseTimer = setInterval(() => this.onLeaseTimer(), EXPIRY_CHECK_INTERVAL_MS);
    this.logger.log("info", "member started", {
      name: this.name,
      member: this.memberId.toString(16),
      cluster: this.clusterId.toString(16),
      applied: this.appliedIndex,
      commit: this.commitIndex,
    });
    this.kick();
  }

  // ================================================================ public surface

  /** The client URLs published in the member list (etcd's --advertise-client-urls). */
  setClientUrls(urls: readonly string[]): void {
    this.clientUrls = [...urls];
    this.nextPublishAt = 0;
  }

  /** Stops the member. A leader first hands leadership to its most caught-up voter (etcd does). */
  close(options: { transferLeadership?: boolean } = {}): Promise<void> {
    this.closing ??= this.shutdown(options.transferLeadership ?? true);
    return this.closing;
  }

  /** The Raft core's status, with who this member is. */
  raftStatus(): RaftStatus {
    return {
      ...this.rawNode.status(),
      memberId: this.memberId,
      clusterId: this.clusterId,
      name: this.name,
    };
  }

  /**
   * Starts an election now (a pre-vote first), as if the election timeout had passed: for
   * operators and failover experiments. It cannot depose a leader the others still hear from.
   */
  campaign(): void {
    if (this.stopped) return;
    this.rawNode.campaign();
    this.kick();
  }

  get isLeader(): boolean {
    return this.role === "leader";
  }

  /** The leader this member knows of; 0 for none. */
  get leader(): NodeId {
    return this.lead;
  }

  get appliedIndexNow(): number {
    return this.appliedIndex;
  }

  metrics(): StoreServerMetrics {
    const peers: PeerMetrics[] = [];
    for (const id of this.transport.peerIds()) {
      const s = this.transport.peerStats(id);
      if (s === undefined) continue;
      peers.push({
        id,
        url: s.url,
        connected: s.connected,
        roundTripMs: s.roundTripMs,
        sentMessages: s.sentMessages,
        droppedMessages: s.droppedMessages,
        receivedMessages: s.receivedMessages,
      });
    }
    const ks = this.sm.keyspace;
    return {
      hasLeader: this.lead !== NONE,
      isLeader: this.role === "leader",
      role: this.role,
      term: this.term,
      leaderChanges: this.leaderChanges,
      proposalsCommitted: this.commitIndex,
      proposalsApplied: this.appliedIndex,
      proposalsPending: this.waiters.size,
      proposalsFailed: this.proposalsFailed,
      readsPending: this.reads.pending,
      walFsync: this.fsyncHistogram.snapshot(),
      snapshotSave: this.snapshotHistogram.snapshot(),
      dbSizeBytes: ks.sizeBytes(),
      revision: ks.revision,
      compactRevision: ks.compactRevision,
      leases: this.sm.lessor.size,
      snapshotIndex: this.snapshotIndex,
      peers,
    };
  }

  /**
   * Resolves with true once `check()` holds after some Ready, false after `timeoutMs`. For the
   * process (readiness) and tests; `check` should be cheap.
   */
  waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
    if (check()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const cond: Condition = {
        check,
        resolve: (met) => {
          clearTimeout(timer);
          this.timers.delete(timer);
          this.conditions.delete(cond);
          resolve(met);
        },
      };
      const timer = setTimeout(() => cond.resolve(false), timeoutMs);
      this.timers.add(timer);
      this.conditions.add(cond);
    });
  }

  // ================================================================ EtcdBackend

  header(): ResponseHeaderInfo {
    return {
      clusterId: this.clusterId,
      memberId: this.memberId,
      revision: this.sm.keyspace.revision,
      raftTerm: this.term,
    };
  }

  async range(r: RangeRequest): Promise<RangeResponse> {
    if (!r.serializable) await this.reads.barrier();
    return this.sm.keyspace.range(r);
  }

  put(r: PutRequest): Promise<PutResponse> {
    return this.propose({ type: "put", put: r });
  }

  deleteRange(r: DeleteRangeRequest): Promise<DeleteRangeResponse> {
    return this.propose({ type: "deleteRange", deleteRange: r });
  }

  async txn(r: TxnRequest): Promise<TxnResponse> {
    if (!isReadOnlyTxn(r)) return this.propose({ type: "txn", txn: r });
    if (!isSerializableTxn(r)) await this.reads.barrier();
    return this.sm.keyspace.txn(r);
  }

  compact(revision: number, physical: boolean): Promise<CompactionResponse> {
    return this.propose({ type: "compaction", revision, physical });
  }

  leaseGrant(ttl: number, id: number): Promise<LeaseGrantResult> {
    if (ttl > MAX_LEASE_TTL) return Promise.reject(StoreError.etcd("leaseTtlTooLarge"));
    // The proposer picks the id, so that every member applies the same grant.
    const leaseId = id === 0 ? this.sm.lessor.chooseId() : id;
    return this.propose({ type: "leaseGrant", id: leaseId, ttl });
  }

  async leaseRevoke(id: number): Promise<void> {
    await this.propose({ type: "leaseRevoke", id });
  }

  async leaseKeepAlive(id: number): Promise<number> {
    if (this.role === "leader") return this.leaderKeepAlive(id);
    return this.forwardToLeader((c) =>
      c.leaseKeepAlive(this.clusterId, id, this.c.requestTimeoutMs),
    );
  }

  async leaseTimeToLive(id: number, withKeys: boolean): Promise<LeaseTimeToLiveResult> {
    if (this.role === "leader") return this.leaderTimeToLive(id, withKeys);
    return this.forwardToLeader((c) =>
      c.leaseTimeToLive(this.clusterId, id, withKeys, this.c.requestTimeoutMs),
    );
  }

  async leaseLeases(): Promise<readonly number[]> {
    return this.sm.lessor.leases();
  }

  async memberList(): Promise<readonly Member[]> {
    return this.sm.membership.list();
  }

  async memberAdd(peerUrls: readonly string[], isLearner: boolean): Promise<MemberAddResult> {
    const ms = this.sm.membership;
    if (ms.peerUrlOwner(peerUrls) !== undefined) throw StoreError.etcd("peerUrlExists");
    if (isLearner && ms.learnerCount() >= this.c.maxLearners) {
      throw StoreError.etcd("tooManyLearners");
    }
    let id = computeMemberId(peerUrls, this.c.clusterToken, Math.floor(this.c.wallClock() / 1000));
    while (ms.get(id) !== undefined || ms.isRemoved(id)) id = (id % Number.MAX_SAFE_INTEGER) + 1;
    const member: Member = { id, name: "", peerUrls: [...peerUrls], clientUrls: [], isLearner };
    const members = await this.proposeConfChange(isLearner ? "AddLearnerNode" : "AddNode", member);
    return { member, members };
  }

  async memberRemove(id: number): Promise<readonly Member[]> {
    const m = this.sm.membership.get(id);
    if (m === undefined) throw StoreError.etcd("memberNotFound");
    return this.proposeConfChange("RemoveNode", m);
  }

  async memberPromote(id: number): Promise<readonly Member[]> {
    const m = this.sm.membership.get(id);
    if (m === undefined) throw StoreError.etcd("memberNotFound");
    if (!m.isLearner) throw StoreError.etcd("memberNotLearner");
    if (this.role === "leader") await this.leaderLearnerReady(id);
    else {
      await this.forwardToLeader((c) =>
        c.learnerReady(this.clusterId, id, this.c.requestTimeoutMs),
      );
    }
    return this.proposeConfChange("AddNode", { ...m, isLearner: false });
  }

  async status(): Promise<StatusResult> {
    const size = this.sm.keyspace.sizeBytes();
    return {
      version: ETCD_API_VERSION,
      dbSize: size,
      dbSizeInUse: size,
      leader: this.lead,
      raftIndex: this.commitIndex,
      raftTerm: this.term,
      raftAppliedIndex: this.appliedIndex,
      errors: [],
      isLearner: this.sm.membership.get(this.memberId)?.isLearner ?? false,
    };
  }

  async hashKv(revision: number): Promise<HashKvResult> {
    const ks = this.sm.keyspace;
    const rev = revision > 0 ? revision : ks.revision;
    return { hash: ks.hash(rev), compactRevision: ks.compactRevision, revision: rev };
  }

  /**
   * This member's applied state as one image (etcd streams its bbolt file): "TUGSTOR1", the
   * StateSnapshot's length as a big-endian uint64, the StateSnapshot (the same bytes a Raft
   * snapshot carries), zero padding to a multiple of 512 bytes (see SnapshotImage).
   */
  async snapshot(): Promise<SnapshotImage> {
    const state = this.sm.serialize(this.appliedIndex);
    const body = IMAGE_MAGIC.length + 8 + state.length;
    const image = Buffer.alloc(Math.ceil(body / IMAGE_ALIGN) * IMAGE_ALIGN);
    IMAGE_MAGIC.copy(image, 0);
    image.writeBigUInt64BE(BigInt(state.length), IMAGE_MAGIC.length);
    image.set(state, IMAGE_MAGIC.length + 8);
    return {
      revision: this.sm.keyspace.revision,
      size: image.length,
      chunks: (async function* () {
        yield image;
      })(),
    };
  }

  async moveLeader(targetId: number): Promise<void> {
    if (this.role !== "leader") throw StoreError.etcd("notLeader");
    if (targetId === this.memberId) return;
    const m = this.sm.membership.get(targetId);
    if (m === undefined || m.isLearner) {
      throw new StoreError("FAILED_PRECONDITION", "etcdserver: bad leader transferee");
    }
    this.rawNode.transferLeader(targetId);
    this.kick();
    const moved = await this.waitFor(() => this.lead === targetId, 2 * this.c.electionMs);
    if (!moved) {
      throw new StoreError(
        "UNAVAILABLE",
        "etcdserver: request timed out, leader transfer took too long",
      );
    }
  }

  // ================================================================ Members service (leader side)

  currentMembers(): readonly Member[] {
    return this.sm.membership.list();
  }

  removedNotice(memberId: number): void {
    if (memberId !== this.memberId || this.removedSelf || this.stopped) return;
    this.logger.log("warn", "another member says this one was removed from the cluster", {
      member: this.memberId.toString(16),
    });
    this.onRemovedSelf();
  }

  async leaderKeepAlive(leaseId: number): Promise<number> {
    if (this.role !== "leader") throw StoreError.etcd("notLeader");
    // A lease granted in an entry this new leader has committed but not applied must be found.
    await this.waitApplied(this.commitIndex);
    return this.sm.lessor.renew(leaseId, this.c.now());
  }

  async leaderTimeToLive(leaseId: number, keys: boolean): Promise<LeaseTimeToLiveResult> {
    if (this.role !== "leader") throw StoreError.etcd("notLeader");
    await this.waitApplied(this.commitIndex);
    const r = this.sm.lessor.timeToLive(leaseId, this.c.now(), keys);
    if (r.grantedTtl === 0) throw StoreError.etcd("leaseNotFound");
    return { id: leaseId, ttl: r.ttl, grantedTtl: r.grantedTtl, keys: r.keys };
  }

  async leaderLearnerReady(memberId: number): Promise<void> {
    if (this.role !== "leader") throw StoreError.etcd("notLeader");
    const st = this.rawNode.status();
    const learner = st.progress.get(memberId);
    if (learner === undefined) throw StoreError.etcd("memberNotFound");
    if (!learner.isLearner) throw StoreError.etcd("memberNotLearner");
    const leaderMatch = st.progress.get(this.memberId)?.match ?? st.commit;
    if (learner.match < leaderMatch * LEARNER_READY_PERCENT) {
      throw StoreError.etcd("learnerNotReady");
    }
  }

  // ================================================================ proposals

  private propose<K extends StoreOp["type"]>(
    op: Extract<StoreOp, { type: K }>,
  ): Promise<OpResults[K]> {
    return this.submit((id) => {
      const bytes = encodeRequest({ proposer: this.memberId, id, op });
      if (this.batchBytes > 0 && this.batchBytes + bytes.length > MAX_BATCH_BYTES) {
        this.flushProposals();
      }
      this.batch.push(bytes);
      this.batchIds.push(id);
      this.batchBytes += bytes.length;
    }) as Promise<OpResults[K]>;
  }

  /** Proposes the batched requests as one entry; on a refusal they all fail with its reason. */
  private flushProposals(): void {
    if (this.batch.length === 0) return;
    let requests = this.batch;
    let ids = this.batchIds;
    this.batch = [];
    this.batchIds = [];
    this.batchBytes = 0;
    if (ids.some((id) => !this.waiters.has(id))) {
      // Failed already (a leader change, a timeout): their clients were told, don't apply them.
      requests = requests.filter((_, i) => this.waiters.has(ids[i] as number));
      ids = ids.filter((id) => this.waiters.has(id));
      if (ids.length === 0) return;
    }
    try {
      this.rawNode.propose(encodeBatch(requests));
    } catch (e) {
      const err = this.proposeError(e);
      for (const id of ids) {
        const w = this.takeWaiter(id);
        if (w === undefined) continue;
        this.proposalsFailed++;
        w.reject(err);
      }
    }
  }

  private proposeConfChange(type: ConfChangeType, member: Member): Promise<readonly Member[]> {
    return this.submit((id) => {
      const cc: ConfChange = {
        type,
        nodeId: member.id,
        context: encodeConfChangeContext({ member, proposer: this.memberId, id }),
      };
      this.rawNode.proposeConfChange(cc);
    }) as Promise<readonly Member[]>;
  }

  /** Hands a request to Raft under a fresh id; resolves when this member applies its entry. */
  private submit(toRaft: (id: number) => void): Promise<unknown> {
    if (this.stopped) return Promise.reject(StoreError.etcd("stopped"));
    const lead = this.rawNode.lead;
    if (lead === NONE) {
      this.proposalsFailed++;
      return Promise.reject(StoreError.etcd("noLeader"));
    }
    const id = this.ids.take();
    try {
      toRaft(id);
    } catch (e) {
      this.proposalsFailed++;
      return Promise.reject(this.proposeError(e));
    }
    this.kick();
    return new Promise((resolve, reject) => {
      this.waiters.set(id, {
        resolve,
        reject,
        deadline: this.c.now() + this.c.requestTimeoutMs,
        lead,
      });
    });
  }

  private proposeError(e: unknown): Error {
    if (!(e instanceof RaftError)) return e instanceof Error ? e : new Error(String(e));
    if (e.reason === "conf-change-pending") {
      return new StoreError(
        "FAILED_PRECONDITION",
        "etcdserver: another membership change is in progress; retry once it is applied",
        { cause: e },
      );
    }
    if (e.reason === "proposal-dropped") {
      if (this.rawNode.lead === NONE) return StoreError.etcd("noLeader", { cause: e });
      if (this.rawNode.status().leadTransferee !== NONE) {
        return StoreError.etcd("leaderChanged", { cause: e });
      }
      return StoreError.etcd("tooManyRequests", { cause: e });
    }
    return new StoreError("INTERNAL", e.message, { cause: e });
  }

  private takeWaiter(id: number): Waiter | undefined {
    const w = this.waiters.get(id);
    if (w !== undefined) this.waiters.delete(id);
    return w;
  }

  // ================================================================ reads

  /** Resolves once the applied index reaches `index`. */
  private waitApplied(index: number): Promise<void> {
    if (index <= this.appliedIndex) return Promise.resolve();
    if (this.stopped) return Promise.reject(StoreError.etcd("stopped"));
    return new Promise((resolve, reject) => this.appliedWaiters.push({ index, resolve, reject }));
  }

  // ================================================================ leases and peers

  private async forwardToLeader<T>(call: (client: MembersClient) => Promise<T>): Promise<T> {
    const lead = this.rawNode.lead;
    if (lead === NONE) throw StoreError.etcd("noLeader");
    const url = this.sm.membership.get(lead)?.peerUrls[0];
    if (url === undefined) throw StoreError.etcd("noLeader");
    let client = this.leaderClients.get(url);
    if (client === undefined) {
      client = new MembersClient(url);
      this.leaderClients.set(url, client);
    }
    try {
      return await call(client);
    } catch (e) {
      const err = e instanceof StoreError ? e : StoreError.etcd("noLeader", { cause: e });
      // The leader could not be reached (it died or moved): say so the way etcd does.
      if (!err.message.startsWith("etcdserver:") && err.code === "UNAVAILABLE") {
        throw StoreError.etcd("noLeader", { cause: err });
      }
      if (err.code === "DEADLINE_EXCEEDED") throw StoreError.etcd("timeout", { cause: err });
      throw err;
    }
  }

  private onLeaseTimer(): void {
    if (this.stopped || this.role !== "leader") return;
    const now = this.c.now();
    const lessor = this.sm.lessor;
    const limit = (LEASE_REVOKE_RATE * EXPIRY_CHECK_INTERVAL_MS) / 1000;
    for (const id of lessor.expired(now, limit)) {
      this.propose({ type: "leaseRevoke", id }).catch((e: unknown) => {
        this.logger.log("debug", "revoking an expired lease failed", {
          lease: id.toString(16),
          error: String(e),
        });
      });
    }
    const checkpoints = lessor.dueCheckpoints(now, MAX_CHECKPOINT_BATCH);
    if (checkpoints.length > 0) {
      this.propose({ type: "leaseCheckpoint", checkpoints }).catch(() => {
        // The next round proposes the due ones again.
      });
    }
  }

  private addPeer(m: Member): void {
    const url = m.peerUrls[0];
    if (m.id === this.memberId || url === undefined || this.transport.hasPeer(m.id)) return;
    try {
      this.transport.addPeer(m.id, url);
    } catch (e) {
      this.logger.log("error", "cannot reach a member", {
        member: m.id.toString(16),
        url,
        error: String(e),
      });
    }
  }

  private onPeerStreamBroken(id: NodeId, reason: string): void {
    if (this.stopped || !this.c.fastFailover) return;
    if (id !== this.rawNode.lead || this.role === "leader") return;
    this.logger.log("info", "the stream from the leader broke; pre-voting now", {
      leader: id.toString(16),
      reason,
    });
    this.rawNode.forgetLeader();
    this.kick();
    this.fastElection(0, this.c.now());
  }

  /**
   * Campaigns after a random wait in [0, 2 × heartbeat), and again while no leader emerges:
   * two followers that campaign within a round trip of each other both pass the pre-vote and
   * split the vote, and without another try they would wait out the election timeout. Each try
   * starts with a pre-vote, so a try while a leader exists is refused without effect. Stops
   * after an election timeout, when the Raft core's own timer has taken over.
   */
  private fastElection(attempt: number, startedAt: number): void {
    const hb = this.c.heartbeatMs;
    const wait = (attempt === 0 ? 0 : 4 * hb) + Math.floor(this.c.random() * 2 * hb);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.stopped || this.rawNode.lead !== NONE) return;
      if (this.c.now() - startedAt > this.c.electionMs) return;
      this.rawNode.campaign();
      this.kick();
      this.fastElection(attempt + 1, startedAt);
    }, wait);
    this.timers.add(timer);
  }

  private maybePublish(): void {
    if (this.publishing || this.stopped || this.rawNode.lead === NONE) return;
    if (this.c.now() < this.nextPublishAt) return;
    const self = this.sm.membership.get(this.memberId);
    if (self === undefined) return; // not yet caught up with its own addition
    if (self.name === this.name && sameUrls(self.clientUrls, this.clientUrls)) return;
    this.publishing = true;
    this.propose({
      type: "memberAttributes",
      memberId: this.memberId,
      name: this.name,
      clientUrls: this.clientUrls,
    }).then(
      () => {
        this.publishing = false;
        this.logger.log("info", "published member attributes", {
          name: this.name,
          clientUrls: this.clientUrls.join(","),
        });
      },
      () => {
        this.publishing = false;
        this.nextPublishAt = this.c.now() + PUBLISH_RETRY_MS;
      },
    );
  }

  // ================================================================ the loop

  private onTick(): void {
    if (this.stopped) return;
    this.rawNode.tick();
    this.expireRequests();
    this.reads.onTick();
    this.maybePublish();
    this.kick();
  }

  /** Runs the Ready loop soon, unless it is running (it picks the new work up itself). */
  private kick(): void {
    if (this.loopRunning || this.loopScheduled || this.stopped) return;
    this.loopScheduled = true;
    setImmediate(() => {
      this.loopScheduled = false;
      if (this.loopRunning || this.stopped) return;
      this.loopPromise = this.runReadyLoop();
    });
  }

  private async runReadyLoop(): Promise<void> {
    if (this.loopRunning) return;
    this.loopRunning = true;
    try {
      while (!this.stopped) {
        this.flushProposals();
        if (!this.rawNode.hasReady()) break;
        await this.handleReady(this.rawNode.ready());
      }
    } catch (e) {
      this.fatal(e);
    } finally {
      this.loopRunning = false;
    }
  }

  private async handleReady(rd: Ready): Promise<void> {
    if (rd.softState !== undefined) this.onSoftState(rd.softState);
    for (const ev of rd.events) this.onRaftEvent(ev);
    const hs = rd.hardState;
    if (hs !== undefined) {
      this.term = hs.term;
      if (hs.commit > this.commitIndex) this.commitIndex = hs.commit;
    }
    const snapshot =
      rd.snapshot !== undefined && !isEmptySnapshot(rd.snapshot) ? rd.snapshot : undefined;
    // See the top of this file for why a leader may send before its own fsync.
    const sendFirst =
      this.role === "leader" &&
      (hs === undefined || (hs.term === this.persistedTerm && hs.vote === this.persistedVote));
    let messages = this.withCurrentSnapshots(rd.messages);
    if (sendFirst && messages.length > 0) this.transport.send(messages);
    else if (messages.length > 0) messages = this.sendStateless(messages);
    // Committed entries already on this member's disk (written by earlier Readies) are applied
    // while this Ready's writes go to disk, as etcd applies in parallel with its WAL write: a
    // write is acknowledged one fsync sooner. Entries of this very Ready (a lone member commits
    // what it appends at once) wait for the disk.
    const committed = rd.committedEntries;
    const firstNew =
      snapshot !== undefined ? 0 : (rd.entries[0]?.index ?? Number.POSITIVE_INFINITY);
    let durable = 0;
    while (durable < committed.length && (committed[durable] as Entry).index < firstNew) durable++;
    if (rd.entries.length > 0 || snapshot !== undefined || rd.mustSync) {
      const written = this.storage.persist({
        hardState: hs,
        entries: rd.entries,
        snapshot,
        mustSync: rd.mustSync,
      });
      if (durable > 0) {
        this.applyEntries(committed, 0, durable);
        this.afterApply();
      }
      await written;
      if (hs !== undefined) {
        this.persistedTerm = hs.term;
        this.persistedVote = hs.vote;
      }
    } else {
      if (hs !== undefined) {
        // Only the commit index moved. It need not be durable (Raft recovers it), so nothing
        // waits for this write: the WAL keeps it in order with the writes after it.
        this.storage
          .persist({ hardState: hs, entries: [], mustSync: false })
          .catch((e: unknown) => {
            this.fatal(e);
          });
      }
      this.applyEntries(committed, 0, durable);
    }
    if (snapshot !== undefined) this.installSnapshot(snapshot);
    if (!sendFirst && messages.length > 0) this.transport.send(messages);
    this.applyEntries(committed, durable, committed.length);
    this.rawNode.advance(rd);
    for (const rs of rd.readStates) this.reads.onReadState(rs);
    this.afterApply();
  }

  /**
   * Sends at once the messages that carry none of this member's state — proposals and read
   * requests it forwards to the leader (MsgProp, MsgReadIndex: the leader takes them as its own,
   * without a term) — and returns the rest, which wait for this Ready's fsync (Raft §5, Figure
   * 2: stable storage before responding to RPCs). A put made on a follower is thus not held back
   * by that follower's disk; the leader's pipeline sends everything first anyway.
   */
  private sendStateless(messages: readonly Message[]): readonly Message[] {
    let stateless = 0;
    for (const m of messages) if (m.type === "MsgProp" || m.type === "MsgReadIndex") stateless++;
    if (stateless === 0) return messages;
    if (stateless === messages.length) {
      this.transport.send(messages);
      return [];
    }
    const now: Message[] = [];
    const later: Message[] = [];
    for (const m of messages) {
      (m.type === "MsgProp" || m.type === "MsgReadIndex" ? now : later).push(m);
    }
    this.transport.send(now);
    return later;
  }

  /**
   * Sends a lagging member the state as applied now rather than the last snapshot saved
   * (etcd's createMergedSnapshotMessage): that one may predate the member's own addition, and
   * a member drops a snapshot whose configuration leaves it out. Called before this Ready's
   * entries are applied, so the state, its index and the configuration agree.
   */
  private withCurrentSnapshots(messages: readonly Message[]): readonly Message[] {
    if (!messages.some((m) => m.type === "MsgSnap")) return messages;
    const index = this.appliedIndex;
    let term: number;
    try {
      term = this.storage.term(index);
    } catch {
      return messages; // not in the log any more: the saved snapshot is at least as new
    }
    const snapshot: Snapshot = {
      data: this.sm.serialize(index),
      metadata: { index, term, confState: this.rawNode.status().config },
    };
    return messages.map((m) =>
      m.type === "MsgSnap" && (m.snapshot?.metadata.index ?? 0) <= index ? { ...m, snapshot } : m,
    );
  }

  /** Applies entries[from, to). */
  private applyEntries(entries: readonly Entry[], from: number, to: number): void {
    for (let i = from; i < to; i++) {
      const e = entries[i] as Entry;
      if (e.index <= this.appliedIndex) continue; // already in the snapshot restored
      if (e.type === "EntryConfChange") this.applyConfChangeEntry(e);
      else if (e.data.length > 0) this.applyRequestEntry(e);
      this.appliedIndex = e.index;
      if (e.index > this.commitIndex) this.commitIndex = e.index;
    }
  }

  private applyRequestEntry(e: Entry): void {
    let requests: (StoreRequest | StoreError)[];
    try {
      requests = decodeBatch(e.data);
    } catch (err) {
      // Every member skips it alike.
      this.logger.log("error", "skipping a log entry that holds no requests", {
        index: e.index,
        error: String(err),
      });
      return;
    }
    for (const req of requests) {
      if (req instanceof StoreError) {
        this.logger.log("error", "skipping a request this version cannot read", {
          index: e.index,
          error: req.message,
        });
        continue;
      }
      this.applyRequest(req);
    }
  }

  private applyRequest(req: StoreRequest): void {
    const w = req.proposer === this.memberId ? this.takeWaiter(req.id) : undefined;
    let result: OpResult;
    try {
      result = this.sm.apply(req.op);
    } catch (err) {
      // A refused request changed nothing, here as on every member. Anything else is a bug:
      // stop rather than diverge from the others.
      if (!(err instanceof StoreError)) throw err;
      if (w !== undefined) {
        this.proposalsFailed++;
        w.reject(err);
      }
      return;
    }
    w?.resolve(result);
  }

  private applyConfChangeEntry(e: Entry): void {
    const cc = decodeConfChange(e.data);
    let ctx: ReturnType<typeof decodeConfChangeContext>;
    try {
      ctx = decodeConfChangeContext(cc.context);
    } catch (err) {
      this.logger.log("error", "skipping a conf change without a member", {
        index: e.index,
        error: String(err),
      });
      return;
    }
    const w = ctx.proposer === this.memberId ? this.takeWaiter(ctx.id) : undefined;
    let members: readonly Member[];
    try {
      members = this.sm.applyConfChange(cc, ctx);
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      // Refused alike everywhere; Raft's configuration stays as it is too.
      if (w !== undefined) {
        this.proposalsFailed++;
        w.reject(err);
      }
      return;
    }
    const confState = this.rawNode.applyConfChange(cc);
    this.logger.log("info", "membership changed", {
      change: cc.type,
      member: cc.nodeId.toString(16),
      voters: confState.voters.map((v) => v.toString(16)).join(","),
      learners: confState.learners.map((v) => v.toString(16)).join(","),
    });
    if (cc.type === "RemoveNode") {
      if (cc.nodeId === this.memberId) this.onRemovedSelf();
      else {
        this.transport.removePeer(cc.nodeId);
        const url = ctx.member.peerUrls[0];
        if (url !== undefined) this.removedPeerUrls.set(cc.nodeId, url);
      }
    } else {
      this.addPeer(ctx.member);
    }
    w?.resolve(members);
  }

  private installSnapshot(snap: Snapshot): void {
    this.sm.restore(snap.data);
    const index = snap.metadata.index;
    this.appliedIndex = index;
    if (index > this.snapshotIndex) this.snapshotIndex = index;
    if (index > this.commitIndex) this.commitIndex = index;
    for (const m of this.sm.membership.list()) this.addPeer(m);
    for (const id of this.transport.peerIds()) {
      if (this.sm.membership.isRemoved(id)) this.transport.removePeer(id);
    }
    // Their entries may be inside the snapshot, applied without this member seeing them.
    this.failWaiters(() => true, StoreError.etcd("timeout"));
    this.logger.log("info", "installed a snapshot from the leader", {
      index,
      term: snap.metadata.term,
      revision: this.sm.keyspace.revision,
    });
  }

  private afterApply(): void {
    this.reads.onApplied();
    if (this.appliedWaiters.length > 0) {
      const still = [];
      for (const w of this.appliedWaiters) {
        if (w.index <= this.appliedIndex) w.resolve();
        else still.push(w);
      }
      this.appliedWaiters = still;
    }
    if (this.role === "leader") this.sm.lessor.anchor(this.c.now());
    this.maybeSnapshot();
    for (const cond of this.conditions) if (cond.check()) cond.resolve(true);
  }

  private maybeSnapshot(): void {
    if (this.snapshotting || this.appliedIndex - this.snapshotIndex < this.c.snapshotCount) return;
    const index = this.appliedIndex;
    const t0 = performance.now();
    const data = this.sm.serialize(index);
    const confState = this.rawNode.status().config;
    this.snapshotting = true;
    this.storage.createSnapshot(index, confState, data).then(
      () => {
        this.snapshotting = false;
        if (index > this.snapshotIndex) this.snapshotIndex = index;
        this.snapshotHistogram.observe((performance.now() - t0) / 1000);
        this.logger.log("info", "saved a snapshot", { index, bytes: data.length });
      },
      (e: unknown) => {
        this.snapshotting = false;
        // A snapshot from the leader may have overtaken it; the next one will do.
        this.logger.log("warn", "saving a snapshot failed", { index, error: String(e) });
      },
    );
  }

  private onSoftState(ss: SoftState): void {
    const prevRole = this.role;
    const prevLead = this.lead;
    this.role = ss.role;
    this.lead = ss.lead;
    if (ss.lead !== NONE && ss.lead !== this.lastLead) {
      this.leaderChanges++;
      this.lastLead = ss.lead;
      // Requests made under another leader may be lost: let their clients retry now.
      this.failStale((lead) => lead !== ss.lead);
    }
    if (prevRole === "leader" && ss.role !== "leader") {
      this.sm.lessor.demote();
      // Whatever this member took as leader may never commit now.
      this.failStale((lead) => lead === this.memberId);
    } else if (ss.role === "leader" && prevRole !== "leader") {
      // etcd's rule: every lease gets an election timeout more, for the keep-alives that
      // could not reach anyone while there was no leader.
      this.sm.lessor.promote(this.c.now(), this.c.electionMs);
    }
    if (ss.lead !== prevLead) {
      this.logger.log(
        ss.lead === NONE ? "warn" : "info",
        ss.lead === NONE ? "no leader" : "leader elected",
        {
          lead: ss.lead.toString(16),
          term: this.rawNode.status().term,
        },
      );
      this.events.emit("leader-changed", ss.lead, this.rawNode.status().term);
    }
    if (ss.role !== prevRole) {
      this.logger.log("info", `became ${ss.role}`, { term: this.rawNode.status().term });
      this.events.emit("role-changed", ss.role, this.rawNode.status().term);
    }
  }

  private onRaftEvent(ev: RaftEvent): void {
    this.events.emit("raft", ev);
    this.logger.log("debug", `raft: ${ev.type}`, { ...ev } as Record<string, unknown>);
  }

  /** Fails the proposals and the ReadIndex in flight made under a leader `stale` picks. */
  private failStale(stale: (lead: NodeId) => boolean): void {
    const err = StoreError.etcd("leaderChanged");
    this.failWaiters((w) => stale(w.lead), err);
    this.reads.failStale(stale, err);
  }

  private failWaiters(which: (w: Waiter) => boolean, err: StoreError): void {
    for (const [id, w] of this.waiters) {
      if (!which(w)) continue;
      this.waiters.delete(id);
      this.proposalsFailed++;
      w.reject(err);
    }
  }

  private expireRequests(): void {
    const now = this.c.now();
    for (const [id, w] of this.waiters) {
      // Deadlines grow with insertion order (one timeout for all), so stop at the first alive.
      if (w.deadline > now) break;
      this.waiters.delete(id);
      this.proposalsFailed++;
      w.reject(StoreError.etcd("timeout"));
    }
  }

  /**
   * A removed member still sends to us: it missed the commit of its own removal (the leader
   * stopped replicating to it at once). Tell it, at most once per election timeout.
   */
  private tellRemoved(id: NodeId): void {
    const url = this.removedPeerUrls.get(id);
    const now = this.c.now();
    if (url === undefined || (this.toldRemovedAt.get(id) ?? -Infinity) > now - this.c.electionMs) {
      return;
    }
    this.toldRemovedAt.set(id, now);
    const client = new MembersClient(url);
    client
      .removed(this.clusterId, id, this.c.requestTimeoutMs)
      .catch(() => {
        // It will send again, and be told again.
      })
      .finally(() => client.close());
  }

  private onRemovedSelf(): void {
    if (this.removedSelf) return;
    this.removedSelf = true;
    this.logger.log("warn", "this member was removed from the cluster; stopping", {
      member: this.memberId.toString(16),
    });
    this.events.emit("removed");
    // Give this Ready's messages (the leader's commit of its own removal) a moment to leave.
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.close({ transferLeadership: false });
    }, 2 * this.c.heartbeatMs);
    this.timers.add(timer);
  }

  private fatal(e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    this.logger.log("error", "stopping the member after a fatal error", { error: err.message });
    if (this.events.listenerCount("fatal") > 0) this.events.emit("fatal", err);
    void this.close({ transferLeadership: false });
  }

  private async transferLeadershipBeforeStop(): Promise<void> {
    if (this.role !== "leader") return;
    const st = this.rawNode.status();
    let best: NodeId = NONE;
    let bestMatch = -1;
    for (const [id, pr] of st.progress) {
      if (id === this.memberId || pr.isLearner || !pr.recentActive) continue;
      if (pr.match > bestMatch) {
        best = id;
        bestMatch = pr.match;
      }
    }
    if (best === NONE) return;
    this.logger.log("info", "handing leadership over before stopping", { to: best.toString(16) });
    this.rawNode.transferLeader(best);
    this.kick();
    await this.waitFor(() => this.role !== "leader", this.c.electionMs);
  }

  private async shutdown(transferLeadership: boolean): Promise<void> {
    if (transferLeadership && !this.stopped) {
      try {
        await this.transferLeadershipBeforeStop();
      } catch {
        // Stop anyway.
      }
    }
    this.stopped = true;
    clearInterval(this.tickTimer);
    clearInterval(this.leaseTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const cond of [...this.conditions]) cond.resolve(false);
    const stopped = StoreError.etcd("stopped");
    this.failWaiters(() => true, stopped);
    this.batch = [];
    this.batchIds = [];
    this.batchBytes = 0;
    this.reads.close(stopped);
    for (const w of this.appliedWaiters) w.reject(stopped);
    this.appliedWaiters = [];
    await this.transport.close();
    await this.loopPromise;
    await this.storage.close();
    for (const client of this.leaderClients.values()) client.close();
    this.leaderClients.clear();
    this.peer.close();
    this.logger.log("info", "member stopped", { member: this.memberId.toString(16) });
  }
}
