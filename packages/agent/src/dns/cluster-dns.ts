// tug's cluster DNS: a DnsServer answering from Services and Endpoints informers. The agent
// runs one per node, listening on the node's pod-bridge gateway (reachable from every pod on
// the node) and handing that address to pods as their resolver (the agent's --cluster-dns).

import { type Endpoints, EndpointsSchema, type Service, ServiceSchema } from "@tug/api";
import { type ApiClient, apiListerWatcher, SharedIndexInformer } from "@tug/client";
import { answerQuery, type ClusterDnsSource } from "./cluster-dns-resolver.js";
import { DnsServer } from "./dns-server.js";

export interface ClusterDnsOptions {
  client: ApiClient;
  address: string;
  port?: number;
  zone?: string;
  ttlSeconds?: number;
  onError?: (e: unknown, what: string) => void;
}

export class ClusterDns {
  readonly services: SharedIndexInformer<Service>;
  readonly endpoints: SharedIndexInformer<Endpoints>;
  readonly server: DnsServer;

  constructor(o: ClusterDnsOptions) {
    const onError = o.onError ?? (() => {});
    this.services = new SharedIndexInformer<Service>({
      listerWatcher: apiListerWatcher(o.client, ServiceSchema),
      name: "services",
      onError,
    });
    this.endpoints = new SharedIndexInformer<Endpoints>({
      listerWatcher: apiListerWatcher(o.client, EndpointsSchema),
      name: "endpoints",
      onError,
    });
    const source: ClusterDnsSource = {
      service: (ns, name) => this.services.getIndexer().getByKey(`${ns}/${name}`),
      endpoints: (ns, name) => this.endpoints.getIndexer().getByKey(`${ns}/${name}`),
    };
    this.server = new DnsServer({
      address: o.address,
      ...(o.port !== undefined && { port: o.port }),
      onError,
      handler: (q) =>
        answerQuery(q, source, {
          ...(o.zone !== undefined && { zone: o.zone }),
          ...(o.ttlSeconds !== undefined && { ttlSeconds: o.ttlSeconds }),
        }),
    });
  }

  /** Syncs the caches, then listens; resolves the bound port. */
  async start(): Promise<number> {
    void this.services.run();
    void this.endpoints.run();
    await this.services.waitForCacheSync();
    await this.endpoints.waitForCacheSync();
    return this.server.listen();
  }

  async stop(): Promise<void> {
    await this.server.close();
    await this.services.stop();
    await this.endpoints.stop();
  }
}
