import type { MessageInitShape } from "@bufbuild/protobuf";
import type { PodSchema } from "@tug/api";
import { describe, expect, it } from "vitest";
import {
  podTopologySpreadFilter,
  podTopologySpreadScore,
} from "../../../src/framework/plugins/pod-topology-spread.js";
import { filterOn, makeNode, makePod, scoresOf, snapshotOf } from "../../support/fixtures.js";

type Spec = MessageInitShape<typeof PodSchema>["spec"];
const ZONE = "topology.kubernetes.io/zone";

function spread(whenUnsatisfiable: string, maxSkew = 1, topologyKey = ZONE, extra = {}): Spec {
  return {
    topologySpreadConstraints: [
      {
        maxSkew,
        topologyKey,
        whenUnsatisfiable,
        labelSelector: { matchLabels: { app: "web" } },
        ...extra,
      },
    ],
  };
}

const nodes = [
  makeNode("a1", { labels: { [ZONE]: "a" } }),
  makeNode("a2", { labels: { [ZONE]: "a" } }),
  makeNode("b1", { labels: { [ZONE]: "b" } }),
  makeNode("nozone"),
];
const placed = [
  makePod("w1", { nodeName: "a1", labels: { app: "web" } }),
  makePod("w2", { nodeName: "a2", labels: { app: "web" } }),
  makePod("w3", { nodeName: "b1", labels: { app: "web" } }),
  makePod("other", { nodeName: "b1", labels: { app: "db" } }),
];

describe("PodTopologySpread filter", () => {
  const s = snapshotOf(nodes, placed);
  const pod = makePod("w4", { labels: { app: "web" }, spec: spread("DoNotSchedule") });

  it("rejects a domain where the skew would exceed maxSkew", () => {
    // zone a: 2, zone b: 1; placing in a gives skew 3 - 1 = 2 > 1.
    expect(filterOn(podTopologySpreadFilter, pod, s, "a1")).toEqual([
      "node(s) didn't match pod topology spread constraints",
    ]);
    expect(filterOn(podTopologySpreadFilter, pod, s, "b1")).toBeUndefined();
  });

  it("rejects nodes without the topology key", () => {
    expect(filterOn(podTopologySpreadFilter, pod, s, "nozone")).toEqual([
      "node(s) didn't match pod topology spread constraints (missing required label)",
    ]);
  });

  it("takes the global minimum as 0 when there are fewer domains than minDomains", () => {
    const p = makePod("w4", {
      labels: { app: "web" },
      spec: spread("DoNotSchedule", 2, ZONE, { minDomains: 3 }),
    });
    // zone b: 1 + 1 - 0 = 2 <= 2; zone a: 2 + 1 - 0 = 3 > 2.
    expect(filterOn(podTopologySpreadFilter, p, s, "b1")).toBeUndefined();
    expect(filterOn(podTopologySpreadFilter, p, s, "a1")).toBeDefined();
  });

  it("counts only nodes matching the pod's node selector (nodeAffinityPolicy Honor)", () => {
    const p = makePod("w4", {
      labels: { app: "web" },
      spec: { ...spread("DoNotSchedule"), nodeSelector: { [ZONE]: "a" } },
    });
    // Only zone a is eligible: min is 2, placing there gives 3 - 2 = 1.
    expect(filterOn(podTopologySpreadFilter, p, s, "a1")).toBeUndefined();
  });

  it("ignores ScheduleAnyway constraints", () => {
    const soft = makePod("w4", { labels: { app: "web" }, spec: spread("ScheduleAnyway") });
    expect(filterOn(podTopologySpreadFilter, soft, s, "a1")).toBeUndefined();
  });
});

describe("PodTopologySpread score", () => {
  it("prefers domains with fewer matching pods, and gives nodes without the key 0", () => {
    const s = snapshotOf(nodes, placed);
    const pod = makePod("w4", { labels: { app: "web" }, spec: spread("ScheduleAnyway") });
    const scores = scoresOf(podTopologySpreadScore, pod, s);
    expect(scores.b1).toBe(100);
    expect(scores.a1).toBe(scores.a2);
    expect(scores.a1).toBeLessThan(100);
    expect(scores.nozone).toBe(0);
  });
});
