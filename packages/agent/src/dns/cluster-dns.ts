// tug's cluster DNS: a DnsServer answering from Services and Endpoints informers. The agent
// runs one per node, listening on the node's pod-bridge gateway (reachable from every pod on
// the node) and handing that address to pods as their resolver (the agent's --cluster-dns).

import type { ApiClient } from "@tug/client";
import { ServiceInformers } from "../proxy/service-informers.js";
import { answerQuery, type ClusterDnsSource } from "./cluster-dns-resolver.js";
import { DnsServer } from "./dns-server.js";

export interface ClusterDnsOptions {
  client: ApiClient;
  address: string;
  port?: number;
  zone?: string;
  ttlSeconds?: number;
  /** Informers shared with the service proxy; default: the DNS server's own. */
  informers?: ServiceInformers;
  onError?: (e: unknown, what: string) => void;
}

export class ClusterDns {
  readonly informers: ServiceInformers;
  readonly server: DnsServer;
  private readonly ownInformers: boolean;

  constructor(o: ClusterDnsOptions) {
    const onError = o.onError ?? (() => {});
    this.ownInformers = o.informers === undefined;
    this.informers = o.informers ?? new ServiceInformers(o.client, onError);
    const { services, endpoints } = this.informers;
    const source: ClusterDnsSource = {
      service: (ns, name) => services.getIndexer().getByKey(`${ns}/${name}`),
      endpoints: (ns, name) => endpoints.getIndexer().getByKey(`${ns}/${name}`),
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
    await this.informers.start();
    return this.server.listen();
  }

  async stop(): Promise<void> {
    await this.server.close();
    if (this.ownInformers) await this.informers.stop();
  }
}
