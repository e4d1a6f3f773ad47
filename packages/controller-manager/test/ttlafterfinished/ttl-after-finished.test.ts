// ttlSecondsAfterFinished: the expiry rule, and a finished Job deleted with its pods against a
// real tug-apiserver (with the garbage collector) and simulated nodes.

import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { JobSchema, PodSchema } from "@tug/api";
import { isApiError } from "@tug/client";
import { describe, expect, it } from "vitest";
import { GarbageCollector } from "../../src/index.js";
import {
  jobExpiryMs,
  TtlAfterFinishedController,
} from "../../src/ttlafterfinished/ttl-after-finished-controller.js";
import { useBatchCluster } from "../job/batch-cluster.js";
import { newJob } from "../job/job-fixtures.js";
import { eventually, SUCCEED_IMAGE } from "../support/cluster.js";

describe("jobExpiryMs", () => {
  const finishedAt = 1_000_000;
  const job = (ttl: number | undefined, type: string, status = "True") =>
    create(JobSchema, {
      spec: ttl === undefined ? {} : { ttlSecondsAfterFinished: ttl },
      status: {
        conditions: [{ type, status, lastTransitionTime: timestampFromMs(finishedAt) }],
      },
    });

  it("is the time the Job finished plus the TTL", () => {
    expect(jobExpiryMs(job(30, "Complete"))).toBe(finishedAt + 30_000);
    expect(jobExpiryMs(job(0, "Failed"))).toBe(finishedAt);
    expect(jobExpiryMs(job(undefined, "Complete"))).toBeUndefined();
    expect(jobExpiryMs(job(30, "Complete", "False"))).toBeUndefined();
    expect(jobExpiryMs(job(30, "SuccessCriteriaMet"))).toBeUndefined();
  });
});

describe("ttl-after-finished controller", () => {
  const cluster = useBatchCluster({
    more: ({ factory, api, jobs }) => [
      new TtlAfterFinishedController({ api, jobs }),
      new GarbageCollector({ api, factory, client: api }),
    ],
  });

  it("deletes a finished Job and its pods ttlSecondsAfterFinished after it finished", async () => {
    await cluster.client.create(
      JobSchema,
      newJob("short-lived", SUCCEED_IMAGE, { ttlSecondsAfterFinished: 1 }),
    );
    let sawComplete = false;
    await eventually("Job deleted", async () => {
      try {
        const job = await cluster.client.get(JobSchema, "short-lived", { namespace: "default" });
        sawComplete ||= job.status?.conditions.some((c) => c.type === "Complete") ?? false;
        return false;
      } catch (error) {
        if (isApiError(error, "NotFound")) return true;
        throw error;
      }
    });
    expect(sawComplete).toBe(true);
    await eventually("its pods deleted", async () => {
      const pods = await cluster.client.list(PodSchema, { namespace: "default" });
      return pods.items.length === 0;
    });
  });
});
