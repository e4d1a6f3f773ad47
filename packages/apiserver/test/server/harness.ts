// Starts a store (tug-store in process, or etcd 3.4), an API server on it and a client, and
// stops them all, for the API server's end-to-end tests.

import { create } from "@bufbuild/protobuf";
import { ServiceAccountSchema } from "@tug/api";
import { ApiClient } from "@tug/client";
import { SYSTEM_NAMESPACES } from "../../src/server/api-handlers.js";
import { ApiServer, type ApiServerOptions } from "../../src/server/api-server.js";
import type { TestStore } from "../support/stores.js";

export interface Harness {
  readonly store: TestStore;
  readonly servers: ApiServer[];
  readonly client: ApiClient;
  /** Another API server on the same store, with its own client. */
  addServer(options?: Partial<ApiServerOptions>): Promise<{ server: ApiServer; client: ApiClient }>;
  stop(): Promise<void>;
}

export async function startHarness(
  startStore: () => Promise<TestStore>,
  options: Partial<ApiServerOptions> = {},
): Promise<Harness> {
  const store = await startStore();
  const servers: ApiServer[] = [];
  const clients: ApiClient[] = [];
  const addServer = async (more: Partial<ApiServerOptions> = {}) => {
    const server = await ApiServer.start({
      etcdServers: store.endpoints,
      listen: "127.0.0.1:0",
      compactionIntervalMs: 0,
      ...options,
      ...more,
    });
    servers.push(server);
    const client = new ApiClient({ servers: [server.address], requestTimeoutMs: 10_000 });
    clients.push(client);
    return { server, client };
  };
  try {
    const first = await addServer();
    // Stand-in for the ServiceAccount controller: the ServiceAccount admission plugin admits
    // pods only in namespaces that have their "default" account.
    for (const namespace of SYSTEM_NAMESPACES) {
      await first.client.create(
        ServiceAccountSchema,
        create(ServiceAccountSchema, { metadata: { name: "default", namespace } }),
      );
    }
    return {
      store,
      servers,
      client: first.client,
      addServer,
      stop: async () => {
        for (const c of clients) c.close();
        await Promise.all(servers.map((s) => s.stop()));
        await store.stop();
      },
    };
  } catch (e) {
    await Promise.all(servers.map((s) => s.stop()));
    await store.stop();
    throw e;
  }
}
