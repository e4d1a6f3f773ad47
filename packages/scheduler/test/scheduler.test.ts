import { create } from "@bufbuild/protobuf";
import { PodStatusSchema } from "@tug/api";
import { FakeClock } from "@tug/client";
import { afterEach, describe, expect, it } from "vitest";
import { Scheduler } from "../src/scheduler.js";
import { drain, FakeBinder, FakeRecorder } from "./support/fakes.js";
import { makeNode, makePod } from "./support/fixtures.js";

const ZONE = "topology.kubernetes.io/zone";
let current: Scheduler | undefined;

function setup() {
  const clock = new FakeClock();
  const binder = new FakeBinder();
  const recorder = new FakeRecorder();
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const scheduler = new Scheduler({ binder, recorder, clock, random });
  binder.scheduler = scheduler;
  current = scheduler;
  scheduler.onNodeAdd(
    makeNode("n1", { cpu: "2", memory: "4Gi", labels: { disk: "ssd", [ZONE]: "a" } }),
  );
  scheduler.onNodeAdd(
    makeNode("n2", { cpu: "4", memory: "8Gi", labels: { disk: "hdd", [ZONE]: "b" } }),
  );
  scheduler.onNodeAdd(
    makeNode("n3", {
      cpu: "8",
      memory: "16Gi",
      labels: { [ZONE]: "c" },
      taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }],
    }),
  );
  return { clock, binder, recorder, scheduler };
}

afterEach(() => {
  current?.stop();
  current = undefined;
});

describe("Scheduler", () => {
  it("places pods by requests, selectors and tolerations, and binds them", async () => {
    const { scheduler, binder, recorder } = setup();
    scheduler.onPodAdd(makePod("needs-3-cpu", { cpu: "3" }));
    scheduler.onPodAdd(makePod("wants-ssd", { spec: { nodeSelector: { disk: "ssd" } } }));
    scheduler.onPodAdd(
      makePod("gpu-job", {
        cpu: "6",
        spec: {
          tolerations: [
            { key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" },
          ],
        },
      }),
    );
    await drain(scheduler);
    expect(Object.fromEntries(binder.bound)).toEqual({
      "default/needs-3-cpu": "n2",
      "default/wants-ssd": "n1",
      "default/gpu-job": "n3",
    });
    expect(recorder.failed).toEqual([]);
    expect(recorder.scheduledEvents).toContainEqual({ pod: "gpu-job", node: "n3" });
    // The watch confirmed every assumption.
    expect(scheduler.snapshot.isAssumed("default/gpu-job")).toBe(false);
    expect(scheduler.snapshot.get("n2")?.requested.milliCpu).toBe(3000);
  });

  it("records FailedScheduling with kube-scheduler's message, and the pod stays pending", async () => {
    const { scheduler, binder, recorder } = setup();
    scheduler.onPodAdd(makePod("huge", { cpu: "16" }));
    scheduler.onPodAdd(makePod("nvme", { spec: { nodeSelector: { disk: "nvme" } } }));
    await drain(scheduler);
    expect(recorder.failuresOf("huge")).toEqual([
      "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu.",
    ]);
    expect(recorder.failuresOf("nvme")).toEqual([
      "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 node(s) didn't match Pod's node affinity/selector.",
    ]);
    expect(binder.bound.size).toBe(0);
    expect(scheduler.queue.pending().unschedulable).toBe(2);
  });

  it("retries an unschedulable pod when a node is added, after its back-off", async () => {
    const { scheduler, binder, recorder, clock } = setup();
    scheduler.onPodAdd(makePod("big", { cpu: "12" }));
    await drain(scheduler);
    expect(recorder.failuresOf("big")).toHaveLength(1);
    clock.advance(500);
    scheduler.onNodeAdd(makeNode("n4", { cpu: "16", memory: "32Gi" }));
    // Still backing off (1 s from the failure).
    expect(scheduler.queue.pending()).toMatchObject({ backoff: 1, active: 0 });
    clock.advance(500);
    await drain(scheduler);
    expect(binder.bound.get("default/big")).toBe("n4");
  });

  it("counts pods it just placed before their binding is confirmed", async () => {
    const { scheduler, binder } = setup();
    for (let i = 0; i < 3; i++)
      scheduler.onPodAdd(
        makePod(`p${i}`, { cpu: "1500m", spec: { nodeSelector: { disk: "hdd" } } }),
      );
    // Two cycles back to back, without letting binds or watch events run in between.
    await scheduler.scheduleOne();
    await scheduler.scheduleOne();
    await scheduler.scheduleOne();
    await drain(scheduler);
    expect([...binder.bound.values()]).toEqual(["n2", "n2"]);
    expect(scheduler.queue.pending().unschedulable).toBe(1);
  });

  it("forgets a pod whose bind failed and retries it after the back-off", async () => {
    const { scheduler, binder, recorder, clock } = setup();
    binder.failNext.set("default/a", "etcdserver: leader changed");
    scheduler.onPodAdd(makePod("a", { cpu: "1" }));
    await drain(scheduler);
    expect(recorder.failuresOf("a")).toEqual(["binding rejected: etcdserver: leader changed"]);
    expect(scheduler.snapshot.nodeOf("default/a")).toBeUndefined();
    expect(scheduler.queue.pending().backoff).toBe(1);
    clock.advance(1000);
    await drain(scheduler);
    expect(binder.bound.has("default/a")).toBe(true);
  });

  it("spreads the pods of one owner over nodes and keeps anti-affine pods apart", async () => {
    const { scheduler, binder, recorder } = setup();
    scheduler.onNodeDelete(makeNode("n3"));
    scheduler.onNodeAdd(makeNode("n3", { cpu: "2", memory: "4Gi", labels: { [ZONE]: "c" } }));
    const anti = {
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            {
              labelSelector: { matchLabels: { app: "db" } },
              topologyKey: "kubernetes.io/hostname",
            },
          ],
        },
      },
    };
    for (let i = 0; i < 4; i++)
      scheduler.onPodAdd(makePod(`db-${i}`, { labels: { app: "db" }, spec: anti }));
    await drain(scheduler);
    expect(new Set([...binder.bound.values()]).size).toBe(3);
    expect(recorder.failed).toEqual([
      {
        pod: "db-3",
        message: "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.",
      },
    ]);
    for (let i = 0; i < 3; i++) scheduler.onPodAdd(makePod(`web-${i}`, { ownerUid: "rs-web" }));
    await drain(scheduler);
    const webNodes = [0, 1, 2].map((i) => binder.bound.get(`default/web-${i}`));
    expect(new Set(webNodes).size).toBe(3);
  });

  it("honours zone spread constraints (DoNotSchedule)", async () => {
    const { scheduler, binder } = setup();
    const spec = {
      tolerations: [{ operator: "Exists" }],
      topologySpreadConstraints: [
        {
          maxSkew: 1,
          topologyKey: ZONE,
          whenUnsatisfiable: "DoNotSchedule",
          labelSelector: { matchLabels: { app: "s" } },
        },
      ],
    };
    for (let i = 0; i < 6; i++)
      scheduler.onPodAdd(makePod(`s-${i}`, { labels: { app: "s" }, spec }));
    await drain(scheduler);
    const perNode = new Map<string, number>();
    for (const n of binder.bound.values()) perNode.set(n, (perNode.get(n) ?? 0) + 1);
    expect(Object.fromEntries(perNode)).toEqual({ n1: 2, n2: 2, n3: 2 });
  });

  it("retries an unschedulable pod on a spec change, not on a status-only update", async () => {
    const { scheduler, binder, clock } = setup();
    const pod = makePod("picky", { spec: { nodeSelector: { disk: "nvme" } } });
    scheduler.onPodAdd(pod);
    await drain(scheduler);
    expect(scheduler.queue.pending().unschedulable).toBe(1);
    const statusOnly = makePod("picky", { spec: { nodeSelector: { disk: "nvme" } } });
    statusOnly.status = create(PodStatusSchema, { phase: "Pending", message: "still waiting" });
    if (statusOnly.metadata !== undefined) statusOnly.metadata.resourceVersion = "42";
    scheduler.onPodUpdate(pod, statusOnly);
    expect(scheduler.queue.pending().unschedulable).toBe(1);
    // A metadata change (a label) is a change too; only resourceVersion, generation and
    // managedFields are not.
    const relabelled = makePod("picky", {
      labels: { tier: "db" },
      spec: { nodeSelector: { disk: "nvme" } },
    });
    scheduler.onPodUpdate(statusOnly, relabelled);
    expect(scheduler.queue.pending()).toMatchObject({ unschedulable: 0, backoff: 1 });
    clock.advance(1000);
    await drain(scheduler);
    expect(scheduler.queue.pending().unschedulable).toBe(1);
    const relaxed = makePod("picky", { spec: { nodeSelector: { disk: "ssd" } } });
    scheduler.onPodUpdate(relabelled, relaxed);
    expect(scheduler.queue.pending()).toMatchObject({ unschedulable: 0, backoff: 1 });
    // The second failed attempt doubled the back-off.
    clock.advance(2000);
    await drain(scheduler);
    expect(binder.bound.get("default/picky")).toBe("n1");
  });

  it("retries pending pods when a bound pod is deleted and frees room", async () => {
    const { scheduler, binder, recorder, clock } = setup();
    scheduler.onPodAdd(makePod("hog", { cpu: "4", spec: { nodeSelector: { disk: "hdd" } } }));
    await drain(scheduler);
    expect(binder.bound.get("default/hog")).toBe("n2");
    scheduler.onPodAdd(makePod("next", { cpu: "3", spec: { nodeSelector: { disk: "hdd" } } }));
    await drain(scheduler);
    expect(recorder.failuresOf("next")).toEqual([
      "0/3 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: gpu}.",
    ]);
    scheduler.onPodDelete(makePod("hog", { nodeName: "n2", cpu: "4" }));
    clock.advance(1000);
    await drain(scheduler);
    expect(binder.bound.get("default/next")).toBe("n2");
  });

  it("drops a pod deleted while its bind is in flight, even if the bind fails", async () => {
    const { scheduler, binder } = setup();
    binder.failNext.set("default/gone", 'pods "gone" not found');
    scheduler.onPodAdd(makePod("gone", { cpu: "1" }));
    await scheduler.scheduleOne();
    expect(scheduler.snapshot.isAssumed("default/gone")).toBe(true);
    scheduler.onPodDelete(makePod("gone"));
    await drain(scheduler);
    expect(scheduler.snapshot.nodeOf("default/gone")).toBeUndefined();
    expect(scheduler.queue.has("default/gone")).toBe(false);
    expect(scheduler.snapshot.get("n3")?.requested.milliCpu ?? 0).toBe(0);
  });

  it("keeps at most maxConcurrentBinds binds in flight, going on as each one ends", async () => {
    const held: (() => void)[] = [];
    const bound: string[] = [];
    const scheduler = new Scheduler({
      binder: {
        bind: (pod) =>
          new Promise<void>((resolve) => {
            held.push(() => {
              bound.push(pod.metadata?.name ?? "");
              resolve();
            });
          }),
      },
      recorder: new FakeRecorder(),
      clock: new FakeClock(),
      maxConcurrentBinds: 2,
    });
    current = scheduler;
    scheduler.onNodeAdd(makeNode("n1", { cpu: "8", memory: "16Gi" }));
    for (const name of ["a", "b", "c", "d"]) scheduler.onPodAdd(makePod(name));
    const running = scheduler.run();
    const settle = () => new Promise<void>((r) => setImmediate(r));
    await settle();
    expect(held.length).toBe(2);
    held[0]?.();
    await settle();
    expect(held.length).toBe(3);
    held[1]?.();
    held[2]?.();
    await settle();
    expect(held.length).toBe(4);
    held[3]?.();
    await scheduler.idle();
    expect(bound).toEqual(["a", "b", "c", "d"]);
    scheduler.stop();
    await running;
  });

  it("leaves pods of other schedulers and bound pods out of the queue", async () => {
    const { scheduler } = setup();
    scheduler.onPodAdd(makePod("mine"));
    scheduler.onPodAdd(makePod("theirs", { spec: { schedulerName: "other-scheduler" } }));
    scheduler.onPodAdd(makePod("bound", { nodeName: "n1", cpu: "1" }));
    expect(scheduler.queue.has("default/mine")).toBe(true);
    expect(scheduler.queue.has("default/theirs")).toBe(false);
    expect(scheduler.queue.has("default/bound")).toBe(false);
    expect(scheduler.snapshot.get("n1")?.requested.milliCpu).toBe(1000);
    scheduler.onPodDelete(makePod("bound", { nodeName: "n1" }));
    expect(scheduler.snapshot.get("n1")?.requested.milliCpu).toBe(0);
  });
});
