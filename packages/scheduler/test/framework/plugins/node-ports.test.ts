import { describe, expect, it } from "vitest";
import { nodePorts } from "../../../src/framework/plugins/node-ports.js";
import { filterOn, makeNode, makePod, snapshotOf } from "../../support/fixtures.js";

const REASON = "node(s) didn't have free ports for the requested pod ports";

describe("NodePorts", () => {
  const s = snapshotOf(
    [makeNode("n1"), makeNode("n2")],
    [
      makePod("web", { nodeName: "n1", hostPorts: [80] }),
      makePod("dns", { nodeName: "n2", hostPorts: ["10.0.0.1:53"] }),
    ],
  );

  it("rejects a node where the host port is taken on all IPs", () => {
    expect(filterOn(nodePorts, makePod("p", { hostPorts: [80] }), s, "n1")).toEqual([REASON]);
    expect(filterOn(nodePorts, makePod("p", { hostPorts: ["10.0.0.2:80"] }), s, "n1")).toEqual([
      REASON,
    ]);
    expect(filterOn(nodePorts, makePod("p", { hostPorts: [81] }), s, "n1")).toBeUndefined();
  });

  it("lets different host IPs share a port, but not the wildcard", () => {
    expect(
      filterOn(nodePorts, makePod("p", { hostPorts: ["10.0.0.2:53"] }), s, "n2"),
    ).toBeUndefined();
    expect(filterOn(nodePorts, makePod("p", { hostPorts: ["10.0.0.1:53"] }), s, "n2")).toEqual([
      REASON,
    ]);
    expect(filterOn(nodePorts, makePod("p", { hostPorts: [53] }), s, "n2")).toEqual([REASON]);
  });
});
