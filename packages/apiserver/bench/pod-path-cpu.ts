// The API server's CPU per pod on bench:scheduler's path, without the scheduler: what
// tug-apiserver spends for each pod when pods are created, bound and reported (a Scheduled
// Event) while two watches (the scheduler's and the bench's) follow every pod. The scheduler's
// own decisions are left out, so the figure moves only with the API server's code; run it from
// two checkouts, alternating, to compare them (docs/apiserver.md, "CPU per pod").
//
//   tsx --conditions=source packages/apiserver/bench/pod-path-cpu.ts
//
// Environment: BENCH_PODS (3000), BENCH_CONCURRENCY (64 pods in flight, each create → bind →
// event), BENCH_STORE_MEMBERS (1), BENCH_APISERVER_NODE_ARGS (e.g. --cpu-prof ...). Prints
// progress to stderr and one JSON line to stdout.

import { create } from "@bufbuild/protobuf";
import { EventSchema, type Pod, PodSchema } from "@tug/api";
import { ApiClient, isApiError } from "@tug/client";
import { ensureDefaultServiceAccount } from "../test/support/default-service-account.js";
import { BenchEnvironment, stopEverythingOnSignals } from "./processes.js";

const numPods = Number(process.env.BENCH_PODS ?? 3000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 64);
const storeMembers = Number(process.env.BENCH_STORE_MEMBERS ?? 1);
const NAMESPACE = "default";
/** Watches that deliver nothing for this long while pods are unbound are started again. */
const WATCH_IDLE_MS = 5_000;
const REQUEST_TIMEOUT_MS = 60_000;

/** A reflector-like watch counting pods seen bound; restarted from its last resourceVersion. */
function followPods(address: string, port: number, fromRv: string) {
  const api = new ApiClient({
    servers: [`${address}:${port}`],
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
  });
  const bound = new Set<string>();
  let restarts = 0;
  let stopped = false;
  let current: { cancel(): void } | undefined;
  const done = (async () => {
    let rv = fromRv;
    while (!stopped && bound.size < numPods) {
      const stream = api.watch(PodSchema, { namespace: NAMESPACE, resourceVersion: rv });
      current = stream;
      let last = performance.now();
      const idle = setInterval(() => {
        if (performance.now() - last > WATCH_IDLE_MS) stream.cancel();
      }, 1000);
      try {
        for await (const ev of stream) {
          last = performance.now();
          const pod = ev.object as Pod;
          rv = pod.metadata?.resourceVersion ?? rv;
          if ((pod.spec?.nodeName ?? "") !== "") bound.add(pod.metadata?.name ?? "");
        }
      } catch (e) {
        if (!isApiError(e, "Expired") && !stopped) throw e;
        if (isApiError(e, "Expired"))
          rv = (await api.list(PodSchema, { namespace: NAMESPACE, limit: 1 })).resourceVersion;
      } finally {
        clearInterval(idle);
      }
      if (!stopped && bound.size < numPods) restarts++;
    }
  })().finally(() => api.close());
  return {
    done,
    bound: () => bound.size,
    restarts: () => restarts,
    stop: () => {
      stopped = true;
      current?.cancel();
    },
  };
}

/** A pod like bench:scheduler's (scheduler_perf's): 100m / 128Mi, in ReplicaSets of 50. */
function benchPod(i: number): Pod {
  const app = `app-${Math.floor(i / 50)}`;
  return create(PodSchema, {
    metadata: {
      name: `pod-${i}`,
      namespace: NAMESPACE,
      labels: { app },
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: app,
          uid: `rs-${app}`,
          controller: true,
        },
      ],
    },
    spec: {
      containers: [
        {
          name: "c",
          image: "tug/pause:latest",
          resources: { requests: { cpu: "100m", memory: "128Mi" } },
        },
      ],
    },
  });
}

async function scrape(url: string, series: string): Promise<number> {
  const text = await (await fetch(url)).text();
  let sum = 0;
  for (const line of text.split("\n"))
    if (line.startsWith(series)) sum += Number(line.split(" ").pop());
  return sum;
}

async function main(): Promise<void> {
  stopEverythingOnSignals();
  const env = await BenchEnvironment.create();
  try {
    await env.startStore(storeMembers);
    const apiserver = await env.startApiserver();
    const api = new ApiClient({
      servers: [`127.0.0.1:${apiserver.port}`],
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
    });
    await ensureDefaultServiceAccount(api, NAMESPACE);
    const pods = Array.from({ length: numPods }, (_, i) => benchPod(i));
    const rv = (await api.list(PodSchema, { namespace: NAMESPACE, limit: 1 })).resourceVersion;
    const watchers = ["127.0.0.2", "127.0.0.3"].map((a) => followPods(a, apiserver.port, rv));
    const apiserverProc = env.processes.find((p) => p.name === "apiserver");
    const storeProcs = env.processes.filter((p) => p.name.startsWith("store"));
    if (apiserverProc === undefined) throw new Error("no apiserver process");
    const cpu = async () => ({
      apiserver: await apiserverProc.cpuMs(),
      store: (await Promise.all(storeProcs.map((p) => p.cpuMs()))).reduce((a, b) => a + b, 0),
    });
    const before = await cpu();
    const benchBefore = process.cpuUsage();
    const t0 = performance.now();
    let next = 0;
    let done = 0;
    const progress = setInterval(() => {
      const seen = watchers.map((w) => w.bound()).join("/");
      process.stderr.write(`  ${done}/${numPods} bound; watches saw ${seen}\n`);
    }, 2000);
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < numPods; i = next++) {
          const pod = pods[i] as Pod;
          const name = pod.metadata?.name ?? "";
          const created = (await api.create(PodSchema, pod, { namespace: NAMESPACE })) as Pod;
          const node = `node-${i % 1000}`;
          await api.bind(NAMESPACE, name, node, { uid: created.metadata?.uid ?? "" });
          const ts = { seconds: BigInt(Math.floor(Date.now() / 1000)), nanos: 0 };
          await api.create(
            EventSchema,
            create(EventSchema, {
              metadata: { name: `${name}.${i.toString(16)}`, namespace: NAMESPACE },
              involvedObject: { apiVersion: "v1", kind: "Pod", namespace: NAMESPACE, name },
              reason: "Scheduled",
              message: `Successfully assigned ${NAMESPACE}/${name} to ${node}`,
              type: "Normal",
              action: "Binding",
              source: { component: "default-scheduler" },
              reportingComponent: "default-scheduler",
              firstTimestamp: ts,
              lastTimestamp: ts,
              count: 1,
            }),
            { namespace: NAMESPACE },
          );
          done++;
        }
      }),
    );
    while (watchers.some((w) => w.bound() < numPods)) await new Promise((r) => setTimeout(r, 50));
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(progress);
    const after = await cpu();
    const bench = process.cpuUsage(benchBefore);
    const terminated = await scrape(
      `${apiserver.healthUrl}/metrics`,
      "apiserver_terminated_watchers_total",
    );
    for (const w of watchers) w.stop();
    await Promise.allSettled(watchers.map((w) => w.done));
    api.close();
    const perPod = (ms: number) => Math.round((ms / numPods) * 1000) / 1000;
    console.log(
      JSON.stringify({
        pods: numPods,
        seconds: Math.round(seconds * 10) / 10,
        apiserverCpuMsPerPod: perPod(after.apiserver - before.apiserver),
        storeCpuMsPerPod: perPod(after.store - before.store),
        benchCpuMsPerPod: perPod((bench.user + bench.system) / 1000),
        watchRestarts: watchers.map((w) => w.restarts()),
        terminatedWatchers: terminated,
      }),
    );
  } finally {
    await env.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
