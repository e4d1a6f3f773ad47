// Micro-benchmark of the scheduling core, in process: 1000 nodes, 10 000 pods through
// schedulePod + assume, no API in the loop. Prints pods/s. Run:
//   pnpm exec tsx packages/scheduler/bench/scheduler-core.ts [nodes] [pods] [--loop]
// With --loop the pods go through the whole Scheduler instead (queue, assume, an instant Bind
// whose bound pod comes back as a watch event), to show the loop's own overhead.
// The workload (bench/workload.ts): 3 zones; pods of ReplicaSets of 50 (spread by owner), 10%
// with a nodeSelector, 5% with a zone spread constraint, 2% with hostname anti-affinity to their
// ReplicaSet; nodes of 32 cpu / 128Gi / 110 pods, requests from 100m/128Mi to 1/1Gi.

import { clone } from "@bufbuild/protobuf";
import { type Pod, PodSchema } from "@tug/api";
import { newPodInfo } from "../src/framework/pod-info.js";
import { defaultProfile } from "../src/framework/profile.js";
import { ScheduleAlgorithm } from "../src/framework/schedule-algorithm.js";
import { Snapshot } from "../src/framework/snapshot.js";
import { Scheduler } from "../src/scheduler.js";
import { benchNode, benchPod, type RequestsOf, seeded } from "./workload.js";

const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const loop = process.argv.includes("--loop");
const numNodes = Number(args[0] ?? 1000);
const numPods = Number(args[1] ?? 10_000);

const random = seeded(42);
const NODE_SHAPE = { cpu: "32", memory: "128Gi", pods: "110" };
const node = (i: number) => benchNode(i, NODE_SHAPE);

const cpus = ["100m", "250m", "500m", "1"];
const memories = ["128Mi", "256Mi", "512Mi", "1Gi"];
const requests: RequestsOf = (i) => ({
  cpu: cpus[i % 4] as string,
  memory: memories[(i >> 2) % 4] as string,
});
const pod = (i: number) => benchPod(i, { namespace: "bench", requests, random, withUid: true });

let cpuStart = process.cpuUsage();

/** Wall-clock rate, and the rate per CPU second (steadier on a shared, busy machine). */
function report(mode: string, scheduled: number, unschedulable: number, seconds: number): void {
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  console.log(
    `scheduler-core (${mode}): ${numNodes} nodes, ${numPods} pods: ${scheduled} scheduled, ${unschedulable} unschedulable in ${seconds.toFixed(2)} s = ${(numPods / seconds).toFixed(0)} pods/s (${(numPods / cpuSeconds).toFixed(0)} pods per CPU second)`,
  );
}

async function runLoop(): Promise<void> {
  let bound = 0;
  const scheduler: Scheduler = new Scheduler({
    random,
    binder: {
      async bind(pod, nodeName) {
        const updated = clone(PodSchema, pod);
        if (updated.spec !== undefined) updated.spec.nodeName = nodeName;
        bound++;
        queueMicrotask(() => scheduler.onPodUpdate(pod, updated));
      },
    },
    recorder: { failedScheduling: () => {}, scheduled: () => {} },
  });
  for (let i = 0; i < numNodes; i++) scheduler.onNodeAdd(node(i));
  const pods = Array.from({ length: numPods }, (_, i) => pod(i));
  const started = performance.now();
  cpuStart = process.cpuUsage();
  for (const p of pods) scheduler.onPodAdd(p);
  while (scheduler.queue.pending().active > 0) await scheduler.scheduleOne();
  await scheduler.idle();
  const seconds = (performance.now() - started) / 1000;
  report("loop", bound, scheduler.stats.unschedulable, seconds);
  scheduler.stop();
}

if (loop) {
  await runLoop();
  process.exit(0);
}

const snapshot = new Snapshot();
for (let i = 0; i < numNodes; i++) snapshot.setNode(node(i));
const pods = Array.from({ length: numPods }, (_, i) => pod(i));
const algorithm = new ScheduleAlgorithm(defaultProfile(), { random });

let scheduled = 0;
let unschedulable = 0;
const started = performance.now();
cpuStart = process.cpuUsage();
let lastReport = started;
for (let i = 0; i < pods.length; i++) {
  const info = newPodInfo(pods[i] as Pod);
  const result = algorithm.schedulePod(info, snapshot);
  if (result.kind === "scheduled") {
    snapshot.assumePod(info, result.nodeName);
    scheduled++;
  } else unschedulable++;
  const now = performance.now();
  if (now - lastReport > 2000) {
    lastReport = now;
    process.stderr.write(
      `  ${i + 1}/${pods.length} pods, ${((i + 1) / ((now - started) / 1000)).toFixed(0)} pods/s\n`,
    );
  }
}
report("schedulePod + assume", scheduled, unschedulable, (performance.now() - started) / 1000);
