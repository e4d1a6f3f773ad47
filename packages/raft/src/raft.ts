// The Raft state machine: one node's view of the protocol, driven only by step() and tick().
// It performs no IO: messages to send accumulate in `msgs`, and RawNode hands them out in a
// Ready together with what to persist and apply. Section numbers cite the Raft paper
// (Ongaro & Ousterhout, "In Search of an Understandable Consensus Algorithm", 2014) and the
// thesis (Ongaro, "Consensus: Bridging Theory and Practice", 2014).

import { applyConfChangeTo, restoreConfState } from "./confchange.js";
import { RaftError } from "./errors.js";
import { RaftLog } from "./raft-log.js";
import { ReadOnly, type ReadOnlyOption } from "./read-only.js";
import { payloadSize, type Storage } from "./storage.js";
import { ProgressTracker, sortedIds } from "./tracker.js";
import {
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  isEmptyHardState,
  type Message,
  type MessageInit,
  type MessageType,
  message,
  NONE,
  type NodeId,
  type RaftEvent,
  type ReadState,
  type Role,
  type Snapshot,
  type SoftState,
  voteResponseType,
} from "./types.js";

/** Returns an integer in [0, n). Injected so that every run is reproducible from a seed. */
export type RandomSource = (n: number) => number;

export interface Config {
  /** This node's id; non-zero and below 2^53. */
  readonly id: NodeId;
  /** Ticks a follower waits without hearing from a leader before it campaigns (randomized in [e, 2e)). */
  readonly electionTick: number;
  /** Ticks between a leader's heartbeats; must be smaller than electionTick. */
  readonly heartbeatTick: number;
  readonly storage: Storage;
  /** Randomness for election timeouts. */
  readonly random: RandomSource;
  /** The last applied index, when restarting: committed entries up to it are not handed out again. */
  readonly applied?: number;
  /** Most bytes of entries in one MsgApp (at least one entry is always sent). Default 1 MiB. */
  readonly maxSizePerMsg?: number;
  /** Most bytes of committed entries in one Ready. Default: no limit. */
  readonly maxCommittedSizePerReady?: number;
  /** Most bytes of uncommitted entries a leader accepts before it drops proposals. 0 = no limit. */
  readonly maxUncommittedEntriesSize?: number;
  /** Most MsgApp in flight to one follower in replicate state. Default 256. */
  readonly maxInflightMsgs?: number;
  /** Most payload bytes in flight to one follower. 0 = no limit. */
  readonly maxInflightBytes?: number;
  /** Thesis §6.2: a leader that has not heard from a quorum for an election timeout steps down. Default true. */
  readonly checkQuorum?: boolean;
  /** Thesis §9.6: ask for votes at term+1 before raising the term. Default true. */
  readonly preVote?: boolean;
  /** How ReadIndex confirms leadership. Default "safe". */
  readonly readOnlyOption?: ReadOnlyOption;
  /** Followers drop proposals instead of forwarding them to the leader. Default false. */
  readonly disableProposalForwarding?: boolean;
  /** A leader removed from the configuration steps down at once. Default true. */
  readonly stepDownOnRemoval?: boolean;
  /**
   * A heartbeat round leaves out a streaming follower that was sent an append and acknowledged
   * one since the last round (see Raft.bcastHeartbeat): a busy group then exchanges appends and
   * no heartbeats. Takes effect only when electionTick is at least 3 × heartbeatTick. Default
   * false (etcd-io/raft's behaviour: a heartbeat to every follower every heartbeatTick).
   */
  readonly skipHeartbeatAfterAppend?: boolean;
  /**
   * A leader sends the entries proposed between two Readies in one append per follower, made
   * when the Ready is taken (RawNode.ready), instead of one append per proposal as it is
   * stepped. Messages leave only with a Ready, so none leaves later; under load a batch of
   * forwarded proposals becomes one message to each follower instead of one per proposal
   * (the "batching" of Raft thesis §10.2.2 applied to the sending side). Default false
   * (etcd-io/raft's behaviour).
   */
  readonly batchAppends?: boolean;
}

/** The context that marks a vote request as part of a leader transfer (thesis §3.10). */
const CAMPAIGN_TRANSFER = new TextEncoder().encode("CampaignTransfer");

type CampaignType = "pre-election" | "election" | "transfer";
type StepFn = (r: Raft, m: Message) => void;

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  readStates: ReadState[] = [];
  readonly raftLog: RaftLog;
  trk: ProgressTracker;
  role: Role = "follower";
  isLearner = false;
  msgs: Message[] = [];
  events: RaftEvent[] = [];
  lead: NodeId = NONE;
  /** The member a leader transfer goes to, while one is in course. */
  leadTransferee: NodeId = NONE;
  /**
   * Only one conf change may be pending (thesis §4.1): the log index of the latest one
   * proposed. A new one is refused until the applied index passes it.
   */
  pendingConfIndex = 0;
  /** Bytes of uncommitted entries in the leader's log, to bound memory under a slow quorum. */
  uncommittedSize = 0;
  readOnly: ReadOnly;
  /** ReadIndex requests that arrived before the leader committed an entry of its term. */
  pendingReadIndexMessages: Message[] = [];
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;

  readonly maxMsgSize: number;
  readonly maxUncommittedSize: number;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly heartbeatTimeout: number;
  readonly electionTimeout: number;
  /** Whether a heartbeat round may leave out a follower just sent an append (bcastHeartbeat). */
  readonly skipBeatAfterAppend: boolean;
  readonly disableProposalForwarding: boolean;
  readonly stepDownOnRemoval: boolean;
  readonly batchAppends: boolean;
  /** With batchAppends: entries were proposed since the last Ready and not yet sent. */
  appendsPending = false;
  private readonly random: RandomSource;
  private readonly maxInflight: number;
  private readonly maxInflightBytes: number;
  private tickFn: () => void = () => this.tickElection();
  private stepFn: StepFn = stepFollower;

  constructor(c: Config) {
    validateConfig(c);
    this.id = c.id;
    this.random = c.random;
    this.maxMsgSize = c.maxSizePerMsg ?? 1024 * 1024;
    this.maxUncommittedSize = c.maxUncommittedEntriesSize ?? 0;
    this.maxInflight = c.maxInflightMsgs ?? 256;
    this.maxInflightBytes = c.maxInflightBytes ?? 0;
    this.checkQuorum = c.checkQuorum ?? true;
    this.preVote = c.preVote ?? true;
    this.heartbeatTimeout = c.heartbeatTick;
    this.electionTimeout = c.electionTick;
    this.skipBeatAfterAppend =
      (c.skipHeartbeatAfterAppend ?? false) && c.electionTick >= 3 * c.heartbeatTick;
    this.disableProposalForwarding = c.disableProposalForwarding ?? false;
    this.stepDownOnRemoval = c.stepDownOnRemoval ?? true;
    this.batchAppends = c.batchAppends ?? false;
    this.raftLog = new RaftLog(c.storage, c.maxCommittedSizePerReady);
    this.readOnly = new ReadOnly(c.readOnlyOption ?? "safe");
    this.trk = new ProgressTracker(this.maxInflight, this.maxInflightBytes);

    const { hardState, confState } = c.storage.initialState();
    restoreConfState(this.trk, confState, this.raftLog.lastIndex());
    this.afterConfigChange();
    if (!isEmptyHardState(hardState)) this.loadState(hardState);
    if (c.applied !== undefined && c.applied > 0) this.raftLog.appliedTo(c.applied);
    this.becomeFollower(this.term, NONE);
    this.events = []; // Starting up is not an event worth reporting.
  }

  softState(): SoftState {
    return { lead: this.lead, role: this.role };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  /** Advances logical time by one tick (heartbeat or election timer). */
  tick(): void {
    this.tickFn();
  }

  // ---- sending ------------------------------------------------------------------------

  /** Queues a message; stamps our id and, except for votes and forwarded requests, our term. */
  send(init: MessageInit): void {
    const m = message(init);
    const from = m.from === NONE ? this.id : m.from;
    if (
      m.type === "MsgVote" ||
      m.type === "MsgVoteResp" ||
      m.type === "MsgPreVote" ||
      m.type === "MsgPreVoteResp"
    ) {
      // Votes carry the term they are for (a pre-vote asks for term+1 without taking it).
      if (m.term === 0) throw new RaftError("invariant-violated", `${m.type} must carry a term`);
      this.msgs.push({ ...m, from });
    } else if (m.type === "MsgProp" || m.type === "MsgReadIndex") {
      // Forwarded to the leader and handled there as local messages: no term.
      this.msgs.push({ ...m, from, term: 0 });
    } else {
      this.msgs.push({ ...m, from, term: this.term });
    }
  }

  /** Sends an append (or a snapshot) to `to` even if it carries no entries. */
  sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  /**
   * Sends `to` the entries it lacks, or a snapshot if they were compacted (Raft §5.3, §7).
   * Returns whether a message was sent. Flow control may hold it back.
   */
  maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.trk.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    let prevTerm: number | undefined;
    let ents: readonly Entry[] = [];
    let needSnapshot = false;
    try {
      prevTerm = this.raftLog.term(prevIndex);
      ents = this.raftLog.entries(pr.next, this.maxMsgSize);
    } catch (e) {
      if (!(e instanceof RaftError) || e.reason !== "compacted") throw e;
      needSnapshot = true;
    }
    if (!needSnapshot && ents.length === 0 && !sendIfEmpty) return false;

    if (needSnapshot || prevTerm === undefined) {
      // Only send a snapshot to a member known to be alive: it is expensive.
      if (!pr.recentActive) return false;
      let snap: Snapshot;
      try {
        snap = this.raftLog.snapshot();
      } catch (e) {
        if (e instanceof RaftError && e.reason === "snapshot-temporarily-unavailable") return false;
        throw e;
      }
      if (snap.metadata.index === 0) {
        throw new RaftError("invariant-violated", "need to send a snapshot but none exists");
      }
      pr.becomeSnapshot(snap.metadata.index);
      this.send({ type: "MsgSnap", to, snapshot: snap });
      this.events.push({ type: "snapshot-sent", to, index: snap.metadata.index });
      return true;
    }
    this.send({
      type: "MsgApp",
      to,
      index: prevIndex,
      logTerm: prevTerm,
      entries: ents,
      commit: this.raftLog.committed,
    });
    pr.sentEntries(ents.length, payloadSize(ents));
    pr.appendSinceBeat = true;
    return true;
  }

  /** Heartbeats carry a commit index the follower is sure to hold (min of match and commit). */
  sendHeartbeat(to: NodeId, ctx: Uint8Array | undefined): void {
    const pr = this.trk.progress.get(to);
    if (pr === undefined) return;
    const commit = Math.min(pr.match, this.raftLog.committed);
    this.send({ type: "MsgHeartbeat", to, commit, ...(ctx ? { context: ctx } : {}) });
  }

  bcastAppend(): void {
    this.trk.visit((id) => {
      if (id !== this.id) this.sendAppend(id);
    });
  }

  /**
   * With batchAppends, sends each follower the entries proposed since the last Ready that it
   * has not been sent (an acknowledgement may have carried some along already). Called as a
   * Ready is taken.
   */
  sendPendingAppends(): void {
    if (!this.appendsPending) return;
    this.appendsPending = false;
    if (this.role !== "leader") return;
    this.trk.visit((id) => {
      if (id !== this.id) this.maybeSendAppend(id, false);
    });
  }

  /**
   * The periodic heartbeat round (MsgBeat). A follower in replicate state that, since the last
   * round, was sent an append and acknowledged one, with room in its window, is left out: the
   * append already reset its election timer and told it the commit index (an AppendEntries
   * RPC with entries serves as a heartbeat as well as one without, Raft §5.2), and its
   * acknowledgements keep it recentActive for check-quorum and show the leader it follows.
   * A busy group thus exchanges appends and no heartbeats; an idle one heartbeats as before.
   * A follower probed, sent a snapshot, with a full window, or silent since the last round
   * still gets every heartbeat (its answer is what unpauses or re-probes it), and while a
   * ReadIndex waits for its quorum every follower gets the round that carries its context.
   * A follower streamed to hears from the leader at least every two heartbeat intervals, so
   * the rule applies only when the election timeout is at least three of them (etcd's
   * default is ten), and only with Config.skipHeartbeatAfterAppend. The cost: a follower
   * whose latest appends were lost while it stays in step learns of it by the rejection of
   * the next append, or by a heartbeat one round later than without the rule.
   */
  bcastHeartbeat(): void {
    const ctx = this.readOnly.lastPendingRequestCtx();
    this.trk.visit((id, pr) => {
      const inStep = pr.appendSinceBeat && pr.ackSinceBeat;
      pr.appendSinceBeat = false;
      pr.ackSinceBeat = false;
      if (id === this.id) return;
      if (
        this.skipBeatAfterAppend &&
        ctx === undefined &&
        inStep &&
        pr.state === "replicate" &&
        !pr.inflights.full()
      ) {
        return;
      }
      this.sendHeartbeat(id, ctx);
    });
  }

  bcastHeartbeatWithCtx(ctx: Uint8Array | undefined): void {
    this.trk.visit((id) => {
      if (id !== this.id) this.sendHeartbeat(id, ctx);
    });
  }

  // ---- commitment and appends -----------------------------------------------------------

  /**
   * Advances commit to the highest index a majority holds, but only if that entry is of the
   * current term (Raft §5.4.2: never commit entries from previous terms by counting replicas).
   */
  maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.trk.committed(), this.term);
  }

  /** The leader appends entries to its own log (Raft §5.3). Returns false when over the uncommitted limit. */
  appendEntry(es: readonly Entry[]): boolean {
    const li = this.raftLog.lastIndex();
    const stamped = es.map((e, i) => ({ ...e, term: this.term, index: li + 1 + i }));
    if (!this.increaseUncommittedSize(stamped)) return false;
    const last = this.raftLog.append(stamped);
    // The leader's own log counts toward the quorum (it persists before it sends).
    this.trk.progress.get(this.id)?.maybeUpdate(last);
    this.maybeCommit();
    return true;
  }

  private increaseUncommittedSize(es: readonly Entry[]): boolean {
    const s = payloadSize(es);
    // The first proposal is always let in, however large, so that a single big entry can't wedge the log.
    if (
      this.uncommittedSize > 0 &&
      s > 0 &&
      this.maxUncommittedSize > 0 &&
      this.uncommittedSize + s > this.maxUncommittedSize
    ) {
      return false;
    }
    this.uncommittedSize += s;
    return true;
  }

  /** Entries were applied: they no longer count against the uncommitted limit. */
  reduceUncommittedSize(es: readonly Entry[]): void {
    if (this.uncommittedSize === 0) return;
    const s = payloadSize(es);
    this.uncommittedSize = s > this.uncommittedSize ? 0 : this.uncommittedSize - s;
  }

  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.termOrZero(this.raftLog.committed) === this.term;
  }

  // ---- role transitions -----------------------------------------------------------------

  /** A leader's message names the leader of our term. */
  setLeadFromMessage(lead: NodeId): void {
    this.setLead(lead);
  }

  /** Forgets the leader so that pre-votes from others are granted at once (see MsgForgetLeader). */
  forgetLeader(): void {
    this.setLead(NONE);
  }

  private setLead(lead: NodeId): void {
    if (lead === this.lead) return;
    const previous = this.lead;
    this.lead = lead;
    if (lead === NONE)
      this.events.push({ type: "leader-lost", term: this.term, previousLeader: previous });
    else this.events.push({ type: "leader-changed", term: this.term, lead });
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.events.push({ type: "term-changed", from: this.term, to: term });
      this.term = term;
      this.vote = NONE;
    }
    // The lead is set by each become* function, so that a change is reported once.
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    // A transfer ends with any role change: it succeeded (the transferee's higher term
    // deposed us) or lost its point. The explicit aborts above report themselves.
    this.leadTransferee = NONE;
    this.trk.resetVotes();
    const lastIndex = this.raftLog.lastIndex();
    this.trk.visit((id, pr) => {
      pr.becomeProbe();
      pr.match = id === this.id ? lastIndex : 0;
      pr.next = lastIndex + 1;
      pr.recentActive = id === this.id;
    });
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.appendsPending = false;
    this.readOnly = new ReadOnly(this.readOnly.option);
    this.pendingReadIndexMessages = [];
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.stepFn = stepFollower;
    this.reset(term);
    this.tickFn = () => this.tickElection();
    this.setLead(lead);
    this.role = "follower";
    this.events.push({ type: "became-follower", term: this.term, lead });
  }

  becomeCandidate(): void {
    if (this.role === "leader")
      throw new RaftError("invariant-violated", "leader cannot become candidate");
    this.stepFn = stepCandidate;
    this.reset(this.term + 1);
    this.tickFn = () => this.tickElection();
    this.setLead(NONE);
    this.vote = this.id;
    this.role = "candidate";
    this.events.push({ type: "became-candidate", term: this.term });
  }

  /** Thesis §9.6: a pre-candidate asks whether it could win at term+1 before raising its term. */
  becomePreCandidate(): void {
    if (this.role === "leader")
      throw new RaftError("invariant-violated", "leader cannot become pre-candidate");
    // Term and vote stay as they are: a failed pre-vote must not disturb the group.
    this.stepFn = stepCandidate;
    this.trk.resetVotes();
    this.tickFn = () => this.tickElection();
    this.setLead(NONE);
    this.role = "pre-candidate";
    this.events.push({ type: "became-pre-candidate", term: this.term });
  }

  becomeLeader(): void {
    if (this.role === "follower")
      throw new RaftError(
        "invariant-violated",
        "follower cannot become leader without an election",
      );
    this.stepFn = stepLeader;
    this.reset(this.term);
    this.tickFn = () => this.tickHeartbeat();
    this.setLead(this.id);
    this.role = "leader";
    const self = this.trk.progress.get(this.id);
    if (self !== undefined) {
      // We know our own log; replicate to ourselves without probing.
      self.becomeReplicate();
      self.recentActive = true;
    }
    // Conservatively treat the whole log inherited from earlier terms as possibly holding an
    // unapplied conf change: no new change is accepted until all of it is applied. Changes
    // take effect when applied, so two changes never overlap (thesis §4.1's one-at-a-time rule).
    this.pendingConfIndex = this.raftLog.lastIndex();
    // Raft §8: a new leader commits a no-op entry of its term to learn what is committed.
    const empty: Entry = { term: 0, index: 0, type: "EntryNormal", data: new Uint8Array(0) };
    this.appendEntry([empty]);
    this.events.push({ type: "became-leader", term: this.term });
  }

  // ---- timers -------------------------------------------------------------------------

  private resetRandomizedElectionTimeout(): void {
    // Raft §5.2: randomized election timeouts make split votes rare.
    this.randomizedElectionTimeout = this.electionTimeout + this.random(this.electionTimeout);
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  /** Followers and candidates: campaign when no leader was heard from for an election timeout (§5.2). */
  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.step(message({ type: "MsgHup", from: this.id }));
    }
  }

  /** Leaders: heartbeat every heartbeatTimeout ticks; check quorum every election timeout. */
  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(message({ type: "MsgCheckQuorum", from: this.id }));
      // A transfer that did not finish within an election timeout is abandoned (thesis §3.10).
      if (this.role === "leader" && this.leadTransferee !== NONE) {
        this.abortLeaderTransfer("did not complete within an election timeout");
      }
    }
    if (this.role !== "leader") return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(message({ type: "MsgBeat", from: this.id }));
    }
  }

  /** A voter that is not waiting to install a snapshot may campaign. */
  promotable(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.raftLog.hasPendingSnapshot();
  }

  // ---- elections ----------------------------------------------------------------------

  hup(t: CampaignType): void {
    if (this.role === "leader") return;
    if (!this.promotable()) return;
    // A conf change committed but not applied might remove or demote us: apply first.
    const unapplied =
      this.raftLog.committed > this.raftLog.applied
        ? this.raftLog.slice(
            this.raftLog.applied + 1,
            this.raftLog.committed + 1,
            Number.MAX_SAFE_INTEGER,
          )
        : [];
    if (unapplied.some((e) => e.type === "EntryConfChange")) return;
    this.campaign(t);
  }

  campaign(t: CampaignType): void {
    if (!this.promotable()) return;
    let term: number;
    let voteMsg: "MsgVote" | "MsgPreVote";
    if (t === "pre-election") {
      this.becomePreCandidate();
      voteMsg = "MsgPreVote";
      // Pre-votes ask for the term we would take, without taking it.
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteMsg = "MsgVote";
      term = this.term;
    }
    if (this.poll(this.id, voteResponseType(voteMsg), true) === "won") {
      // A single-voter group wins on its own vote.
      if (t === "pre-election") this.campaign("election");
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.raftLog.lastIndex();
    const lastTerm = this.raftLog.lastTerm();
    for (const id of this.trk.voterIds()) {
      if (id === this.id) continue;
      this.send({
        type: voteMsg,
        to: id,
        term,
        index: lastIndex,
        logTerm: lastTerm,
        ...(t === "transfer" ? { context: CAMPAIGN_TRANSFER } : {}),
      });
    }
  }

  poll(id: NodeId, _t: MessageType, granted: boolean): "won" | "lost" | "pending" {
    this.trk.recordVote(id, granted);
    return this.trk.tallyVotes().result;
  }

  // ---- the message dispatcher ----------------------------------------------------------

  /** Handles one message, local or from a peer. Throws RaftError for a dropped proposal. */
  step(m: Message): void {
    if (m.term === 0) {
      // Local message, or a forwarded proposal / read request.
    } else if (m.term > this.term) {
      if (m.type === "MsgVote" || m.type === "MsgPreVote") {
        const force = bytesEqual(m.context, CAMPAIGN_TRANSFER);
        // Thesis §4.2.3: a member that heard from a leader within the minimum election
        // timeout ignores vote requests, so a removed or partitioned member cannot disrupt.
        const inLease =
          this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
        if (!force && inLease) return;
      }
      if (m.type === "MsgPreVote") {
        // Never change our term in response to a pre-vote.
      } else if (m.type === "MsgPreVoteResp" && !m.reject) {
        // A granted pre-vote carries the term we asked for; we raise it only on winning.
      } else if (m.type === "MsgApp" || m.type === "MsgHeartbeat" || m.type === "MsgSnap") {
        // Raft §5.1: a higher term means our term is stale; the sender is the leader.
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if (
        (this.checkQuorum || this.preVote) &&
        (m.type === "MsgHeartbeat" || m.type === "MsgApp")
      ) {
        // A stale leader's messages: tell it our term so it steps down. Without this, a
        // partitioned node that raised its term (check-quorum keeps it from disrupting us)
        // could never rejoin.
        this.send({ type: "MsgAppResp", to: m.from });
      } else if (m.type === "MsgPreVote") {
        // Reject so the pre-candidate learns our term and does not wait for a timeout.
        this.send({ type: "MsgPreVoteResp", to: m.from, term: this.term, reject: true });
      }
      // Other stale messages are ignored (Raft §5.1).
      return;
    }

    switch (m.type) {
      case "MsgHup":
        this.hup(this.preVote ? "pre-election" : "election");
        return;
      case "MsgVote":
      case "MsgPreVote": {
        // Raft §5.2, §5.4.1: grant if we have not voted for another in this term and the
        // candidate's log is at least as up-to-date as ours.
        const canVote =
          this.vote === m.from ||
          (this.vote === NONE && this.lead === NONE) ||
          (m.type === "MsgPreVote" && m.term > this.term);
        if (canVote && this.raftLog.isUpToDate(m.index, m.logTerm)) {
          // The response carries the requested term: for a pre-vote it is in our future.
          this.send({ type: voteResponseType(m.type), to: m.from, term: m.term });
          if (m.type === "MsgVote") {
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else {
          this.send({ type: voteResponseType(m.type), to: m.from, term: this.term, reject: true });
        }
        return;
      }
      default:
        this.stepFn(this, m);
    }
  }

  // ---- follower-side handlers ------------------------------------------------------------

  handleAppendEntries(m: Message): void {
    if (m.index < this.raftLog.committed) {
      // Already committed here: tell the leader where we are.
      this.send({ type: "MsgAppResp", to: m.from, index: this.raftLog.committed });
      return;
    }
    const last = this.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (last !== undefined) {
      this.send({ type: "MsgAppResp", to: m.from, index: last });
      return;
    }
    // Raft §5.3 log matching failed. Hint where the leader should probe next: the last index
    // at or before m.index whose term is <= m.logTerm, skipping a whole term at a time.
    const hintIndex = Math.min(m.index, this.raftLog.lastIndex());
    const hint = this.raftLog.findConflictByTerm(hintIndex, m.logTerm);
    this.send({
      type: "MsgAppResp",
      to: m.from,
      index: m.index,
      reject: true,
      rejectHint: hint.index,
      logTerm: hint.term,
    });
  }

  handleHeartbeat(m: Message): void {
    this.raftLog.commitTo(m.commit);
    this.send({ type: "MsgHeartbeatResp", to: m.from, context: m.context });
  }

  handleSnapshot(m: Message): void {
    const snap = m.snapshot;
    if (snap === undefined) return;
    if (this.restore(snap)) {
      this.events.push({
        type: "snapshot-restored",
        index: snap.metadata.index,
        term: snap.metadata.term,
      });
      this.send({ type: "MsgAppResp", to: m.from, index: this.raftLog.lastIndex() });
    } else {
      this.send({ type: "MsgAppResp", to: m.from, index: this.raftLog.committed });
    }
  }

  /** Installs a snapshot from the leader (Raft §7). Returns false if it was old news. */
  restore(s: Snapshot): boolean {
    if (s.metadata.index <= this.raftLog.committed) return false;
    if (this.role !== "follower") {
      // Only a leader of our term sends snapshots, and we step down on its messages; getting
      // here means something is off, so become a follower at a new term and try again.
      this.becomeFollower(this.term + 1, NONE);
      return false;
    }
    const cs = s.metadata.confState;
    if (!cs.voters.includes(this.id) && !cs.learners.includes(this.id)) {
      // A snapshot whose configuration does not include us: we are being removed; ignore it.
      return false;
    }
    if (this.raftLog.matchTerm(s.metadata.index, s.metadata.term)) {
      // We already hold the entry: just fast-forward the commit index.
      this.raftLog.commitTo(s.metadata.index);
      return false;
    }
    this.raftLog.restore(s);
    this.trk = new ProgressTracker(this.maxInflight, this.maxInflightBytes);
    restoreConfState(this.trk, cs, this.raftLog.lastIndex());
    this.afterConfigChange();
    const pr = this.trk.progress.get(this.id);
    pr?.maybeUpdate(pr.next - 1);
    return true;
  }

  // ---- membership -------------------------------------------------------------------------

  /** Applies a committed conf change (thesis §4.1) and returns the new configuration. */
  applyConfChange(cc: ConfChange): ConfState {
    applyConfChangeTo(this.trk, cc, this.raftLog.lastIndex());
    const cs = this.trk.confState();
    this.events.push({ type: "conf-change-applied", change: cc, confState: cs });
    this.afterConfigChange();
    return cs;
  }

  private afterConfigChange(): void {
    const self = this.trk.progress.get(this.id);
    this.isLearner = self?.isLearner ?? false;
    if ((self === undefined || this.isLearner) && this.role === "leader") {
      // Removed or demoted leader: stop leading so the rest elect a leader among themselves.
      if (this.stepDownOnRemoval) this.becomeFollower(this.term, NONE);
      return;
    }
    if (this.role !== "leader" || this.trk.voters.size === 0) return;
    // The quorum changed: the commit index may move, and new members need appends.
    if (this.maybeCommit()) {
      this.bcastAppend();
    } else {
      this.trk.visit((id) => {
        if (id !== this.id) this.maybeSendAppend(id, false);
      });
    }
    if (this.leadTransferee !== NONE && !this.trk.voters.has(this.leadTransferee)) {
      this.abortLeaderTransfer("the transferee was removed");
    }
  }

  // ---- leader transfer and reads ------------------------------------------------------------

  abortLeaderTransfer(reason: string): void {
    if (this.leadTransferee === NONE) return;
    this.events.push({ type: "leader-transfer-aborted", to: this.leadTransferee, reason });
    this.leadTransferee = NONE;
  }

  sendTimeoutNow(to: NodeId): void {
    this.send({ type: "MsgTimeoutNow", to });
  }

  /** Answers a ReadIndex: a local one becomes a ReadState, a forwarded one a MsgReadIndexResp. */
  responseToReadIndexReq(req: Message, readIndex: number): void {
    if (req.from === NONE || req.from === this.id) {
      this.readStates.push({ index: readIndex, requestCtx: req.context });
      return;
    }
    this.send({ type: "MsgReadIndexResp", to: req.from, index: readIndex, context: req.context });
  }

  sendReadIndexResponse(m: Message): void {
    if (this.readOnly.option === "safe") {
      // Thesis §6.4: record the commit index, then confirm we are still leader with a round
      // of heartbeats before the read may be served.
      this.readOnly.addRequest(this.raftLog.committed, m);
      this.readOnly.recvAck(this.id, m.context);
      this.bcastHeartbeatWithCtx(m.context);
    } else {
      // Thesis §6.4.1: lease-based, no round trip; relies on check-quorum and bounded drift.
      this.responseToReadIndexReq(m, this.raftLog.committed);
    }
  }

  releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0) return;
    if (!this.committedEntryInCurrentTerm()) return;
    const msgs = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of msgs) this.sendReadIndexResponse(m);
  }

  /** A snapshot of the current voters; used by status(). */
  confState(): ConfState {
    return this.trk.confState();
  }

  loadState(hs: HardState): void {
    if (hs.commit < this.raftLog.committed || hs.commit > this.raftLog.lastIndex()) {
      throw new RaftError(
        "invariant-violated",
        `persisted commit ${hs.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]: the log on disk is shorter than the hard state says`,
      );
    }
    this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  /** Ids of every member, voters then learners, sorted. */
  memberIds(): NodeId[] {
    return sortedIds(this.trk.progress.keys());
  }
}

function validateConfig(c: Config): void {
  const bad = (msg: string): never => {
    throw new RaftError("invalid-config", msg);
  };
  if (!Number.isSafeInteger(c.id) || c.id <= 0)
    bad(`id ${c.id} is invalid: use a positive integer below 2^53`);
  if (!Number.isInteger(c.heartbeatTick) || c.heartbeatTick <= 0) {
    bad(`heartbeatTick ${c.heartbeatTick} is invalid: use a positive integer (e.g. 1)`);
  }
  if (!Number.isInteger(c.electionTick) || c.electionTick <= c.heartbeatTick) {
    bad(
      `electionTick ${c.electionTick} must be larger than heartbeatTick ${c.heartbeatTick} (etcd uses 10x)`,
    );
  }
  if (
    c.maxInflightMsgs !== undefined &&
    !(Number.isInteger(c.maxInflightMsgs) && c.maxInflightMsgs > 0)
  ) {
    bad(`maxInflightMsgs ${c.maxInflightMsgs} is invalid: use a positive integer (default 256)`);
  }
  // Byte limits: NaN or a negative value would otherwise read as "no limit" without a word.
  for (const field of [
    "maxSizePerMsg",
    "maxCommittedSizePerReady",
    "maxUncommittedEntriesSize",
    "maxInflightBytes",
  ] as const) {
    const v = c[field];
    if (v !== undefined && !(v >= 0)) bad(`${field} ${v} is invalid: use a byte count >= 0`);
  }
  // As etcd-io/raft: a window smaller than one message would hold at most one append.
  if (
    c.maxInflightBytes !== undefined &&
    c.maxInflightBytes > 0 &&
    c.maxInflightBytes < (c.maxSizePerMsg ?? 1024 * 1024)
  ) {
    bad(
      `maxInflightBytes ${c.maxInflightBytes} must be at least maxSizePerMsg ${c.maxSizePerMsg ?? 1024 * 1024}: raise it, or lower maxSizePerMsg`,
    );
  }
  if (c.readOnlyOption === "lease-based" && c.checkQuorum === false) {
    bad(
      "readOnlyOption lease-based requires checkQuorum: a leader lease is only sound when the leader steps down without a quorum",
    );
  }
}

// ---- per-role step functions (etcd-io/raft's stepLeader / stepCandidate / stepFollower) ----

function dropped(why: string): RaftError {
  return new RaftError("proposal-dropped", `raft proposal dropped: ${why}`);
}

function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case "MsgBeat":
      r.bcastHeartbeat();
      return;
    case "MsgCheckQuorum":
      // Thesis §6.2: without a live quorum for an election timeout, step down, so clients
      // stop waiting on a leader that cannot commit.
      if (!r.trk.quorumActive()) {
        r.events.push({ type: "check-quorum-failed", term: r.term });
        r.becomeFollower(r.term, NONE);
      }
      r.trk.visit((id, pr) => {
        if (id !== r.id) pr.recentActive = false;
      });
      return;
    case "MsgProp": {
      if (m.entries.length === 0)
        throw new RaftError("invalid-config", "a proposal must carry at least one entry");
      if (!r.trk.progress.has(r.id)) throw dropped("this node was removed from the group");
      if (r.leadTransferee !== NONE) {
        throw dropped(
          `leadership is being transferred to ${r.leadTransferee.toString(16)}; retry in a moment`,
        );
      }
      const local = m.from === NONE || m.from === r.id;
      const entries = m.entries.map((e, i) => {
        if (e.type !== "EntryConfChange") return e;
        if (r.pendingConfIndex > r.raftLog.applied) {
          if (local) {
            throw new RaftError(
              "conf-change-pending",
              `a membership change at index ${r.pendingConfIndex} is not yet applied (applied ${r.raftLog.applied}); retry after it is`,
            );
          }
          // Forwarded: we cannot answer the follower, so neutralize it as etcd does.
          return { ...e, type: "EntryNormal" as const, data: new Uint8Array(0) };
        }
        r.pendingConfIndex = r.raftLog.lastIndex() + i + 1;
        return e;
      });
      if (!r.appendEntry(entries))
        throw dropped("too many uncommitted entries; retry after some commit");
      if (r.batchAppends) r.appendsPending = true;
      else r.bcastAppend();
      return;
    }
    case "MsgReadIndex":
      if (r.trk.voters.size === 1 && r.trk.voters.has(r.id)) {
        // The only voter is a majority by itself, learners or not (etcd's IsSingleton): we are
        // leader for sure, and the commit index is the read index.
        r.responseToReadIndexReq(m, r.raftLog.committed);
        return;
      }
      // Thesis §6.4 step 1: until an entry of this term commits, our commit index may lag.
      if (!r.committedEntryInCurrentTerm()) {
        r.pendingReadIndexMessages.push(m);
        return;
      }
      r.sendReadIndexResponse(m);
      return;
    case "MsgForgetLeader":
      return;
    default:
      break;
  }

  const pr = r.trk.progress.get(m.from);
  if (pr === undefined) return;
  switch (m.type) {
    case "MsgAppResp": {
      pr.recentActive = true;
      if (m.reject) {
        // Raft §5.3: back off nextIndex and retry; the hint skips whole terms.
        let nextProbe = m.rejectHint;
        if (m.logTerm > 0) nextProbe = r.raftLog.findConflictByTerm(m.rejectHint, m.logTerm).index;
        if (pr.maybeDecrTo(m.index, nextProbe)) {
          if (pr.state === "replicate") pr.becomeProbe();
          r.sendAppend(m.from);
        }
        return;
      }
      pr.ackSinceBeat = true;
      const wasPaused = pr.isPaused();
      if (!pr.maybeUpdate(m.index)) return;
      if (pr.state === "probe") {
        pr.becomeReplicate();
      } else if (pr.state === "snapshot" && pr.match >= pr.pendingSnapshot) {
        // The snapshot was installed: resume appending from where it ended.
        pr.becomeProbe();
        pr.becomeReplicate();
      } else if (pr.state === "replicate") {
        pr.inflights.freeLE(m.index);
      }
      if (r.maybeCommit()) {
        r.releasePendingReadIndexMessages();
        r.bcastAppend();
      } else if (wasPaused) {
        r.sendAppend(m.from);
      }
      // Keep the pipe full: send as many appends as the window allows.
      while (r.maybeSendAppend(m.from, false)) {
        // each call sends one message
      }
      if (m.from === r.leadTransferee && pr.match === r.raftLog.lastIndex()) {
        // Thesis §3.10: the transferee caught up; tell it to campaign now.
        r.sendTimeoutNow(m.from);
      }
      return;
    }
    case "MsgHeartbeatResp": {
      pr.recentActive = true;
      pr.msgAppFlowPaused = false;
      // The follower is alive; let one more append through a full window.
      if (pr.state === "replicate" && pr.inflights.full()) pr.inflights.freeFirstOne();
      if (pr.match < r.raftLog.lastIndex()) r.sendAppend(m.from);
      if (r.readOnly.option !== "safe" || m.context.length === 0) return;
      const acks = r.readOnly.recvAck(m.from, m.context);
      if (acks === undefined) return;
      if (r.trk.voteResultOf(acks) !== "won") return;
      for (const rs of r.readOnly.advance(m.context)) r.responseToReadIndexReq(rs.req, rs.index);
      return;
    }
    case "MsgSnapStatus":
      if (pr.state !== "snapshot") return;
      if (m.reject) pr.pendingSnapshot = 0;
      pr.becomeProbe();
      // Wait for the follower to answer (a heartbeat) before probing again.
      pr.msgAppFlowPaused = true;
      return;
    case "MsgUnreachable":
      // The transport lost messages: stop streaming and probe.
      if (pr.state === "replicate") pr.becomeProbe();
      return;
    case "MsgTransferLeader": {
      if (pr.isLearner) return; // a learner cannot lead
      const transferee = m.from;
      if (r.leadTransferee !== NONE) {
        if (r.leadTransferee === transferee) return; // already in course
        r.abortLeaderTransfer("superseded by a transfer to another member");
      }
      if (transferee === r.id) return; // already leader
      // Thesis §3.10: stop accepting proposals, bring the transferee up to date, then
      // send TimeoutNow. Give it one election timeout.
      r.electionElapsed = 0;
      r.leadTransferee = transferee;
      r.events.push({ type: "leader-transfer-started", to: transferee });
      if (pr.match === r.raftLog.lastIndex()) r.sendTimeoutNow(transferee);
      else r.sendAppend(transferee);
      return;
    }
    default:
      return;
  }
}

function stepCandidate(r: Raft, m: Message): void {
  const myVoteResp = r.role === "pre-candidate" ? "MsgPreVoteResp" : "MsgVoteResp";
  switch (m.type) {
    case "MsgProp":
      throw dropped("no leader: an election is in course; retry after a leader is elected");
    case "MsgReadIndex":
      throw dropped(
        "no leader: an election is in course; retry the read after a leader is elected",
      );
    case "MsgApp":
      // Raft §5.2: a candidate that hears from a leader of its term steps down.
      r.becomeFollower(m.term, m.from);
      r.handleAppendEntries(m);
      return;
    case "MsgHeartbeat":
      r.becomeFollower(m.term, m.from);
      r.handleHeartbeat(m);
      return;
    case "MsgSnap":
      r.becomeFollower(m.term, m.from);
      r.handleSnapshot(m);
      return;
    case "MsgTimeoutNow":
      return;
    default:
      break;
  }
  if (m.type !== myVoteResp) return;
  const result = r.poll(m.from, m.type, !m.reject);
  if (result === "won") {
    if (r.role === "pre-candidate") {
      r.campaign("election");
    } else {
      r.becomeLeader();
      r.bcastAppend();
    }
  } else if (result === "lost") {
    // A pre-vote or vote rejected at our own term: go back to following.
    r.becomeFollower(r.term, NONE);
  }
}

function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case "MsgProp":
      if (r.lead === NONE) throw dropped("no leader is known; retry after a leader is elected");
      if (r.disableProposalForwarding) {
        throw dropped(
          `this node does not forward proposals; send it to the leader ${r.lead.toString(16)}`,
        );
      }
      r.send({ ...m, to: r.lead });
      return;
    case "MsgApp":
      r.electionElapsed = 0;
      r.setLeadFromMessage(m.from);
      r.handleAppendEntries(m);
      return;
    case "MsgHeartbeat":
      r.electionElapsed = 0;
      r.setLeadFromMessage(m.from);
      r.handleHeartbeat(m);
      return;
    case "MsgSnap":
      r.electionElapsed = 0;
      r.setLeadFromMessage(m.from);
      r.handleSnapshot(m);
      return;
    case "MsgTransferLeader":
      if (r.lead === NONE)
        throw dropped("no leader to transfer leadership from; retry after a leader is elected");
      r.send({ ...m, to: r.lead });
      return;
    case "MsgForgetLeader":
      // Lease-based reads trust that no other leader exists while we follow this one, so
      // forgetting the leader early would break them.
      if (r.readOnly.option === "lease-based") return;
      r.forgetLeader();
      return;
    case "MsgTimeoutNow":
      // Thesis §3.10: campaign at once, skipping pre-vote: we know the leader wants us to.
      r.hup("transfer");
      return;
    case "MsgReadIndex":
      if (r.lead === NONE)
        throw dropped("no leader is known; retry the read after a leader is elected");
      r.send({ ...m, to: r.lead });
      return;
    case "MsgReadIndexResp":
      r.readStates.push({ index: m.index, requestCtx: m.context });
      return;
    default:
      return;
  }
}
