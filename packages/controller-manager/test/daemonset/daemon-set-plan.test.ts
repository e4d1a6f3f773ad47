// The DaemonSet controller's pure decisions: which nodes are eligible (selector, affinity,
// taints and the automatic tolerations), the daemon pod's affinity, which pods to create and
// delete, the steps of a rolling update, and status — each against Kubernetes' documented rules
// (https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/).

import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  DaemonSetSchema,
  type Node,
  NodeSchema,
  type Pod,
  PodSchema,
  type PodSpecSchema,
  type PodTemplateSpec,
  PodTemplateSpecSchema,
} from "@tug/api";
import { FakeClock } from "@tug/client";
import { describe, expect, it } from "vitest";
import {
  CONTROLLER_REVISION_HASH_LABEL,
  daemonPodTemplate,
  nodeShouldRunDaemonPod,
  targetNodeName,
} from "../../src/daemonset/daemon-pod.js";
import {
  planManage,
  planRollingUpdate,
  rollingUpdateBounds,
} from "../../src/daemonset/daemon-set-plan.js";
import { calculateDaemonSetStatus } from "../../src/daemonset/daemon-set-status.js";
import { FailedPodBackoff } from "../../src/daemonset/failed-pod-backoff.js";

function node(
  name: string,
  o: { labels?: Record<string, string>; taints?: { key: string; effect: string }[] } = {},
): Node {
  return create(NodeSchema, {
    metadata: { name, labels: o.labels ?? {} },
    spec: { taints: o.taints ?? [] },
  });
}

function template(spec: MessageInitShape<typeof PodSpecSchema> = {}): PodTemplateSpec {
  return create(PodTemplateSpecSchema, {
    metadata: { labels: { app: "agent" } },
    spec: { containers: [{ name: "main", image: "busybox:1" }], ...spec },
  });
}

function pod(
  name: string,
  o: {
    node?: string;
    hash?: string;
    phase?: string;
    ready?: boolean;
    createdMs?: number;
    deleting?: boolean;
  } = {},
): Pod {
  return create(PodSchema, {
    metadata: {
      name,
      namespace: "default",
      labels: { app: "agent", [CONTROLLER_REVISION_HASH_LABEL]: o.hash ?? "new" },
      creationTimestamp: timestampFromMs(o.createdMs ?? 1_000),
      ...(o.deleting === true ? { deletionTimestamp: timestampFromMs(5_000) } : {}),
    },
    spec: { nodeName: o.node ?? "" },
    status: {
      phase: o.phase ?? "Running",
      conditions: [
        {
          type: "Ready",
          status: (o.ready ?? true) ? "True" : "False",
          lastTransitionTime: timestampFromMs(1_000),
        },
      ],
    },
  });
}

const names = (pods: readonly Pod[]) => pods.map((p) => p.metadata?.name);
const byNode = (pods: Pod[]) => {
  const m = new Map<string, Pod[]>();
  for (const p of pods) {
    const n = targetNodeName(p) ?? "";
    m.set(n, [...(m.get(n) ?? []), p]);
  }
  return m;
};

describe("nodeShouldRunDaemonPod", () => {
  it("runs on every node the node selector and required affinity accept", () => {
    const t = template({ nodeSelector: { disk: "ssd" } });
    expect(nodeShouldRunDaemonPod(t, node("a", { labels: { disk: "ssd" } })).shouldRun).toBe(true);
    expect(nodeShouldRunDaemonPod(t, node("b", { labels: { disk: "hdd" } }))).toEqual({
      shouldRun: false,
      shouldContinueRunning: false,
    });
    const notB = template({
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchFields: [{ key: "metadata.name", operator: "NotIn", values: ["b"] }] },
            ],
          },
        },
      },
    });
    expect(nodeShouldRunDaemonPod(notB, node("a")).shouldRun).toBe(true);
    expect(nodeShouldRunDaemonPod(notB, node("b")).shouldRun).toBe(false);
  });

  it("an untolerated NoSchedule taint keeps new pods off but lets a running one stay; NoExecute evicts", () => {
    const t = template();
    expect(
      nodeShouldRunDaemonPod(
        t,
        node("a", { taints: [{ key: "dedicated", effect: "NoSchedule" }] }),
      ),
    ).toEqual({ shouldRun: false, shouldContinueRunning: true });
    expect(
      nodeShouldRunDaemonPod(t, node("a", { taints: [{ key: "dedicated", effect: "NoExecute" }] })),
    ).toEqual({ shouldRun: false, shouldContinueRunning: false });
    expect(
      nodeShouldRunDaemonPod(
        t,
        node("a", { taints: [{ key: "dedicated", effect: "PreferNoSchedule" }] }),
      ).shouldRun,
    ).toBe(true);
    const tolerating = template({
      tolerations: [{ key: "dedicated", operator: "Exists", effect: "NoSchedule" }],
    });
    expect(
      nodeShouldRunDaemonPod(
        tolerating,
        node("a", { taints: [{ key: "dedicated", effect: "NoSchedule" }] }),
      ).shouldRun,
    ).toBe(true);
  });

  it("the automatic tolerations: not-ready, unreachable, pressure and cordoned nodes still get the pod", () => {
    const t = template();
    for (const [key, effect] of [
      ["node.kubernetes.io/not-ready", "NoExecute"],
      ["node.kubernetes.io/unreachable", "NoExecute"],
      ["node.kubernetes.io/disk-pressure", "NoSchedule"],
      ["node.kubernetes.io/memory-pressure", "NoSchedule"],
      ["node.kubernetes.io/pid-pressure", "NoSchedule"],
      ["node.kubernetes.io/unschedulable", "NoSchedule"],
    ] as const) {
      expect(nodeShouldRunDaemonPod(t, node("a", { taints: [{ key, effect }] })).shouldRun).toBe(
        true,
      );
    }
    const unavailable = node("a", {
      taints: [{ key: "node.kubernetes.io/network-unavailable", effect: "NoSchedule" }],
    });
    expect(nodeShouldRunDaemonPod(t, unavailable).shouldRun).toBe(false);
    expect(nodeShouldRunDaemonPod(template({ hostNetwork: true }), unavailable).shouldRun).toBe(
      true,
    );
  });
});

describe("daemonPodTemplate", () => {
  it("binds the pod to its node by matchFields metadata.name and adds the tolerations, leaving the template alone", () => {
    const t = template({
      tolerations: [
        {
          key: "node.kubernetes.io/not-ready",
          operator: "Exists",
          effect: "NoExecute",
          tolerationSeconds: 5,
        },
      ],
    });
    const out = daemonPodTemplate(t, "node-7", { [CONTROLLER_REVISION_HASH_LABEL]: "h1" });
    const terms =
      out.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
        ?.nodeSelectorTerms;
    expect(terms).toHaveLength(1);
    expect(terms?.[0]?.matchFields).toMatchObject([
      { key: "metadata.name", operator: "In", values: ["node-7"] },
    ]);
    expect(out.metadata?.labels).toEqual({ app: "agent", [CONTROLLER_REVISION_HASH_LABEL]: "h1" });
    const keys = out.spec?.tolerations.map((x) => `${x.key}:${x.effect}`);
    expect(keys).toContain("node.kubernetes.io/unschedulable:NoSchedule");
    expect(keys).not.toContain("node.kubernetes.io/network-unavailable:NoSchedule");
    // The automatic not-ready toleration replaces the template's (no tolerationSeconds: forever).
    const notReady = out.spec?.tolerations.filter((x) => x.key === "node.kubernetes.io/not-ready");
    expect(notReady).toHaveLength(1);
    expect(notReady?.[0]?.tolerationSeconds).toBeUndefined();
    expect(t.spec?.affinity).toBeUndefined();
    expect(t.spec?.tolerations).toHaveLength(1);
    expect(targetNodeName(create(PodSchema, { spec: out.spec }))).toBe("node-7");
  });
});

describe("planManage", () => {
  const run = { shouldRun: true, shouldContinueRunning: true };
  const base = {
    hash: "new",
    allowsSurge: false,
    minReadySeconds: 0,
    nowMs: 10_000,
    inBackoff: () => false,
  };

  it("creates on eligible nodes without a pod, deletes where it may not stay and on nodes that are gone", () => {
    const plan = planManage({
      ...base,
      nodes: [
        { node: node("a"), decision: run },
        { node: node("b"), decision: run },
        { node: node("c"), decision: { shouldRun: false, shouldContinueRunning: false } },
        { node: node("d"), decision: { shouldRun: false, shouldContinueRunning: true } },
      ],
      podsByNode: byNode([
        pod("pa", { node: "a" }),
        pod("pc", { node: "c" }),
        pod("pd", { node: "d" }),
        pod("gone", { node: "z" }),
      ]),
    });
    expect(plan.createOn).toEqual(["b"]);
    expect(names(plan.remove)).toEqual(["pc", "gone"]);
  });

  it("keeps the oldest of duplicates; a terminating pod blocks the replacement until it is gone", () => {
    const plan = planManage({
      ...base,
      nodes: [
        { node: node("a"), decision: run },
        { node: node("b"), decision: run },
      ],
      podsByNode: byNode([
        pod("young", { node: "a", createdMs: 3_000 }),
        pod("old", { node: "a", createdMs: 2_000 }),
        pod("leaving", { node: "b", deleting: true }),
      ]),
    });
    expect(plan.createOn).toEqual([]);
    expect(names(plan.remove)).toEqual(["young"]);
  });

  it("deletes a failed pod and reports it, unless its node is backing off", () => {
    const nodes = [{ node: node("a"), decision: run }];
    const podsByNode = byNode([pod("f", { node: "a", phase: "Failed" })]);
    const plan = planManage({ ...base, nodes, podsByNode });
    expect(names(plan.remove)).toEqual(["f"]);
    expect(names(plan.failed)).toEqual(["f"]);
    const waiting = planManage({ ...base, nodes, podsByNode, inBackoff: () => true });
    expect(waiting.remove).toEqual([]);
    expect(waiting.backingOff).toEqual(["a"]);
  });

  it("while surging keeps an old ready pod beside an unavailable new one, and drops it once the new one is available", () => {
    const nodes = [{ node: node("a"), decision: run }];
    const surge = { ...base, allowsSurge: true };
    const old = pod("old", { node: "a", hash: "old", createdMs: 1_000 });
    const fresh = pod("fresh", { node: "a", ready: false, createdMs: 2_000 });
    expect(planManage({ ...surge, nodes, podsByNode: byNode([old, fresh]) }).remove).toEqual([]);
    const ready = pod("fresh", { node: "a", createdMs: 2_000 });
    expect(names(planManage({ ...surge, nodes, podsByNode: byNode([old, ready]) }).remove)).toEqual(
      ["old"],
    );
  });
});

describe("planRollingUpdate", () => {
  const four = (hashes: Record<string, { hash: string; ready?: boolean; deleting?: boolean }>) =>
    byNode(Object.entries(hashes).map(([n, o]) => pod(`p-${n}`, { node: n, ...o })));
  const base = {
    hash: "new",
    maxSurge: 0,
    minReadySeconds: 0,
    nowMs: 10_000,
    shouldRun: () => true,
  };

  it("deletes at most maxUnavailable available old pods, in node order", () => {
    const podsByNode = four({
      a: { hash: "old" },
      b: { hash: "old" },
      c: { hash: "old" },
      d: { hash: "old" },
    });
    expect(names(planRollingUpdate({ ...base, maxUnavailable: 1, podsByNode }).remove)).toEqual([
      "p-a",
    ]);
    expect(names(planRollingUpdate({ ...base, maxUnavailable: 2, podsByNode }).remove)).toEqual([
      "p-a",
      "p-b",
    ]);
  });

  it("waits while a new pod is unavailable or a node has no pod; old unavailable pods go anyway", () => {
    const waiting = four({
      a: { hash: "new", ready: false },
      b: { hash: "old" },
      c: { hash: "old" },
    });
    expect(planRollingUpdate({ ...base, maxUnavailable: 1, podsByNode: waiting }).remove).toEqual(
      [],
    );
    const gap = four({ a: { hash: "old", deleting: true }, b: { hash: "old" } });
    expect(planRollingUpdate({ ...base, maxUnavailable: 1, podsByNode: gap }).remove).toEqual([]);
    const broken = four({
      a: { hash: "new", ready: false },
      b: { hash: "old", ready: false },
      c: { hash: "old" },
    });
    expect(
      names(planRollingUpdate({ ...base, maxUnavailable: 1, podsByNode: broken }).remove),
    ).toEqual(["p-b"]);
  });

  it("with maxSurge creates new pods beside old ones, then deletes each old pod once its new one is available", () => {
    const podsByNode = four({ a: { hash: "old" }, b: { hash: "old" }, c: { hash: "old" } });
    const first = planRollingUpdate({ ...base, maxSurge: 1, maxUnavailable: 0, podsByNode });
    expect(first).toEqual({ remove: [], createOn: ["a"] });
    const both = byNode([
      pod("old-a", { node: "a", hash: "old" }),
      pod("new-a", { node: "a", hash: "new" }),
      pod("old-b", { node: "b", hash: "old" }),
    ]);
    const next = planRollingUpdate({ ...base, maxSurge: 1, maxUnavailable: 0, podsByNode: both });
    expect(names(next.remove)).toEqual(["old-a"]);
    expect(next.createOn).toEqual(["b"]);
  });
});

describe("rollingUpdateBounds", () => {
  it("rounds percentages up against the desired count, defaults maxUnavailable to 1 and never leaves both 0", () => {
    expect(rollingUpdateBounds(undefined, undefined, 5)).toEqual({
      maxSurge: 0,
      maxUnavailable: 1,
    });
    expect(rollingUpdateBounds(0, "10%", 5)).toEqual({ maxSurge: 0, maxUnavailable: 1 });
    expect(rollingUpdateBounds("30%", 0, 5)).toEqual({ maxSurge: 2, maxUnavailable: 0 });
    expect(rollingUpdateBounds(0, 0, 5)).toEqual({ maxSurge: 0, maxUnavailable: 1 });
    expect(() => rollingUpdateBounds(0, "x", 5)).toThrow(/maxUnavailable.*percentage/);
  });
});

describe("calculateDaemonSetStatus", () => {
  it("counts desired, scheduled, misscheduled, ready, available and updated nodes", () => {
    const ds = create(DaemonSetSchema, { spec: { minReadySeconds: 0 } });
    const status = calculateDaemonSetStatus(ds, {
      nodes: [
        { name: "a", shouldRun: true },
        { name: "b", shouldRun: true },
        { name: "c", shouldRun: true },
        { name: "d", shouldRun: false },
      ],
      podsByNode: byNode([
        pod("pa", { node: "a" }),
        pod("pb", { node: "b", hash: "old", ready: false }),
        pod("pd", { node: "d" }),
      ]),
      hash: "new",
      minReadySeconds: 0,
      nowMs: 10_000,
    });
    expect(status).toMatchObject({
      desiredNumberScheduled: 3,
      currentNumberScheduled: 2,
      numberMisscheduled: 1,
      numberReady: 1,
      numberAvailable: 1,
      updatedNumberScheduled: 1,
      numberUnavailable: 2,
    });
  });
});

describe("FailedPodBackoff", () => {
  it("doubles the wait per failure from 1 s", () => {
    const clock = new FakeClock();
    const b = new FailedPodBackoff(clock);
    expect(b.inBackoff("k")).toBe(false);
    b.next("k");
    expect(b.remainingMs("k")).toBe(1_000);
    clock.advance(1_000);
    expect(b.inBackoff("k")).toBe(false);
    b.next("k");
    expect(b.remainingMs("k")).toBe(2_000);
  });
});
