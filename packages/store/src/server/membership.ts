// The replicated member list (etcd's membership.RaftCluster): who is in the cluster, with
// peer URLs from the conf change that added them and name and client URLs the member
// published once it ran. Changed only by applying log entries, so it is the same on every
// member at the same applied index; its checks run at apply time too, so that every member
// accepts or refuses a change alike (etcd's ValidateConfigurationChange).

import type { ConfChange } from "@tug/raft";
import type { Long } from "protobufjs";
import type { Member } from "../api/backend.js";
import { StoreError } from "../errors.js";
import { tug } from "../gen/storepb.js";
import { longToNumber } from "./request-codec.js";

const pb = tug.store;

/** etcd's default --max-learners. */
export const MAX_LEARNERS = 1;

/** A ConfChange's context: the member it concerns, and who waits for it. */
export interface ConfChangeContext {
  readonly member: Member;
  /** The proposing member, 0 for the initial members of a new cluster. */
  readonly proposer: number;
  readonly id: number;
}

export function memberToProto(m: Member): tug.store.IMember {
  return {
    id: m.id,
    name: m.name,
    peerUrls: [...m.peerUrls],
    clientUrls: [...m.clientUrls],
    isLearner: m.isLearner,
  };
}

export function memberFromProto(m: tug.store.IMember): Member {
  return {
    id: longToNumber(m.id),
    name: m.name ?? "",
    peerUrls: [...(m.peerUrls ?? [])],
    clientUrls: [...(m.clientUrls ?? [])],
    isLearner: m.isLearner === true,
  };
}

export function encodeConfChangeContext(c: ConfChangeContext): Uint8Array {
  return pb.ConfChangeContext.encode({
    member: memberToProto(c.member),
    proposer: c.proposer,
    id: c.id,
  }).finish();
}

export function decodeConfChangeContext(b: Uint8Array): ConfChangeContext {
  let m: tug.store.ConfChangeContext;
  try {
    m = pb.ConfChangeContext.decode(b);
  } catch (e) {
    throw new StoreError("DATA_LOSS", `conf change context: malformed protobuf: ${String(e)}`, {
      cause: e,
    });
  }
  if (!m.member) throw new StoreError("DATA_LOSS", "conf change context: no member");
  return {
    member: memberFromProto(m.member),
    proposer: longToNumber(m.proposer),
    id: longToNumber(m.id),
  };
}

/** etcd's "membership: ID removed": the id of a removed member cannot be used again. */
function idRemoved(id: number): StoreError {
  return new StoreError(
    "FAILED_PRECONDITION",
    `membership: ID removed: member ${id.toString(16)} was removed from the cluster and cannot rejoin under that id`,
  );
}

export class Membership {
  private members = new Map<number, Member>();
  private removed = new Set<number>();

  /** Every member, by id ascending (etcd lists them so). The caller owns the array. */
  list(): Member[] {
    return [...this.members.values()].sort((a, b) => a.id - b.id);
  }

  get(id: number): Member | undefined {
    return this.members.get(id);
  }

  isRemoved(id: number): boolean {
    return this.removed.has(id);
  }

  get size(): number {
    return this.members.size;
  }

  /** The member (other than `exceptId`) already using one of `peerUrls`, if any. */
  peerUrlOwner(peerUrls: readonly string[], exceptId = 0): Member | undefined {
    for (const m of this.members.values()) {
      if (m.id !== exceptId && m.peerUrls.some((u) => peerUrls.includes(u))) return m;
    }
    return undefined;
  }

  learnerCount(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.isLearner) n++;
    return n;
  }

  /**
   * Checks a committed conf change against the list and applies it. Throws StoreError (and
   * changes nothing) when it is refused: the caller then does not apply it to Raft either.
   */
  applyConfChange(cc: ConfChange, ctx: ConfChangeContext, maxLearners = MAX_LEARNERS): void {
    const id = cc.nodeId;
    if (this.removed.has(id)) throw idRemoved(id);
    const existing = this.members.get(id);
    switch (cc.type) {
      case "AddNode": {
        if (existing !== undefined) {
          // Adding a learner as a voter promotes it (etcd's MemberPromote).
          if (!existing.isLearner) throw StoreError.etcd("memberExists");
          this.members.set(id, { ...existing, isLearner: false });
          return;
        }
        if (this.peerUrlOwner(ctx.member.peerUrls) !== undefined) {
          throw StoreError.etcd("peerUrlExists");
        }
        this.members.set(id, { ...ctx.member, id, isLearner: false });
        return;
      }
      case "AddLearnerNode": {
        if (existing !== undefined) throw StoreError.etcd("memberExists");
        if (this.peerUrlOwner(ctx.member.peerUrls) !== undefined) {
          throw StoreError.etcd("peerUrlExists");
        }
        if (this.learnerCount() >= maxLearners) throw StoreError.etcd("tooManyLearners");
        this.members.set(id, { ...ctx.member, id, isLearner: true });
        return;
      }
      case "RemoveNode": {
        if (existing === undefined) throw StoreError.etcd("memberNotFound");
        this.members.delete(id);
        this.removed.add(id);
        return;
      }
    }
  }

  /** A member's published name and client URLs. Unknown members are ignored (removed since). */
  setAttributes(id: number, name: string, clientUrls: readonly string[]): void {
    const m = this.members.get(id);
    if (m === undefined) return;
    this.members.set(id, { ...m, name, clientUrls: [...clientUrls] });
  }

  toProto(): { members: tug.store.IMember[]; removed: number[] } {
    return {
      members: this.list().map(memberToProto),
      removed: [...this.removed].sort((a, b) => a - b),
    };
  }

  /** Replaces the list with a snapshot's. */
  restore(members: readonly tug.store.IMember[], removed: readonly (number | Long)[]): void {
    this.members = new Map(members.map((p) => memberFromProto(p)).map((m) => [m.id, m]));
    this.removed = new Set(removed.map((r) => longToNumber(r)));
  }
}
