// The StatefulSet controller's pure decisions: pod identity (names, labels, hostname, claims),
// ordered and parallel creation and deletion, the partitioned rolling update and status — each
// a guarantee of https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/.

import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  ControllerRevisionSchema,
  type Pod,
  PodSchema,
  type StatefulSet,
  StatefulSetPersistentVolumeClaimRetentionPolicySchema,
  StatefulSetSchema,
} from "@tug/api";
import { describe, expect, it } from "vitest";
import { CONTROLLER_REVISION_HASH_LABEL } from "../../src/daemonset/daemon-pod.js";
import { revisionData } from "../../src/history/controller-revision.js";
import {
  claimsFor,
  POD_INDEX_LABEL,
  podOrdinal,
  STATEFUL_SET_POD_NAME_LABEL,
  statefulPod,
  templateOfRevision,
} from "../../src/statefulset/stateful-pod-identity.js";
import {
  type OrdinalPod,
  planStatefulSet,
  revisionForOrdinal,
} from "../../src/statefulset/stateful-set-plan.js";
import { calculateStatefulSetStatus } from "../../src/statefulset/stateful-set-status.js";

function set(o: { replicas?: number } = {}): StatefulSet {
  return create(StatefulSetSchema, {
    metadata: { name: "web", namespace: "default", uid: "set-uid" },
    spec: {
      replicas: o.replicas ?? 3,
      serviceName: "nginx",
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          containers: [{ name: "main", image: "busybox:1" }],
          volumes: [{ name: "www", emptyDir: {} }],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: "www", labels: { tier: "data" } },
          spec: { accessModes: ["ReadWriteOnce"] },
        },
      ],
    },
  });
}

function member(
  ordinal: number,
  o: { ready?: boolean; revision?: string; phase?: string; deleting?: boolean } = {},
): OrdinalPod {
  const pod = create(PodSchema, {
    metadata: {
      name: `web-${ordinal}`,
      namespace: "default",
      labels: { [CONTROLLER_REVISION_HASH_LABEL]: o.revision ?? "web-new" },
      ...(o.deleting === true ? { deletionTimestamp: timestampFromMs(5_000) } : {}),
    },
    status: {
      phase: o.phase ?? "Running",
      conditions: [
        {
          type: "Ready",
          status: (o.ready ?? true) ? "True" : "False",
          lastTransitionTime: timestampFromMs(1_000),
        },
      ],
    },
  });
  return { ordinal, pod };
}

const base = {
  start: 0,
  replicas: 3,
  ordered: true,
  updateRevision: "web-new",
  partition: 0 as number | undefined,
  minReadySeconds: 0,
  nowMs: 10_000,
};
const names = (pods: readonly Pod[]) => pods.map((p) => p.metadata?.name);

describe("stateful pod identity", () => {
  it("names, labels, hostname, subdomain and claim volumes of web-2", () => {
    const s = set();
    const owner = { apiVersion: "apps/v1", kind: "StatefulSet", name: "web", uid: "set-uid" };
    const pod = statefulPod(s, owner, s.spec?.template, 2, "web-abc");
    expect(pod.metadata?.name).toBe("web-2");
    expect(pod.metadata?.generateName).toBe("");
    expect(pod.metadata?.labels).toEqual({
      app: "web",
      [STATEFUL_SET_POD_NAME_LABEL]: "web-2",
      [POD_INDEX_LABEL]: "2",
      [CONTROLLER_REVISION_HASH_LABEL]: "web-abc",
    });
    expect(pod.metadata?.ownerReferences[0]).toMatchObject({
      kind: "StatefulSet",
      name: "web",
      controller: true,
    });
    expect(pod.spec?.hostname).toBe("web-2");
    expect(pod.spec?.subdomain).toBe("nginx");
    // The claim template's volume replaces the template's volume of the same name.
    expect(pod.spec?.volumes).toHaveLength(1);
    expect(pod.spec?.volumes[0]?.persistentVolumeClaim?.claimName).toBe("www-web-2");
    expect(s.spec?.template?.spec?.volumes[0]?.emptyDir).toBeDefined();
  });

  it("claims are <template>-<set>-<ordinal>, labelled with the set's matchLabels, without owner", () => {
    const [claim] = claimsFor(set(), 4);
    expect(claim?.metadata?.name).toBe("www-web-4");
    expect(claim?.metadata?.namespace).toBe("default");
    expect(claim?.metadata?.labels).toEqual({ tier: "data", app: "web" });
    expect(claim?.metadata?.ownerReferences).toEqual([]);
    expect(claim?.spec?.accessModes).toEqual(["ReadWriteOnce"]);
  });

  it("whenDeleted: Delete makes the set a (non-controller) owner of its claims", () => {
    const s = set();
    if (s.spec !== undefined) {
      s.spec.persistentVolumeClaimRetentionPolicy = create(
        StatefulSetPersistentVolumeClaimRetentionPolicySchema,
        { whenDeleted: "Delete", whenScaled: "Retain" },
      );
    }
    const [claim] = claimsFor(s, 0);
    expect(claim?.metadata?.ownerReferences).toMatchObject([
      { kind: "StatefulSet", name: "web", uid: "set-uid", controller: false },
    ]);
  });

  it("ordinals parse only from <set>-<decimal>", () => {
    expect(podOrdinal("web", "web-0")).toBe(0);
    expect(podOrdinal("web", "web-12")).toBe(12);
    expect(podOrdinal("web", "web-01")).toBeUndefined();
    expect(podOrdinal("web", "web-x")).toBeUndefined();
    expect(podOrdinal("web", "webby-1")).toBeUndefined();
    expect(podOrdinal("web-a", "web-1")).toBeUndefined();
  });

  it("a revision's data gives its template back", () => {
    const s = set();
    const revision = create(ControllerRevisionSchema, { data: revisionData(s.spec?.template) });
    expect(templateOfRevision(revision).spec?.containers[0]?.image).toBe("busybox:1");
  });
});

describe("planStatefulSet: OrderedReady", () => {
  it("creates 0, then 1 only once 0 is running and ready, then 2", () => {
    expect(planStatefulSet({ ...base, pods: [] })).toEqual({ create: [0], remove: [] });
    expect(planStatefulSet({ ...base, pods: [member(0, { ready: false })] })).toEqual({
      create: [],
      remove: [],
    });
    expect(planStatefulSet({ ...base, pods: [member(0)] })).toEqual({ create: [1], remove: [] });
    expect(planStatefulSet({ ...base, pods: [member(0), member(1)] })).toEqual({
      create: [2],
      remove: [],
    });
    expect(
      planStatefulSet({ ...base, pods: [member(0, { phase: "Pending", ready: false })] }).create,
    ).toEqual([]);
  });

  it("scales down from the highest ordinal, one at a time, and not while a pod is unhealthy", () => {
    const five = [0, 1, 2, 3, 4].map((i) => member(i));
    expect(names(planStatefulSet({ ...base, pods: five }).remove)).toEqual(["web-4"]);
    const fourLeaving = [...five.slice(0, 4), member(4, { deleting: true })];
    expect(planStatefulSet({ ...base, pods: fourLeaving }).remove).toEqual([]);
    const unhealthy = [member(0), member(1, { ready: false }), member(2), member(3)];
    expect(planStatefulSet({ ...base, pods: unhealthy }).remove).toEqual([]);
  });

  it("replaces a failed pod: deleted first, recreated once gone", () => {
    const plan = planStatefulSet({ ...base, pods: [member(0), member(1, { phase: "Failed" })] });
    expect(names(plan.remove)).toEqual(["web-1"]);
    expect(planStatefulSet({ ...base, pods: [member(0)] }).create).toEqual([1]);
  });

  it("honours spec.ordinals.start", () => {
    expect(planStatefulSet({ ...base, start: 5, pods: [] }).create).toEqual([5]);
    expect(
      names(
        planStatefulSet({ ...base, start: 1, replicas: 1, pods: [member(0), member(1)] }).remove,
      ),
    ).toEqual(["web-0"]);
  });
});

describe("planStatefulSet: Parallel", () => {
  it("creates every missing ordinal and deletes every surplus pod at once", () => {
    const parallel = { ...base, ordered: false };
    expect(planStatefulSet({ ...parallel, pods: [member(1, { ready: false })] }).create).toEqual([
      0, 2,
    ]);
    const five = [0, 1, 2, 3, 4].map((i) => member(i, { ready: i !== 0 }));
    expect(names(planStatefulSet({ ...parallel, pods: five }).remove)).toEqual(["web-4", "web-3"]);
  });
});

describe("planStatefulSet: RollingUpdate", () => {
  const old = [0, 1, 2].map((i) => member(i, { revision: "web-old" }));

  it("replaces the highest ordinal first and waits for it to be healthy before the next", () => {
    expect(names(planStatefulSet({ ...base, pods: old }).remove)).toEqual(["web-2"]);
    const twoUpdating = [old[0], old[1], member(2, { ready: false })] as OrdinalPod[];
    expect(planStatefulSet({ ...base, pods: twoUpdating }).remove).toEqual([]);
    const twoDone = [old[0], old[1], member(2)] as OrdinalPod[];
    expect(names(planStatefulSet({ ...base, pods: twoDone }).remove)).toEqual(["web-1"]);
  });

  it("leaves ordinals below the partition alone, and OnDelete replaces nothing", () => {
    const partitioned = [old[0], old[1], member(2)] as OrdinalPod[];
    expect(planStatefulSet({ ...base, partition: 2, pods: partitioned }).remove).toEqual([]);
    expect(planStatefulSet({ ...base, partition: undefined, pods: old }).remove).toEqual([]);
    expect(revisionForOrdinal(1, 0, 2, "web-old", "web-new")).toBe("web-old");
    expect(revisionForOrdinal(2, 0, 2, "web-old", "web-new")).toBe("web-new");
    expect(revisionForOrdinal(0, 0, undefined, "web-old", "web-new")).toBe("web-new");
  });
});

describe("calculateStatefulSetStatus", () => {
  it("counts replicas by readiness and revision; the update becomes current once complete", () => {
    const s = set();
    const mid = calculateStatefulSetStatus(s, {
      pods: [
        member(0, { revision: "web-old" }).pod,
        member(1).pod,
        member(2, { ready: false }).pod,
      ],
      currentRevision: "web-old",
      updateRevision: "web-new",
      collisionCount: undefined,
      minReadySeconds: 0,
      nowMs: 10_000,
    });
    expect(mid).toMatchObject({
      replicas: 3,
      readyReplicas: 2,
      availableReplicas: 2,
      currentReplicas: 1,
      updatedReplicas: 2,
      currentRevision: "web-old",
      updateRevision: "web-new",
    });
    const done = calculateStatefulSetStatus(s, {
      pods: [member(0).pod, member(1).pod, member(2).pod],
      currentRevision: "web-old",
      updateRevision: "web-new",
      collisionCount: 1,
      minReadySeconds: 0,
      nowMs: 10_000,
    });
    expect(done).toMatchObject({
      currentReplicas: 3,
      currentRevision: "web-new",
      collisionCount: 1,
    });
  });
});
