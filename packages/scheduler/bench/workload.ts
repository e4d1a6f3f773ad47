// The nodes and pods both scheduler benchmarks schedule (scheduler-core.ts in process,
// scheduler-e2e.ts through the API), so that their figures describe the same work.
//
// Nodes: 3 zones (`topology.kubernetes.io/zone` = zone-0..2, by index), one in four labelled
// `disk=ssd` (the others `hdd`), `kubernetes.io/hostname` = the name.
// Pods: ReplicaSets of 50 (label `app`, a controller owner reference, so OwnerSpread scores
// them); of each seeded draw, 10% carry `nodeSelector: {disk: ssd}`, 5% a zone spread
// constraint (maxSkew 1, DoNotSchedule, on their `app`), 2% required hostname anti-affinity to
// their `app`; the rest nothing more.

import { create } from "@bufbuild/protobuf";
import { type Node, NodeSchema, type Pod, PodSchema } from "@tug/api";

export { seeded } from "../test/support/seeded-random.js";

export const ZONE_LABEL = "topology.kubernetes.io/zone";
export const HOSTNAME_LABEL = "kubernetes.io/hostname";
/** Pods per simulated ReplicaSet. */
export const REPLICA_SET_SIZE = 50;

/** Capacity of every bench node, as Kubernetes quantities. */
export interface NodeShape {
  readonly cpu: string;
  readonly memory: string;
  readonly pods: string;
}

/** kube-scheduler's scheduler_perf node (test/integration/scheduler_perf/config/node-default.yaml). */
export const SCHEDULER_PERF_NODE: NodeShape = { cpu: "4", memory: "32Gi", pods: "110" };

/** Node `node-<i>` with the labels above, capacity = allocatable = `shape`. */
export function benchNode(i: number, shape: NodeShape): Node {
  const name = `node-${i}`;
  const resources = { cpu: shape.cpu, memory: shape.memory, pods: shape.pods };
  return create(NodeSchema, {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      labels: {
        [HOSTNAME_LABEL]: name,
        [ZONE_LABEL]: `zone-${i % 3}`,
        disk: i % 4 === 0 ? "ssd" : "hdd",
      },
    },
    status: { capacity: resources, allocatable: resources },
  });
}

/** What pod `i` requests of cpu and memory. */
export type RequestsOf = (i: number) => { readonly cpu: string; readonly memory: string };

/** scheduler_perf's small pod, for every pod: 100m cpu, 128Mi memory. */
export const SMALL_REQUESTS: RequestsOf = () => ({ cpu: "100m", memory: "128Mi" });

export interface PodOptions {
  readonly namespace: string;
  readonly requests: RequestsOf;
  /** Draws the pod's constraints (the 10/5/2% mix); one draw per pod, in index order. */
  readonly random: () => number;
  /** Sets metadata.uid (an in-process cache needs one; the API assigns it otherwise). */
  readonly withUid?: boolean;
}

/** Pod `pod-<i>` of ReplicaSet `app-<i / 50>`, with the constraint mix above. */
export function benchPod(i: number, options: PodOptions): Pod {
  const rs = Math.floor(i / REPLICA_SET_SIZE);
  const app = `app-${rs}`;
  const r = options.random();
  const spec: Record<string, unknown> = {};
  if (r < 0.1) spec.nodeSelector = { disk: "ssd" };
  else if (r < 0.15) {
    spec.topologySpreadConstraints = [
      {
        maxSkew: 1,
        topologyKey: ZONE_LABEL,
        whenUnsatisfiable: "DoNotSchedule",
        labelSelector: { matchLabels: { app } },
      },
    ];
  } else if (r < 0.17) {
    spec.affinity = {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { labelSelector: { matchLabels: { app } }, topologyKey: HOSTNAME_LABEL },
        ],
      },
    };
  }
  const requests = options.requests(i);
  return create(PodSchema, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `pod-${i}`,
      namespace: options.namespace,
      ...(options.withUid === true ? { uid: `uid-${i}` } : {}),
      labels: { app },
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: app,
          uid: `rs-${rs}`,
          controller: true,
        },
      ],
    },
    spec: {
      containers: [
        {
          name: "c",
          image: "busybox",
          resources: { requests: { cpu: requests.cpu, memory: requests.memory } },
        },
      ],
      ...spec,
    },
  });
}
