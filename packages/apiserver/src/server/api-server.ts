// tug-apiserver's server: the API service on a gRPC port, backed by an etcd v3 store (tug-store
// or etcd). At start it makes sure the system namespaces exist; it stops by ending watches,
// refusing new calls and closing its store connections.

import { networkInterfaces } from "node:os";
import { apiServiceDefinition } from "@tug/client";
import { GrpcServer } from "@tug/grpc";
import { type DefaultAdmissionOptions, defaultAdmissionChain } from "../admission/chain.js";
import { type AuthenticationConfig, Authenticator, buildAuthenticator } from "../authn/index.js";
import type { RegistryEnv } from "../registry/strategy.js";
import { Compactor, DEFAULT_COMPACTION_INTERVAL_MS } from "../storage/compactor.js";
import { EtcdClient, EtcdError } from "../storage/etcd-client.js";
import { DEFAULT_REGISTRY_PREFIX } from "../storage/object-store.js";
import type { WatchCacheOptions } from "../storage/watch-cache.js";
import { ApiHandlers } from "./api-handlers.js";
import {
  type RefusalObserver,
  serviceAccountLookup,
  withAuthentication,
} from "./authentication.js";
import { type CallObserver, grpcImplementation, type WatchEventObserver } from "./grpc-service.js";
import { MaxInFlight, type MaxInFlightOptions } from "./max-in-flight.js";
import { withSharedWatchEncoding } from "./shared-watch-events.js";

/**
 * Largest request the gRPC server reads: above the 1.5 MiB object limit, so an oversized
 * object gets RequestEntityTooLarge with a Status rather than a bare transport error.
 */
const MAX_RECEIVE_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Largest response: a list of a big collection. */
const MAX_SEND_MESSAGE_BYTES = 256 * 1024 * 1024;
/** How long stop() lets calls in flight finish before cutting them. */
const STOP_GRACE_MS = 2_000;

export interface ApiServerOptions extends MaxInFlightOptions {
  /** etcd v3 client URLs (kube-apiserver's --etcd-servers). */
  readonly etcdServers: readonly string[];
  /** "host:port" to serve gRPC on; port 0 picks a free one. */
  readonly listen: string;
  /** kube-apiserver's --etcd-prefix; "/registry" by default. */
  readonly registryPrefix?: string;
  /** How long events live (--event-ttl), seconds. */
  readonly eventTtlSeconds?: number;
  /** How often the store's history is compacted (--etcd-compaction-interval); 0: never. */
  readonly compactionIntervalMs?: number;
  /** Called when a compaction round fails. */
  readonly onCompactionError?: (error: unknown) => void;
  /** Deadline of each store request. */
  readonly etcdRequestTimeoutMs?: number;
  readonly watchCache?: WatchCacheOptions;
  /** Clock, uids and randomness for tests. */
  readonly env?: Partial<RegistryEnv>;
  /** Called after every call, for metrics and logs. */
  readonly observe?: CallObserver;
  /** Called for every event sent to a watcher, for metrics. */
  readonly onWatchEvent?: WatchEventObserver;
  /** --service-cluster-ip-range (default 10.96.0.0/12). */
  readonly serviceClusterIpRange?: string;
  /** --service-node-port-range (default 30000-32767). */
  readonly serviceNodePortRange?: string;
  /** --advertise-address: this server's IP in the `kubernetes` Endpoints; default: the listen
   * host, or the host's first non-loopback IPv4 address when listening on all. */
  readonly advertiseAddress?: string;
  /** How often leaked Service IPs/ports are repaired; 0: never. Default 3 minutes. */
  readonly serviceRepairIntervalMs?: number;
  /**
   * Serve lists with resourceVersion "" (consistent reads) and first pages with a limit from
   * the watch cache once it has caught up with the store (Kubernetes' ConsistentListFromCache,
   * on by default since 1.31). false: from the store, as before.
   */
  readonly consistentListFromCache?: boolean;
  /**
   * Who may call: bearer tokens (--token-auth-file, service account tokens) and anonymous
   * requests (--anonymous-auth). Unset: every request is served as anonymous, and a request
   * carrying a token is refused, as no authenticator can check it.
   */
  readonly authentication?: AuthenticationConfig;
  /** Called with the reason of each request refused as Unauthorized, for the log. */
  readonly onUnauthorized?: RefusalObserver;
  /** Settings of the admission plugins (--default-not-ready-toleration-seconds, ...). */
  readonly admission?: DefaultAdmissionOptions;
}

/** kube-apiserver repairs its Service IP and node port ranges every 3 minutes. */
export const DEFAULT_SERVICE_REPAIR_INTERVAL_MS = 3 * 60_000;

export class ApiServer {
  private stopped: Promise<void> | undefined;

  private constructor(
    readonly etcd: EtcdClient,
    readonly handlers: ApiHandlers,
    private readonly grpc: GrpcServer,
    private readonly compactor: Compactor | undefined,
    /** The port the gRPC server listens on. */
    readonly port: number,
    /** "host:port" clients dial. */
    readonly address: string,
    /** Requests in flight and refused, per kind (--max-requests-inflight and mutating). */
    readonly inFlight: MaxInFlight,
  ) {}

  /** Connects to the store, creates the system namespaces, and serves. */
  static async start(options: ApiServerOptions): Promise<ApiServer> {
    const etcd = new EtcdClient({
      endpoints: options.etcdServers,
      ...(options.etcdRequestTimeoutMs === undefined
        ? {}
        : { requestTimeoutMs: options.etcdRequestTimeoutMs }),
    });
    const handlers = new ApiHandlers({
      etcd,
      registryPrefix: options.registryPrefix ?? DEFAULT_REGISTRY_PREFIX,
      env: {
        ...(options.eventTtlSeconds === undefined
          ? {}
          : { eventTtlSeconds: options.eventTtlSeconds }),
        ...options.env,
      },
      ...(options.watchCache === undefined ? {} : { watchCache: options.watchCache }),
      serviceRanges: {
        ...(options.serviceClusterIpRange === undefined
          ? {}
          : { clusterIpRange: options.serviceClusterIpRange }),
        ...(options.serviceNodePortRange === undefined
          ? {}
          : { nodePortRange: options.serviceNodePortRange }),
      },
      ...(options.consistentListFromCache === undefined
        ? {}
        : { consistentListFromCache: options.consistentListFromCache }),
      admission: defaultAdmissionChain(options.admission ?? {}),
    });
    const inFlight = new MaxInFlight(options);
    const grpc = new GrpcServer({
      maxReceiveMessageBytes: MAX_RECEIVE_MESSAGE_BYTES,
      maxSendMessageBytes: MAX_SEND_MESSAGE_BYTES,
    });
    try {
      await waitForStore(etcd, options.registryPrefix ?? DEFAULT_REGISTRY_PREFIX);
      await handlers.ensureSystemNamespaces();
      await handlers.startAdmissionCaches();
      grpc.addService(
        withSharedWatchEncoding(apiServiceDefinition),
        withAuthentication(
          grpcImplementation(handlers, options.observe, options.onWatchEvent, inFlight),
          options.authentication === undefined
            ? new Authenticator()
            : buildAuthenticator(options.authentication, serviceAccountLookup(handlers)),
          options.onUnauthorized,
        ),
      );
      const port = await grpc.listen(options.listen);
      const host = options.listen.slice(0, options.listen.lastIndexOf(":"));
      const dialHost = host === "0.0.0.0" || host === "" || host === "[::]" ? "127.0.0.1" : host;
      await handlers.startServiceAllocation(
        options.advertiseAddress ?? advertiseAddressFor(host),
        port,
        options.serviceRepairIntervalMs ?? DEFAULT_SERVICE_REPAIR_INTERVAL_MS,
      );
      const interval = options.compactionIntervalMs ?? DEFAULT_COMPACTION_INTERVAL_MS;
      const compactor =
        interval > 0
          ? new Compactor(etcd, {
              intervalMs: interval,
              ...(options.onCompactionError === undefined
                ? {}
                : { onError: options.onCompactionError }),
            })
          : undefined;
      compactor?.start();
      return new ApiServer(etcd, handlers, grpc, compactor, port, `${dialHost}:${port}`, inFlight);
    } catch (e) {
      handlers.stop();
      grpc.forceShutdown();
      etcd.close();
      throw e;
    }
  }

  /** True when the store answers a read. */
  async storeReachable(): Promise<boolean> {
    try {
      await this.etcd.get("/registry-health");
      return true;
    } catch {
      return false;
    }
  }

  /** Undefined when ready to serve, else why not: the store must answer, caches be synced. */
  async notReadyReason(): Promise<string | undefined> {
    if (!(await this.storeReachable())) return "the store (etcd) does not answer";
    const unsynced = this.handlers
      .servedResources()
      .filter((r) => !r.watchCacheSynced)
      .map((r) => r.kind.resource);
    return unsynced.length === 0 ? undefined : `watch caches not synced: ${unsynced.join(", ")}`;
  }

  /** Open client watches, per resource ("pods", "deployments.apps"). */
  watcherCounts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const res of this.handlers.servedResources()) {
      const name =
        res.kind.group === "" ? res.kind.resource : `${res.kind.resource}.${res.kind.group}`;
      out.set(name, res.watcherCount);
    }
    return out;
  }

  /** Ends every watch, stops taking calls, and closes the store connections. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await this.compactor?.stop();
      this.handlers.stop();
      await this.grpc.shutdown(STOP_GRACE_MS);
      this.etcd.close();
    })();
    return this.stopped;
  }
}

/** The listen host when it is an address, else the first non-loopback IPv4 (127.0.0.1 if none). */
function advertiseAddressFor(host: string): string {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host) && host !== "0.0.0.0") return host;
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return "127.0.0.1";
}

/**
 * How long start waits for the store to answer. A store started at the same moment may still
 * be electing its first leader ("no leader"); kube-apiserver, too, waits for etcd rather than
 * exit at once.
 */
const STORE_WAIT_MS = 60_000;
/** Between attempts: an election takes about one election timeout (1 s by default). */
const STORE_RETRY_MS = 250;

/** Resolves once a linearizable read of `prefix` succeeds; rethrows anything but unavailability. */
async function waitForStore(etcd: EtcdClient, prefix: string): Promise<void> {
  const deadline = Date.now() + STORE_WAIT_MS;
  for (;;) {
    try {
      await etcd.range({ key: prefix, limit: 1, countOnly: true });
      return;
    } catch (e) {
      const transient =
        e instanceof EtcdError && (e.code === "unavailable" || e.code === "deadline-exceeded");
      if (!transient || Date.now() >= deadline) throw e;
      await new Promise((resolve) => setTimeout(resolve, STORE_RETRY_MS));
    }
  }
}
