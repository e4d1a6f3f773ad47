// Linearizable reads by ReadIndex (Raft thesis §6.4), batched as etcd's linearizable read
// loop does: the reads that arrive while one ReadIndex is in flight wait together for the
// next, so a member under read load asks the leader once per round trip rather than once per
// read. A batch is served once this member has applied up to its read index.

import { NONE, type NodeId, type ReadState } from "@tug/raft";
import { StoreError } from "../errors.js";

/** etcd's readIndexRetryTime: a ReadIndex unanswered this long is asked again. */
export const READ_INDEX_RETRY_MS = 500;

/** What the loop needs from the member. */
export interface ReadIndexHost {
  readonly memberId: number;
  /** The leader the Raft core knows now; NONE for none. */
  lead(): NodeId;
  /** RawNode.readIndex: throws when the read cannot be taken (no leader). */
  readIndex(ctx: Uint8Array): void;
  /** A request id unique to this member, across its restarts too. */
  nextId(): number;
  now(): number;
  readonly timeoutMs: number;
  applied(): number;
  /** The error to fail reads with when readIndex throws. */
  refused(e: unknown): Error;
  /** The Raft core has output to hand out. */
  kick(): void;
}

interface Read {
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

interface InFlight {
  readonly ctx: Uint8Array;
  readonly seq: number;
  readonly reads: Read[];
  /** The leader asked: if another one is elected, the answer may never come. */
  readonly lead: NodeId;
  readonly deadline: number;
  lastSentAt: number;
}

interface Confirmed {
  readonly index: number;
  readonly reads: Read[];
  readonly deadline: number;
}

/**
 * A ReadIndex context: the leader answers each context once and drops a request whose context
 * is already pending, so it must be unique across the cluster: the member's id and a request
 * id of its own.
 */
function contextOf(memberId: number, seq: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setFloat64(0, memberId);
  v.setFloat64(8, seq);
  return b;
}

/** The request id in a context of this member's, or -1. */
function seqOf(memberId: number, ctx: Uint8Array): number {
  if (ctx.length !== 16) return -1;
  const v = new DataView(ctx.buffer, ctx.byteOffset, 16);
  return v.getFloat64(0) === memberId ? v.getFloat64(8) : -1;
}

export class ReadIndexLoop {
  private queued: Read[] = [];
  private inFlight: InFlight | undefined;
  private confirmed: Confirmed[] = [];
  private issueScheduled = false;
  private closed = false;

  constructor(private readonly host: ReadIndexHost) {}

  /** Reads waiting, for metrics. */
  get pending(): number {
    return (
      this.queued.length +
      (this.inFlight?.reads.length ?? 0) +
      this.confirmed.reduce((n, c) => n + c.reads.length, 0)
    );
  }

  /** Resolves once this member has applied everything committed when it was called. */
  barrier(): Promise<void> {
    if (this.closed) return Promise.reject(StoreError.etcd("stopped"));
    if (this.host.lead() === NONE) return Promise.reject(StoreError.etcd("noLeader"));
    return new Promise((resolve, reject) => {
      this.queued.push({ resolve, reject });
      this.scheduleIssue();
    });
  }

  /** A ReadState from a Ready. Call after applying that Ready's entries. */
  onReadState(rs: ReadState): void {
    const f = this.inFlight;
    if (f === undefined || seqOf(this.host.memberId, rs.requestCtx) !== f.seq) return; // stale
    this.inFlight = undefined;
    if (rs.index <= this.host.applied()) {
      for (const r of f.reads) r.resolve();
    } else {
      this.confirmed.push({ index: rs.index, reads: f.reads, deadline: f.deadline });
    }
    if (this.queued.length > 0) this.scheduleIssue();
  }

  /** Serves the batches whose read index is now applied. */
  onApplied(): void {
    if (this.confirmed.length === 0) return;
    const applied = this.host.applied();
    const still: Confirmed[] = [];
    for (const c of this.confirmed) {
      if (c.index <= applied) for (const r of c.reads) r.resolve();
      else still.push(c);
    }
    this.confirmed = still;
  }

  /**
   * The leader changed: a ReadIndex asked of a leader `stale` picks will not be answered; its
   * reads fail with `err` at once. Confirmed batches stay: their index is good.
   */
  failStale(stale: (lead: NodeId) => boolean, err: Error): void {
    const f = this.inFlight;
    if (f === undefined || !stale(f.lead)) return;
    this.inFlight = undefined;
    for (const r of f.reads) r.reject(err);
    if (this.queued.length > 0) this.scheduleIssue();
  }

  /** Every heartbeat: asks again for an unanswered ReadIndex, and times reads out. */
  onTick(): void {
    const now = this.host.now();
    const f = this.inFlight;
    if (f !== undefined && f.deadline <= now) {
      this.inFlight = undefined;
      for (const r of f.reads) r.reject(StoreError.etcd("timeout"));
      if (this.queued.length > 0) this.scheduleIssue();
    } else if (
      f !== undefined &&
      now - f.lastSentAt >= READ_INDEX_RETRY_MS &&
      this.host.lead() !== NONE
    ) {
      f.lastSentAt = now;
      try {
        this.host.readIndex(f.ctx);
        this.host.kick();
      } catch {
        // No leader right now: the leader change or the timeout settles the batch.
      }
    }
    if (this.confirmed.some((c) => c.deadline <= now)) {
      const still: Confirmed[] = [];
      for (const c of this.confirmed) {
        if (c.deadline > now) still.push(c);
        else for (const r of c.reads) r.reject(StoreError.etcd("timeout"));
      }
      this.confirmed = still;
    }
  }

  /** Fails every read with `err`; later reads fail with "stopped". */
  close(err: Error): void {
    this.closed = true;
    const all = [
      ...this.queued,
      ...(this.inFlight?.reads ?? []),
      ...this.confirmed.flatMap((c) => c.reads),
    ];
    this.queued = [];
    this.inFlight = undefined;
    this.confirmed = [];
    for (const r of all) r.reject(err);
  }

  /** Asks soon, so that the reads of one turn of the event loop share the ReadIndex. */
  private scheduleIssue(): void {
    if (this.inFlight !== undefined || this.issueScheduled || this.closed) return;
    this.issueScheduled = true;
    setImmediate(() => {
      this.issueScheduled = false;
      this.issue();
    });
  }

  private issue(): void {
    if (this.inFlight !== undefined || this.queued.length === 0 || this.closed) return;
    const reads = this.queued;
    this.queued = [];
    const seq = this.host.nextId();
    const ctx = contextOf(this.host.memberId, seq);
    const lead = this.host.lead();
    try {
      this.host.readIndex(ctx);
    } catch (e) {
      const err = this.host.refused(e);
      for (const r of reads) r.reject(err);
      return;
    }
    const now = this.host.now();
    this.inFlight = { ctx, seq, reads, lead, deadline: now + this.host.timeoutMs, lastSentAt: now };
    this.host.kick();
  }
}
