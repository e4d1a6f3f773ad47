// Job validation and defaults for podFailurePolicy, backoffLimitPerIndex / maxFailedIndexes and
// podReplacementPolicy, with Kubernetes' messages (pkg/apis/batch/validation).

import { describe, expect, it } from "vitest";
import { applyDefaults } from "../../src/defaults/apply-defaults.js";
import type { Job } from "../../src/gen/tug/batch/v1/job_pb.js";
import { objectFromJson } from "../../src/scheme/object-codec.js";
import { createErrors, type Json, template, updateErrors, workload } from "./validation-helpers.js";

const never = template({ restartPolicy: "Never" });

function job(spec: Json): Json {
  return workload("batch/v1", "Job", { template: never, ...spec });
}

describe.each<[string, Json, string[]]>([
  [
    "a valid podFailurePolicy",
    job({
      podFailurePolicy: {
        rules: [
          {
            action: "FailJob",
            onExitCodes: { containerName: "app", operator: "In", values: [42] },
          },
          { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget" }] },
          { action: "Count", onExitCodes: { operator: "NotIn", values: [0, 1] } },
        ],
      },
    }),
    [],
  ],
  [
    "podFailurePolicy with restartPolicy OnFailure",
    workload("batch/v1", "Job", {
      template: template({ restartPolicy: "OnFailure" }),
      podFailurePolicy: { rules: [] },
    }),
    [
      'spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified',
    ],
  ],
  [
    "podFailurePolicy with podReplacementPolicy TerminatingOrFailed",
    job({ podReplacementPolicy: "TerminatingOrFailed", podFailurePolicy: { rules: [] } }),
    [
      'spec.podReplacementPolicy: Unsupported value: "TerminatingOrFailed": supported values: "Failed"',
    ],
  ],
  [
    "FailIndex without backoffLimitPerIndex",
    job({
      podFailurePolicy: {
        rules: [{ action: "FailIndex", onExitCodes: { operator: "In", values: [3] } }],
      },
    }),
    [
      'spec.podFailurePolicy.rules[0].action: Invalid value: "FailIndex": requires the backoffLimitPerIndex to be set (FailIndex fails one index of an Indexed Job)',
    ],
  ],
  [
    "malformed rules",
    job({
      podFailurePolicy: {
        rules: [
          {
            action: "Retry",
            onExitCodes: { containerName: "nope", operator: "In", values: [3, 0, 3] },
          },
          { action: "Ignore" },
          {
            action: "Count",
            onExitCodes: { operator: "NotIn", values: [1] },
            onPodConditions: [{ type: "Bad Type", status: "Maybe" }],
          },
        ],
      },
    }),
    [
      'spec.podFailurePolicy.rules[0].action: Unsupported value: "Retry": supported values: "Count", "FailIndex", "FailJob", "Ignore"',
      'spec.podFailurePolicy.rules[0].onExitCodes.containerName: Invalid value: "nope": must be one of the container or initContainer names in the pod template',
      "spec.podFailurePolicy.rules[0].onExitCodes.values[1]: Invalid value: 0: must not be 0 for the In operator",
      "spec.podFailurePolicy.rules[0].onExitCodes.values[2]: Duplicate value: 3",
      "spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: [3,0,3]: must be ordered",
      'spec.podFailurePolicy.rules[1]: Invalid value: "": specifying one of OnExitCodes and OnPodConditions is required',
      expect.stringMatching(
        /^spec\.podFailurePolicy\.rules\[2\]\.onPodConditions\[0\]\.type: Invalid value: "Bad Type": name part must consist of/,
      ),
      'spec.podFailurePolicy.rules[2].onPodConditions[0].status: Unsupported value: "Maybe": supported values: "False", "True", "Unknown"',
      'spec.podFailurePolicy.rules[2]: Invalid value: "": specifying both OnExitCodes and OnPodConditions is not supported',
    ] as string[],
  ],
  [
    "a valid backoffLimitPerIndex Job",
    job({
      completionMode: "Indexed",
      completions: 4,
      parallelism: 2,
      backoffLimitPerIndex: 1,
      maxFailedIndexes: 2,
      podFailurePolicy: {
        rules: [{ action: "FailIndex", onExitCodes: { operator: "In", values: [42] } }],
      },
    }),
    [],
  ],
  [
    "backoffLimitPerIndex and maxFailedIndexes without Indexed",
    job({ backoffLimitPerIndex: 1, maxFailedIndexes: 1 }),
    [
      "spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode (set completionMode: Indexed)",
      "spec.maxFailedIndexes: Invalid value: 1: requires indexed completion mode (set completionMode: Indexed)",
    ],
  ],
  [
    "maxFailedIndexes without backoffLimitPerIndex, above completions",
    job({ completionMode: "Indexed", completions: 2, maxFailedIndexes: 3 }),
    [
      "spec.backoffLimitPerIndex: Required value: when maxFailedIndexes is specified",
      "spec.maxFailedIndexes: Invalid value: 3: must be less than or equal to completions",
    ],
  ],
  [
    "negative backoffLimitPerIndex",
    job({ completionMode: "Indexed", completions: 2, backoffLimitPerIndex: -1 }),
    ["spec.backoffLimitPerIndex: Invalid value: -1: must be greater than or equal to 0"],
  ],
])("%s", (_name, json, expected) => {
  it("gets Kubernetes' errors", () => {
    expect(createErrors(json)).toEqual(expected);
  });
});

describe("Job updates", () => {
  const indexed = { completionMode: "Indexed", completions: 4, parallelism: 2 };
  const rules = (code: number) => ({
    rules: [{ action: "FailJob", onExitCodes: { operator: "In", values: [code] } }],
  });

  it("keeps podFailurePolicy and backoffLimitPerIndex immutable, maxFailedIndexes mutable", () => {
    expect(
      updateErrors(
        job({ ...indexed, backoffLimitPerIndex: 2, podFailurePolicy: rules(43) }),
        job({ ...indexed, backoffLimitPerIndex: 1, podFailurePolicy: rules(42) }),
      ),
    ).toEqual([
      'spec.podFailurePolicy: Invalid value: "podFailurePolicy": field is immutable',
      "spec.backoffLimitPerIndex: Invalid value: 2: field is immutable",
    ]);
    expect(
      updateErrors(
        job({ ...indexed, backoffLimitPerIndex: 1, maxFailedIndexes: 2 }),
        job({ ...indexed, backoffLimitPerIndex: 1, maxFailedIndexes: 1 }),
      ),
    ).toEqual([]);
  });
});

describe("Job defaults", () => {
  it("defaults onPodConditions status to True and podReplacementPolicy to Failed with a policy", () => {
    const defaulted = applyDefaults(
      objectFromJson(
        job({
          podFailurePolicy: {
            rules: [{ action: "Ignore", onPodConditions: [{ type: "DisruptionTarget" }] }],
          },
        }),
      ),
    ) as Job;
    expect(defaulted.spec?.podFailurePolicy?.rules[0]?.onPodConditions[0]?.status).toBe("True");
    expect(defaulted.spec?.podReplacementPolicy).toBe("Failed");
  });

  it("defaults backoffLimit to the int32 maximum with backoffLimitPerIndex", () => {
    const defaulted = applyDefaults(
      objectFromJson(job({ completionMode: "Indexed", completions: 2, backoffLimitPerIndex: 1 })),
    ) as Job;
    expect(defaulted.spec?.backoffLimit).toBe(2147483647);
    expect(defaulted.spec?.podReplacementPolicy).toBe("TerminatingOrFailed");
  });
});
