// A Job's podFailurePolicy and backoffLimitPerIndex as pure decisions: which rule a failed pod
// matches (first match wins; exit code 0 never matches; app containers before init
// containers), Kubernetes' FailJob messages, the failure counts a replacement pod carries, when
// an index fails and when the Job fails on failed indexes, and Indexed pod names.

import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type Job, JobSchema, type Pod, PodSchema } from "@tug/api";
import { describe, expect, it } from "vitest";
import {
  FAILED_INDEXES,
  failedIndexesVerdict,
  isIndexFailed,
  MAX_FAILED_INDEXES_EXCEEDED,
  newIndexFailureCounts,
  podBeingReplaced,
} from "../../src/job/index-failures.js";
import { podGenerateNameWithIndex } from "../../src/job/job-state.js";
import { matchPodFailurePolicy } from "../../src/job/pod-failure-policy.js";

type Spec = NonNullable<Job["spec"]>;

function job(spec: Partial<Spec>): Job {
  return create(JobSchema, { metadata: { name: "j", namespace: "ns" }, spec });
}

const policy = (rules: unknown[]) =>
  create(JobSchema, { spec: { podFailurePolicy: { rules } } as Spec }).spec?.podFailurePolicy;

function failedPod(
  exits: Record<string, number>,
  options: { init?: Record<string, number>; conditions?: [string, string][]; name?: string } = {},
): Pod {
  const statuses = (codes: Record<string, number>) =>
    Object.entries(codes).map(([name, exitCode]) => ({
      name,
      state: { terminated: { exitCode } },
    }));
  return create(PodSchema, {
    metadata: { name: options.name ?? "j-abcde", namespace: "ns" },
    status: {
      phase: "Failed",
      containerStatuses: statuses(exits),
      initContainerStatuses: statuses(options.init ?? {}),
      conditions: (options.conditions ?? []).map(([type, status]) => ({ type, status })),
    },
  });
}

describe("matchPodFailurePolicy", () => {
  const rules = policy([
    { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
    { action: "FailJob", onExitCodes: { containerName: "main", operator: "In", values: [42] } },
    { action: "Count", onExitCodes: { operator: "NotIn", values: [1, 2] } },
    { action: "FailIndex", onExitCodes: { operator: "In", values: [2] } },
  ]);

  it("counts a pod no rule matches, and a pod without a policy", () => {
    expect(matchPodFailurePolicy(rules, failedPod({ main: 1 }))).toEqual({
      action: undefined,
      countFailed: true,
    });
    expect(matchPodFailurePolicy(undefined, failedPod({ main: 42 })).countFailed).toBe(true);
  });

  it("fails the Job with Kubernetes' message on an exit code rule", () => {
    expect(matchPodFailurePolicy(rules, failedPod({ side: 0, main: 42 }))).toEqual({
      action: "FailJob",
      countFailed: true,
      failJobMessage:
        "Container main for pod ns/j-abcde failed with exit code 42 matching FailJob rule at index 1",
    });
    // containerName restricts the rule: 42 from another container falls to the NotIn rule.
    expect(matchPodFailurePolicy(rules, failedPod({ side: 42 })).action).toBe("Count");
  });

  it("tries rules in order: the first match wins", () => {
    const disrupted = failedPod({ main: 42 }, { conditions: [["DisruptionTarget", "True"]] });
    expect(matchPodFailurePolicy(rules, disrupted)).toEqual({
      action: "Ignore",
      countFailed: false,
    });
    // Exit code 2 matches no NotIn [1, 2]; the FailIndex rule after it does.
    expect(matchPodFailurePolicy(rules, failedPod({ main: 2 })).action).toBe("FailIndex");
  });

  it("never matches exit code 0, and looks at init containers after app containers", () => {
    const notIn = policy([{ action: "FailJob", onExitCodes: { operator: "NotIn", values: [5] } }]);
    expect(matchPodFailurePolicy(notIn, failedPod({ main: 0 })).action).toBeUndefined();
    const init = failedPod({}, { init: { setup: 3 } });
    expect(matchPodFailurePolicy(notIn, init).failJobMessage).toBe(
      "Container setup for pod ns/j-abcde failed with exit code 3 matching FailJob rule at index 0",
    );
  });

  it("matches pod conditions by type and status, with Kubernetes' message", () => {
    const onCondition = policy([
      { action: "FailJob", onPodConditions: [{ type: "ConfigIssue", status: "True" }] },
    ]);
    expect(
      matchPodFailurePolicy(onCondition, failedPod({}, { conditions: [["ConfigIssue", "False"]] }))
        .action,
    ).toBeUndefined();
    expect(
      matchPodFailurePolicy(onCondition, failedPod({}, { conditions: [["ConfigIssue", "True"]] })),
    ).toEqual({
      action: "FailJob",
      countFailed: true,
      failJobMessage: "Pod ns/j-abcde has condition ConfigIssue matching FailJob rule at index 0",
    });
  });

  it("skips a rule with an unknown action, as the API asks of clients", () => {
    const unknown = policy([
      { action: "Retry", onExitCodes: { operator: "In", values: [1] } },
      { action: "Ignore", onExitCodes: { operator: "In", values: [1] } },
    ]);
    expect(matchPodFailurePolicy(unknown, failedPod({ main: 1 })).action).toBe("Ignore");
  });
});

function indexPod(index: number, counts: [number, number] | undefined, createdMs: number): Pod {
  const pod = failedPod({ main: 1 });
  pod.metadata = create(PodSchema, {
    metadata: {
      name: `j-${index}-${createdMs}`,
      namespace: "ns",
      creationTimestamp: timestampFromMs(createdMs),
      annotations: {
        "batch.kubernetes.io/job-completion-index": String(index),
        ...(counts === undefined
          ? {}
          : {
              "batch.kubernetes.io/job-index-failure-count": String(counts[0]),
              "batch.kubernetes.io/job-index-ignored-failure-count": String(counts[1]),
            }),
      },
    },
  }).metadata;
  return pod;
}

describe("backoffLimitPerIndex", () => {
  const perIndex = job({ completionMode: "Indexed", completions: 4, backoffLimitPerIndex: 1 });

  it("gives a replacement the counts of the latest failed pod of its index plus its failure", () => {
    const pods = [indexPod(0, [0, 0], 1000), indexPod(0, [1, 0], 2000), indexPod(1, [0, 0], 3000)];
    const replaced = podBeingReplaced(perIndex, pods, 0);
    expect(replaced?.metadata?.name).toBe("j-0-2000");
    expect(newIndexFailureCounts(perIndex, replaced)).toEqual({ failures: 2, ignored: 0 });
    expect(newIndexFailureCounts(perIndex, undefined)).toEqual({ failures: 0, ignored: 0 });
    expect(podBeingReplaced(perIndex, pods, 2)).toBeUndefined();
    // A pod deleted before it finished is a failure too, unless podReplacementPolicy is Failed.
    const deleted = indexPod(3, [0, 0], 4000);
    deleted.status = create(PodSchema, { status: { phase: "Running" } }).status;
    if (deleted.metadata !== undefined) deleted.metadata.deletionTimestamp = timestampFromMs(5000);
    expect(podBeingReplaced(perIndex, [deleted], 3)).toBe(deleted);
    const onlyFailed = job({ ...perIndex.spec, podReplacementPolicy: "Failed" });
    expect(podBeingReplaced(onlyFailed, [deleted], 3)).toBeUndefined();
    const ignoring = job({
      ...perIndex.spec,
      podFailurePolicy: policy([
        { action: "Ignore", onExitCodes: { operator: "In", values: [1] } },
      ]),
    });
    expect(newIndexFailureCounts(ignoring, replaced)).toEqual({ failures: 1, ignored: 1 });
  });

  it("fails an index past its limit, or at once on FailIndex", () => {
    const counted = { action: undefined, countFailed: true } as const;
    expect(isIndexFailed(perIndex, indexPod(0, [0, 0], 1), counted)).toBe(false);
    expect(isIndexFailed(perIndex, indexPod(0, [1, 0], 1), counted)).toBe(true);
    expect(
      isIndexFailed(perIndex, indexPod(0, [1, 0], 1), { action: "Ignore", countFailed: false }),
    ).toBe(false);
    expect(
      isIndexFailed(perIndex, indexPod(0, [0, 0], 1), { action: "FailIndex", countFailed: true }),
    ).toBe(true);
  });

  it("fails the Job past maxFailedIndexes, or once every index finished with some failed", () => {
    const s = (...i: number[]) => new Set(i);
    expect(failedIndexesVerdict(perIndex, s(), s(0, 1, 2, 3))).toBeUndefined();
    expect(failedIndexesVerdict(perIndex, s(1), s(0, 2))).toBeUndefined();
    expect(failedIndexesVerdict(perIndex, s(1), s(0, 2, 3))).toBe(FAILED_INDEXES);
    const max1 = job({ ...perIndex.spec, maxFailedIndexes: 1 });
    expect(failedIndexesVerdict(max1, s(1), s())).toBeUndefined();
    expect(failedIndexesVerdict(max1, s(0, 1), s())).toBe(MAX_FAILED_INDEXES_EXCEEDED);
    expect(failedIndexesVerdict(job({ completions: 2 }), s(0, 1), s())).toBeUndefined();
  });
});

describe("podGenerateNameWithIndex", () => {
  it("is <job>-<index>- and cuts a long Job name so that 5 random characters still fit 63", () => {
    expect(podGenerateNameWithIndex("pi", 3)).toBe("pi-3-");
    const long = "a".repeat(63);
    const prefix = podGenerateNameWithIndex(long, 12);
    expect(prefix).toBe(`${"a".repeat(54)}-12-`);
    expect(prefix.length + 5).toBe(63);
  });
});
