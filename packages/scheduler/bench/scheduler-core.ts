// Micro-benchmark of the scheduling core, in process: 1000 nodes, 10 000 pods through
// schedulePod + assume, no API in the loop. Prints pods/s. Run:
//   pnpm exec tsx packages/scheduler/bench/scheduler-core.ts [nodes] [pods] [--loop]
// With --loop the pods go through the whole Scheduler instead (queue, assume, an instant Bind
// whose bound pod comes back as a watch event), to show the loop's own overhead.
// The workload: 3 zones; pods of ReplicaSets of 50 (spread by owner), 10% with a
// nodeSelector, 5% with a zone spread constraint, 2% with hostname anti-affinity to their
// ReplicaSet, cpu/memory requests from 100m/128Mi to 1/1Gi.

import { clone, create } from "@bufbuild/protobuf";
import { type Node, NodeSchema, type Pod, PodSchema } from "@tug/api";
import { newPodInfo } from "../src/framework/pod-info.js";
import { defaultProfile } from "../src/framework/profile.js";
import { ScheduleAlgorithm } from "../src/framework/schedule-algorithm.js";
import { Snapshot } from "../src/framework/snapshot.js";
import { Scheduler } from "../src/scheduler.js";

const ZONE = "topology.kubernetes.io/zone";
const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const loop = process.argv.includes("--loop");
const numNodes = Number(args[0] ?? 1000);
const numPods = Number(args[1] ?? 10_000);

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = seeded(42);

function node(i: number): Node {
  const name = `node-${i}`;
  return create(NodeSchema, {
    metadata: {
      name,
      labels: {
        "kubernetes.io/hostname": name,
        [ZONE]: `zone-${i % 3}`,
        disk: i % 4 === 0 ? "ssd" : "hdd",
      },
    },
    status: { allocatable: { cpu: "32", memory: "128Gi", pods: "110" } },
  });
}

const cpus = ["100m", "250m", "500m", "1"];
const memories = ["128Mi", "256Mi", "512Mi", "1Gi"];

function pod(i: number): Pod {
  const rs = Math.floor(i / 50);
  const app = `app-${rs}`;
  const r = random();
  const spec: Record<string, unknown> = {};
  if (r < 0.1) spec.nodeSelector = { disk: "ssd" };
  else if (r < 0.15) {
    spec.topologySpreadConstraints = [
      {
        maxSkew: 1,
        topologyKey: ZONE,
        whenUnsatisfiable: "DoNotSchedule",
        labelSelector: { matchLabels: { app } },
      },
    ];
  } else if (r < 0.17) {
    spec.affinity = {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { labelSelector: { matchLabels: { app } }, topologyKey: "kubernetes.io/hostname" },
        ],
      },
    };
  }
  return create(PodSchema, {
    metadata: {
      name: `pod-${i}`,
      namespace: "bench",
      uid: `uid-${i}`,
      labels: { app },
      ownerReferences: [{ kind: "ReplicaSet", name: app, uid: `rs-${rs}`, controller: true }],
    },
    spec: {
      containers: [
        {
          name: "c",
          image: "busybox",
          resources: {
            requests: { cpu: cpus[i % 4] as string, memory: memories[(i >> 2) % 4] as string },
          },
        },
      ],
      ...spec,
    },
  });
}

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
