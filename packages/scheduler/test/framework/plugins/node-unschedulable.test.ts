import { describe, expect, it } from "vitest";
import { nodeUnschedulable } from "../../../src/framework/plugins/node-unschedulable.js";
import { filterOn, makeNode, makePod, snapshotOf } from "../../support/fixtures.js";

describe("NodeUnschedulable", () => {
  const s = snapshotOf([makeNode("cordoned", { unschedulable: true }), makeNode("open")]);

  it("rejects a cordoned node", () => {
    expect(filterOn(nodeUnschedulable, makePod("p"), s, "cordoned")).toEqual([
      "node(s) were unschedulable",
    ]);
    expect(filterOn(nodeUnschedulable, makePod("p"), s, "open")).toBeUndefined();
  });

  it("admits a pod tolerating node.kubernetes.io/unschedulable:NoSchedule", () => {
    const pod = makePod("p", {
      spec: {
        tolerations: [
          { key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" },
        ],
      },
    });
    expect(filterOn(nodeUnschedulable, pod, s, "cordoned")).toBeUndefined();
  });
});
