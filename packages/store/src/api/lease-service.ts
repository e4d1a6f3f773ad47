// etcdserverpb.Lease: grant, revoke, keep-alive (a bidirectional stream: one reply per
// request, in order), time-to-live and the list of leases.

import type { ServerDuplexCall } from "@tug/grpc";
import { StoreError } from "../errors.js";
import type { LeaseHandlers } from "../gen/etcd/etcdserverpb/Lease.js";
import type { LeaseKeepAliveRequest__Output } from "../gen/etcd/etcdserverpb/LeaseKeepAliveRequest.js";
import type { LeaseKeepAliveResponse } from "../gen/etcd/etcdserverpb/LeaseKeepAliveResponse.js";
import type { EtcdBackend } from "./backend.js";
import { grpcError, header, int64, MAX_LEASE_ID, unary } from "./codec.js";
import type { EtcdHandlers } from "./server.js";

/** etcd's lease.MaxLeaseTTL, in seconds (about 285 years). */
export const MAX_LEASE_TTL = 9_000_000_000;

type KeepAliveCall = ServerDuplexCall<LeaseKeepAliveRequest__Output, LeaseKeepAliveResponse>;

export class LeaseService {
  private readonly streams = new Set<KeepAliveCall>();

  constructor(private readonly backend: EtcdBackend) {}

  handlers(): EtcdHandlers<LeaseHandlers> {
    const backend = this.backend;
    return {
      LeaseGrant: unary(async (m) => {
        const ttl = int64(m.TTL);
        const id = int64(m.ID);
        if (ttl > MAX_LEASE_TTL) throw StoreError.etcd("leaseTtlTooLarge");
        if (id < 0 || id > MAX_LEASE_ID) {
          // etcd takes any int64; tug keeps lease ids exact as JS numbers.
          throw new StoreError(
            "INVALID_ARGUMENT",
            `tug-store: lease ID ${m.ID} is out of range; use 0 (the server chooses) or 1..${MAX_LEASE_ID}`,
          );
        }
        const r = await backend.leaseGrant(ttl, id);
        return { header: header(backend.header()), ID: r.id, TTL: r.ttl };
      }),
      LeaseRevoke: unary(async (m) => {
        await backend.leaseRevoke(int64(m.ID));
        return { header: header(backend.header()) };
      }),
      LeaseTimeToLive: unary(async (m) => {
        try {
          const r = await backend.leaseTimeToLive(int64(m.ID), m.keys);
          return {
            header: header(backend.header()),
            ID: r.id,
            TTL: r.ttl,
            grantedTTL: r.grantedTtl,
            keys: r.keys as Uint8Array[],
          };
        } catch (e) {
          // etcd answers a lease that is gone with TTL -1 rather than an error.
          if (!(e instanceof StoreError) || e.code !== "NOT_FOUND") throw e;
          return { header: header(backend.header()), ID: m.ID, TTL: -1 };
        }
      }),
      LeaseLeases: unary(async () => {
        const ids = await backend.leaseLeases();
        return { header: header(backend.header()), leases: ids.map((id) => ({ ID: id })) };
      }),
      LeaseKeepAlive: (call) => this.keepAlive(call),
    };
  }

  /** Ends every keep-alive stream (the server is shutting down). */
  close(): void {
    for (const call of [...this.streams]) {
      try {
        call.end();
      } catch {
        // already gone
      }
    }
    this.streams.clear();
  }

  private keepAlive(call: KeepAliveCall): void {
    this.streams.add(call);
    let closed = false;
    // Replies go out in request order even though renewals may resolve out of order.
    let tail: Promise<void> = Promise.resolve();
    const done = () => {
      closed = true;
      this.streams.delete(call);
    };
    call.on("data", (m: LeaseKeepAliveRequest__Output) => {
      const id = int64(m.ID);
      const renewal = this.backend.leaseKeepAlive(id).then(
        (ttl) => ttl,
        (e: unknown) => {
          // etcd answers a lease that is gone with TTL 0 and keeps the stream.
          if (e instanceof StoreError && e.code === "NOT_FOUND") return 0;
          throw e;
        },
      );
      tail = tail.then(async () => {
        let ttl: number;
        try {
          ttl = await renewal;
        } catch (e) {
          if (!closed) {
            closed = true;
            call.emit("error", grpcError(e));
          }
          return;
        }
        if (closed) return;
        call.write({ header: header(this.backend.header()), ID: m.ID, TTL: ttl });
      });
    });
    call.on("end", () => {
      void tail.then(() => {
        if (!closed) {
          done();
          call.end();
        }
      });
    });
    call.on("cancelled", done);
    call.on("error", done);
    call.on("close", done);
  }
}
