import { describe, expect, it } from "vitest";
import { balancedAllocation } from "../../../src/framework/plugins/balanced-allocation.js";
import { makeNode, makePod, scoresOf, snapshotOf } from "../../support/fixtures.js";

describe("NodeResourcesBalancedAllocation", () => {
  it("scores 100 minus half the gap between the used cpu and memory fractions", () => {
    const s = snapshotOf(
      [
        makeNode("even", { cpu: "1", memory: "1000Mi" }),
        makeNode("skewed", { cpu: "1", memory: "1000Mi" }),
      ],
      [makePod("a", { nodeName: "skewed", cpu: "600m" })],
    );
    const pod = makePod("p", { cpu: "200m", memory: "200Mi" });
    // even: 0.2 vs 0.2 -> 100; skewed: 0.8 vs 0.2 -> (1 - 0.3) * 100 = 70
    expect(scoresOf(balancedAllocation, pod, s)).toEqual({ even: 100, skewed: 70 });
  });
});
