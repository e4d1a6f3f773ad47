// etcdserverpb.KV: Range, Put, DeleteRange, Txn and Compact. Checks a request's shape as etcd's
// v3rpc does before proposing it (empty key, too many txn ops, duplicate keys in a txn, a
// write too large), then calls the backend and wraps its answer in a header.

import { StoreError } from "../errors.js";
import type { KVHandlers } from "../gen/etcd/etcdserverpb/KV.js";
import {
  checkDeleteRangeRequest,
  checkPutRequest,
  checkRangeRequest,
  checkTxnRequest,
  isReadOnlyTxn,
} from "../mvcc/index.js";
import type { EtcdBackend } from "./backend.js";
import {
  deleteRangeRequest,
  header,
  int64,
  putRequest,
  rangeRequest,
  rangeResponse,
  txnRequest,
  txnResponse,
  unary,
} from "./codec.js";
import { requestSize } from "./request-size.js";
import type { EtcdHandlers } from "./server.js";

export interface KvServiceOptions {
  /** etcd's --max-txn-ops: compares, or ops in a branch, per txn. */
  maxTxnOps: number;
  /** etcd's --max-request-bytes: the largest write accepted. */
  maxRequestBytes: number;
}

export function kvHandlers(
  backend: EtcdBackend,
  options: KvServiceOptions,
): EtcdHandlers<KVHandlers> {
  const checkSize = (request: object) => {
    if (requestSize(request) > options.maxRequestBytes) throw StoreError.etcd("requestTooLarge");
  };
  return {
    Range: unary(async (m) => {
      const r = rangeRequest(m);
      checkRangeRequest(r);
      const resp = await backend.range(r);
      return rangeResponse(resp, header(backend.header(), resp.revision));
    }),
    Put: unary(async (m) => {
      const r = putRequest(m);
      checkPutRequest(r);
      checkSize(m);
      const resp = await backend.put(r);
      return { header: header(backend.header(), resp.revision), prevKv: resp.prevKv ?? null };
    }),
    DeleteRange: unary(async (m) => {
      const r = deleteRangeRequest(m);
      checkDeleteRangeRequest(r);
      checkSize(m);
      const resp = await backend.deleteRange(r);
      return {
        header: header(backend.header(), resp.revision),
        deleted: resp.deleted,
        prevKvs: resp.prevKvs,
      };
    }),
    Txn: unary(async (m) => {
      const r = txnRequest(m);
      checkTxnRequest(r, options.maxTxnOps);
      // A read-only txn is served by a read, not proposed: etcd does not bound its size.
      if (!isReadOnlyTxn(r)) checkSize(m);
      const resp = await backend.txn(r);
      return txnResponse(resp, header(backend.header(), resp.revision));
    }),
    Compact: unary(async (m) => {
      const resp = await backend.compact(int64(m.revision), m.physical);
      return { header: header(backend.header(), resp.revision) };
    }),
  };
}
