// The Job controller against a real tug-apiserver and store with simulated nodes whose pods
// succeed or fail by image: completions with parallelism, the backoff limit, the deadline, and
// counting through the tracking finalizer.

import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { JobSchema, PodSchema } from "@tug/api";
import { describe, expect, it } from "vitest";
import { GarbageCollector } from "../../src/index.js";
import { JOB_TRACKING_FINALIZER } from "../../src/job/job-state.js";
import { eventually, FAIL_IMAGE, SUCCEED_IMAGE } from "../support/cluster.js";
import { useBatchCluster } from "./batch-cluster.js";
import { jobReader, newJob, trueCondition } from "./job-fixtures.js";

const cluster = useBatchCluster({
  // Short back-off so that a failing Job reaches its limit in well under a second.
  job: { backoffBaseMs: 20, backoffMaxMs: 100 },
  more: ({ factory, api }) => [new GarbageCollector({ api, factory, client: api })],
});

const { getJob, podsOf, eventReasons } = jobReader(cluster);
const condition = trueCondition;

describe("Job controller", () => {
  it("runs completions 3 with parallelism 2 to Complete, counting each pod once", async () => {
    const created = await cluster.client.create(
      JobSchema,
      newJob("three", SUCCEED_IMAGE, { completions: 3, parallelism: 2 }),
    );
    let maxRunning = 0;
    await eventually(
      "Job three Complete",
      async () => {
        const pods = await podsOf(created);
        const unfinished = pods.filter(
          (p) => p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed",
        );
        maxRunning = Math.max(maxRunning, unfinished.length);
        return condition(await getJob("three"), "Complete") !== undefined;
      },
      30_000,
    );
    const done = await getJob("three");
    expect(done.status?.succeeded).toBe(3);
    expect(done.status?.failed).toBe(0);
    expect(done.status?.active).toBe(0);
    expect(done.status?.uncountedTerminatedPods?.succeeded ?? []).toEqual([]);
    expect(done.status?.completionTime).toBeDefined();
    // Wall-clock times, not a monotonic clock's.
    const started = timestampMs(done.status?.startTime ?? timestampFromMs(0));
    expect(Math.abs(started - Date.now())).toBeLessThan(10 * 60_000);
    expect(condition(done, "SuccessCriteriaMet")?.reason).toBe("CompletionsReached");
    expect(maxRunning).toBeLessThanOrEqual(2);
    const pods = await podsOf(created);
    expect(pods).toHaveLength(3);
    for (const pod of pods) {
      expect(pod.metadata?.finalizers).not.toContain(JOB_TRACKING_FINALIZER);
      expect(pod.metadata?.labels["batch.kubernetes.io/job-name"]).toBe("three");
      expect(pod.metadata?.labels["controller-uid"]).toBe(created.metadata?.uid);
    }
    // Pods deleted after they were counted do not change the counts.
    for (const pod of pods) {
      await cluster.client.delete(PodSchema, pod.metadata?.name ?? "", { namespace: "default" });
    }
    await eventually("pods gone", async () => (await podsOf(created)).length === 0);
    expect((await getJob("three")).status?.succeeded).toBe(3);
    await eventually("Completed event", async () =>
      (await eventReasons("three")).includes("Completed"),
    );
  });

  it("fails a Job whose pods keep failing once backoffLimit is exceeded", async () => {
    const created = await cluster.client.create(
      JobSchema,
      newJob("doomed", FAIL_IMAGE, { backoffLimit: 2 }),
    );
    await eventually(
      "Job doomed Failed",
      async () => condition(await getJob("doomed"), "Failed") !== undefined,
    );
    const failed = await getJob("doomed");
    expect(condition(failed, "Failed")?.reason).toBe("BackoffLimitExceeded");
    expect(condition(failed, "Failed")?.message).toBe(
      "Job has reached the specified backoff limit",
    );
    expect(condition(failed, "FailureTarget")?.reason).toBe("BackoffLimitExceeded");
    expect(failed.status?.failed).toBe(3);
    expect(failed.status?.succeeded).toBe(0);
    expect(failed.status?.completionTime).toBeUndefined();
    expect(await podsOf(created)).toHaveLength(3);
    await eventually("BackoffLimitExceeded event", async () =>
      (await eventReasons("doomed")).includes("BackoffLimitExceeded"),
    );
  });

  it("fails a Job past activeDeadlineSeconds and deletes its running pods", async () => {
    const created = await cluster.client.create(
      JobSchema,
      newJob("slow", "sleep:1", { parallelism: 2, completions: 4, activeDeadlineSeconds: 1 }),
    );
    await eventually(
      "Job slow Failed",
      async () => condition(await getJob("slow"), "Failed") !== undefined,
    );
    const failed = await getJob("slow");
    expect(condition(failed, "Failed")?.reason).toBe("DeadlineExceeded");
    expect(condition(failed, "Failed")?.message).toBe(
      "Job was active longer than specified deadline",
    );
    expect(failed.status?.active).toBe(0);
    await eventually("running pods deleted", async () => (await podsOf(created)).length === 0);
  });

  it("runs an Indexed Job: one successful pod per index, with its index", async () => {
    const created = await cluster.client.create(
      JobSchema,
      newJob("indexed", SUCCEED_IMAGE, {
        completions: 3,
        parallelism: 2,
        completionMode: "Indexed",
      }),
    );
    await eventually(
      "Job indexed Complete",
      async () => condition(await getJob("indexed"), "Complete") !== undefined,
    );
    const done = await getJob("indexed");
    expect(done.status?.completedIndexes).toBe("0-2");
    expect(done.status?.succeeded).toBe(3);
    const pods = await podsOf(created);
    const indexes = pods
      .map((p) => p.metadata?.annotations["batch.kubernetes.io/job-completion-index"])
      .sort();
    expect(indexes).toEqual(["0", "1", "2"]);
    for (const pod of pods) {
      const index = pod.metadata?.annotations["batch.kubernetes.io/job-completion-index"];
      expect(pod.spec?.hostname).toBe(`indexed-${index}`);
      expect(pod.spec?.containers[0]?.env).toContainEqual(
        expect.objectContaining({ name: "JOB_COMPLETION_INDEX", value: index }),
      );
    }
  });

  it("lets the pods of a deleted Job go: their tracking finalizer is removed and they are deleted", async () => {
    const created = await cluster.client.create(
      JobSchema,
      newJob("dropped", "sleep:1", { parallelism: 2, completions: 2 }),
    );
    await eventually("two running pods", async () => {
      const pods = await podsOf(created);
      return pods.filter((p) => p.status?.phase === "Running").length === 2;
    });
    for (const pod of await podsOf(created)) {
      expect(pod.metadata?.finalizers).toContain(JOB_TRACKING_FINALIZER);
    }
    await cluster.client.delete(JobSchema, "dropped", {
      namespace: "default",
      propagationPolicy: "Background",
    });
    await eventually("pods gone", async () => (await podsOf(created)).length === 0);
  });
});
