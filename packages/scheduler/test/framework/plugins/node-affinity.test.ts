import { describe, expect, it } from "vitest";
import {
  nodeAffinityFilter,
  nodeAffinityScore,
} from "../../../src/framework/plugins/node-affinity.js";
import { filterOn, makeNode, makePod, scoresOf, snapshotOf } from "../../support/fixtures.js";

const REASON = "node(s) didn't match Pod's node affinity/selector";

describe("NodeAffinity filter", () => {
  const s = snapshotOf([
    makeNode("ssd-a", { labels: { disk: "ssd", zone: "a", cores: "16" } }),
    makeNode("hdd-b", { labels: { disk: "hdd", zone: "b", cores: "4" } }),
  ]);

  it("applies spec.nodeSelector", () => {
    const pod = makePod("p", { spec: { nodeSelector: { disk: "ssd" } } });
    expect(filterOn(nodeAffinityFilter, pod, s, "ssd-a")).toBeUndefined();
    expect(filterOn(nodeAffinityFilter, pod, s, "hdd-b")).toEqual([REASON]);
  });

  it("ORs required terms and ANDs the expressions of a term, with Gt and matchFields", () => {
    const pod = makePod("p", {
      spec: {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                {
                  matchExpressions: [
                    { key: "zone", operator: "In", values: ["a"] },
                    { key: "cores", operator: "Gt", values: ["8"] },
                  ],
                },
                { matchFields: [{ key: "metadata.name", operator: "In", values: ["hdd-b"] }] },
              ],
            },
          },
        },
      },
    });
    expect(filterOn(nodeAffinityFilter, pod, s, "ssd-a")).toBeUndefined();
    expect(filterOn(nodeAffinityFilter, pod, s, "hdd-b")).toBeUndefined();
    const strict = makePod("p", {
      spec: {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: "cores", operator: "Lt", values: ["8"] }] },
              ],
            },
          },
        },
      },
    });
    expect(filterOn(nodeAffinityFilter, strict, s, "ssd-a")).toEqual([REASON]);
    expect(filterOn(nodeAffinityFilter, strict, s, "hdd-b")).toBeUndefined();
  });
});

describe("NodeAffinity score", () => {
  it("sums the weights of matching preferred terms, normalized to 100", () => {
    const s = snapshotOf([
      makeNode("a", { labels: { disk: "ssd", zone: "a" } }),
      makeNode("b", { labels: { disk: "ssd" } }),
      makeNode("c"),
    ]);
    const pod = makePod("p", {
      spec: {
        affinity: {
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              {
                weight: 30,
                preference: {
                  matchExpressions: [{ key: "disk", operator: "In", values: ["ssd"] }],
                },
              },
              {
                weight: 10,
                preference: { matchExpressions: [{ key: "zone", operator: "Exists" }] },
              },
            ],
          },
        },
      },
    });
    expect(scoresOf(nodeAffinityScore, pod, s)).toEqual({ a: 100, b: 75, c: 0 });
  });
});
