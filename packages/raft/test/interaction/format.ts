// Compact, stable text for what the core hands out, after etcd-io/raft's DescribeMessage and
// DescribeReady: one message or entry per line, fields in a fixed order, zero fields left out
// where etcd leaves them out.

import type {
  ConfChange,
  ConfState,
  Entry,
  Message,
  ProgressStatus,
  RaftEvent,
  Ready,
  Snapshot,
} from "../../src/index.js";
import { decodeConfChange } from "../../src/wire-codec.js";

const decoder = new TextDecoder();

export function text(b: Uint8Array): string {
  return decoder.decode(b);
}

/** `v4` adds voter 4 (or promotes learner 4), `l4` adds learner 4, `r4` removes 4. */
export function describeConfChange(cc: ConfChange): string {
  const letter = cc.type === "AddNode" ? "v" : cc.type === "AddLearnerNode" ? "l" : "r";
  return `${letter}${cc.nodeId}`;
}

export function describeConfState(cs: ConfState): string {
  return `voters=(${cs.voters.join(",")}) learners=(${cs.learners.join(",")})`;
}

/** `term/index Type data`: normal payloads quoted, conf changes in v/l/r notation. */
export function describeEntry(e: Entry): string {
  const payload =
    e.type === "EntryConfChange"
      ? describeConfChange(decodeConfChange(e.data))
      : JSON.stringify(text(e.data));
  return `${e.term}/${e.index} ${e.type} ${payload}`;
}

export function describeSnapshot(s: Snapshot): string {
  const m = s.metadata;
  return `Index:${m.index} Term:${m.term} ${describeConfState(m.confState)}`;
}

/** `1->2 MsgApp Term:1 Log:1/3 Commit:3 Entries:[1/4 EntryNormal "foo"]` */
export function describeMessage(m: Message): string {
  let s = `${m.from}->${m.to} ${m.type} Term:${m.term} Log:${m.logTerm}/${m.index}`;
  if (m.reject) s += ` Rejected (Hint: ${m.rejectHint})`;
  if (m.commit !== 0) s += ` Commit:${m.commit}`;
  if (m.entries.length > 0) s += ` Entries:[${m.entries.map(describeEntry).join(", ")}]`;
  if (m.snapshot !== undefined) s += ` Snapshot: ${describeSnapshot(m.snapshot)}`;
  if (m.context.length > 0) s += ` Context:${JSON.stringify(text(m.context))}`;
  return s;
}

export function describeEvent(e: RaftEvent): string {
  switch (e.type) {
    case "became-follower":
      return `became-follower Term:${e.term} Lead:${e.lead}`;
    case "became-pre-candidate":
    case "became-candidate":
    case "became-leader":
    case "check-quorum-failed":
      return `${e.type} Term:${e.term}`;
    case "term-changed":
      return `term-changed ${e.from}->${e.to}`;
    case "leader-lost":
      return `leader-lost Term:${e.term} Previous:${e.previousLeader}`;
    case "leader-changed":
      return `leader-changed Term:${e.term} Lead:${e.lead}`;
    case "snapshot-sent":
      return `snapshot-sent To:${e.to} Index:${e.index}`;
    case "snapshot-restored":
      return `snapshot-restored Index:${e.index} Term:${e.term}`;
    case "conf-change-applied":
      return `conf-change-applied ${describeConfChange(e.change)} ${describeConfState(e.confState)}`;
    case "leader-transfer-started":
      return `leader-transfer-started To:${e.to}`;
    case "leader-transfer-aborted":
      return `leader-transfer-aborted To:${e.to} (${e.reason})`;
  }
}

/** The lines of a Ready, each section only when it has something. */
export function describeReady(rd: Ready, withEvents: boolean): string[] {
  const out = [`Ready MustSync=${rd.mustSync}:`];
  if (rd.softState !== undefined) out.push(`Lead:${rd.softState.lead} State:${rd.softState.role}`);
  if (rd.hardState !== undefined) {
    const hs = rd.hardState;
    out.push(`HardState Term:${hs.term} Vote:${hs.vote} Commit:${hs.commit}`);
  }
  if (rd.snapshot !== undefined) out.push(`Snapshot ${describeSnapshot(rd.snapshot)}`);
  const section = (title: string, lines: readonly string[]): void => {
    if (lines.length === 0) return;
    out.push(`${title}:`, ...lines);
  };
  section("Entries", rd.entries.map(describeEntry));
  section("CommittedEntries", rd.committedEntries.map(describeEntry));
  section("Messages", rd.messages.map(describeMessage));
  section(
    "ReadStates",
    rd.readStates.map((rs) => `Index:${rs.index} Ctx:${JSON.stringify(text(rs.requestCtx))}`),
  );
  if (withEvents) section("Events", rd.events.map(describeEvent));
  return out;
}

/** `2: replicate match=5 next=6 inflight=1 paused inactive` */
export function describeProgress(id: number, pr: ProgressStatus): string {
  let s = `${id}: ${pr.state} match=${pr.match} next=${pr.next}`;
  if (pr.isLearner) s += " learner";
  if (pr.inflight > 0) s += ` inflight=${pr.inflight}`;
  if (pr.pendingSnapshot > 0) s += ` pendingSnap=${pr.pendingSnapshot}`;
  if (pr.paused) s += " paused";
  if (!pr.recentActive) s += " inactive";
  return s;
}
