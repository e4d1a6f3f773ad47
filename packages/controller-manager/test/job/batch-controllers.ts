// The Job controller (and any other batch controllers a test adds) over shared informers on a
// test cluster, as tug-controller-manager would run them.

import type { Job } from "@tug/api";
import { JobSchema } from "@tug/api";
import { apiListerWatcher, type SharedIndexInformer } from "@tug/client";
import { ApiEventRecorder, ApiPodControl, type Controller } from "../../src/index.js";
import { JobController, type JobControllerOptions } from "../../src/job/job-controller.js";
import {
  type Informers,
  type RunningControllers,
  runControllers,
} from "../nodelifecycle/run-controllers.js";

export type BatchInformers = Informers & { readonly jobs: SharedIndexInformer<Job> };

/**
 * Runs a JobController with `jobOptions` (back-off, clocks) plus the controllers `more` builds
 * from the same informers.
 */
export function runBatchControllers(
  address: string,
  jobOptions: Partial<Pick<JobControllerOptions, "backoffBaseMs" | "backoffMaxMs">> = {},
  more: (informers: BatchInformers) => Controller[] = () => [],
): Promise<RunningControllers> {
  return runControllers(address, (informers) => {
    const { factory, api, pods } = informers;
    const jobs = factory.informerFor<Job>({
      key: "batch/v1/jobs",
      newListerWatcher: () => apiListerWatcher(api, JobSchema),
    });
    const recorder = new ApiEventRecorder({ api, component: "job-controller" });
    const job = new JobController({
      ...jobOptions,
      api,
      jobs,
      pods,
      podControl: new ApiPodControl(api, recorder),
      recorder,
    });
    return [job, ...more({ ...informers, jobs })];
  });
}
