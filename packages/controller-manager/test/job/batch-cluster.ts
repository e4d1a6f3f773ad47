// The test cluster the batch controllers' end-to-end tests (Job, CronJob, ttl-after-finished) run
// against: a control plane (support/cluster.ts), a fake kubelet on its nodes, and the controllers,
// started before each test and stopped after it, in reverse order, even when the test fails.

import type { ApiClient } from "@tug/client";
import { afterEach, beforeEach } from "vitest";
import { type Controller, ControllerManager, type ControllerName } from "../../src/index.js";
import type { JobControllerOptions } from "../../src/job/job-controller.js";
import { type Cluster, startCluster, startFakeKubelet } from "../support/cluster.js";
import { type BatchInformers, runBatchControllers } from "./batch-controllers.js";

/** The Job controller's back-off, which a test shortens so that failures are retried quickly. */
export type JobBackoff = Partial<Pick<JobControllerOptions, "backoffBaseMs" | "backoffMaxMs">>;

/** The Job controller with `job` back-off, plus the controllers `more` builds (runBatchControllers). */
interface DirectControllers {
  readonly job?: JobBackoff;
  readonly more?: (informers: BatchInformers) => Controller[];
  readonly manager?: never;
}

/** The controllers registered under these names, run by a ControllerManager as the binary does. */
interface ManagedControllers {
  readonly manager: readonly ControllerName[];
  readonly job?: never;
  readonly more?: never;
}

export type BatchClusterOptions = {
  /**
   * The nodes the fake kubelet binds pods to and runs them on (default ["node-a"]); `false`
   * starts no kubelet, for a test that reports each pod's outcome itself.
   */
  readonly kubelet?: readonly string[] | false;
} & (DirectControllers | ManagedControllers);

/** The running cluster of the current test; reading it outside a test throws. */
export interface BatchCluster {
  readonly address: string;
  readonly client: ApiClient;
}

/**
 * Registers beforeEach/afterEach hooks (in the calling describe block, or the file) that start
 * a test cluster with `options` for each test and stop all of it afterwards. What started is
 * stopped even when a later start or the test fails, and one failing stop does not keep the
 * rest from stopping (the first error is rethrown once all have been tried).
 */
export function useBatchCluster(options: BatchClusterOptions = {}): BatchCluster {
  let cluster: Cluster | undefined;
  const stops: (() => Promise<void>)[] = [];
  const running = (): Cluster => {
    if (cluster === undefined) {
      throw new Error("useBatchCluster: no cluster runs here; read it inside a test or hook");
    }
    return cluster;
  };

  beforeEach(async () => {
    const started = await startCluster();
    stops.push(() => started.stop());
    cluster = started;
    const nodes = options.kubelet ?? ["node-a"];
    if (nodes !== false) {
      const kubelet = await startFakeKubelet(started.address, nodes);
      stops.push(() => kubelet.stop());
    }
    if (options.manager !== undefined) {
      const manager = new ControllerManager({
        servers: [started.address],
        leaderElect: false,
        controllers: options.manager,
      });
      manager.start();
      stops.push(() => manager.stop());
    } else {
      const controllers = await runBatchControllers(started.address, options.job, options.more);
      stops.push(() => controllers.stop());
    }
  });

  afterEach(async () => {
    cluster = undefined;
    const failures: unknown[] = [];
    for (let stop = stops.pop(); stop !== undefined; stop = stops.pop()) {
      try {
        await stop();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw failures[0];
  });

  return {
    get address() {
      return running().address;
    },
    get client() {
      return running().client;
    },
  };
}
