import { type Job, JobSchema, type Pod, PodSchema } from "@tug/api";
import { isApiError } from "@tug/client";
import { describe, expect, it } from "vitest";
import { JOB_TRACKING_FINALIZER } from "../../src/job/job-state.js";
import { eventually } from "../support/cluster.js";
import { useBatchCluster } from "./batch-cluster.js";
import { type JobSpecInit, jobReader, newJob, trueCondition } from "./job-fixtures.js";

const cluster = useBatchCluster({
  // No kubelet: the test sets each pod's outcome.
  kubelet: false,
  // Short back-off: a replacement follows a failure within a fraction of a second.
  job: { backoffBaseMs: 20, backoffMaxMs: 100 },
});

const INDEX = "batch.kubernetes.io/job-completion-index";

async function createJob(name: string, spec: JobSpecInit): Promise<Job> {
  return cluster.client.create(JobSchema, newJob(name, "work:1", spec));
}

const { getJob, podsOf, eventReasons, finish } = jobReader(cluster);
const condition = trueCondition;

/** Waits until `select` picks `count` of the Job's pods; returns them, oldest first. */
async function waitForPods(
  job: Job,
  count: number,
  select: (pod: Pod) => boolean = isRunning,
): Promise<Pod[]> {
  let found: Pod[] = [];
  await eventually(`${count} pod(s) of ${job.metadata?.name}`, async () => {
    found = (await podsOf(job)).filter(select);
    return found.length === count;
  });
  return found.sort(
    (a, b) =>
      Number(a.metadata?.creationTimestamp?.seconds ?? 0n) -
      Number(b.metadata?.creationTimestamp?.seconds ?? 0n),
  );
}

function isRunning(pod: Pod): boolean {
  const phase = pod.status?.phase ?? "";
  return (
    pod.metadata?.deletionTimestamp === undefined && phase !== "Succeeded" && phase !== "Failed"
  );
}

const indexOf = (pod: Pod) => pod.metadata?.annotations[INDEX];

/**
 * What the agent does with a pod being deleted: it fails (killed, 137), then it goes. A pod
 * already gone (counted and let go by the Job controller) is left alone.
 */
async function terminate(pod: Pod): Promise<void> {
  try {
    await finish(pod, 137);
    await cluster.client.delete(PodSchema, pod.metadata?.name ?? "", {
      namespace: "default",
      gracePeriodSeconds: 0,
    });
  } catch (error) {
    if (!isApiError(error, "NotFound")) throw error;
  }
}

describe("podFailurePolicy", () => {
  it("FailJob: the Job fails with reason PodFailurePolicy once its other pods have terminated", async () => {
    const job = await createJob("fail-fast", {
      parallelism: 2,
      completions: 2,
      podFailurePolicy: {
        rules: [
          { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget" }] },
          {
            action: "FailJob",
            onExitCodes: { containerName: "main", operator: "In", values: [42] },
          },
        ],
      },
    });
    const [first, second] = await waitForPods(job, 2);
    if (first === undefined || second === undefined) throw new Error("two pods expected");
    await finish(first, 42);
    const message = `Container main for pod default/${first.metadata?.name} failed with exit code 42 matching FailJob rule at index 1`;
    // The other pod is deleted; while it terminates the Job has FailureTarget but not Failed.
    await eventually("FailureTarget with the other pod terminating", async () => {
      const j = await getJob("fail-fast");
      return condition(j, "FailureTarget") !== undefined && j.status?.terminating === 1;
    });
    const failing = await getJob("fail-fast");
    expect(condition(failing, "FailureTarget")?.reason).toBe("PodFailurePolicy");
    expect(condition(failing, "FailureTarget")?.message).toBe(message);
    expect(condition(failing, "Failed")).toBeUndefined();
    await terminate(second);
    await eventually(
      "Job fail-fast Failed",
      async () => condition(await getJob("fail-fast"), "Failed") !== undefined,
    );
    const failed = await getJob("fail-fast");
    expect(condition(failed, "Failed")?.reason).toBe("PodFailurePolicy");
    expect(condition(failed, "Failed")?.message).toBe(message);
    expect(failed.status?.active).toBe(0);
    expect(failed.status?.terminating).toBe(0);
    await eventually("PodFailurePolicy event", async () =>
      (await eventReasons("fail-fast")).includes("PodFailurePolicy"),
    );
  });

  it("Ignore: a disrupted pod is replaced and not counted; a counted failure past backoffLimit fails the Job", async () => {
    const job = await createJob("tolerant", {
      backoffLimit: 0,
      podFailurePolicy: {
        rules: [{ action: "Ignore", onPodConditions: [{ type: "DisruptionTarget" }] }],
      },
    });
    const [disrupted] = await waitForPods(job, 1);
    if (disrupted === undefined) throw new Error("a pod expected");
    await finish(disrupted, 137, ["DisruptionTarget"]);
    const [replacement] = await waitForPods(job, 1);
    if (replacement === undefined) throw new Error("a replacement expected");
    await eventually("the disrupted pod's finalizer removed", async () => {
      const pods = await podsOf(job);
      const old = pods.find((p) => p.metadata?.uid === disrupted.metadata?.uid);
      return old !== undefined && !old.metadata?.finalizers.includes(JOB_TRACKING_FINALIZER);
    });
    const running = await getJob("tolerant");
    expect(running.status?.failed).toBe(0);
    expect(condition(running, "FailureTarget")).toBeUndefined();

    await finish(replacement, 1);
    await eventually(
      "Job tolerant Failed",
      async () => condition(await getJob("tolerant"), "Failed") !== undefined,
    );
    const failed = await getJob("tolerant");
    expect(condition(failed, "Failed")?.reason).toBe("BackoffLimitExceeded");
    expect(failed.status?.failed).toBe(1);
  });
});

describe("podReplacementPolicy", () => {
  it("Failed: a deleted pod is replaced only once it has failed", async () => {
    const job = await createJob("patient", { podReplacementPolicy: "Failed" });
    const [first] = await waitForPods(job, 1);
    if (first === undefined) throw new Error("a pod expected");
    await cluster.client.delete(PodSchema, first.metadata?.name ?? "", { namespace: "default" });
    await eventually("status.terminating 1", async () => {
      const j = await getJob("patient");
      return j.status?.terminating === 1 && j.status?.active === 0;
    });
    // The sync that saw the pod terminating created nothing (active 0 was written after it).
    expect(await podsOf(job)).toHaveLength(1);
    await terminate(first);
    const [replacement] = await waitForPods(job, 1);
    expect(replacement?.metadata?.uid).not.toBe(first.metadata?.uid);
    await eventually(
      "the failure counted",
      async () => (await getJob("patient")).status?.failed === 1,
    );
  });

  it("TerminatingOrFailed: a deleted pod is replaced at once and counts as failed", async () => {
    const job = await createJob("eager", { podReplacementPolicy: "TerminatingOrFailed" });
    const [first] = await waitForPods(job, 1);
    if (first === undefined) throw new Error("a pod expected");
    await cluster.client.delete(PodSchema, first.metadata?.name ?? "", { namespace: "default" });
    const [replacement] = await waitForPods(job, 1);
    expect(replacement?.metadata?.uid).not.toBe(first.metadata?.uid);
    // Counted at once: the deleted pod lost its finalizer, so (never scheduled) it is gone.
    await eventually("failed 1, active 1", async () => {
      const j = await getJob("eager");
      return j.status?.failed === 1 && j.status?.active === 1;
    });
    await eventually("the deleted pod gone", async () =>
      (await podsOf(job)).every((p) => p.metadata?.uid !== first.metadata?.uid),
    );
  });
});

describe("Indexed Jobs with backoffLimitPerIndex", () => {
  it("names pods <job>-<index>-<random>, fails indexes on their own, and fails the Job with FailedIndexes", async () => {
    const job = await createJob("pi", {
      completionMode: "Indexed",
      completions: 4,
      parallelism: 4,
      backoffLimitPerIndex: 1,
      podFailurePolicy: {
        rules: [{ action: "FailIndex", onExitCodes: { operator: "In", values: [42] } }],
      },
    });
    const pods = await waitForPods(job, 4);
    const byIndex = new Map(pods.map((p) => [indexOf(p), p]));
    expect([...byIndex.keys()].sort()).toEqual(["0", "1", "2", "3"]);
    for (const [index, pod] of byIndex) {
      expect(pod.metadata?.name).toMatch(new RegExp(`^pi-${index}-[a-z0-9]{5}$`));
      expect(pod.metadata?.labels[INDEX]).toBe(index);
      expect(pod.spec?.hostname).toBe(`pi-${index}`);
      expect(pod.metadata?.annotations["batch.kubernetes.io/job-index-failure-count"]).toBe("0");
    }
    const at = (i: string) => byIndex.get(i) as Pod;
    await finish(at("2"), 0);
    await finish(at("3"), 0);
    await finish(at("1"), 42); // FailIndex: index 1 fails at once
    await finish(at("0"), 1); // counted: index 0 gets a second try
    const [retry] = await waitForPods(job, 1);
    if (retry === undefined) throw new Error("a retry of index 0 expected");
    expect(indexOf(retry)).toBe("0");
    expect(retry.metadata?.name).toMatch(/^pi-0-[a-z0-9]{5}$/);
    expect(retry.metadata?.annotations["batch.kubernetes.io/job-index-failure-count"]).toBe("1");
    expect((await getJob("pi")).status?.failedIndexes).toBe("1");
    await finish(retry, 1); // index 0 past its limit
    await eventually(
      "Job pi Failed",
      async () => condition(await getJob("pi"), "Failed") !== undefined,
    );
    const failed = await getJob("pi");
    expect(condition(failed, "Failed")?.reason).toBe("FailedIndexes");
    expect(condition(failed, "Failed")?.message).toBe("Job has failed indexes");
    expect(failed.status?.failedIndexes).toBe("0-1");
    expect(failed.status?.completedIndexes).toBe("2-3");
    expect(failed.status?.failed).toBe(3);
    expect(failed.status?.succeeded).toBe(2);
    // Index 1 was never retried.
    expect((await podsOf(job)).filter((p) => indexOf(p) === "1")).toHaveLength(1);
  });

  it("fails the Job past maxFailedIndexes and deletes its running pods", async () => {
    const job = await createJob("strict", {
      completionMode: "Indexed",
      completions: 3,
      parallelism: 3,
      backoffLimitPerIndex: 0,
      maxFailedIndexes: 0,
    });
    const pods = await waitForPods(job, 3);
    const first = pods.find((p) => indexOf(p) === "0") as Pod;
    await finish(first, 1);
    // The other two are deleted (and, counted as failed at once, may already be gone).
    await eventually("no pod of strict running", async () =>
      (await podsOf(job)).every((p) => !isRunning(p)),
    );
    const failing = await getJob("strict");
    expect(condition(failing, "FailureTarget")?.reason).toBe("MaxFailedIndexesExceeded");
    expect(condition(failing, "FailureTarget")?.message).toBe(
      "Job has exceeded the specified maximal number of failed indexes",
    );
    for (const pod of pods.filter((p) => p !== first)) await terminate(pod);
    await eventually(
      "Job strict Failed",
      async () => condition(await getJob("strict"), "Failed") !== undefined,
    );
    // The deleted pods count as failures too (TerminatingOrFailed), each past its index's limit 0.
    expect((await getJob("strict")).status?.failedIndexes).toBe("0-2");
  });
});
