// The control plane the agent's tests talk to: tug-store in process and tug-apiserver on it,
// with a client. close() stops all three.

import { ApiServer } from "@tug/apiserver";
import { ApiClient } from "@tug/client";
import { LocalBackend, startEtcdGrpcServer } from "@tug/store";

export interface ControlPlane {
  readonly client: ApiClient;
  /** The API server's host:port. */
  readonly address: string;
  close(): Promise<void>;
}

export async function startControlPlane(name: string): Promise<ControlPlane> {
  const backend = new LocalBackend({ name });
  const store = await startEtcdGrpcServer({ backend, listen: "127.0.0.1:0" });
  let api: ApiServer;
  try {
    api = await ApiServer.start({
      etcdServers: [`http://127.0.0.1:${store.port}`],
      listen: "127.0.0.1:0",
      compactionIntervalMs: 0,
    });
  } catch (e) {
    await store.close();
    backend.close();
    throw e;
  }
  const client = new ApiClient({ servers: [api.address], requestTimeoutMs: 10_000 });
  return {
    client,
    address: api.address,
    close: async () => {
      client.close();
      await api.stop();
      await store.close();
      backend.close();
    },
  };
}
