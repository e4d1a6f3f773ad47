// The lessor's snapshot: the replicated state only (IDs, granted TTLs, checkpointed remaining
// TTLs, attached keys), never the leader's expiry clocks, which a new leader rebuilds in
// promote(). Layout: magic "TLES", a format version byte, then the leases in ID order, each
// as uvarint ID, TTL, remaining TTL, key count and length-prefixed keys in byte order; then a
// CRC-32C of everything before it, little-endian.

import { StoreError } from "../errors.js";
import { crc32c } from "../mvcc/crc32c.js";
import { keyBytes, keyString } from "../mvcc/key-bytes.js";
import { ByteReader, ByteWriter } from "../mvcc/snapshot-codec.js";

const MAGIC = [0x54, 0x4c, 0x45, 0x53]; // "TLES"
export const LEASE_SNAPSHOT_VERSION = 1;

/** One lease as the snapshot holds it; keys are latin1 strings (see key-bytes.ts). */
export interface SnapshotLease {
  readonly id: number;
  readonly ttl: number;
  readonly remainingTtl: number;
  /** In byte order. */
  readonly keys: readonly string[];
}

/** Encodes leases already sorted by ID, their keys sorted. */
export function encodeLeaseSnapshot(leases: readonly SnapshotLease[]): Uint8Array {
  const out = new ByteWriter(64 + leases.length * 16);
  out.raw(MAGIC);
  out.byte(LEASE_SNAPSHOT_VERSION);
  out.uvarint(leases.length);
  for (const l of leases) {
    out.uvarint(l.id);
    out.uvarint(l.ttl);
    out.uvarint(l.remainingTtl);
    out.uvarint(l.keys.length);
    for (const k of l.keys) out.bytes(keyBytes(k));
  }
  out.uint32(crc32c(out.view()));
  return out.finish();
}

export interface LeaseSnapshotLimits {
  readonly maxId: number;
  readonly maxTtl: number;
}

/**
 * Decodes and validates a snapshot: magic, version, checksum, IDs in [1, maxId] strictly
 * increasing, TTLs within [1, maxTtl], keys non-empty, strictly increasing within a lease and
 * attached to one lease only, no trailing bytes. Throws StoreError DATA_LOSS naming the fault.
 */
export function decodeLeaseSnapshot(
  bytes: Uint8Array,
  limits: LeaseSnapshotLimits,
): SnapshotLease[] {
  const fail = (why: string): never => {
    throw new StoreError("DATA_LOSS", `lease snapshot is invalid: ${why}`);
  };
  if (bytes.length < MAGIC.length + 1 + 4) fail(`only ${bytes.length} bytes`);
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) fail("not a lease snapshot (bad magic)");
  }
  const version = bytes[MAGIC.length];
  if (version !== LEASE_SNAPSHOT_VERSION) {
    fail(`format version ${version}, this build reads version ${LEASE_SNAPSHOT_VERSION}`);
  }
  const body = bytes.subarray(0, bytes.length - 4);
  const tail = bytes.subarray(bytes.length - 4);
  const want = new DataView(tail.buffer, tail.byteOffset, 4).getUint32(0, true);
  if (crc32c(body) !== want) fail("checksum mismatch");
  try {
    const r = new ByteReader(body, MAGIC.length + 1);
    const count = r.uvarint();
    const leases: SnapshotLease[] = [];
    const owner = new Map<string, number>();
    let prevId = 0;
    for (let i = 0; i < count; i++) {
      const id = r.uvarint();
      if (id < 1 || id > limits.maxId)
        fail(`lease #${i} has ID ${id}, outside [1, ${limits.maxId}]`);
      if (id <= prevId) fail(`lease #${i} (ID ${id}) is out of order`);
      prevId = id;
      const ttl = r.uvarint();
      if (ttl < 1 || ttl > limits.maxTtl) fail(`lease ${id} has TTL ${ttl}`);
      const remainingTtl = r.uvarint();
      if (remainingTtl > limits.maxTtl) fail(`lease ${id} has remaining TTL ${remainingTtl}`);
      const n = r.uvarint();
      if (n > r.remaining()) fail(`lease ${id} claims ${n} keys, more than the bytes left`);
      const keys: string[] = [];
      let prevKey: string | undefined;
      for (let j = 0; j < n; j++) {
        const k = keyString(r.bytes());
        if (k.length === 0) fail(`lease ${id} has an empty key`);
        if (prevKey !== undefined && k <= prevKey) fail(`lease ${id}: key #${j} is out of order`);
        prevKey = k;
        const other = owner.get(k);
        if (other !== undefined) fail(`a key is attached to both lease ${other} and lease ${id}`);
        owner.set(k, id);
        keys.push(k);
      }
      leases.push({ id, ttl, remainingTtl, keys });
    }
    if (!r.done()) fail(`${r.remaining()} trailing bytes`);
    return leases;
  } catch (e) {
    if (e instanceof StoreError) throw e;
    throw new StoreError("DATA_LOSS", `lease snapshot is invalid: ${String(e)}`, { cause: e });
  }
}
