// Checks of a request's shape that need no state, as etcd's v3rpc does before proposing
// (server/etcdserver/api/v3rpc/key.go). The gRPC layer calls them to refuse bad requests
// without a Raft round; the keyspace calls them again on apply (except the too-many-ops limit,
// which is a server setting) so that it never applies half a bad request.

import { StoreError } from "../errors.js";
import { inBounds, type KeyBounds, keyBounds, keyString } from "./key-bytes.js";
import type {
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
} from "./types.js";

/** etcd's default --max-txn-ops. */
export const DEFAULT_MAX_TXN_OPS = 128;

export function checkRangeRequest(r: RangeRequest): void {
  if (r.key.length === 0) throw StoreError.etcd("emptyKey");
}

export function checkPutRequest(r: PutRequest): void {
  if (r.key.length === 0) throw StoreError.etcd("emptyKey");
  if (r.ignoreValue && r.value !== undefined && r.value.length !== 0) {
    throw StoreError.etcd("valueProvided");
  }
  if (r.ignoreLease && r.lease !== undefined && r.lease !== 0) {
    throw StoreError.etcd("leaseProvided");
  }
}

export function checkDeleteRangeRequest(r: DeleteRangeRequest): void {
  if (r.key.length === 0) throw StoreError.etcd("emptyKey");
}

/**
 * Checks every op of the txn, in both branches and nested txns, and that no key is written
 * twice: no two puts of one key, no put of a key some delete in the txn covers (etcd's
 * checkIntervals; the `then` and `else` of one nested txn may put the same key, since only one
 * runs). `maxTxnOps`, when given, bounds compares and ops per branch (tooManyOps).
 */
export function checkTxnRequest(r: TxnRequest, maxTxnOps?: number): void {
  checkTxnOps(r, maxTxnOps);
  checkBranch(r.success ?? []);
  checkBranch(r.failure ?? []);
}

/**
 * checkIntervals over a top-level branch, skipped when the branch cannot write a key twice: no
 * nested txn, no delete and at most one put, as in the API server's guarded writes (compare,
 * then put, else range), which every member checks again on apply. Saves two Sets and their
 * keys' strings per txn per member.
 */
function checkBranch(ops: readonly RequestOp[]): void {
  let puts = 0;
  for (const op of ops) {
    if ("requestTxn" in op || "requestDeleteRange" in op) {
      checkIntervals(ops);
      return;
    }
    if ("requestPut" in op) puts++;
  }
  if (puts > 1) checkIntervals(ops);
}

function checkTxnOps(r: TxnRequest, maxTxnOps: number | undefined): void {
  const compare = r.compare ?? [];
  const success = r.success ?? [];
  const failure = r.failure ?? [];
  const opc = Math.max(compare.length, success.length, failure.length);
  if (maxTxnOps !== undefined && opc > maxTxnOps) throw StoreError.etcd("tooManyOps");
  for (const c of compare) {
    if (c.key.length === 0) throw StoreError.etcd("emptyKey");
  }
  // etcd passes nested txns the budget left after this level (maxTxnOps - opc).
  const nested = maxTxnOps === undefined ? undefined : maxTxnOps - opc;
  for (const op of success) checkRequestOp(op, nested);
  for (const op of failure) checkRequestOp(op, nested);
}

function checkRequestOp(op: RequestOp, maxTxnOps: number | undefined): void {
  if ("requestRange" in op) checkRangeRequest(op.requestRange);
  else if ("requestPut" in op) checkPutRequest(op.requestPut);
  else if ("requestDeleteRange" in op) checkDeleteRangeRequest(op.requestDeleteRange);
  else checkTxnOps(op.requestTxn, maxTxnOps);
}

interface Writes {
  puts: Set<string>;
  dels: KeyBounds[];
}

function covered(dels: readonly KeyBounds[], k: string): boolean {
  for (const d of dels) if (inBounds(k, d)) return true;
  return false;
}

/** etcd's checkIntervals, over one branch of ops: the puts and deletes it may make. */
function checkIntervals(ops: readonly RequestOp[]): Writes {
  const dels: KeyBounds[] = [];
  for (const op of ops) {
    if ("requestDeleteRange" in op) {
      dels.push(keyBounds(op.requestDeleteRange.key, op.requestDeleteRange.rangeEnd));
    }
  }
  const puts = new Set<string>();
  for (const op of ops) {
    if (!("requestTxn" in op)) continue;
    const then = checkIntervals(op.requestTxn.success ?? []);
    const otherwise = checkIntervals(op.requestTxn.failure ?? []);
    for (const k of then.puts) {
      if (puts.has(k) || covered(dels, k)) throw StoreError.etcd("duplicateKey");
      puts.add(k);
    }
    for (const k of otherwise.puts) {
      if ((puts.has(k) && !then.puts.has(k)) || covered(dels, k)) {
        throw StoreError.etcd("duplicateKey");
      }
      puts.add(k);
    }
    for (const d of then.dels) dels.push(d);
    for (const d of otherwise.dels) dels.push(d);
  }
  for (const op of ops) {
    if (!("requestPut" in op)) continue;
    const k = keyString(op.requestPut.key);
    if (puts.has(k) || covered(dels, k)) throw StoreError.etcd("duplicateKey");
    puts.add(k);
  }
  return { puts, dels };
}

/** Whether the txn cannot write, in either branch at any depth (etcd's isTxnReadonly). */
export function isReadOnlyTxn(r: TxnRequest): boolean {
  const readOnly = (ops: readonly RequestOp[] | undefined): boolean =>
    (ops ?? []).every(
      (op) => "requestRange" in op || ("requestTxn" in op && isReadOnlyTxn(op.requestTxn)),
    );
  return readOnly(r.success) && readOnly(r.failure);
}

/**
 * Whether every range of the txn, in either branch at any depth, is serializable (etcd's
 * isTxnSerializable): a read-only such txn may be served from local state without Raft.
 */
export function isSerializableTxn(r: TxnRequest): boolean {
  const serializable = (ops: readonly RequestOp[] | undefined): boolean =>
    (ops ?? []).every((op) =>
      "requestRange" in op
        ? op.requestRange.serializable === true
        : "requestTxn" in op
          ? isSerializableTxn(op.requestTxn)
          : true,
    );
  return serializable(r.success) && serializable(r.failure);
}
