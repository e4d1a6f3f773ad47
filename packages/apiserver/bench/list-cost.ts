// `tsx --conditions=source packages/apiserver/bench/list-cost.ts`: CPU per List of a namespace
// of 100 pods inside one process, served from the watch cache (the default) and from the store
// (consistentListFromCache: false), calling the handler and encoding the response as gRPC
// would. CPU time, unlike latency, barely depends on what else the machine runs. The store is
// tug-store in this process, so the store path's figure includes the store's own work.
// Environment: LIST_COST_CALLS (default 2000), LIST_COST_PODS (default 100).

import { create, toBinary } from "@bufbuild/protobuf";
import { NamespaceSchema, PodSchema, ServiceAccountSchema } from "@tug/api";
import { ApiServer } from "@tug/apiserver";
import { ApiClient, apiv1 } from "@tug/client";
import { LocalBackend, startEtcdGrpcServer } from "@tug/store";

const calls = Number(process.env.LIST_COST_CALLS ?? 2000);
const podCount = Number(process.env.LIST_COST_PODS ?? 100);

const backend = new LocalBackend({ name: "list-cost" });
const store = await startEtcdGrpcServer({ backend, listen: "127.0.0.1:0" });
const servers: ApiServer[] = [];
try {
  const start = (consistentListFromCache: boolean) =>
    ApiServer.start({
      etcdServers: [`http://127.0.0.1:${store.port}`],
      listen: "127.0.0.1:0",
      compactionIntervalMs: 0,
      consistentListFromCache,
    });
  const cached = await start(true);
  servers.push(cached);
  const fromStore = await start(false);
  servers.push(fromStore);
  const client = new ApiClient({ servers: [cached.address] });
  await client.create(NamespaceSchema, create(NamespaceSchema, { metadata: { name: "cost" } }));
  await client.create(
    ServiceAccountSchema,
    create(ServiceAccountSchema, { metadata: { name: "default", namespace: "cost" } }),
  );
  for (let i = 0; i < podCount; i++) {
    await client.create(
      PodSchema,
      create(PodSchema, {
        metadata: { name: `p${i}`, namespace: "cost", labels: { app: "cost" } },
        spec: { containers: [{ name: "app", image: "busybox" }] },
      }),
    );
  }
  client.close();
  const req = create(apiv1.ListRequestSchema, {
    ref: { group: "", version: "v1", resource: "pods", namespace: "cost" },
    limit: 500,
  });
  const atZero = create(apiv1.ListRequestSchema, { ...req, resourceVersion: "0" });
  for (const [name, server, request] of [
    ['watch cache, resourceVersion ""', cached, req],
    ['watch cache, resourceVersion "0"', cached, atZero],
    ['store, resourceVersion ""', fromStore, req],
  ] as const) {
    let bytes = 0;
    const run = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const res = await server.handlers.list(request);
        bytes = toBinary(apiv1.ListResponseSchema, res).length;
      }
    };
    await run(200);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await run(calls);
    const cpu = process.cpuUsage(cpu0);
    const ms = performance.now() - t0;
    console.log(
      `${name}: ${((cpu.user + cpu.system) / 1000 / calls).toFixed(3)} ms CPU per list of ${podCount} pods (${bytes} bytes), ${(ms / calls).toFixed(3)} ms wall`,
    );
  }
} finally {
  await Promise.all(servers.map((s) => s.stop()));
  await store.close();
  backend.close();
}
