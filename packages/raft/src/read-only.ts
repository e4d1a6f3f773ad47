// ReadIndex bookkeeping on the leader (Raft thesis §6.4): each read waits for a quorum of
// heartbeat answers that carry its context, which proves the leader was still leader when the
// read arrived; it may then be served at the commit index recorded on arrival.

import type { Message, NodeId } from "./types.js";

export type ReadOnlyOption =
  /** ReadIndex confirmed by a round of heartbeats: linearizable under any clock behaviour. */
  | "safe"
  /** Relies on the leader lease (check-quorum): no round trip, but assumes bounded clock drift. */
  | "lease-based";

export interface ReadIndexStatus {
  readonly req: Message;
  readonly index: number;
  readonly acks: Map<NodeId, boolean>;
}

/** A string key for a request context: the bytes, one char each. */
export function contextKey(ctx: Uint8Array): string {
  let s = "";
  for (const b of ctx) s += String.fromCharCode(b);
  return s;
}

export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  constructor(readonly option: ReadOnlyOption) {}

  /** Queues a read that arrived when the commit index was `index`. Duplicate contexts are ignored. */
  addRequest(index: number, m: Message): void {
    const key = contextKey(m.context);
    if (this.pending.has(key)) return;
    this.pending.set(key, { index, req: m, acks: new Map() });
    this.queue.push(key);
  }

  /** Records a heartbeat answer from `id` for the read `ctx`; returns its acks so far. */
  recvAck(id: NodeId, ctx: Uint8Array): ReadonlyMap<NodeId, boolean> | undefined {
    const rs = this.pending.get(contextKey(ctx));
    if (rs === undefined) return undefined;
    rs.acks.set(id, true);
    return rs.acks;
  }

  /**
   * The read `ctx` reached a quorum: it and every read queued before it are confirmed (their
   * heartbeats went out earlier). Returns them in order and forgets them.
   */
  advance(ctx: Uint8Array): ReadIndexStatus[] {
    const key = contextKey(ctx);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const done = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    const out: ReadIndexStatus[] = [];
    for (const k of done) {
      const rs = this.pending.get(k);
      this.pending.delete(k);
      if (rs !== undefined) out.push(rs);
    }
    return out;
  }

  /** The newest pending read's context, carried by the next heartbeat. */
  lastPendingRequestCtx(): Uint8Array | undefined {
    const key = this.queue[this.queue.length - 1];
    return key === undefined ? undefined : this.pending.get(key)?.req.context;
  }

  pendingCount(): number {
    return this.queue.length;
  }
}
