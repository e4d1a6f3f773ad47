// Runs a few controllers against a test cluster as tug-controller-manager would (shared
// informers, workers after the caches sync), with the timings the test chooses.

import type { Lease, Node, Pod } from "@tug/api";
import { LeaseSchema, NodeSchema, PodSchema } from "@tug/api";
import {
  ApiClient,
  apiListerWatcher,
  metaNamespaceIndexFunc,
  NAMESPACE_INDEX,
  type SharedIndexInformer,
  SharedInformerFactory,
} from "@tug/client";
import { type Controller, runController } from "../../src/index.js";

export interface Informers {
  readonly factory: SharedInformerFactory;
  readonly api: ApiClient;
  readonly nodes: SharedIndexInformer<Node>;
  readonly pods: SharedIndexInformer<Pod>;
  readonly leases: SharedIndexInformer<Lease>;
}

export interface RunningControllers {
  /** Errors reconciles threw (they are retried), for a test that wants none. */
  readonly errors: { controller: string; key: string; error: unknown }[];
  stop(): Promise<void>;
}

/** Starts the controllers `build` makes from a fresh informer factory; stop() undoes it all. */
export async function runControllers(
  address: string,
  build: (informers: Informers) => Controller[],
): Promise<RunningControllers> {
  const api = new ApiClient({ servers: [address], requestTimeoutMs: 10_000 });
  const factory = new SharedInformerFactory();
  const indexers = { [NAMESPACE_INDEX]: metaNamespaceIndexFunc };
  const informers: Informers = {
    factory,
    api,
    nodes: factory.informerFor<Node>({
      key: "v1/nodes",
      newListerWatcher: () => apiListerWatcher(api, NodeSchema),
    }),
    pods: factory.informerFor<Pod>({
      key: "v1/pods",
      newListerWatcher: () => apiListerWatcher(api, PodSchema),
      indexers,
    }),
    leases: factory.informerFor<Lease>({
      key: "coordination.k8s.io/v1/leases",
      newListerWatcher: () => apiListerWatcher(api, LeaseSchema),
      indexers,
    }),
  };
  const controllers = build(informers);
  const stopper = new AbortController();
  const errors: RunningControllers["errors"] = [];
  factory.start();
  const running = Promise.all(
    controllers.map((controller) =>
      runController(controller, {
        workers: 2,
        signal: stopper.signal,
        onError: (key, error) => errors.push({ controller: controller.name, key, error }),
      }),
    ),
  );
  return {
    errors,
    stop: async () => {
      stopper.abort();
      await running;
      await factory.shutdown();
      api.close();
    },
  };
}
