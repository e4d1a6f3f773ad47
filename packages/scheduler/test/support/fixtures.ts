// Builders for the Pods and Nodes the scheduler tests place.

import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { type Node, NodeSchema, type Pod, PodSchema } from "@tug/api";

export interface NodeOptions {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: string }[];
  unschedulable?: boolean;
  extra?: Record<string, string>;
}

export function makeNode(name: string, o: NodeOptions = {}): Node {
  return create(NodeSchema, {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...o.labels } },
    spec: {
      unschedulable: o.unschedulable,
      taints: (o.taints ?? []).map((t) => ({ key: t.key, value: t.value ?? "", effect: t.effect })),
    },
    status: {
      allocatable: {
        cpu: o.cpu ?? "4",
        memory: o.memory ?? "8Gi",
        pods: o.pods ?? "110",
        ...o.extra,
      },
    },
  });
}

export interface PodOptions {
  namespace?: string;
  cpu?: string;
  memory?: string;
  labels?: Record<string, string>;
  nodeName?: string;
  ownerUid?: string;
  priority?: number;
  spec?: MessageInitShape<typeof PodSchema>["spec"];
}

export function makePod(name: string, o: PodOptions = {}): Pod {
  const requests: Record<string, string> = {};
  if (o.cpu !== undefined) requests.cpu = o.cpu;
  if (o.memory !== undefined) requests.memory = o.memory;
  const pod = create(PodSchema, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: o.namespace ?? "default",
      uid: `uid-${name}`,
      labels: o.labels ?? {},
      ownerReferences:
        o.ownerUid === undefined
          ? []
          : [
              {
                apiVersion: "apps/v1",
                kind: "ReplicaSet",
                name: "rs",
                uid: o.ownerUid,
                controller: true,
              },
            ],
    },
    spec: {
      containers: [{ name: "c", image: "busybox", resources: { requests } }],
      ...o.spec,
    },
  });
  if (pod.spec !== undefined) {
    if (o.nodeName !== undefined) pod.spec.nodeName = o.nodeName;
    if (o.priority !== undefined) pod.spec.priority = o.priority;
  }
  return pod;
}
