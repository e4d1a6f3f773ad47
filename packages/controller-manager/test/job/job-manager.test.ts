// The Job controller as tug-controller-manager runs it (registered under "job", shared
// informers): a suspended Job starts no pod until it is resumed, then completes.

import { clone } from "@bufbuild/protobuf";
import { type Job, JobSchema, PodSchema } from "@tug/api";
import { isApiError } from "@tug/client";
import { describe, expect, it } from "vitest";
import { KNOWN_CONTROLLERS } from "../../src/index.js";
import { eventually, SUCCEED_IMAGE } from "../support/cluster.js";
import { useBatchCluster } from "./batch-cluster.js";
import { newJob } from "./job-fixtures.js";

const cluster = useBatchCluster({ manager: ["job"] });

async function getJob(name: string): Promise<Job> {
  return cluster.client.get(JobSchema, name, { namespace: "default" });
}

function conditionOf(job: Job, type: string) {
  return job.status?.conditions.find((c) => c.type === type);
}

describe("job controller in the controller manager", () => {
  it("is registered with the batch controllers", () => {
    expect(KNOWN_CONTROLLERS).toEqual(
      expect.arrayContaining(["job", "cronjob", "ttl-after-finished"]),
    );
  });

  it("starts no pod for a suspended Job, and runs it to Complete once resumed", async () => {
    await cluster.client.create(
      JobSchema,
      newJob("later", SUCCEED_IMAGE, { suspend: true, completions: 2, parallelism: 2 }),
    );
    await eventually(
      "Suspended condition",
      async () => conditionOf(await getJob("later"), "Suspended")?.status === "True",
    );
    expect(conditionOf(await getJob("later"), "Suspended")?.reason).toBe("JobSuspended");
    expect((await cluster.client.list(PodSchema, { namespace: "default" })).items).toEqual([]);
    for (;;) {
      const job = clone(JobSchema, await getJob("later"));
      if (job.spec !== undefined) job.spec.suspend = false;
      try {
        await cluster.client.update(JobSchema, job);
        break;
      } catch (error) {
        if (!isApiError(error, "Conflict")) throw error;
      }
    }
    await eventually(
      "Complete after resume",
      async () => conditionOf(await getJob("later"), "Complete")?.status === "True",
    );
    const done = await getJob("later");
    expect(conditionOf(done, "Suspended")).toMatchObject({ status: "False", reason: "JobResumed" });
    expect(done.status?.succeeded).toBe(2);
  });
});
