import { describe, expect, it } from "vitest";
import {
  taintTolerationFilter,
  taintTolerationScore,
} from "../../../src/framework/plugins/taint-toleration.js";
import { filterOn, makeNode, makePod, scoresOf, snapshotOf } from "../../support/fixtures.js";

describe("TaintToleration filter", () => {
  const s = snapshotOf([
    makeNode("gpu", { taints: [{ key: "gpu", value: "true", effect: "NoSchedule" }] }),
    makeNode("draining", { taints: [{ key: "maint", value: "", effect: "NoExecute" }] }),
    makeNode("soft", { taints: [{ key: "spot", value: "yes", effect: "PreferNoSchedule" }] }),
  ]);

  it("rejects NoSchedule and NoExecute taints the pod does not tolerate, naming the taint", () => {
    expect(filterOn(taintTolerationFilter, makePod("p"), s, "gpu")).toEqual([
      "node(s) had untolerated taint {gpu: true}",
    ]);
    expect(filterOn(taintTolerationFilter, makePod("p"), s, "draining")).toEqual([
      "node(s) had untolerated taint {maint: }",
    ]);
    expect(filterOn(taintTolerationFilter, makePod("p"), s, "soft")).toBeUndefined();
  });

  it("honours Equal (value must match), Exists, empty key and empty effect", () => {
    const equal = makePod("p", {
      spec: { tolerations: [{ key: "gpu", value: "true", effect: "NoSchedule" }] },
    });
    expect(filterOn(taintTolerationFilter, equal, s, "gpu")).toBeUndefined();
    const wrongValue = makePod("p", {
      spec: { tolerations: [{ key: "gpu", operator: "Equal", value: "no" }] },
    });
    expect(filterOn(taintTolerationFilter, wrongValue, s, "gpu")).toBeDefined();
    const wrongEffect = makePod("p", {
      spec: { tolerations: [{ key: "gpu", operator: "Exists", effect: "NoExecute" }] },
    });
    expect(filterOn(taintTolerationFilter, wrongEffect, s, "gpu")).toBeDefined();
    const everything = makePod("p", { spec: { tolerations: [{ operator: "Exists" }] } });
    expect(filterOn(taintTolerationFilter, everything, s, "gpu")).toBeUndefined();
    expect(filterOn(taintTolerationFilter, everything, s, "draining")).toBeUndefined();
  });
});

describe("TaintToleration score", () => {
  it("ranks nodes by how few untolerated PreferNoSchedule taints they have", () => {
    const s = snapshotOf([
      makeNode("clean"),
      makeNode("one", { taints: [{ key: "a", effect: "PreferNoSchedule" }] }),
      makeNode("two", {
        taints: [
          { key: "a", effect: "PreferNoSchedule" },
          { key: "b", effect: "PreferNoSchedule" },
        ],
      }),
    ]);
    expect(scoresOf(taintTolerationScore, makePod("p"), s)).toEqual({
      clean: 100,
      one: 50,
      two: 0,
    });
    const tolerant = makePod("p", { spec: { tolerations: [{ key: "a", operator: "Exists" }] } });
    expect(scoresOf(taintTolerationScore, tolerant, s)).toEqual({ clean: 100, one: 100, two: 0 });
  });
});
