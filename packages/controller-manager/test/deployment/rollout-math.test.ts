// The rolling-update arithmetic, table-driven against the examples of Kubernetes' Deployment
// documentation (https://kubernetes.io/docs/concepts/workloads/controllers/deployment/).

import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type Deployment,
  DeploymentSchema,
  makeIntOrString,
  type ReplicaSet,
  ReplicaSetSchema,
} from "@tug/api";
import { describe, expect, it } from "vitest";
import {
  MAX_REPLICAS_ANNOTATION,
  maxSurge,
  maxUnavailable,
  newReplicaSetReplicas,
  planOldReplicaSetsScaleDown,
  proportionalSizes,
  resolveFenceposts,
} from "../../src/index.js";

function dep(replicas: number, surge: number | string, unavailable: number | string): Deployment {
  return create(DeploymentSchema, {
    metadata: { name: "d", namespace: "default", generation: 1 },
    spec: {
      replicas,
      strategy: {
        type: "RollingUpdate",
        rollingUpdate: {
          maxSurge: makeIntOrString(surge),
          maxUnavailable: makeIntOrString(unavailable),
        },
      },
    },
  });
}

let seq = 0;
function rs(
  name: string,
  replicas: number,
  available: number,
  options: { createdMs?: number; maxReplicas?: number; statusReplicas?: number } = {},
): ReplicaSet {
  seq++;
  return create(ReplicaSetSchema, {
    metadata: {
      name,
      uid: `uid-${name}`,
      creationTimestamp: timestampFromMs(options.createdMs ?? seq * 1000),
      annotations:
        options.maxReplicas === undefined
          ? {}
          : { [MAX_REPLICAS_ANNOTATION]: String(options.maxReplicas) },
    },
    spec: { replicas },
    status: { replicas: options.statusReplicas ?? replicas, availableReplicas: available },
  });
}

describe("resolveFenceposts (maxSurge rounds up, maxUnavailable down)", () => {
  it.each([
    // The documented default: 3 replicas → at most 4 pods, at least 3 available.
    ["25%", "25%", 3, 1, 0],
    ["25%", "25%", 10, 3, 2],
    // The documented 30% examples: 130% total, 70% available.
    ["30%", "30%", 10, 3, 3],
    [1, 1, 4, 1, 1],
    ["10%", "10%", 1, 1, 0],
    // Both zero would never progress: maxUnavailable becomes 1.
    [0, 0, 5, 0, 1],
    [0, "0%", 5, 0, 1],
  ] as const)(
    "maxSurge %s, maxUnavailable %s of %i → surge %i, unavailable %i",
    (s, u, n, surge, unav) => {
      expect(resolveFenceposts(s, u, n)).toEqual({ surge, unavailable: unav });
    },
  );

  it("rejects a value that is neither an integer nor a percentage, naming the field", () => {
    expect(() => resolveFenceposts("lots", "25%", 3)).toThrow(
      /spec\.strategy\.rollingUpdate\.maxSurge: invalid value "lots"/,
    );
  });

  it("Recreate has no surge and no unavailability budget", () => {
    const d = dep(3, 1, 1);
    if (d.spec?.strategy !== undefined) d.spec.strategy = { ...d.spec.strategy, type: "Recreate" };
    expect([maxSurge(d), maxUnavailable(d)]).toEqual([0, 0]);
  });

  it("maxUnavailable is at most spec.replicas", () => {
    expect(maxUnavailable(dep(2, 0, 5))).toBe(2);
  });
});

describe("newReplicaSetReplicas (scale up within maxSurge)", () => {
  it.each([
    // [replicas, surge, unavailable, old, new, expected new]
    [3, "25%", "25%", 3, 0, 1], // docs: one new pod first, total 4
    [10, "30%", "30%", 10, 0, 3], // docs: up to 130%
    [10, "30%", "30%", 7, 3, 6], // old scaled to 7: the new one may grow to 6
    [3, 1, 0, 3, 1, 1], // at the bound: no growth
    [3, 5, 0, 3, 0, 3], // never above spec.replicas
  ] as const)("replicas %i (%s/%s), old %i, new %i → %i", (n, s, u, oldN, newN, expected) => {
    const d = dep(n, s, u);
    const oldRS = rs("old", oldN, oldN);
    const newRS = rs("new", newN, newN);
    expect(newReplicaSetReplicas(d, [oldRS, newRS], newRS)).toBe(expected);
  });

  it("counts pods an old ReplicaSet still has after being scaled down (status.replicas)", () => {
    const d = dep(3, 1, 1);
    const oldRS = rs("old", 2, 2, { statusReplicas: 3 });
    const newRS = rs("new", 1, 0);
    // Kubernetes would grow the new one to 2 at once (2+1 < 4); the old pod is not gone yet.
    expect(newReplicaSetReplicas(d, [oldRS, newRS], newRS)).toBe(1);
  });
});

describe("planOldReplicaSetsScaleDown (scale down within maxUnavailable)", () => {
  const plan = (d: Deployment, olds: ReplicaSet[], newRS: ReplicaSet) =>
    planOldReplicaSetsScaleDown(d, olds, newRS).map((s) => [s.rs.metadata?.name, s.replicas]);

  it("docs, 3 replicas 25%/25%: no old pod goes before a new one is available", () => {
    const d = dep(3, "25%", "25%");
    expect(plan(d, [rs("old", 3, 3)], rs("new", 1, 0))).toEqual([]);
    expect(plan(d, [rs("old", 3, 3)], rs("new", 1, 1))).toEqual([["old", 2]]);
  });

  it("docs, 10 replicas 30%/30%: the old ReplicaSet may drop to 70% at once", () => {
    expect(plan(dep(10, "30%", "30%"), [rs("old", 10, 10)], rs("new", 3, 0))).toEqual([["old", 7]]);
  });

  it("unhealthy old replicas go first, within the budget", () => {
    // 3 replicas, 1/1: old has 2 unavailable pods; only 1 may go (4 pods, 2 must stay available
    // beyond the new one's unavailable pod).
    expect(plan(dep(3, 1, 1), [rs("old", 3, 1)], rs("new", 1, 0))).toEqual([["old", 2]]);
  });

  it("the oldest ReplicaSet is scaled down first", () => {
    const d = dep(4, 0, 2);
    const older = rs("older", 2, 2, { createdMs: 1_000 });
    const newer = rs("newer", 2, 2, { createdMs: 2_000 });
    expect(plan(d, [newer, older], rs("new", 0, 0))).toEqual([["older", 0]]);
  });

  it("an old ReplicaSet just scaled down does not count its doomed pods as available", () => {
    // status still shows 3 available, spec already 2: only 2 can be relied on, so one more may
    // go (Kubernetes would count 3 + 1 and take the old one to 0, leaving 1 available).
    const d = dep(3, 1, 1);
    expect(plan(d, [rs("old", 2, 3)], rs("new", 1, 1))).toEqual([["old", 1]]);
  });
});

describe("proportionalSizes (scaling mid-rollout)", () => {
  it("docs: 10 replicas, maxSurge 3, scaled to 15 mid-rollout: 3 more to the old ReplicaSet, 2 to the new", () => {
    const d = dep(15, 3, 2);
    const oldRS = rs("old", 8, 8, { maxReplicas: 13, createdMs: 1_000 });
    const newRS = rs("new", 5, 0, { maxReplicas: 13, createdMs: 2_000 });
    const sizes = proportionalSizes(d, [oldRS, newRS]);
    expect(sizes.get(oldRS)).toBe(11);
    expect(sizes.get(newRS)).toBe(7);
  });

  it("scaling down takes from the larger ReplicaSet first", () => {
    const d = dep(5, 1, 0);
    const oldRS = rs("old", 6, 6, { maxReplicas: 11, createdMs: 1_000 });
    const newRS = rs("new", 5, 0, { maxReplicas: 11, createdMs: 2_000 });
    const sizes = proportionalSizes(d, [oldRS, newRS]);
    expect((sizes.get(oldRS) ?? 0) + (sizes.get(newRS) ?? 0)).toBe(6);
    expect(sizes.get(oldRS)).toBe(3);
    expect(sizes.get(newRS)).toBe(3);
  });
});
