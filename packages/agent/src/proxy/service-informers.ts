// The Services and Endpoints informers that the service proxy and the cluster DNS both read:
// one list+watch per resource per agent, shared. start() is idempotent, so either user may
// start them; whoever created them stops them.

import { type Endpoints, EndpointsSchema, type Service, ServiceSchema } from "@tug/api";
import { type ApiClient, apiListerWatcher, SharedIndexInformer } from "@tug/client";

export class ServiceInformers {
  readonly services: SharedIndexInformer<Service>;
  readonly endpoints: SharedIndexInformer<Endpoints>;
  private started: Promise<void> | undefined;

  constructor(client: ApiClient, onError: (e: unknown, what: string) => void = () => {}) {
    this.services = new SharedIndexInformer<Service>({
      listerWatcher: apiListerWatcher(client, ServiceSchema),
      name: "services",
      onError,
    });
    this.endpoints = new SharedIndexInformer<Endpoints>({
      listerWatcher: apiListerWatcher(client, EndpointsSchema),
      name: "endpoints",
      onError,
    });
  }

  /** Runs both informers (once) and resolves when both caches have synced. */
  start(): Promise<void> {
    this.started ??= (async () => {
      void this.services.run();
      void this.endpoints.run();
      await this.services.waitForCacheSync();
      await this.endpoints.waitForCacheSync();
    })();
    return this.started;
  }

  hasSynced(): boolean {
    return this.services.hasSynced() && this.endpoints.hasSynced();
  }

  async stop(): Promise<void> {
    await this.services.stop();
    await this.endpoints.stop();
  }
}
