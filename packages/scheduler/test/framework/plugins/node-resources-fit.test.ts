import { describe, expect, it } from "vitest";
import {
  nodeResourcesFitFilter,
  nodeResourcesFitScore,
} from "../../../src/framework/plugins/node-resources-fit.js";
import { filterOn, makeNode, makePod, scoresOf, snapshotOf } from "../../support/fixtures.js";

describe("NodeResourcesFit filter", () => {
  const s = snapshotOf(
    [makeNode("small", { cpu: "1", memory: "1Gi", pods: "2", extra: { "example.com/gpu": "1" } })],
    [makePod("a", { nodeName: "small", cpu: "600m", memory: "512Mi" })],
  );

  it("counts the requests of pods already bound", () => {
    expect(
      filterOn(nodeResourcesFitFilter, makePod("p", { cpu: "400m" }), s, "small"),
    ).toBeUndefined();
    expect(filterOn(nodeResourcesFitFilter, makePod("p", { cpu: "500m" }), s, "small")).toEqual([
      "Insufficient cpu",
    ]);
  });

  it("reports every resource that does not fit, extended ones by name", () => {
    const pod = makePod("p", {
      spec: {
        containers: [
          {
            name: "c",
            resources: { requests: { cpu: "2", memory: "1Gi", "example.com/gpu": "2" } },
          },
        ],
      },
    });
    expect(filterOn(nodeResourcesFitFilter, pod, s, "small")).toEqual([
      "Insufficient cpu",
      "Insufficient memory",
      "Insufficient example.com/gpu",
    ]);
  });

  it("says Too many pods when allocatable pods is reached, even for a pod requesting nothing", () => {
    const full = snapshotOf([makeNode("n", { pods: "1" })], [makePod("a", { nodeName: "n" })]);
    expect(filterOn(nodeResourcesFitFilter, makePod("p"), full, "n")).toEqual(["Too many pods"]);
  });
});

describe("NodeResourcesFit score (LeastAllocated)", () => {
  it("favours free cpu and memory, counting 100m/200Mi for pods requesting none", () => {
    const s = snapshotOf(
      [
        makeNode("busy", { cpu: "1", memory: "1000Mi" }),
        makeNode("idle", { cpu: "1", memory: "1000Mi" }),
      ],
      [makePod("a", { nodeName: "busy", cpu: "500m", memory: "500Mi" })],
    );
    // busy: cpu (1000-600)/1000 = 40, memory (1000-700)/1000 = 30 -> 35
    // idle: cpu 90, memory 80 -> 85
    expect(scoresOf(nodeResourcesFitScore, makePod("p"), s)).toEqual({ busy: 35, idle: 85 });
  });
});
