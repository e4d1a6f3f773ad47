// The ReplicaSet controller's reconcile with fakes: its pod writes do not reach its cache until
// the test delivers them, as with a lagging informer. Expectations must keep it from creating
// or deleting twice meanwhile.

import { clone, create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type Pod, PodSchema, type ReplicaSet, ReplicaSetSchema } from "@tug/api";
import { SharedIndexInformer } from "@tug/client";
import { afterEach, describe, expect, it } from "vitest";
import {
  NO_EVENTS,
  type PodControl,
  podFromTemplate,
  ReplicaSetController,
} from "../../src/index.js";
import { type FakeSource, fakeSource, settle } from "../support/fake-source.js";

function replicaSet(replicas: number): ReplicaSet {
  return create(ReplicaSetSchema, {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name: "rs", namespace: "ns", uid: "rs-uid", generation: 1, resourceVersion: "1" },
    spec: {
      replicas,
      selector: { matchLabels: { app: "a" } },
      template: {
        metadata: { labels: { app: "a" } },
        spec: { containers: [{ name: "c", image: "i" }] },
      },
    },
  });
}

interface Harness {
  controller: ReplicaSetController;
  pods: FakeSource<Pod>;
  created: Pod[];
  deleted: string[];
  statuses: ReplicaSet[];
  /** Makes the nth createPod call (1-based) fail. */
  failCreateCall: number;
  informers: SharedIndexInformer<Pod | ReplicaSet>[];
}

const running: Harness[] = [];

afterEach(async () => {
  for (const h of running.splice(0)) for (const i of h.informers) await i.stop();
});

async function harness(rs: ReplicaSet, initialPods: Pod[] = []): Promise<Harness> {
  const rsSource = fakeSource<ReplicaSet>([rs]);
  const pods = fakeSource<Pod>(initialPods);
  const rsInformer = new SharedIndexInformer<ReplicaSet>({ listerWatcher: rsSource.listerWatcher });
  const podInformer = new SharedIndexInformer<Pod>({ listerWatcher: pods.listerWatcher });
  const created: Pod[] = [];
  const deleted: string[] = [];
  const statuses: ReplicaSet[] = [];
  let n = 0;
  let calls = 0;
  const podControl: PodControl = {
    createPod: async (namespace, template, owner) => {
      calls++;
      if (calls === h.failCreateCall) throw new Error("exceeded quota");
      const pod = podFromTemplate(namespace, template, owner);
      if (pod.metadata !== undefined) {
        pod.metadata.name = `rs-${n++}`;
        pod.metadata.uid = `pod-${n}`;
        pod.metadata.resourceVersion = String(10 + n);
        pod.metadata.creationTimestamp = timestampFromMs(n * 1000);
      }
      created.push(pod);
      return pod;
    },
    deletePod: async (_ns, name) => {
      deleted.push(name);
    },
  };
  const api = {
    get: async () => rs,
    update: async <T>(_s: unknown, obj: T) => obj,
    updateStatus: async (_s: unknown, obj: ReplicaSet) => {
      statuses.push(obj);
      return obj;
    },
  } as unknown as ConstructorParameters<typeof ReplicaSetController>[0]["api"];
  const controller = new ReplicaSetController({
    api,
    replicaSets: rsInformer,
    pods: podInformer,
    podControl,
    recorder: NO_EVENTS,
  });
  void rsInformer.run();
  void podInformer.run();
  await rsInformer.waitForCacheSync();
  await podInformer.waitForCacheSync();
  const h: Harness = {
    failCreateCall: 0,
    controller,
    pods,
    created,
    deleted,
    statuses,
    informers: [rsInformer, podInformer] as SharedIndexInformer<Pod | ReplicaSet>[],
  };
  running.push(h);
  return h;
}

describe("ReplicaSetController.reconcile with a lagging cache", () => {
  it("creates the missing pods once, and not again until their creation has been observed", async () => {
    const h = await harness(replicaSet(3));
    await h.controller.reconcile("ns/rs");
    expect(h.created).toHaveLength(3);
    // The cache has not seen the pods: a naive controller would create 3 more.
    await h.controller.reconcile("ns/rs");
    expect(h.created).toHaveLength(3);
    for (const pod of h.created.slice(0, 2))
      h.pods.push({ type: "ADDED", object: clone(PodSchema, pod) });
    await settle();
    await h.controller.reconcile("ns/rs");
    expect(h.created).toHaveLength(3);
    h.pods.push({ type: "ADDED", object: clone(PodSchema, h.created[2] as Pod) });
    await settle();
    await h.controller.reconcile("ns/rs");
    expect(h.created).toHaveLength(3);
    expect(h.controller.expectations.satisfied("ns/rs")).toBe(true);
    expect(h.statuses.at(-1)?.status).toMatchObject({ replicas: 3, observedGeneration: 1 });
  });

  it("deletes surplus pods once, and not again until the deletions have been observed", async () => {
    const pods = [0, 1, 2, 3].map((i) => {
      const pod = podFromTemplate("ns", replicaSet(0).spec?.template, {
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        name: "rs",
        uid: "rs-uid",
      });
      if (pod.metadata !== undefined) {
        pod.metadata.name = `p${i}`;
        pod.metadata.uid = `u${i}`;
        pod.metadata.resourceVersion = "1";
      }
      return pod;
    });
    const h = await harness(replicaSet(1), pods);
    await h.controller.reconcile("ns/rs");
    expect(h.deleted).toHaveLength(3);
    await h.controller.reconcile("ns/rs");
    expect(h.deleted).toHaveLength(3);
    for (const name of h.deleted) {
      const pod = pods.find((p) => p.metadata?.name === name) as Pod;
      h.pods.push({ type: "DELETED", object: clone(PodSchema, pod) });
    }
    await settle();
    expect(h.controller.expectations.satisfied("ns/rs")).toBe(true);
    await h.controller.reconcile("ns/rs");
    expect(h.deleted).toHaveLength(3);
  });

  it("stops after the first failing slow-start batch and expects only what was made", async () => {
    const h = await harness(replicaSet(10));
    h.failCreateCall = 2;
    await expect(h.controller.reconcile("ns/rs")).rejects.toThrow("exceeded quota");
    // Batch 1 (1 pod) and batch 2 (2 calls, one failed): 2 pods made, then stop.
    expect(h.created).toHaveLength(2);
    expect(h.controller.expectations.pending("ns/rs")).toEqual({ add: 2, del: 0 });
    expect(h.statuses.at(-1)?.status?.conditions[0]).toMatchObject({
      type: "ReplicaFailure",
      status: "True",
      reason: "FailedCreate",
      message: "exceeded quota",
    });
  });
});
