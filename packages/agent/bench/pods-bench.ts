// pnpm bench:pods — pod startup latency on a real two-agent cluster (docs/examples.md).
//
// Brings up `tug up --agents 2` from source on its own ports, warms each node with one pod,
// then creates N pods (default 30) at once and watches each one through the API server until
// it is Running and Ready. Kubernetes' pod startup SLO (sig-scalability, "Pod startup
// latency": p99 <= 5 s for stateless pods, image pulls excluded) is measured from creation to
// the moment all containers are reported started, as observed through a watch; the images here
// are local, so nothing is pulled. tug's target is p99 <= 2 s.
//
// Times are on this process's clock: from just before the pod's Create call was sent to the
// watch event that first showed it scheduled (spec.nodeName), Running (status.phase), and
// Ready (condition Ready=True). creationTimestamp and lastTransitionTime have one-second
// resolution (as in Kubernetes), too coarse for this measure.
//
// Prints progress, a table (p50/p90/p99/max per stage, pods per node, load average) and, last,
// one JSON line: {"pods","startupP50Ms","startupP99Ms",...}. Cleans up on exit and on Ctrl-C.
//
// Flags: --pods N (30), --base-port P (5379), --probe (httpd with an httpGet readiness probe,
// periodSeconds 1, instead of `sleep` with no probe).

import { readdir, readFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { objectFromJson, type Pod, PodSchema } from "@tug/api";
import type { ApiClient } from "@tug/client";
import { type ExampleCluster, startExampleCluster } from "../test/examples/example-cluster.js";
import { percentile, startupTable } from "./startup-stats.js";

const { values: flags } = parseArgs({
  options: {
    pods: { type: "string", default: "30" },
    "base-port": { type: "string", default: "5379" },
    probe: { type: "boolean", default: false },
  },
});
const PODS = Number(flags.pods);
const BASE_PORT = Number(flags["base-port"]);
if (!Number.isInteger(PODS) || PODS < 1 || PODS > 200) {
  throw new Error(`--pods ${flags.pods}: give a whole number from 1 to 200`);
}
if (!Number.isInteger(BASE_PORT)) throw new Error(`--base-port ${flags["base-port"]}: a number`);
/** Every pod must be Ready within this; a pod that is not is reported, not waited for. */
const READY_TIMEOUT_MS = 180_000;
const NAMESPACE = "default";
const LABEL = "bench=pods";

const started = Date.now();
const log = (line: string) =>
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}\n`);

function podManifest(name: string, nodeName?: string): Pod {
  const container = flags.probe
    ? {
        name: "web",
        image: "tug/busybox:latest",
        command: ["httpd", "-f", "-p", "8080", "-h", "/"],
        readinessProbe: { httpGet: { path: "/", port: 8080 }, periodSeconds: 1 },
      }
    : { name: "sleep", image: "tug/busybox:latest", command: ["sleep", "3600"] };
  return objectFromJson({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: NAMESPACE, labels: { bench: "pods" } },
    spec: {
      containers: [container],
      terminationGracePeriodSeconds: 0,
      ...(nodeName === undefined ? {} : { nodeName }),
    },
  }) as Pod;
}

const isReady = (pod: Pod) =>
  pod.status?.conditions.some((c) => c.type === "Ready" && c.status === "True") ?? false;

/** What the watch showed of one pod, in ms since its Create call was sent. */
interface PodTimes {
  sent: number;
  /** Date.now() when sent, to place the agents' log times. */
  sentWall: number;
  /** From the agent's log line "started container" (its clock is this machine's). */
  containerStartedMs?: number;
  node?: string;
  scheduledMs?: number;
  runningMs?: number;
  readyMs?: number;
}

/**
 * Creates `names` at once and follows them with one watch (started first, so no change is
 * missed) until all are Ready or the timeout; returns each pod's times.
 */
async function createAndFollow(
  api: ApiClient,
  names: readonly string[],
  nodeFor: (i: number) => string | undefined,
): Promise<Map<string, PodTimes>> {
  const times = new Map<string, PodTimes>();
  const list = await api.list(PodSchema, { namespace: NAMESPACE, labelSelector: LABEL });
  const stopper = new AbortController();
  const stream = api.watch(PodSchema, {
    namespace: NAMESPACE,
    labelSelector: LABEL,
    resourceVersion: list.resourceVersion,
    signal: stopper.signal,
  });
  let readyCount = 0;
  let allReady: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    allReady = resolve;
  });
  const following = (async () => {
    for await (const event of stream) {
      if (event.type !== "ADDED" && event.type !== "MODIFIED") continue;
      const now = performance.now();
      const pod = event.object;
      const t = times.get(pod.metadata?.name ?? "");
      if (t === undefined) continue;
      const nodeName = pod.spec?.nodeName ?? "";
      if (t.scheduledMs === undefined && nodeName !== "") {
        t.scheduledMs = now - t.sent;
        t.node = nodeName;
      }
      if (t.runningMs === undefined && pod.status?.phase === "Running") t.runningMs = now - t.sent;
      if (t.readyMs === undefined && isReady(pod)) {
        t.readyMs = now - t.sent;
        readyCount++;
        if (readyCount === names.length) allReady();
      }
    }
  })().catch((e: unknown) => {
    if (!stopper.signal.aborted) log(`watch ended: ${String(e)}`);
  });
  const progress = setInterval(() => log(`ready ${readyCount}/${names.length}`), 1000);
  try {
    await Promise.all(
      names.map(async (name, i) => {
        const t: PodTimes = { sent: performance.now(), sentWall: Date.now() };
        times.set(name, t);
        await api.create(PodSchema, podManifest(name, nodeFor(i)));
      }),
    );
    log(`created ${names.length} pods`);
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, READY_TIMEOUT_MS).unref());
    await Promise.race([done, timeout]);
  } finally {
    clearInterval(progress);
    stopper.abort();
    await following;
  }
  return times;
}

/**
 * Fills containerStartedMs from the agents' JSON logs (`"msg":"started container"` with
 * `"pod":"default/<name>"`): the moment the runtime's StartContainer returned, which splits
 * the time to Running into Docker's part and the status report's.
 */
async function readContainerStarts(dataDir: string, times: Map<string, PodTimes>): Promise<void> {
  const dir = join(dataDir, "logs");
  for (const file of await readdir(dir)) {
    if (!file.startsWith("agent-")) continue;
    for (const line of (await readFile(join(dir, file), "utf8")).split("\n")) {
      if (!line.includes('"started container"')) continue;
      const entry = JSON.parse(line) as { ts?: string; pod?: string };
      const t = times.get((entry.pod ?? "").replace(`${NAMESPACE}/`, ""));
      if (t !== undefined && entry.ts !== undefined && t.containerStartedMs === undefined) {
        t.containerStartedMs = Date.parse(entry.ts) - t.sentWall;
      }
    }
  }
}

async function deleteBenchPods(api: ApiClient): Promise<void> {
  await api.deleteCollection(PodSchema, {
    namespace: NAMESPACE,
    labelSelector: LABEL,
    gracePeriodSeconds: 0,
  });
}

async function main(): Promise<void> {
  let cluster: ExampleCluster | undefined;
  let closing = false;
  const close = async () => {
    if (closing) return;
    closing = true;
    if (cluster !== undefined) {
      log("cleaning up: tug down --purge");
      await deleteBenchPods(cluster.api).catch(() => undefined);
      await cluster.close();
    }
  };
  process.once("SIGINT", () => {
    log("interrupted");
    void close().finally(() => process.exit(130));
  });
  try {
    cluster = await startExampleCluster({ basePort: BASE_PORT, progress: log });
    const { api, nodes } = cluster;
    log(`cluster up (${nodes.join(", ")}); warming each node with one pod`);
    const warm = await createAndFollow(
      api,
      nodes.map((_, i) => `warm-${i + 1}`),
      (i) => nodes[i],
    );
    for (const [name, t] of warm)
      log(`${name}: Ready after ${t.readyMs?.toFixed(0) ?? "never"} ms`);
    await deleteBenchPods(api);

    const load = loadavg();
    log(
      `creating ${PODS} pods at once (${flags.probe ? "httpd + readiness probe" : "sleep, no probe"})`,
    );
    const names = Array.from({ length: PODS }, (_, i) => `bench-${String(i + 1).padStart(3, "0")}`);
    const times = await createAndFollow(api, names, () => undefined);
    const all = [...times.values()];
    const notReady = all.filter((t) => t.readyMs === undefined).length;
    const perNode = new Map<string, number>();
    for (const t of all)
      perNode.set(t.node ?? "(unscheduled)", (perNode.get(t.node ?? "(unscheduled)") ?? 0) + 1);

    // A pod never Ready counts as the timeout, so that it shows in p99 and max.
    const ready = all.map((t) => t.readyMs ?? READY_TIMEOUT_MS);
    await readContainerStarts(cluster.dataDir, times);
    const table = startupTable([
      ["scheduled", all.flatMap((t) => (t.scheduledMs === undefined ? [] : [t.scheduledMs]))],
      [
        "container started (agent log)",
        all.flatMap((t) => (t.containerStartedMs === undefined ? [] : [t.containerStartedMs])),
      ],
      ["running", all.flatMap((t) => (t.runningMs === undefined ? [] : [t.runningMs]))],
      ["running and ready", ready],
    ]);
    const after = loadavg();
    process.stdout.write(`\n${table}\n`);
    process.stdout.write(
      `pods per node: ${[...perNode].map(([n, c]) => `${n} ${c}`).join(", ")}; not ready after ${READY_TIMEOUT_MS / 1000} s: ${notReady}\n`,
    );
    process.stdout.write(
      `load average (1/5/15 min) before: ${load.map((l) => l.toFixed(2)).join(" ")}, after: ${after.map((l) => l.toFixed(2)).join(" ")}\n`,
    );
    process.stdout.write(
      `${JSON.stringify({
        pods: PODS,
        startupP50Ms: Math.round(percentile(ready, 50)),
        startupP99Ms: Math.round(percentile(ready, 99)),
        startupMaxMs: Math.round(percentile(ready, 100)),
        notReady,
        probe: flags.probe,
        load1: Number(after[0]?.toFixed(2)),
      })}\n`,
    );
  } finally {
    await close();
  }
}

await main();
