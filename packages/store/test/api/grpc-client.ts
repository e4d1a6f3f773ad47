// Typed etcd v3 gRPC clients over the generated types, for tests that speak the protocol
// directly: promise-returning unary calls and a Watch stream read reply by reply.

import { type ClientDuplexStream, credentials, type ServiceError } from "@grpc/grpc-js";
import { etcdServices } from "../../src/api/etcd-proto.js";
import type { CompactionRequest } from "../../src/gen/etcd/etcdserverpb/CompactionRequest.js";
import type { CompactionResponse__Output } from "../../src/gen/etcd/etcdserverpb/CompactionResponse.js";
import type { DeleteRangeRequest } from "../../src/gen/etcd/etcdserverpb/DeleteRangeRequest.js";
import type { DeleteRangeResponse__Output } from "../../src/gen/etcd/etcdserverpb/DeleteRangeResponse.js";
import type { KVClient } from "../../src/gen/etcd/etcdserverpb/KV.js";
import type { LeaseClient } from "../../src/gen/etcd/etcdserverpb/Lease.js";
import type { MaintenanceClient } from "../../src/gen/etcd/etcdserverpb/Maintenance.js";
import type { PutRequest } from "../../src/gen/etcd/etcdserverpb/PutRequest.js";
import type { PutResponse__Output } from "../../src/gen/etcd/etcdserverpb/PutResponse.js";
import type { RangeRequest } from "../../src/gen/etcd/etcdserverpb/RangeRequest.js";
import type { RangeResponse__Output } from "../../src/gen/etcd/etcdserverpb/RangeResponse.js";
import type { TxnRequest } from "../../src/gen/etcd/etcdserverpb/TxnRequest.js";
import type { TxnResponse__Output } from "../../src/gen/etcd/etcdserverpb/TxnResponse.js";
import type { WatchRequest } from "../../src/gen/etcd/etcdserverpb/WatchRequest.js";
import type { WatchResponse__Output } from "../../src/gen/etcd/etcdserverpb/WatchResponse.js";

const OPTIONS = { "grpc.max_receive_message_length": -1 };

/** The KV service's calls as promises. */
export interface Kv {
  range(r: RangeRequest): Promise<RangeResponse__Output>;
  put(r: PutRequest): Promise<PutResponse__Output>;
  deleteRange(r: DeleteRangeRequest): Promise<DeleteRangeResponse__Output>;
  txn(r: TxnRequest): Promise<TxnResponse__Output>;
  compact(r: CompactionRequest): Promise<CompactionResponse__Output>;
}

function kvCalls(kv: KVClient): Kv {
  return {
    range: (r) => call((cb) => kv.Range(r, cb)),
    put: (r) => call((cb) => kv.Put(r, cb)),
    deleteRange: (r) => call((cb) => kv.DeleteRange(r, cb)),
    txn: (r) => call((cb) => kv.Txn(r, cb)),
    compact: (r) => call((cb) => kv.Compact(r, cb)),
  };
}

export interface Clients {
  kv: Kv;
  kvClient: KVClient;
  lease: LeaseClient;
  maintenance: MaintenanceClient;
  close(): void;
}

export function clients(endpoint: string): Clients {
  const c = credentials.createInsecure();
  const kv = new etcdServices.KV(endpoint, c, OPTIONS);
  const lease = new etcdServices.Lease(endpoint, c, OPTIONS);
  const maintenance = new etcdServices.Maintenance(endpoint, c, OPTIONS);
  return {
    kv: kvCalls(kv),
    kvClient: kv,
    lease,
    maintenance,
    close: () => {
      kv.close();
      lease.close();
      maintenance.close();
    },
  };
}

/** A unary call as a promise: `call((cb) => client.Method(req, cb))`. */
export function call<T>(
  invoke: (cb: (err: ServiceError | null, value?: T) => void) => unknown,
): Promise<T> {
  return new Promise((resolve, reject) => {
    invoke((err, value) => {
      if (err) reject(err);
      else if (value === undefined) reject(new Error("no reply"));
      else resolve(value);
    });
  });
}

/** One Watch stream; replies are queued and read in order. */
export class WatchStream {
  private readonly client: InstanceType<typeof etcdServices.Watch>;
  private readonly stream: ClientDuplexStream<WatchRequest, WatchResponse__Output>;
  private readonly replies: WatchResponse__Output[] = [];
  private waiters: (() => void)[] = [];
  private ended: Error | undefined;

  constructor(endpoint: string) {
    this.client = new etcdServices.Watch(endpoint, credentials.createInsecure(), OPTIONS);
    this.stream = this.client.Watch();
    this.stream.on("data", (r: WatchResponse__Output) => {
      this.replies.push(r);
      this.wake();
    });
    this.stream.on("error", (e: Error) => {
      this.ended = e;
      this.wake();
    });
    this.stream.on("end", () => {
      this.ended ??= new Error("watch stream ended");
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(req: WatchRequest): void {
    this.stream.write(req);
  }

  /** The next reply. */
  async next(): Promise<WatchResponse__Output> {
    for (;;) {
      const r = this.replies.shift();
      if (r !== undefined) return r;
      if (this.ended) throw this.ended;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Replies already received and not yet read. */
  get buffered(): number {
    return this.replies.length;
  }

  close(): void {
    this.stream.cancel();
    this.client.close();
  }
}
