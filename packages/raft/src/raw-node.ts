// The synchronous face of the core (etcd-io/raft's RawNode): feed it ticks, messages and
// proposals; take a Ready; persist its entries and hard state, send its messages, apply its
// committed entries; then call advance(). It never blocks and never does IO.

import { RaftError } from "./errors.js";
import { type Config, Raft } from "./raft.js";
import {
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  hardStateEqual,
  isLocalMessage,
  isResponseMessage,
  type Message,
  message,
  NONE,
  type NodeId,
  type ProgressStatus,
  type Ready,
  type SoftState,
  type Status,
} from "./types.js";
import { encodeConfChange } from "./wire-codec.js";

export type SnapshotStatus = "finish" | "failure";

export class RawNode {
  private readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;

  constructor(config: Config) {
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  /**
   * Starts a brand-new group member with an empty Storage: writes the initial membership as
   * conf change entries 1..n of term 1, committed, and applies them to the core at once (as
   * etcd's Bootstrap does). Keeping the initial members in the log, rather than only in a
   * snapshot, lets a member that joins later learn them by replaying the log. The first Ready
   * carries these entries to persist and apply; applying them again is a no-op.
   */
  bootstrap(peers: readonly { readonly id: NodeId; readonly context?: Uint8Array }[]): void {
    const r = this.raft;
    if (peers.length === 0) {
      throw new RaftError(
        "invalid-config",
        "bootstrap needs at least one peer: list the initial members",
      );
    }
    if (r.raftLog.storage.lastIndex() !== 0 || r.raftLog.lastIndex() !== 0) {
      throw new RaftError(
        "invalid-config",
        "cannot bootstrap a member whose storage already holds a log: restart it from its storage instead",
      );
    }
    // Nothing is persisted yet: make the first Ready carry the hard state.
    this.prevHardState = { term: 0, vote: NONE, commit: 0 };
    r.becomeFollower(1, NONE);
    const changes: ConfChange[] = peers.map((p) => ({
      type: "AddNode",
      nodeId: p.id,
      context: p.context ?? new Uint8Array(0),
    }));
    r.raftLog.append(
      changes.map((cc, i) => ({
        term: 1,
        index: i + 1,
        type: "EntryConfChange" as const,
        data: encodeConfChange(cc),
      })),
    );
    r.raftLog.committed = changes.length;
    for (const cc of changes) r.applyConfChange(cc);
  }

  get id(): NodeId {
    return this.raft.id;
  }

  /** Advances logical time by one tick. The driver calls it every heartbeat interval / heartbeatTick. */
  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (with a pre-vote first if enabled), as if the election timer fired. */
  campaign(): void {
    this.raft.step(message({ type: "MsgHup", from: this.raft.id }));
  }

  /**
   * Proposes data to be appended to the log. Throws RaftError("proposal-dropped") when no
   * leader is known or leadership is moving: the caller should retry (elsewhere or later).
   * Acceptance is not commitment: wait for the entry in Ready.committedEntries.
   */
  propose(data: Uint8Array): void {
    this.raft.step(
      message({
        type: "MsgProp",
        from: this.raft.id,
        entries: [{ term: 0, index: 0, type: "EntryNormal", data }],
      }),
    );
  }

  /** Proposes a membership change. Only one may be pending at a time (thesis §4.1). */
  proposeConfChange(cc: ConfChange): void {
    this.raft.step(
      message({
        type: "MsgProp",
        from: this.raft.id,
        entries: [{ term: 0, index: 0, type: "EntryConfChange", data: encodeConfChange(cc) }],
      }),
    );
  }

  /**
   * Applies a committed conf change entry's change to the core; call it when the entry comes
   * out of Ready.committedEntries. Returns the configuration now in force.
   */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /** Hands a message received from a peer to the core. */
  step(m: Message): void {
    if (isLocalMessage(m.type)) {
      throw new RaftError(
        "step-local-message",
        `${m.type} is local to a node and cannot come from the network`,
      );
    }
    if (isResponseMessage(m.type) && !this.raft.trk.progress.has(m.from)) {
      throw new RaftError(
        "step-peer-not-found",
        `${m.type} from ${m.from.toString(16)}, which is not a member of this group`,
      );
    }
    try {
      this.raft.step(m);
    } catch (e) {
      // A proposal or read forwarded by a follower that this node cannot take is dropped,
      // as etcd does: the follower's client times out and retries. Only local calls
      // (propose, readIndex, ...) report the drop to their caller.
      if (
        (m.type === "MsgProp" || m.type === "MsgReadIndex" || m.type === "MsgTransferLeader") &&
        e instanceof RaftError &&
        (e.reason === "proposal-dropped" || e.reason === "conf-change-pending")
      ) {
        return;
      }
      throw e;
    }
  }

  /**
   * Asks for a linearizable read (thesis §6.4). When confirmed, a ReadState carrying `ctx`
   * and the read index appears in a Ready; serve the read once applied >= that index.
   * `ctx` must be unique among reads in flight.
   */
  readIndex(ctx: Uint8Array): void {
    this.raft.step(message({ type: "MsgReadIndex", entries: [], context: ctx }));
  }

  /** Asks the leader to hand leadership to `transferee` (thesis §3.10). */
  transferLeader(transferee: NodeId): void {
    this.raft.step(message({ type: "MsgTransferLeader", from: transferee }));
  }

  /**
   * Forgets the current leader (a follower whose connection to the leader broke): pre-votes
   * from other members are then granted without waiting out the leader's lease.
   */
  forgetLeader(): void {
    this.raft.step(message({ type: "MsgForgetLeader" }));
  }

  /** The transport could not deliver to `id`: the leader stops streaming to it and probes. */
  reportUnreachable(id: NodeId): void {
    this.raft.step(message({ type: "MsgUnreachable", from: id }));
  }

  /** The transport finished (or failed) sending a snapshot to `id`. */
  reportSnapshot(id: NodeId, status: SnapshotStatus): void {
    this.raft.step(message({ type: "MsgSnapStatus", from: id, reject: status === "failure" }));
  }

  hasReady(): boolean {
    const r = this.raft;
    const ss = r.softState();
    if (ss.lead !== this.prevSoftState.lead || ss.role !== this.prevSoftState.role) return true;
    if (r.appendsPending) return true;
    const hs = r.hardState();
    if (!hardStateEqual(hs, this.prevHardState)) return true;
    if (r.raftLog.hasPendingSnapshot()) return true;
    if (r.msgs.length > 0 || r.raftLog.unstableEntries().length > 0) return true;
    if (r.raftLog.hasNextCommittedEntries()) return true;
    return r.readStates.length > 0 || r.events.length > 0;
  }

  /**
   * What to do next. The caller must, in order: persist `snapshot`, `entries` and `hardState`
   * (fsync if `mustSync`); send `messages`; apply `committedEntries`; then call advance(rd).
   * The returned arrays belong to the caller.
   */
  ready(): Ready {
    const r = this.raft;
    r.sendPendingAppends();
    const ss = r.softState();
    const hs = r.hardState();
    const entries = [...r.raftLog.unstableEntries()];
    const softChanged = ss.lead !== this.prevSoftState.lead || ss.role !== this.prevSoftState.role;
    const hardChanged = !hardStateEqual(hs, this.prevHardState);
    const rd: Ready = {
      ...(softChanged ? { softState: ss } : {}),
      ...(hardChanged ? { hardState: hs } : {}),
      readStates: r.readStates,
      entries,
      ...(r.raftLog.unstable.snapshot !== undefined
        ? { snapshot: r.raftLog.unstable.snapshot }
        : {}),
      committedEntries: [...r.raftLog.nextCommittedEntries()],
      messages: r.msgs,
      // Term and vote must be durable before we answer (Raft §5.1 Figure 2), and so must new
      // entries; a commit index change alone can be recovered and need not be synced.
      // An installed snapshot is acknowledged to the leader by this Ready's messages, so it
      // must be durable too.
      mustSync:
        entries.length > 0 ||
        r.raftLog.unstable.snapshot !== undefined ||
        hs.term !== this.prevHardState.term ||
        hs.vote !== this.prevHardState.vote,
      events: r.events,
    };
    if (softChanged) this.prevSoftState = ss;
    r.readStates = [];
    r.msgs = [];
    r.events = [];
    return rd;
  }

  /** Tells the core that `rd` was persisted, sent and applied. */
  advance(rd: Ready): void {
    const r = this.raft;
    if (rd.hardState !== undefined) this.prevHardState = rd.hardState;
    r.reduceUncommittedSize(rd.committedEntries);
    const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastCommitted !== undefined) r.raftLog.appliedTo(lastCommitted.index);
    else if (rd.snapshot !== undefined) r.raftLog.appliedTo(rd.snapshot.metadata.index);
    const lastEntry: Entry | undefined = rd.entries[rd.entries.length - 1];
    if (lastEntry !== undefined) r.raftLog.stableTo(lastEntry.index, lastEntry.term);
    if (rd.snapshot !== undefined) r.raftLog.stableSnapTo(rd.snapshot.metadata.index);
    // Reads that waited for the leader's first commit of its term may go now.
    r.releasePendingReadIndexMessages();
  }

  status(): Status {
    const r = this.raft;
    const progress = new Map<NodeId, ProgressStatus>();
    if (r.role === "leader") r.trk.visit((id, pr) => progress.set(id, pr.status()));
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.raftLog.committed,
      applied: r.raftLog.applied,
      role: r.role,
      lead: r.lead,
      leadTransferee: r.leadTransferee,
      lastIndex: r.raftLog.lastIndex(),
      config: r.confState(),
      progress,
    };
  }

  /** The leader known to this node, or NONE. */
  get lead(): NodeId {
    return this.raft.lead;
  }
}
