// The data the Raft core consumes and produces. These mirror etcd-io/raft's raftpb so that
// the wire mapping in proto/tug/raft.proto is one-to-one. Every value handed out by the
// core is read-only: callers must copy before they mutate.

/** A member of the group. Zero means "none" (no leader, no vote). Must fit in 53 bits. */
export type NodeId = number;

/** The id that means "no node": no leader known, no vote cast. */
export const NONE: NodeId = 0;

export type EntryType = "EntryNormal" | "EntryConfChange";

/** One log entry. Index and term start at 1; index 0 / term 0 is the empty log's sentinel. */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** Raft §5.1 persistent state on all servers, plus the commit index (etcd's HardState). */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

/** Membership as of a log position: who votes and who only receives entries. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export interface SnapshotMetadata {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

/** A snapshot of the application state up to and including metadata.index. */
export interface Snapshot {
  readonly data: Uint8Array;
  readonly metadata: SnapshotMetadata;
}

/**
 * Single-server membership changes (Raft thesis §4.1). Adding a voter that is currently a
 * learner promotes it. `context` is opaque to the core (the store puts the member's URLs here).
 */
export type ConfChangeType = "AddNode" | "RemoveNode" | "AddLearnerNode";

export interface ConfChange {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
  readonly context: Uint8Array;
}

export type MessageType =
  | "MsgHup" // local: start an election
  | "MsgBeat" // local: leader should broadcast heartbeats
  | "MsgProp" // a proposal (local, or forwarded from a follower to the leader)
  | "MsgApp" // AppendEntries (Raft §5.3)
  | "MsgAppResp"
  | "MsgVote" // RequestVote (Raft §5.2)
  | "MsgVoteResp"
  | "MsgSnap" // InstallSnapshot (Raft §7)
  | "MsgHeartbeat" // empty AppendEntries carrying only the commit index
  | "MsgHeartbeatResp"
  | "MsgUnreachable" // local: the transport could not reach `from`
  | "MsgSnapStatus" // local: the transport reports whether a snapshot send finished
  | "MsgCheckQuorum" // local: leader checks it heard from a quorum (thesis §6.2)
  | "MsgTransferLeader" // leader transfer request (thesis §3.10)
  | "MsgTimeoutNow" // leader tells the transferee to campaign at once
  | "MsgReadIndex" // ReadIndex request (thesis §6.4), local or forwarded
  | "MsgReadIndexResp"
  | "MsgPreVote" // pre-vote (thesis §9.6)
  | "MsgPreVoteResp"
  | "MsgForgetLeader"; // local: a follower forgets its leader (the stream to it broke)

export const MESSAGE_TYPES: readonly MessageType[] = [
  "MsgHup",
  "MsgBeat",
  "MsgProp",
  "MsgApp",
  "MsgAppResp",
  "MsgVote",
  "MsgVoteResp",
  "MsgSnap",
  "MsgHeartbeat",
  "MsgHeartbeatResp",
  "MsgUnreachable",
  "MsgSnapStatus",
  "MsgCheckQuorum",
  "MsgTransferLeader",
  "MsgTimeoutNow",
  "MsgReadIndex",
  "MsgReadIndexResp",
  "MsgPreVote",
  "MsgPreVoteResp",
  "MsgForgetLeader",
];

/**
 * A Raft message. Field meaning depends on the type, as in etcd's raftpb.Message:
 * - MsgApp: logTerm/index describe the entry preceding `entries`; commit is the leader's.
 * - MsgAppResp: index is the follower's last matching index; on reject, rejectHint is the
 *   follower's guess for the index to probe next and logTerm its term there.
 * - MsgVote/MsgPreVote: logTerm/index are the candidate's last entry (§5.4.1).
 * - MsgReadIndex/MsgReadIndexResp/MsgHeartbeat(Resp): context carries the read request id.
 */
export interface Message {
  readonly type: MessageType;
  readonly to: NodeId;
  readonly from: NodeId;
  readonly term: number;
  readonly logTerm: number;
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly snapshot?: Snapshot | undefined;
  readonly reject: boolean;
  readonly rejectHint: number;
  readonly context: Uint8Array;
}

/** Fields a caller may leave out when building a message; the rest default to zero. */
export type MessageInit = Partial<Message> & Pick<Message, "type">;

const EMPTY_BYTES = new Uint8Array(0);

/** Builds a message, filling the fields not given with their zero values. */
export function message(init: MessageInit): Message {
  return {
    to: NONE,
    from: NONE,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: EMPTY_BYTES,
    ...init,
  };
}

export function entry(init: Partial<Entry> & Pick<Entry, "term" | "index">): Entry {
  return { type: "EntryNormal", data: EMPTY_BYTES, ...init };
}

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: NONE, commit: 0 };

export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === NONE && hs.commit === 0;
}

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export const EMPTY_SNAPSHOT: Snapshot = {
  data: EMPTY_BYTES,
  metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } },
};

export function isEmptySnapshot(s: Snapshot | undefined): boolean {
  return s === undefined || s.metadata.index === 0;
}

/** Is this message type answered to by the local node only, never sent on the wire? */
export function isLocalMessage(t: MessageType): boolean {
  return (
    t === "MsgHup" ||
    t === "MsgBeat" ||
    t === "MsgUnreachable" ||
    t === "MsgSnapStatus" ||
    t === "MsgCheckQuorum" ||
    t === "MsgForgetLeader"
  );
}

/** Is this a response, which by itself says nothing about the sender's liveness as a peer? */
export function isResponseMessage(t: MessageType): boolean {
  return (
    t === "MsgAppResp" ||
    t === "MsgVoteResp" ||
    t === "MsgHeartbeatResp" ||
    t === "MsgUnreachable" ||
    t === "MsgPreVoteResp"
  );
}

/** The response type for a vote request: MsgVote → MsgVoteResp, MsgPreVote → MsgPreVoteResp. */
export function voteResponseType(t: "MsgVote" | "MsgPreVote"): "MsgVoteResp" | "MsgPreVoteResp" {
  return t === "MsgVote" ? "MsgVoteResp" : "MsgPreVoteResp";
}

export type Role = "follower" | "candidate" | "pre-candidate" | "leader";

/** State that need not be persisted: who leads, and what this node is. */
export interface SoftState {
  readonly lead: NodeId;
  readonly role: Role;
}

/**
 * The answer to a ReadIndex request (Raft thesis §6.4): once the state machine has applied
 * up to `index`, a read issued with `requestCtx` may be served locally and is linearizable.
 */
export interface ReadState {
  readonly index: number;
  readonly requestCtx: Uint8Array;
}

/** Which messages to send, what to persist and what to apply; see RawNode.ready(). */
export interface Ready {
  /** Set when the leader or the role changed since the last Ready. Not persisted. */
  readonly softState?: SoftState | undefined;
  /** Set when term, vote or commit changed; must be persisted before messages are sent. */
  readonly hardState?: HardState | undefined;
  /** Answers to readIndex() calls, in the order they became ready. */
  readonly readStates: readonly ReadState[];
  /** Entries to append to stable storage before messages are sent. */
  readonly entries: readonly Entry[];
  /** A snapshot to persist and install, if any. */
  readonly snapshot?: Snapshot | undefined;
  /** Entries committed by a quorum, to apply to the state machine in order. */
  readonly committedEntries: readonly Entry[];
  /** Messages to send after entries and hard state are durable. */
  readonly messages: readonly Message[];
  /** Whether hardState/entries must be fsynced (false when only commit advanced). */
  readonly mustSync: boolean;
  /** What happened inside the core since the last Ready, for logs and metrics. */
  readonly events: readonly RaftEvent[];
}

export type ProgressState = "probe" | "replicate" | "snapshot";

/** What the leader knows of one peer (Raft §5.3 nextIndex/matchIndex, plus flow control). */
export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly isLearner: boolean;
  /** Messages sent and not yet acknowledged, in replicate state. */
  readonly inflight: number;
  readonly paused: boolean;
  readonly recentActive: boolean;
  readonly pendingSnapshot: number;
}

export interface Status {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly role: Role;
  readonly lead: NodeId;
  readonly leadTransferee: NodeId;
  readonly lastIndex: number;
  readonly config: ConfState;
  /** Present on the leader only: each member's progress, keyed by id. */
  readonly progress: ReadonlyMap<NodeId, ProgressStatus>;
}

/** Events the core reports through Ready.events, so the store can log and export them. */
export type RaftEvent =
  | { readonly type: "became-follower"; readonly term: number; readonly lead: NodeId }
  | { readonly type: "became-pre-candidate"; readonly term: number }
  | { readonly type: "became-candidate"; readonly term: number }
  | { readonly type: "became-leader"; readonly term: number }
  | { readonly type: "term-changed"; readonly from: number; readonly to: number }
  | { readonly type: "leader-lost"; readonly term: number; readonly previousLeader: NodeId }
  | { readonly type: "leader-changed"; readonly term: number; readonly lead: NodeId }
  | { readonly type: "snapshot-sent"; readonly to: NodeId; readonly index: number }
  | { readonly type: "snapshot-restored"; readonly index: number; readonly term: number }
  | {
      readonly type: "conf-change-applied";
      readonly change: ConfChange;
      readonly confState: ConfState;
    }
  | { readonly type: "check-quorum-failed"; readonly term: number }
  | { readonly type: "leader-transfer-started"; readonly to: NodeId }
  | { readonly type: "leader-transfer-aborted"; readonly to: NodeId; readonly reason: string };
