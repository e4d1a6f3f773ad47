// Builders for the Pods and Nodes the scheduler tests place.

import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { type Node, NodeSchema, type Pod, PodSchema } from "@tug/api";
import type { FilterPlugin, ScorePlugin } from "../../src/framework/plugin.js";
import { newPodInfo } from "../../src/framework/pod-info.js";
import { Snapshot } from "../../src/framework/snapshot.js";

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
  /** Host ports of the container (TCP, all host IPs unless "ip:port"). */
  hostPorts?: (number | string)[];
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
      containers: [
        {
          name: "c",
          image: "busybox",
          resources: { requests },
          ports: (o.hostPorts ?? []).map((p) => {
            const [ip, port] = typeof p === "number" ? ["", p] : (p.split(":") as [string, string]);
            return { hostPort: Number(port), containerPort: 80, hostIp: ip };
          }),
        },
      ],
      ...o.spec,
    },
  });
  if (pod.spec !== undefined) {
    if (o.nodeName !== undefined) pod.spec.nodeName = o.nodeName;
    if (o.priority !== undefined) pod.spec.priority = o.priority;
  }
  return pod;
}

/** A snapshot holding `nodes` and the bound `pods`. */
export function snapshotOf(nodes: readonly Node[], pods: readonly Pod[] = []): Snapshot {
  const s = new Snapshot();
  for (const n of nodes) s.setNode(n);
  for (const p of pods) s.setPod(p);
  return s;
}

/** Runs `plugin`'s filter for `pod` on node `name`: undefined when it fits, else the reasons. */
export function filterOn(
  plugin: FilterPlugin,
  pod: Pod,
  snapshot: Snapshot,
  name: string,
): readonly string[] | undefined {
  const filter = plugin.preFilter(newPodInfo(pod), snapshot);
  if (filter === undefined) return undefined;
  const node = snapshot.get(name);
  if (node === undefined) throw new Error(`no node ${name} in the snapshot`);
  return filter(node);
}

/**
 * Runs `plugin`'s score and normalize for `pod` over every node: name -> final score. Throws
 * when the plugin's scoreAll disagrees with its score.
 */
export function scoresOf(
  plugin: ScorePlugin,
  pod: Pod,
  snapshot: Snapshot,
): Record<string, number> {
  const nodes = snapshot.nodeInfos();
  const scorer = plugin.preScore(newPodInfo(pod), snapshot, nodes);
  const out: Record<string, number> = {};
  if (scorer === undefined) {
    for (const n of nodes) out[n.name] = 0;
    return out;
  }
  const scores = new Float64Array(nodes.map((n) => scorer.score(n)));
  // A plugin's own loop must give what score() gives, node by node.
  if (scorer.scoreAll !== undefined) {
    const all = new Float64Array(nodes.length);
    scorer.scoreAll(nodes, all);
    if (all.some((s, i) => s !== scores[i])) {
      throw new Error(`${plugin.name}: scoreAll gave [${all}], score gave [${scores}]`);
    }
  }
  scorer.normalize?.(scores);
  nodes.forEach((n, i) => {
    out[n.name] = scores[i] as number;
  });
  return out;
}
