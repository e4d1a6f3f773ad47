// spec.successPolicy and spec.managedBy (Kubernetes 1.32) against a real tug-apiserver and store
// with simulated nodes: an Indexed Job whose success policy is met ends Complete early with
// Kubernetes' reason and message, its remaining pods terminated and not counted as failed; a
// Job managed by another controller is left alone; the API server stores both fields from a
// 1.32 manifest and refuses what 1.32 refuses.

import { clone, create, type MessageInitShape } from "@bufbuild/protobuf";
import { type Job, JobSchema, type Pod, parseManifests, SuccessPolicySchema } from "@tug/api";
import { isApiError } from "@tug/client";
import { describe, expect, it } from "vitest";
import { eventually, SUCCEED_IMAGE } from "../support/cluster.js";
import { useBatchCluster } from "./batch-cluster.js";
import { jobReader, newJob, trueCondition } from "./job-fixtures.js";

/** Pods of this image run until the test ends them (the fake kubelet only starts them). */
const RUN_IMAGE = "run:1";
const INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index";

const cluster = useBatchCluster({ job: { backoffBaseMs: 20, backoffMaxMs: 100 } });

function indexedJob(
  name: string,
  completions: number,
  successPolicy: MessageInitShape<typeof SuccessPolicySchema>,
): Job {
  return newJob(name, RUN_IMAGE, {
    completionMode: "Indexed",
    completions,
    parallelism: completions,
    successPolicy,
  });
}

const { getJob, podsOf, eventReasons, finish } = jobReader(cluster);
const condition = trueCondition;

/** Waits for one Running pod per index of `j`, then returns them by index. */
async function runningByIndex(j: Job, completions: number): Promise<Map<string, Pod>> {
  let byIndex = new Map<string, Pod>();
  await eventually(`${completions} running pods of ${j.metadata?.name}`, async () => {
    const running = (await podsOf(j)).filter((p) => p.status?.phase === "Running");
    byIndex = new Map(running.map((p) => [p.metadata?.annotations[INDEX_ANNOTATION] ?? "", p]));
    return byIndex.size === completions;
  });
  return byIndex;
}

/** Ends the running pod of an index with exit code 0. */
async function succeed(pod: Pod | undefined): Promise<void> {
  if (pod === undefined) throw new Error("no pod for that index");
  await finish(pod, 0);
}

describe("Job successPolicy", () => {
  it("completes once a succeededIndexes rule is met, naming the rule, and lets the rest go uncounted", async () => {
    const created = await cluster.client.create(
      JobSchema,
      indexedJob("leader", 4, {
        rules: [{ succeededIndexes: "1-3", succeededCount: 3 }, { succeededIndexes: "0,2" }],
      }),
    );
    const pods = await runningByIndex(created, 4);
    await succeed(pods.get("0"));
    // The end of the sync that counted index 0 (active is written last): no rule is met yet.
    await eventually("index 0 counted", async () => {
      const j = await getJob("leader");
      return j.status?.succeeded === 1 && j.status.active === 3;
    });
    const partway = await getJob("leader");
    expect(condition(partway, "SuccessCriteriaMet")).toBeUndefined();
    expect(partway.status?.completedIndexes).toBe("0");
    expect((await podsOf(created)).filter((p) => p.metadata?.deletionTimestamp)).toEqual([]);

    await succeed(pods.get("2"));
    await eventually("Job leader Complete", async () => {
      return condition(await getJob("leader"), "Complete") !== undefined;
    });
    const done = await getJob("leader");
    for (const type of ["SuccessCriteriaMet", "Complete"]) {
      expect(condition(done, type)?.reason).toBe("SuccessPolicy");
      expect(condition(done, type)?.message).toBe("Matched rules at index 1");
    }
    expect(done.status?.completedIndexes).toBe("0,2");
    expect(done.status?.succeeded).toBe(2);
    expect(done.status?.failed).toBe(0);
    expect(done.status?.active).toBe(0);
    expect(done.status?.terminating ?? 0).toBe(0);
    expect(done.status?.completionTime).toBeDefined();
    const left = await podsOf(created);
    expect(left.map((p) => p.metadata?.annotations[INDEX_ANNOTATION]).sort()).toEqual(["0", "2"]);
    await eventually("Completed event", async () =>
      (await eventReasons("leader")).includes("Completed"),
    );
  });

  it("completes once a succeededCount rule is met, before every index succeeded", async () => {
    const created = await cluster.client.create(
      JobSchema,
      indexedJob("any-two", 3, { rules: [{ succeededCount: 2 }] }),
    );
    const pods = await runningByIndex(created, 3);
    await succeed(pods.get("2"));
    await succeed(pods.get("0"));
    await eventually("Job any-two Complete", async () => {
      return condition(await getJob("any-two"), "Complete") !== undefined;
    });
    const done = await getJob("any-two");
    expect(condition(done, "Complete")?.reason).toBe("SuccessPolicy");
    expect(condition(done, "Complete")?.message).toBe("Matched rules at index 0");
    expect(done.status?.completedIndexes).toBe("0,2");
    expect(done.status?.succeeded).toBe(2);
    expect(done.status?.failed).toBe(0);
    await eventually("index 1's pod gone", async () => (await podsOf(created)).length === 2);
  });
});

/** A Job of one pod that succeeds, with spec.managedBy `managedBy`. */
function managedJob(name: string, managedBy: string): Job {
  return newJob(name, SUCCEED_IMAGE, { managedBy });
}

describe("Job managedBy", () => {
  it("leaves a Job managed by another controller alone, and runs one managed by kubernetes.io/job-controller", async () => {
    const external = await cluster.client.create(
      JobSchema,
      managedJob("external", "example.com/other-controller"),
    );
    await cluster.client.create(JobSchema, managedJob("builtin", "kubernetes.io/job-controller"));
    await eventually("Job builtin Complete", async () => {
      return condition(await getJob("builtin"), "Complete") !== undefined;
    });
    // The controller synced both Jobs (the external one first); it wrote nothing for it.
    const untouched = await getJob("external");
    expect(untouched.metadata?.resourceVersion).toBe(external.metadata?.resourceVersion);
    expect(untouched.status?.startTime).toBeUndefined();
    expect(untouched.status?.conditions ?? []).toEqual([]);
    expect(await podsOf(external)).toEqual([]);
    expect(await eventReasons("external")).toEqual([]);
  });
});

/** The message of the Invalid error `request` fails with; throws when it fails otherwise or not. */
async function invalidMessage(request: Promise<unknown>): Promise<string> {
  try {
    await request;
  } catch (error) {
    if (isApiError(error, "Invalid")) return error.message;
    throw error;
  }
  throw new Error("the request succeeded; expected Invalid");
}

describe("the API server with Kubernetes 1.32 Job fields", () => {
  it("stores a manifest's successPolicy and managedBy, and refuses to change them", async () => {
    const [doc] = parseManifests(`
apiVersion: batch/v1
kind: Job
metadata:
  name: from-manifest
  namespace: default
spec:
  managedBy: example.com/other-controller
  completionMode: Indexed
  completions: 3
  parallelism: 3
  successPolicy:
    rules:
    - succeededIndexes: "0"
    - succeededCount: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: ${RUN_IMAGE}
`);
    await cluster.client.create(JobSchema, doc?.object as Job);
    const stored = await getJob("from-manifest");
    expect(stored.spec?.managedBy).toBe("example.com/other-controller");
    expect(
      stored.spec?.successPolicy?.rules.map((r) => [r.succeededIndexes, r.succeededCount]),
    ).toEqual([
      ["0", undefined],
      [undefined, 2],
    ]);

    const changed = clone(JobSchema, stored);
    if (changed.spec !== undefined) changed.spec.managedBy = "kubernetes.io/job-controller";
    expect(await invalidMessage(cluster.client.update(JobSchema, changed))).toContain(
      'spec.managedBy: Invalid value: "kubernetes.io/job-controller": field is immutable',
    );
  });

  it("refuses a successPolicy on a NonIndexed Job with Kubernetes' message", async () => {
    const bad = managedJob("not-indexed", "kubernetes.io/job-controller");
    if (bad.spec !== undefined)
      bad.spec.successPolicy = create(SuccessPolicySchema, { rules: [{ succeededCount: 1 }] });
    expect(await invalidMessage(cluster.client.create(JobSchema, bad))).toContain(
      'spec.successPolicy: Invalid value: {"rules":[{"succeededCount":1}]}: requires indexed completion mode',
    );
  });
});
