// The etcd v3 gRPC server: KV, Watch, Lease, Cluster and Maintenance over one backend, with
// etcd's limits. The Auth service is not served (etcdctl and the etcd3 client call it only
// when given credentials); its methods answer UNIMPLEMENTED.

import type {
  handleBidiStreamingCall,
  handleClientStreamingCall,
  handleServerStreamingCall,
  handleUnaryCall,
} from "@grpc/grpc-js";
import {
  type BidiStreamingHandler,
  type ClientStreamingHandler,
  GrpcServer,
  type ServerStreamingHandler,
  type UnaryHandler,
} from "@tug/grpc";
import { DEFAULT_MAX_TXN_OPS } from "../mvcc/index.js";
import { acceptByAuthority } from "./authority-scheme.js";
import type { EtcdBackend } from "./backend.js";
import { clusterHandlers } from "./cluster-service.js";
import { etcdServices } from "./etcd-proto.js";
import { kvHandlers } from "./kv-service.js";
import { LeaseService } from "./lease-service.js";
import { maintenanceHandlers } from "./maintenance-service.js";
import { recordRequestSizes } from "./request-size.js";
import { WatchHub } from "./watch-hub.js";
import { DEFAULT_PROGRESS_NOTIFY_INTERVAL_MS, WatchService } from "./watch-service.js";

/** etcd's default --max-request-bytes: 1.5 MiB. */
export const DEFAULT_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;

/** etcd lets gRPC messages exceed --max-request-bytes by this much (grpcOverheadBytes). */
const GRPC_OVERHEAD_BYTES = 512 * 1024;

/** How long close() lets calls finish before cutting them. */
const SHUTDOWN_GRACE_MS = 1000;

/**
 * The @tug/grpc handler types for a service's generated handler interface (KVHandlers,
 * WatchHandlers, ...: written by proto-loader-gen-types for grpc-js): same methods and
 * messages, @tug/grpc's call objects. (The generated interfaces' string index signature,
 * from grpc-js's UntypedServiceImplementation, is left out.)
 */
export type EtcdHandlers<H> = {
  [K in keyof H as string extends K ? never : K]: H[K] extends handleUnaryCall<infer Req, infer Res>
    ? UnaryHandler<Req, Res>
    : H[K] extends handleServerStreamingCall<infer Req, infer Res>
      ? ServerStreamingHandler<Req, Res>
      : H[K] extends handleBidiStreamingCall<infer Req, infer Res>
        ? BidiStreamingHandler<Req, Res>
        : H[K] extends handleClientStreamingCall<infer Req, infer Res>
          ? ClientStreamingHandler<Req, Res>
          : never;
};

export interface EtcdGrpcServerOptions {
  backend: EtcdBackend;
  /** host:port; port 0 picks a free one. */
  listen: string;
  maxRequestBytes?: number;
  maxTxnOps?: number;
  /** How often watchers with progress_notify hear the revision when quiet (etcd: 10 min). */
  progressNotifyIntervalMs?: number;
  /**
   * Bytes a Watch stream may have queued for a slow client before its watchers stop getting
   * live events and catch up from history once it drains (default 8 MiB).
   */
  watchMaxPendingBytes?: number;
}

export interface EtcdGrpcServer {
  /** The port listened on (the one chosen, for port 0). */
  readonly port: number;
  /** Ends every stream and stops the server. */
  close(): Promise<void>;
}

export async function startEtcdGrpcServer(options: EtcdGrpcServerOptions): Promise<EtcdGrpcServer> {
  const { backend } = options;
  const maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const server = new GrpcServer({
    maxReceiveMessageBytes: maxRequestBytes + GRPC_OVERHEAD_BYTES,
    maxSendMessageBytes: -1,
  });
  const hub = new WatchHub(backend.watchSource);
  const watch = new WatchService(backend, hub, {
    progressNotifyIntervalMs:
      options.progressNotifyIntervalMs ?? DEFAULT_PROGRESS_NOTIFY_INTERVAL_MS,
    // etcd's watch server fragments at the gRPC message limit, not at --max-request-bytes.
    maxResponseBytes: maxRequestBytes + GRPC_OVERHEAD_BYTES,
    maxPendingBytes: options.watchMaxPendingBytes,
  });
  const lease = new LeaseService(backend);

  server.addService(
    recordRequestSizes(etcdServices.KV.service, ["Put", "DeleteRange", "Txn"]),
    kvHandlers(backend, { maxTxnOps: options.maxTxnOps ?? DEFAULT_MAX_TXN_OPS, maxRequestBytes }),
  );
  server.addService(etcdServices.Watch.service, watch.handlers());
  server.addService(etcdServices.Lease.service, lease.handlers());
  server.addService(etcdServices.Cluster.service, clusterHandlers(backend));
  server.addService(etcdServices.Maintenance.service, maintenanceHandlers(backend));

  // Each connection goes to HTTP/2 natively unless its :authority needs etcdctl's
  // `http://` cut (see authority-scheme.ts).
  const port = await server.listen(options.listen, (socket) =>
    acceptByAuthority(socket, (connection) => server.acceptConnection(connection)),
  );

  let closing: Promise<void> | undefined;
  return {
    port,
    close: () => {
      closing ??= (async () => {
        watch.close();
        lease.close();
        hub.close();
        await server.shutdown(SHUTDOWN_GRACE_MS);
      })();
      return closing;
    },
  };
}
