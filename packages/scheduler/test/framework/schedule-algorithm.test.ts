import { describe, expect, it } from "vitest";
import { newPodInfo } from "../../src/framework/pod-info.js";
import { defaultProfile } from "../../src/framework/profile.js";
import { fitErrorMessage, ScheduleAlgorithm } from "../../src/framework/schedule-algorithm.js";
import { makeNode, makePod, snapshotOf } from "../support/fixtures.js";
import { seeded } from "../support/seeded-random.js";

describe("fitErrorMessage", () => {
  it("counts reasons over nodes and sorts the '<count> <reason>' strings as Go's sort.Strings", () => {
    const reasons = new Map([
      ["n1", ["Insufficient cpu"]],
      ["n2", ["Insufficient cpu", "Insufficient memory"]],
      ["n3", ["node(s) didn't match Pod's node affinity/selector"]],
    ]);
    expect(fitErrorMessage(3, reasons)).toBe(
      "0/3 nodes are available: 1 Insufficient memory, 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu.",
    );
  });
});

describe("ScheduleAlgorithm", () => {
  it("picks the node with the most free resources", () => {
    const s = snapshotOf([
      makeNode("big", { cpu: "8", memory: "16Gi" }),
      makeNode("small", { cpu: "2", memory: "4Gi" }),
    ]);
    const algo = new ScheduleAlgorithm(defaultProfile(), { random: seeded(1) });
    const r = algo.schedulePod(newPodInfo(makePod("p", { cpu: "1", memory: "1Gi" })), s);
    expect(r).toMatchObject({ kind: "scheduled", nodeName: "big", feasibleNodes: 2 });
  });

  it("explains why no node fits, per node", () => {
    const s = snapshotOf([
      makeNode("n1", { cpu: "1" }),
      makeNode("n2", { cpu: "1" }),
      makeNode("n3", { cpu: "8", labels: { disk: "hdd" } }),
    ]);
    const algo = new ScheduleAlgorithm(defaultProfile());
    const pod = makePod("p", { cpu: "2", spec: { nodeSelector: { disk: "ssd" } } });
    const r = algo.schedulePod(newPodInfo(pod), s);
    expect(r.kind).toBe("unschedulable");
    if (r.kind !== "unschedulable") return;
    // Filters stop at the first rejecting plugin: NodeAffinity runs before NodeResourcesFit.
    expect(r.message).toBe(
      "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.",
    );
    const big = makePod("q", { cpu: "9", spec: { nodeSelector: { disk: "hdd" } } });
    const r2 = algo.schedulePod(newPodInfo(big), s);
    expect(r2).toMatchObject({
      kind: "unschedulable",
      message:
        "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector.",
    });
    if (r2.kind === "unschedulable") expect(r2.reasons.get("n3")).toEqual(["Insufficient cpu"]);
    const fits = algo.schedulePod(newPodInfo(makePod("r", { cpu: "2" })), s);
    expect(fits).toMatchObject({ kind: "scheduled", nodeName: "n3", feasibleNodes: 1 });
  });

  it("says so when the cluster has no nodes", () => {
    const r = new ScheduleAlgorithm(defaultProfile()).schedulePod(
      newPodInfo(makePod("p")),
      snapshotOf([]),
    );
    expect(r).toMatchObject({
      kind: "unschedulable",
      message: "no nodes available to schedule pods",
    });
  });

  it("reports a spec it cannot read as an error naming the field", () => {
    const pod = makePod("p", {
      spec: {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: "a", operator: "Near", values: ["b"] }] },
              ],
            },
          },
        },
      },
    });
    const r = new ScheduleAlgorithm(defaultProfile()).schedulePod(
      newPodInfo(pod),
      snapshotOf([makeNode("n")]),
    );
    expect(r.kind).toBe("error");
    if (r.kind === "error")
      expect(r.message).toMatch(/nodeSelectorTerms\[0\]\.matchExpressions.*Near/);
  });

  it("checks only percentageOfNodesToScore of a large cluster, starting round-robin", () => {
    const algo = new ScheduleAlgorithm(defaultProfile());
    expect(algo.numFeasibleNodesToFind(50)).toBe(50);
    expect(algo.numFeasibleNodesToFind(1000)).toBe(420);
    expect(algo.numFeasibleNodesToFind(5000)).toBe(500);
    expect(algo.numFeasibleNodesToFind(200)).toBe(100);
    expect(
      new ScheduleAlgorithm(defaultProfile(), {
        percentageOfNodesToScore: 100,
      }).numFeasibleNodesToFind(1000),
    ).toBe(1000);
    const nodes = Array.from({ length: 300 }, (_, i) => makeNode(`n${i}`));
    const s = snapshotOf(nodes);
    const r1 = algo.schedulePod(newPodInfo(makePod("a")), s);
    expect(r1).toMatchObject({ kind: "scheduled", evaluatedNodes: 144 });
    // The next pod starts where the last stopped, so the two looked at disjoint nodes.
    const r2 = algo.schedulePod(newPodInfo(makePod("b")), s);
    expect(r2).toMatchObject({ kind: "scheduled", evaluatedNodes: 144 });
    if (r1.kind === "scheduled" && r2.kind === "scheduled") {
      const idx = (n: string) => Number(n.slice(1));
      expect(idx(r1.nodeName)).toBeLessThan(144);
      expect(idx(r2.nodeName)).toBeGreaterThanOrEqual(144);
    }
  });

  it("weighs TaintToleration above resources: a PreferNoSchedule node loses to a fuller clean one", () => {
    const s = snapshotOf(
      [
        makeNode("tainted", { cpu: "8", taints: [{ key: "spot", effect: "PreferNoSchedule" }] }),
        makeNode("clean", { cpu: "2" }),
      ],
      [makePod("x", { nodeName: "clean", cpu: "1" })],
    );
    const r = new ScheduleAlgorithm(defaultProfile()).schedulePod(
      newPodInfo(makePod("p", { cpu: "100m" })),
      s,
    );
    expect(r).toMatchObject({ kind: "scheduled", nodeName: "clean" });
  });
});
