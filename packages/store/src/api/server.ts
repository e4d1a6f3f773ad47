// The etcd v3 gRPC server: KV, Watch, Lease, Cluster and Maintenance over one backend, with
// etcd's limits. The Auth service is not served (etcdctl and the etcd3 client call it only
// when given credentials); its methods answer UNIMPLEMENTED.

import { lookup } from "node:dns/promises";
import { createServer, isIP, type Server as NetServer, type Socket } from "node:net";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { DEFAULT_MAX_TXN_OPS } from "../mvcc/index.js";
import { withAuthoritySchemesCut } from "./authority-scheme.js";
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
  const server = new Server({
    "grpc.max_receive_message_length": maxRequestBytes + GRPC_OVERHEAD_BYTES,
    "grpc.max_send_message_length": -1,
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

  // Connections reach gRPC through withAuthoritySchemesCut: etcdctl's `http://host:port`
  // :authority would otherwise be refused by Node's HTTP/2 server (see authority-scheme.ts).
  const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
  const sockets = new Set<Socket>();
  const onConnection = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    injector.injectConnection(withAuthoritySchemesCut(socket));
  };
  // Like grpc-js's bindAsync: a host name is listened on at each of its addresses, all on the
  // port the first one got.
  const { host, port: wantedPort } = parseListen(options.listen);
  const addresses =
    host === undefined || isIP(host) !== 0
      ? [host]
      : (await lookup(host, { all: true })).map((a) => a.address);
  const listeners: NetServer[] = [];
  let port = wantedPort;
  try {
    for (const address of addresses) {
      const listener = createServer({ noDelay: true }, onConnection);
      listeners.push(listener);
      port = await new Promise<number>((resolve, reject) => {
        listener.once("error", reject);
        listener.listen(port, address, () => {
          listener.off("error", reject);
          const bound = listener.address();
          resolve(typeof bound === "object" && bound !== null ? bound.port : port);
        });
      });
    }
  } catch (e) {
    for (const listener of listeners) listener.close();
    injector.destroy();
    throw e;
  }

  let closing: Promise<void> | undefined;
  return {
    port,
    close: () => {
      closing ??= (async () => {
        watch.close();
        lease.close();
        hub.close();
        const stopped = Promise.all(
          listeners.map((l) => new Promise<void>((resolve) => l.close(() => resolve()))),
        );
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            server.forceShutdown();
            resolve();
          }, SHUTDOWN_GRACE_MS);
          timer.unref();
          server.tryShutdown(() => {
            clearTimeout(timer);
            resolve();
          });
        });
        injector.destroy();
        for (const socket of sockets) socket.destroy();
        await stopped;
      })();
      return closing;
    },
  };
}

/** "host:port", "[v6]:port" or ":port" (all interfaces). */
function parseListen(listen: string): { host: string | undefined; port: number } {
  const colon = listen.lastIndexOf(":");
  const port = Number(listen.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`listen address must be host:port, got ${JSON.stringify(listen)}`);
  }
  const host = listen.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  return { host: host === "" ? undefined : host, port };
}
