import type { MessageInitShape } from "@bufbuild/protobuf";
import type { PodSchema } from "@tug/api";
import { describe, expect, it } from "vitest";
import {
  interPodAffinityFilter,
  interPodAffinityScore,
} from "../../../src/framework/plugins/inter-pod-affinity.js";
import { filterOn, makeNode, makePod, scoresOf, snapshotOf } from "../../support/fixtures.js";

type Spec = MessageInitShape<typeof PodSchema>["spec"];
const ZONE = "topology.kubernetes.io/zone";

function term(app: string, topologyKey = ZONE) {
  return { labelSelector: { matchLabels: { app } }, topologyKey };
}

const nodes = [
  makeNode("a1", { labels: { [ZONE]: "a" } }),
  makeNode("a2", { labels: { [ZONE]: "a" } }),
  makeNode("b1", { labels: { [ZONE]: "b" } }),
];

describe("InterPodAffinity filter", () => {
  const s = snapshotOf(nodes, [makePod("db", { nodeName: "a1", labels: { app: "db" } })]);

  it("required affinity: only the zone holding a matching pod", () => {
    const spec: Spec = {
      affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("db")] } },
    };
    const pod = makePod("web", { spec });
    expect(filterOn(interPodAffinityFilter, pod, s, "a2")).toBeUndefined();
    expect(filterOn(interPodAffinityFilter, pod, s, "b1")).toEqual([
      "node(s) didn't match pod affinity rules",
    ]);
  });

  it("required affinity to itself: the first pod of the group may go anywhere", () => {
    const spec: Spec = {
      affinity: {
        podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("cache")] },
      },
    };
    const pod = makePod("cache-0", { labels: { app: "cache" }, spec });
    expect(filterOn(interPodAffinityFilter, pod, s, "b1")).toBeUndefined();
    // Not self-matching and nothing matches: nowhere.
    expect(filterOn(interPodAffinityFilter, makePod("x", { spec }), s, "b1")).toEqual([
      "node(s) didn't match pod affinity rules",
    ]);
  });

  it("required anti-affinity of the incoming pod", () => {
    const spec: Spec = {
      affinity: {
        podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("db")] },
      },
    };
    const pod = makePod("db-1", { labels: { app: "db" }, spec });
    expect(filterOn(interPodAffinityFilter, pod, s, "a2")).toEqual([
      "node(s) didn't match pod anti-affinity rules",
    ]);
    expect(filterOn(interPodAffinityFilter, pod, s, "b1")).toBeUndefined();
  });

  it("required anti-affinity of a placed pod keeps matching pods out of its domain", () => {
    const spec: Spec = {
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [term("noisy", "kubernetes.io/hostname")],
        },
      },
    };
    const placed = snapshotOf(nodes, [
      makePod("quiet", { nodeName: "b1", labels: { app: "quiet" }, spec }),
    ]);
    const noisy = makePod("n", { labels: { app: "noisy" } });
    expect(filterOn(interPodAffinityFilter, noisy, placed, "b1")).toEqual([
      "node(s) didn't satisfy existing pods anti-affinity rules",
    ]);
    expect(filterOn(interPodAffinityFilter, noisy, placed, "a1")).toBeUndefined();
  });

  it("terms select pods of the pod's own namespace unless namespaces are given", () => {
    const other = snapshotOf(nodes, [
      makePod("db", { namespace: "prod", nodeName: "a1", labels: { app: "db" } }),
    ]);
    const anti: Spec = {
      affinity: {
        podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("db")] },
      },
    };
    expect(
      filterOn(interPodAffinityFilter, makePod("p", { spec: anti }), other, "a2"),
    ).toBeUndefined();
    const antiProd: Spec = {
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [{ ...term("db"), namespaces: ["prod"] }],
        },
      },
    };
    expect(filterOn(interPodAffinityFilter, makePod("p", { spec: antiProd }), other, "a2")).toEqual(
      ["node(s) didn't match pod anti-affinity rules"],
    );
  });
});

describe("InterPodAffinity score", () => {
  it("prefers the zones of preferred-affinity pods and avoids those of preferred anti-affinity", () => {
    const s = snapshotOf(nodes, [
      makePod("db", { nodeName: "a1", labels: { app: "db" } }),
      makePod("batch", { nodeName: "b1", labels: { app: "batch" } }),
    ]);
    const spec: Spec = {
      affinity: {
        podAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 10, podAffinityTerm: term("db") },
          ],
        },
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 10, podAffinityTerm: term("batch") },
          ],
        },
      },
    };
    expect(scoresOf(interPodAffinityScore, makePod("web", { spec }), s)).toEqual({
      a1: 100,
      a2: 100,
      b1: 0,
    });
  });

  it("counts placed pods' terms that select the incoming pod", () => {
    const spec: Spec = {
      affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("web")] } },
    };
    const s = snapshotOf(nodes, [makePod("lb", { nodeName: "b1", spec })]);
    expect(scoresOf(interPodAffinityScore, makePod("w", { labels: { app: "web" } }), s)).toEqual({
      a1: 0,
      a2: 0,
      b1: 100,
    });
  });
});
