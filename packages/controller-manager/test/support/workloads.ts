// Deployments for the end-to-end tests, and an observer that checks rollout bounds on every pod
// event and counts the pods ever created per pod-template-hash.

import { create } from "@bufbuild/protobuf";
import { type Deployment, DeploymentSchema, makeIntOrString, type Pod, PodSchema } from "@tug/api";
import { type ApiClient, apiListerWatcher, SharedIndexInformer } from "@tug/client";
import { isPodActive, isPodReady, POD_TEMPLATE_HASH_LABEL } from "../../src/index.js";

export function deployment(
  name: string,
  options: {
    replicas?: number;
    image?: string;
    strategy?: "RollingUpdate" | "Recreate";
    maxSurge?: number | string;
    maxUnavailable?: number | string;
    revisionHistoryLimit?: number;
    progressDeadlineSeconds?: number;
  } = {},
): Deployment {
  const strategy = options.strategy ?? "RollingUpdate";
  return create(DeploymentSchema, {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "default" },
    spec: {
      replicas: options.replicas ?? 3,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "main", image: options.image ?? "busybox:1" }] },
      },
      strategy:
        strategy === "Recreate"
          ? { type: "Recreate" }
          : {
              type: "RollingUpdate",
              rollingUpdate: {
                maxSurge: makeIntOrString(options.maxSurge ?? "25%"),
                maxUnavailable: makeIntOrString(options.maxUnavailable ?? "25%"),
              },
            },
      ...(options.revisionHistoryLimit === undefined
        ? {}
        : { revisionHistoryLimit: options.revisionHistoryLimit }),
      ...(options.progressDeadlineSeconds === undefined
        ? {}
        : { progressDeadlineSeconds: options.progressDeadlineSeconds }),
    },
  });
}

export interface PodObserver {
  /** Distinct pods ever seen, per pod-template-hash. */
  readonly createdPerHash: Map<string, Set<string>>;
  /** Moments the bounds were broken, described. */
  readonly violations: string[];
  /** Live (active) pods of the app now. */
  live(): Pod[];
  /** Checks bounds from now on: live ≤ maxTotal and ready ≥ minAvailable. */
  checkBounds(bounds: { maxTotal: number; minAvailable: number } | undefined): void;
  stop(): Promise<void>;
}

/** Watches the pods labelled app=`app` and checks every event against the current bounds. */
export async function observePods(client: ApiClient, app: string): Promise<PodObserver> {
  const informer = new SharedIndexInformer<Pod>({
    listerWatcher: apiListerWatcher(client, PodSchema, { labelSelector: `app=${app}` }),
    name: `observer-${app}`,
  });
  const createdPerHash = new Map<string, Set<string>>();
  const violations: string[] = [];
  let bounds: { maxTotal: number; minAvailable: number } | undefined;
  const live = () => informer.getIndexer().list().filter(isPodActive);
  const check = (what: string) => {
    if (bounds === undefined) return;
    const pods = live();
    const ready = pods.filter(isPodReady).length;
    if (pods.length > bounds.maxTotal) {
      violations.push(`${what}: ${pods.length} live pods > ${bounds.maxTotal}`);
    }
    if (ready < bounds.minAvailable) {
      violations.push(`${what}: ${ready} ready pods < ${bounds.minAvailable}`);
    }
  };
  const record = (pod: Pod) => {
    const hash = pod.metadata?.labels[POD_TEMPLATE_HASH_LABEL] ?? "";
    let set = createdPerHash.get(hash);
    if (set === undefined) {
      set = new Set();
      createdPerHash.set(hash, set);
    }
    set.add(pod.metadata?.uid ?? "");
  };
  informer.addEventHandler({
    onAdd: (pod) => {
      record(pod);
      check(`add ${pod.metadata?.name}`);
    },
    onUpdate: (_old, pod) => check(`update ${pod.metadata?.name}`),
    onDelete: () => check("delete"),
  });
  const run = informer.run();
  await informer.waitForCacheSync();
  return {
    createdPerHash,
    violations,
    live,
    checkBounds: (b) => {
      bounds = b;
      check("bounds set");
    },
    stop: async () => {
      await informer.stop();
      await run;
    },
  };
}
