// Property: over seeded random clusters and workloads (with failing binds, node additions and
// pod deletions along the way), the pods the scheduler bound never exceed any node's
// allocatable cpu, memory or pod count. A failing seed is printed and can be replayed alone.

import { FakeClock } from "@tug/client";
import { describe, expect, it } from "vitest";
import { podRequests } from "../src/framework/resources.js";
import { Scheduler } from "../src/scheduler.js";
import { drain, FakeBinder, FakeRecorder } from "./support/fakes.js";
import { makeNode, makePod } from "./support/fixtures.js";
import { seeded as rng } from "./support/seeded-random.js";

const SEEDS = 150;

interface SeedResult {
  failure: string | undefined;
  bound: number;
  pending: number;
}

async function runSeed(seed: number): Promise<SeedResult> {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const clock = new FakeClock();
  const binder = new FakeBinder();
  const scheduler = new Scheduler({ binder, recorder: new FakeRecorder(), clock, random: r });
  binder.scheduler = scheduler;
  const nodes = new Map<string, { cpu: number; memoryMi: number; pods: number }>();
  const addNode = (name: string) => {
    const spec = {
      cpu: 1 + Math.floor(r() * 8),
      memoryMi: 512 * (1 + Math.floor(r() * 16)),
      pods: 2 + Math.floor(r() * 10),
    };
    nodes.set(name, spec);
    scheduler.onNodeAdd(
      makeNode(name, {
        cpu: String(spec.cpu),
        memory: `${spec.memoryMi}Mi`,
        pods: String(spec.pods),
        labels: { disk: pick(["ssd", "hdd"]), zone: pick(["a", "b"]) },
        taints:
          r() < 0.2
            ? [{ key: "dedicated", value: "x", effect: pick(["NoSchedule", "PreferNoSchedule"]) }]
            : [],
      }),
    );
  };
  const numNodes = 1 + Math.floor(r() * 6);
  for (let i = 0; i < numNodes; i++) addNode(`n${i}`);
  const pods = new Map<string, ReturnType<typeof makePod>>();
  const numPods = 10 + Math.floor(r() * 50);
  for (let i = 0; i < numPods; i++) {
    const name = `p${i}`;
    const spec: Record<string, unknown> = {};
    if (r() < 0.2) spec.nodeSelector = { disk: pick(["ssd", "hdd"]) };
    if (r() < 0.3) spec.tolerations = [{ key: "dedicated", operator: "Exists" }];
    const pod = makePod(name, {
      cpu: pick(["100m", "250m", "500m", "1", "2", "3"]),
      memory: pick(["64Mi", "256Mi", "1Gi", "2Gi"]),
      ownerUid: r() < 0.5 ? `rs${Math.floor(r() * 3)}` : undefined,
      labels: { app: pick(["a", "b"]) },
      spec,
    });
    pods.set(`default/${name}`, pod);
    if (r() < 0.1) binder.failNext.set(`default/${name}`, "conflict");
    scheduler.onPodAdd(pod);
  }
  for (let round = 0; round < 4; round++) {
    await drain(scheduler);
    // Churn: delete a bound pod, maybe add a node, then let back-offs expire.
    const bound = [...binder.bound.keys()];
    if (bound.length > 0 && r() < 0.7) {
      const key = pick(bound);
      const pod = pods.get(key);
      binder.bound.delete(key);
      if (pod !== undefined) scheduler.onPodDelete(pod);
    }
    if (r() < 0.4) addNode(`extra${round}`);
    clock.advance(10_000);
  }
  await drain(scheduler);
  for (const [name, cap] of nodes) {
    let cpu = 0;
    let memory = 0;
    let count = 0;
    for (const [key, node] of binder.bound) {
      if (node !== name) continue;
      const req = podRequests(pods.get(key) as ReturnType<typeof makePod>).requests;
      cpu += req.milliCpu;
      memory += req.memory;
      count++;
    }
    if (cpu > cap.cpu * 1000 || memory > cap.memoryMi * 2 ** 20 || count > cap.pods) {
      scheduler.stop();
      return {
        bound: binder.bound.size,
        pending: 0,
        failure: `seed ${seed}: node ${name} over allocatable: cpu ${cpu}m/${cap.cpu}, memory ${memory}/${cap.memoryMi}Mi, pods ${count}/${cap.pods}`,
      };
    }
  }
  const q = scheduler.queue.pending();
  scheduler.stop();
  return { failure: undefined, bound: binder.bound.size, pending: q.unschedulable + q.backoff };
}

describe("Scheduler property", () => {
  it(`never exceeds a node's allocatable (${SEEDS} seeded clusters)`, async () => {
    const failures: string[] = [];
    let bound = 0;
    let pressured = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const result = await runSeed(seed);
      if (result.failure !== undefined) failures.push(result.failure);
      bound += result.bound;
      if (result.pending > 0) pressured++;
    }
    expect(failures).toEqual([]);
    // Not vacuous: many pods were placed, and many clusters ran out of room.
    expect(bound).toBeGreaterThan(SEEDS * 5);
    expect(pressured).toBeGreaterThan(SEEDS / 4);
  });
});
