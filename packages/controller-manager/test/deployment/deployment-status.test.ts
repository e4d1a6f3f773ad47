// Deployment conditions: Available, Progressing and the progress deadline.

import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  type Deployment,
  DeploymentSchema,
  type DeploymentStatus,
  type DeploymentStatusSchema,
  makeIntOrString,
  ReplicaSetSchema,
} from "@tug/api";
import { describe, expect, it } from "vitest";
import {
  calculateStatus,
  isTimedOut,
  newCondition,
  PROGRESSING,
  REASONS,
  rolloutStatus,
  setCondition,
} from "../../src/deployment/deployment-status.js";

const NOW = new Date(100_000);

function dep(status: MessageInitShape<typeof DeploymentStatusSchema> = {}): Deployment {
  return create(DeploymentSchema, {
    metadata: { name: "web", generation: 2 },
    spec: {
      replicas: 4,
      progressDeadlineSeconds: 10,
      strategy: {
        type: "RollingUpdate",
        rollingUpdate: { maxSurge: makeIntOrString(1), maxUnavailable: makeIntOrString(1) },
      },
    },
    status,
  });
}

const rs = (name: string, replicas: number, available: number) =>
  create(ReplicaSetSchema, {
    metadata: { name },
    spec: { replicas },
    status: { replicas, readyReplicas: available, availableReplicas: available },
  });

describe("calculateStatus", () => {
  it("counts and sets Available by replicas − maxUnavailable", () => {
    const s = calculateStatus(dep(), [rs("old", 2, 2), rs("new", 2, 1)], rs("new", 2, 1), NOW);
    expect(s).toMatchObject({
      observedGeneration: 2,
      replicas: 4,
      updatedReplicas: 2,
      readyReplicas: 3,
      availableReplicas: 3,
      unavailableReplicas: 1,
    });
    expect(s.conditions[0]).toMatchObject({
      type: "Available",
      status: "True",
      reason: "MinimumReplicasAvailable",
      message: "Deployment has minimum availability.",
    });
    const low = calculateStatus(dep(), [rs("new", 4, 2)], rs("new", 4, 2), NOW);
    expect(low.conditions[0]).toMatchObject({
      status: "False",
      reason: "MinimumReplicasUnavailable",
      message: "Deployment does not have minimum availability.",
    });
  });
});

describe("setCondition", () => {
  it("keeps the transition time when only the reason changes, and nothing changes on a repeat", () => {
    const status = calculateStatus(dep(), [], undefined, new Date(1_000));
    setCondition(status, newCondition(PROGRESSING, "True", "A", "a", new Date(1_000)));
    setCondition(status, newCondition(PROGRESSING, "True", "B", "b", new Date(5_000)));
    const c = status.conditions.find((x) => x.type === PROGRESSING);
    expect(c?.reason).toBe("B");
    expect(Number(c?.lastTransitionTime?.seconds)).toBe(1);
    expect(Number(c?.lastUpdateTime?.seconds)).toBe(5);
    setCondition(status, newCondition(PROGRESSING, "True", "B", "other text", new Date(9_000)));
    expect(status.conditions.find((x) => x.type === PROGRESSING)?.message).toBe("b");
  });
});

describe("progress", () => {
  const stuckSince = (ms: number): Deployment =>
    dep({
      replicas: 5,
      updatedReplicas: 1,
      availableReplicas: 4,
      readyReplicas: 4,
      conditions: [newCondition(PROGRESSING, "True", REASONS.replicaSetUpdated, "x", new Date(ms))],
    });

  it("times out progressDeadlineSeconds after the last progress", () => {
    const d = stuckSince(80_000);
    const status = d.status as DeploymentStatus;
    expect(isTimedOut(d, status, new Date(90_000))).toBe(false);
    expect(isTimedOut(d, status, new Date(90_001))).toBe(true);
  });

  it("rolloutStatus: ProgressDeadlineExceeded with Kubernetes' message, and NewReplicaSetAvailable when complete", () => {
    const d = stuckSince(80_000);
    const all = [rs("old", 4, 4), rs("new", 1, 0)];
    const timedOut = rolloutStatus(d, all, all[1], new Date(95_000));
    expect(timedOut.conditions.find((c) => c.type === PROGRESSING)).toMatchObject({
      status: "False",
      reason: "ProgressDeadlineExceeded",
      message: 'ReplicaSet "new" has timed out progressing.',
    });
    const done = [rs("new", 4, 4)];
    const complete = rolloutStatus(d, done, done[0], new Date(95_000));
    expect(complete.conditions.find((c) => c.type === PROGRESSING)).toMatchObject({
      status: "True",
      reason: "NewReplicaSetAvailable",
      message: 'ReplicaSet "new" has successfully progressed.',
    });
  });

  it("rolloutStatus: progress refreshes the condition as ReplicaSetUpdated", () => {
    const d = stuckSince(80_000);
    const all = [rs("old", 3, 3), rs("new", 2, 1)];
    const s = rolloutStatus(d, all, all[1], NOW);
    const c = s.conditions.find((x) => x.type === PROGRESSING);
    expect(c).toMatchObject({
      reason: "ReplicaSetUpdated",
      message: 'ReplicaSet "new" is progressing.',
    });
    expect(Number(c?.lastUpdateTime?.seconds)).toBe(100);
  });
});
