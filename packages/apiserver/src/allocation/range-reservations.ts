// Reservations of a range's slots in the store: one key per allocated slot
// (`<prefix>/ranges/serviceips/10.96.0.5`, `<prefix>/ranges/servicenodeports/30080`) whose
// value names the owning Service. A slot is taken by creating its key with a compare on
// create_revision == 0, so two API servers on one store can never both take it; it is given
// back by deleting the key with a compare on its mod revision. Kubernetes keeps one bitmap
// object per range under /registry/ranges and updates it by compare-and-swap; a key per slot
// has the same guarantee without making every allocation contend on one key.

import type { EtcdClient } from "../storage/etcd-client.js";
import { prefixEnd } from "../storage/etcd-client.js";

/** The Service a reservation belongs to. */
export interface Owner {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/** One stored reservation. */
export interface Reservation {
  readonly slot: string;
  readonly owner: Owner | undefined;
  readonly modRevision: number;
}

/** What reserve found: the slot is now the owner's, was already the owner's, or is another's. */
export type ReserveOutcome = "reserved" | "already-owned" | "taken";

export class RangeReservations {
  private readonly prefix: string;

  /** `prefix` ends without a slash, e.g. "/registry/ranges/serviceips". */
  constructor(
    private readonly etcd: EtcdClient,
    prefix: string,
  ) {
    this.prefix = `${prefix}/`;
  }

  keyOf(slot: string): string {
    return `${this.prefix}${slot}`;
  }

  /** Every reservation, read linearizably (or at `revision`). */
  async list(revision = 0): Promise<{ reservations: Reservation[]; revision: number }> {
    const res = await this.etcd.range({
      key: this.prefix,
      rangeEnd: prefixEnd(this.prefix),
      revision,
    });
    return {
      reservations: res.kvs.map((kv) => ({
        slot: kv.key.slice(this.prefix.length),
        owner: decodeOwner(kv.value),
        modRevision: kv.modRevision,
      })),
      revision: res.revision,
    };
  }

  /** Takes `slot` for `owner` unless another owner holds it. */
  async reserve(slot: string, owner: Owner): Promise<ReserveOutcome> {
    for (;;) {
      const outcome = await this.etcd.create(this.keyOf(slot), encodeOwner(owner));
      if (outcome.succeeded) return "reserved";
      // Absent again: released between the compare and the read; try to take it again.
      if (outcome.current === undefined) continue;
      const holder = decodeOwner(outcome.current.value);
      return holder !== undefined && sameOwner(holder, owner) ? "already-owned" : "taken";
    }
  }

  /**
   * Gives `slot` back if `owner` holds it (a slot another Service has taken since is left
   * alone). Resolves false when it did not.
   */
  async release(slot: string, owner: Owner): Promise<boolean> {
    const { kv } = await this.etcd.get(this.keyOf(slot));
    if (kv === undefined) return false;
    const holder = decodeOwner(kv.value);
    if (holder === undefined || !sameOwner(holder, owner)) return false;
    return (await this.etcd.delete(this.keyOf(slot), kv.modRevision)).succeeded;
  }

  /** Deletes a reservation only if it is still at `modRevision` (the repair of a leak). */
  async releaseAt(slot: string, modRevision: number): Promise<boolean> {
    return (await this.etcd.delete(this.keyOf(slot), modRevision)).succeeded;
  }
}

export function sameOwner(a: Owner, b: Owner): boolean {
  return a.uid === b.uid && a.namespace === b.namespace && a.name === b.name;
}

function encodeOwner(owner: Owner): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({ namespace: owner.namespace, name: owner.name, uid: owner.uid }),
  );
}

function decodeOwner(value: Uint8Array): Owner | undefined {
  try {
    const o = JSON.parse(new TextDecoder().decode(value)) as Partial<Owner>;
    if (
      typeof o.namespace === "string" &&
      typeof o.name === "string" &&
      typeof o.uid === "string"
    ) {
      return { namespace: o.namespace, name: o.name, uid: o.uid };
    }
  } catch {
    // Not ours: treated as held by an unknown owner, never released but by repair.
  }
  return undefined;
}
