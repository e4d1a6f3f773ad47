// The replicated state of one member: the MVCC keyspace, the lessor and the member list, and
// how a committed log entry changes them. Deterministic: applying the same entries in the
// same order gives the same state and the same results on every member, with no clock, no
// randomness and no IO (the lessor's clock-driven duties are the server's, on the leader).

import type { ConfChange } from "@tug/raft";
import type { LeaseGrantResult, Member, WatchEventSource } from "../api/backend.js";
import { StoreError } from "../errors.js";
import { tug } from "../gen/storepb.js";
import { Lessor, type LessorOptions } from "../lease/index.js";
import {
  type CompactionResponse,
  type DeleteRangeResponse,
  type EventListener,
  type EventsSince,
  Keyspace,
  type KvEvent,
  type PutResponse,
  type TxnResponse,
} from "../mvcc/index.js";
import { type ConfChangeContext, MAX_LEARNERS, Membership } from "./membership.js";
import { longToNumber, type StoreOp } from "./request-codec.js";

const pb = tug.store;

/** The StateSnapshot format this build writes and reads. */
export const STATE_SNAPSHOT_VERSION = 1;

/** What applying each kind of request returns. */
export interface OpResults {
  put: PutResponse;
  deleteRange: DeleteRangeResponse;
  txn: TxnResponse;
  compaction: CompactionResponse;
  leaseGrant: LeaseGrantResult;
  leaseRevoke: undefined;
  leaseCheckpoint: undefined;
  memberAttributes: undefined;
}

export type OpResult = OpResults[keyof OpResults];

/**
 * The keyspace's events, through whichever Keyspace instance is current: a snapshot restore
 * replaces the instance and tells the restore listeners, whose watchers catch up from the new
 * keyspace's history.
 */
class LiveEvents implements WatchEventSource {
  private readonly listeners = new Set<EventListener>();
  private readonly restoreListeners = new Set<(fromRevision: number) => void>();

  constructor(private readonly sm: StateMachine) {}

  get revision(): number {
    return this.sm.keyspace.revision;
  }

  get compactRevision(): number {
    return this.sm.keyspace.compactRevision;
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  eventsSince(
    startRev: number,
    key: Uint8Array,
    rangeEnd?: Uint8Array,
    limit?: number,
  ): EventsSince {
    return this.sm.keyspace.eventsSince(startRev, key, rangeEnd, limit);
  }

  onRestore(listener: (fromRevision: number) => void): () => void {
    this.restoreListeners.add(listener);
    return () => {
      this.restoreListeners.delete(listener);
    };
  }

  emitRestore(fromRevision: number): void {
    for (const l of this.restoreListeners) l(fromRevision);
  }

  emit(events: readonly KvEvent[], revision: number): void {
    for (const l of this.listeners) l(events, revision);
  }
}

export interface StateMachineOptions {
  readonly lessor: LessorOptions;
  /** etcd's --max-learners. */
  readonly maxLearners?: number;
}

export class StateMachine {
  keyspace: Keyspace;
  readonly lessor: Lessor;
  readonly membership = new Membership();
  /** The applied events, for watches; stable across snapshot restores. */
  readonly events: LiveEvents;
  private readonly maxLearners: number;

  constructor(options: StateMachineOptions) {
    this.lessor = new Lessor(options.lessor);
    this.maxLearners = options.maxLearners ?? MAX_LEARNERS;
    this.events = new LiveEvents(this);
    this.keyspace = this.newKeyspace(undefined);
  }

  /**
   * Applies one request. Throws StoreError, having changed nothing, when the request is
   * refused (leaseNotFound, compacted, ...): every member refuses it alike.
   */
  apply(op: StoreOp): OpResult {
    switch (op.type) {
      case "put":
        return this.keyspace.put(op.put);
      case "deleteRange":
        return this.keyspace.deleteRange(op.deleteRange);
      case "txn":
        return this.keyspace.txn(op.txn);
      case "compaction":
        return this.keyspace.compact(op.revision);
      case "leaseGrant":
        return this.lessor.grant(op.id, op.ttl);
      case "leaseRevoke": {
        // The lease's keys go in one revision, as etcd's lessor.Revoke does.
        const keys = this.lessor.revoke(op.id);
        if (keys.length > 0) this.keyspace.deleteKeys(keys);
        return undefined;
      }
      case "leaseCheckpoint":
        for (const c of op.checkpoints) this.lessor.checkpoint(c.id, c.remainingTtl);
        return undefined;
      case "memberAttributes":
        this.membership.setAttributes(op.memberId, op.name, op.clientUrls);
        return undefined;
    }
  }

  /** Checks and applies a membership change (see Membership.applyConfChange). */
  applyConfChange(cc: ConfChange, ctx: ConfChangeContext): readonly Member[] {
    this.membership.applyConfChange(cc, ctx, this.maxLearners);
    return this.membership.list();
  }

  /** Everything restore() needs, as of `appliedIndex`: the data of a Raft snapshot. */
  serialize(appliedIndex: number): Uint8Array {
    const { members, removed } = this.membership.toProto();
    return pb.StateSnapshot.encode({
      version: STATE_SNAPSHOT_VERSION,
      appliedIndex,
      keyspace: this.keyspace.serialize(),
      leases: this.lessor.serialize(),
      members,
      removed,
    }).finish();
  }

  /**
   * Replaces the whole state with a snapshot's and returns the index it was taken at.
   * Throws StoreError DATA_LOSS, having changed nothing, if the snapshot is unreadable.
   * Watchers then catch up on the revisions the snapshot skipped ahead by from its history, or
   * are canceled as compacted where it no longer holds them.
   */
  restore(data: Uint8Array): number {
    let s: tug.store.StateSnapshot;
    try {
      s = pb.StateSnapshot.decode(data);
    } catch (e) {
      throw new StoreError("DATA_LOSS", `state snapshot: malformed protobuf: ${String(e)}`, {
        cause: e,
      });
    }
    if (s.version !== STATE_SNAPSHOT_VERSION) {
      throw new StoreError(
        "DATA_LOSS",
        `state snapshot: format version ${s.version}, this build reads version ${STATE_SNAPSHOT_VERSION}: run a newer tug-store`,
      );
    }
    const oldRev = this.keyspace.revision;
    const keyspace = this.newKeyspace(s.keyspace);
    this.lessor.restore(s.leases);
    this.membership.restore(s.members, s.removed);
    this.keyspace = keyspace;
    this.events.emitRestore(oldRev + 1);
    return longToNumber(s.appliedIndex);
  }

  private newKeyspace(bytes: Uint8Array | undefined): Keyspace {
    const options = { leaseExists: (id: number) => this.lessor.has(id) };
    const ks = bytes === undefined ? new Keyspace(options) : Keyspace.restore(bytes, options);
    ks.subscribe((events, revision) => {
      if (ks !== this.keyspace) return;
      this.trackLeases(events);
      this.events.emit(events, revision);
    });
    return ks;
  }

  /**
   * Keeps the lessor's key sets in step with the keyspace (etcd's attach on put, detach on a
   * put that drops or changes the lease and on delete), from the events of every write.
   * A write's own events carry prevKv exactly when the key existed before it (the keyspace
   * takes it from the key's current kv, which compaction never drops), so a put without
   * prevKv created the key, which no lease can hold yet: it costs no detach. attach moves a
   * key that was on another lease.
   */
  private trackLeases(events: readonly KvEvent[]): void {
    const lessor = this.lessor;
    for (const ev of events) {
      const lease = ev.kv.lease;
      if (ev.type === "PUT" && lease !== 0) {
        if (lessor.has(lease)) lessor.attach(lease, ev.kv.key);
      } else if (ev.prevKv !== undefined && ev.prevKv.lease !== 0) {
        lessor.detach(ev.kv.key);
      }
    }
  }
}
