// Coalescing of the Raft messages queued for one peer: before a batch is written, the
// messages that a later message of the same batch makes redundant are dropped, so that
// neither side encodes, decodes, steps or answers them.
//
// Raft tolerates the loss of any message (Raft §5.1: "servers retry RPCs if they do not
// receive a response in a timely manner"; etcd's raft assumes an unreliable network), so
// dropping one is always safe; what is dropped here costs no liveness either, because the
// later message carries everything it said:
//
// - an acknowledgement (MsgAppResp, not a rejection) followed by another of the same term
//   with an index at least as high: the leader's progress only moves forward to the highest
//   index acknowledged (etcd's Progress.MaybeUpdate), and that one frees every in-flight
//   append up to it (Inflights.FreeLE) — the follower acks the highest index once per batch;
// - an append without entries (the leader's broadcast of a new commit index, or a probe)
//   followed by another append of the same term carrying a commit index at least as high:
//   the follower learns the commit index from the later one (it commits
//   min(commit, last new index), Raft Figure 2, AppendEntries step 5) and answers it, which
//   is all the empty one was for. An empty append adds no in-flight slot at the leader.
//
// Rejections, heartbeats and their answers, votes and everything else are kept as they are.

import type { Message } from "@tug/raft";

/**
 * Drops from queue[from, queue.length) the messages a later one in that range makes
 * redundant (see above), in place, and returns how many were dropped; the rest keep their
 * order. The queue holds the messages of one sender to one peer, in send order.
 */
export function coalesceMessages(queue: Message[], from: number): number {
  const to = queue.length;
  // Walk backwards, remembering the latest kept acknowledgement and append of each kind.
  let ackTerm = -1;
  let ackIndex = -1;
  let appTerm = -1;
  let appCommit = -1;
  let write = to; // queue[write, to) holds the kept messages, in order
  for (let i = to - 1; i >= from; i--) {
    const m = queue[i] as Message;
    if (m.type === "MsgAppResp" && !m.reject) {
      if (m.term === ackTerm && m.index <= ackIndex) continue;
      ackTerm = m.term;
      ackIndex = m.index; // higher than any later one of this term, or of a new term
    } else if (m.type === "MsgApp") {
      if (m.entries.length === 0 && m.term === appTerm && m.commit <= appCommit) continue;
      if (m.term !== appTerm) {
        appTerm = m.term;
        appCommit = m.commit;
      } else if (m.commit > appCommit) {
        appCommit = m.commit;
      }
    }
    queue[--write] = m;
  }
  const dropped = write - from;
  if (dropped > 0) {
    queue.copyWithin(from, write, to);
    queue.length = to - dropped;
  }
  return dropped;
}

/**
 * The highest acknowledgement already written to one peer on the current stream. A follower
 * acknowledges the same index over and over when the leader's appends carry no new entries
 * (each commit-index broadcast, and the heartbeat-triggered retries): an acknowledgement of
 * the same term and an index no higher than one already sent tells the leader nothing, so it
 * is not sent again. Rejections always go. reset() when the stream breaks: what was written
 * may not have arrived, and the leader must hear it again.
 *
 * A leader that fell back to probing (Raft §5.3) sends its probe from the follower's last
 * known match with the entries after it, so the answer acknowledges a higher index and goes;
 * when it has no entries to send, there is nothing the answer could start.
 */
export class SentAcks {
  private term = -1;
  private index = -1;

  /** Whether `m` is an acknowledgement that one already sent on this stream covers. */
  covers(m: Message): boolean {
    return m.type === "MsgAppResp" && !m.reject && m.term === this.term && m.index <= this.index;
  }

  /** Notes that `m` was written. */
  sent(m: Message): void {
    if (m.type !== "MsgAppResp" || m.reject) return;
    if (m.term !== this.term || m.index > this.index) {
      this.term = m.term;
      this.index = m.index;
    }
  }

  reset(): void {
    this.term = -1;
    this.index = -1;
  }
}
