import { describe, expect, it } from "vitest";
import { nodeName } from "../../../src/framework/plugins/node-name.js";
import { filterOn, makeNode, makePod, snapshotOf } from "../../support/fixtures.js";

describe("NodeName", () => {
  const s = snapshotOf([makeNode("a"), makeNode("b")]);

  it("fits only the node the pod names", () => {
    const pod = makePod("p", { nodeName: "a" });
    expect(filterOn(nodeName, pod, s, "a")).toBeUndefined();
    expect(filterOn(nodeName, pod, s, "b")).toEqual([
      "node(s) didn't match the requested node name",
    ]);
  });

  it("does not constrain a pod without spec.nodeName", () => {
    expect(filterOn(nodeName, makePod("p"), s, "b")).toBeUndefined();
  });
});
