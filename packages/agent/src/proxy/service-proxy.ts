// tug-agent's service proxy: Services and Endpoints informers → proxyServicePorts → the
// iptables proxier, resynced on every change (coalesced, MIN_SYNC_INTERVAL_MS apart) and
// every RESYNC_PERIOD_MS in case someone flushed the rules.

import type { ApiClient, HandlerRegistration } from "@tug/client";
import type { HostCommand } from "../network/host-command.js";
import { IptablesProxier, MIN_SYNC_INTERVAL_MS, SyncRunner } from "./iptables-proxier.js";
import { ServiceInformers } from "./service-informers.js";
import { type ProxyServicePort, proxyServicePorts } from "./service-ports.js";

/** kube-proxy's --iptables-sync-period is 30 s: rules are rewritten even without a change. */
export const PROXY_RESYNC_PERIOD_MS = 30_000;

export interface ServiceProxyOptions {
  client: ApiClient;
  run: HostCommand;
  clusterCidr?: string;
  nodePortAddresses?: readonly string[];
  minSyncIntervalMs?: number;
  /**
   * The node-local cluster DNS: the DNS ClusterIP (kube-dns's 10.96.0.10, the agent's
   * --cluster-dns) is DNATed, UDP and TCP port 53, to this node's DNS server (listening on the
   * pod bridge's gateway), so every node answers its own pods.
   */
  localDns?: LocalDns;
  /** Informers shared with the cluster DNS; default: the proxy's own. */
  informers?: ServiceInformers;
  onError?: (e: unknown, what: string) => void;
}

export interface LocalDns {
  readonly clusterIp: string;
  /** Where this node's DNS server listens: the pod bridge's gateway IP. */
  readonly address: string;
  readonly port: number;
}

/** The service ports that send DNS traffic for `dns.clusterIp` to this node's DNS server. */
export function localDnsServicePorts(dns: LocalDns): ProxyServicePort[] {
  return (["UDP", "TCP"] as const).map((protocol) => ({
    namespace: "kube-system",
    name: "tug-node-dns",
    portName: protocol === "UDP" ? "dns" : "dns-tcp",
    protocol,
    clusterIp: dns.clusterIp,
    port: 53,
    nodePort: 0,
    endpoints: [{ ip: dns.address, port: dns.port }],
  }));
}

export class ServiceProxy {
  readonly informers: ServiceInformers;
  readonly proxier: IptablesProxier;
  private readonly ownInformers: boolean;
  private readonly registrations: HandlerRegistration[] = [];
  private readonly runner: SyncRunner;
  private resync: NodeJS.Timeout | undefined;
  /** How many syncs succeeded (for metrics and tests). */
  syncs = 0;

  constructor(o: ServiceProxyOptions) {
    const onError = o.onError ?? (() => {});
    this.ownInformers = o.informers === undefined;
    this.informers = o.informers ?? new ServiceInformers(o.client, onError);
    this.proxier = new IptablesProxier({
      run: o.run,
      ...(o.clusterCidr !== undefined && { clusterCidr: o.clusterCidr }),
      ...(o.nodePortAddresses !== undefined && { nodePortAddresses: o.nodePortAddresses }),
    });
    this.runner = new SyncRunner(
      async () => {
        const ports = proxyServicePorts(
          this.informers.services.getIndexer().list(),
          this.informers.endpoints.getIndexer().list(),
        );
        const dns = o.localDns === undefined ? [] : localDnsServicePorts(o.localDns);
        await this.proxier.sync([...dns, ...ports]);
        this.syncs++;
      },
      o.minSyncIntervalMs ?? MIN_SYNC_INTERVAL_MS,
      (e) => onError(e, "service proxy sync"),
    );
    const changed = {
      onAdd: () => this.requestSync(),
      onUpdate: () => this.requestSync(),
      onDelete: () => this.requestSync(),
    };
    this.registrations.push(
      this.informers.services.addEventHandler(changed),
      this.informers.endpoints.addEventHandler(changed),
    );
  }

  private requestSync(): void {
    if (this.informers.hasSynced()) this.runner.request();
  }

  /** Starts the informers; the first sync runs once both caches have synced. */
  async start(): Promise<void> {
    await this.informers.start();
    this.runner.request();
    this.resync = setInterval(() => this.runner.request(), PROXY_RESYNC_PERIOD_MS);
  }

  /** Stops syncing; with `cleanup`, removes tug's chains and jumps. */
  async stop(cleanup = false): Promise<void> {
    if (this.resync !== undefined) clearInterval(this.resync);
    await this.runner.stop();
    for (const r of this.registrations) r.remove();
    if (this.ownInformers) await this.informers.stop();
    if (cleanup) await this.proxier.cleanup();
  }
}
