// The etcd Txn every write of the API server sends (create, update, Bind, Event): "if the key's
// create revision / mod revision / version equals X, put the value, else read the key". It is
// encoded here by hand, straight into one buffer, instead of through proto-loader's generic
// encoder (objects per field, 64-bit integers through Long): that encoder was ~2.5% of the API
// server's CPU on bench:scheduler's path. Field numbers are etcd's rpc.proto (TxnRequest,
// Compare, RequestOp, PutRequest, RangeRequest; https://etcd.io/docs/v3.4/learning/api/).

import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

/** The compare of a guarded put: which of the key's numbers must equal what. */
export type PutGuard =
  | { readonly target: "CREATE"; readonly createRevision: number }
  | { readonly target: "MOD"; readonly modRevision: number }
  | { readonly target: "VERSION"; readonly version: number };

export interface GuardedPut {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly guard: PutGuard;
  /** The lease id (decimal int64), "0" for none, or "keep" for the key's own (ignore_lease). */
  readonly lease: string;
}

/** Compare.CompareTarget and the Compare field (target_union) holding its number. */
const GUARD_FIELDS = {
  VERSION: { target: 0, field: 4 },
  CREATE: { target: 1, field: 5 },
  MOD: { target: 2, field: 6 },
} as const;

function guardNumber(guard: PutGuard): number {
  switch (guard.target) {
    case "CREATE":
      return guard.createRevision;
    case "MOD":
      return guard.modRevision;
    case "VERSION":
      return guard.version;
  }
}

/**
 * The TxnRequest's bytes: compare [{ result EQUAL, target, key, <target>: n }], success
 * [{ request_put { key, value, lease | ignore_lease } }], failure [{ request_range { key } }].
 * Zero-valued scalars are left out as proto3 does, except the compare's number: it is a oneof
 * member, so it is written even when 0 (etcd tells "create_revision 0" from "no number").
 */
export function encodeGuardedPut(put: GuardedPut): Uint8Array {
  const g = GUARD_FIELDS[put.guard.target];
  const w = new BinaryWriter();
  // compare (1): Compare { result (1) EQUAL = 0 left out, target (2), key (3), number }
  w.tag(1, WireType.LengthDelimited).fork();
  if (g.target !== 0) w.tag(2, WireType.Varint).int32(g.target);
  w.tag(3, WireType.LengthDelimited).bytes(put.key);
  w.tag(g.field, WireType.Varint).int64(guardNumber(put.guard));
  w.join();
  // success (2): RequestOp { request_put (2): PutRequest { key (1), value (2), lease (3) | ignore_lease (6) } }
  w.tag(2, WireType.LengthDelimited).fork().tag(2, WireType.LengthDelimited).fork();
  w.tag(1, WireType.LengthDelimited).bytes(put.key);
  if (put.value.length > 0) w.tag(2, WireType.LengthDelimited).bytes(put.value);
  if (put.lease === "keep") w.tag(6, WireType.Varint).bool(true);
  else if (put.lease !== "0") w.tag(3, WireType.Varint).int64(put.lease);
  w.join().join();
  // failure (3): RequestOp { request_range (1): RangeRequest { key (1) } }
  w.tag(3, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).fork();
  w.tag(1, WireType.LengthDelimited).bytes(put.key);
  w.join().join();
  return w.finish();
}
