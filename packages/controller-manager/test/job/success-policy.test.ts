// matchSuccessPolicy and externalJobManager: which rule of an Indexed Job's successPolicy its
// succeeded indexes meet (Kubernetes' matchSuccessPolicy), and who manages a Job (managedBy).

import { create } from "@bufbuild/protobuf";
import { type Job, JobSchema, type SuccessPolicyRule } from "@tug/api";
import { describe, expect, it } from "vitest";
import { externalJobManager, JOB_CONTROLLER_NAME } from "../../src/job/managed-by.js";
import { matchSuccessPolicy } from "../../src/job/success-policy.js";

type Rule = Partial<Pick<SuccessPolicyRule, "succeededIndexes" | "succeededCount">>;

function job(completions: number, rules: Rule[] | undefined, completionMode = "Indexed"): Job {
  return create(JobSchema, {
    spec: {
      completionMode,
      completions,
      ...(rules === undefined ? {} : { successPolicy: { rules } }),
    },
  });
}

const at = (i: number) => ({ reason: "SuccessPolicy", message: `Matched rules at index ${i}` });

describe("matchSuccessPolicy", () => {
  it("matches a succeededIndexes rule only once all of its indexes succeeded", () => {
    const j = job(6, [{ succeededIndexes: "0,2-3" }]);
    expect(matchSuccessPolicy(j, new Set([0, 2]))).toBeUndefined();
    expect(matchSuccessPolicy(j, new Set([0, 2, 3, 5]))).toEqual(at(0));
  });

  it("counts only the rule's indexes when it has both fields", () => {
    // Kubernetes' example: indexes "1-4", count 3, succeeded 1, 3 and 5: not met.
    const j = job(6, [{ succeededIndexes: "1-4", succeededCount: 3 }]);
    expect(matchSuccessPolicy(j, new Set([1, 3, 5]))).toBeUndefined();
    expect(matchSuccessPolicy(j, new Set([1, 3, 4]))).toEqual(at(0));
  });

  it("matches a succeededCount rule on any indexes, and names the first rule met", () => {
    const j = job(5, [{ succeededIndexes: "4" }, { succeededCount: 2 }, { succeededCount: 1 }]);
    expect(matchSuccessPolicy(j, new Set([0, 1]))).toEqual(at(1));
    expect(matchSuccessPolicy(j, new Set([4]))).toEqual(at(0));
  });

  it("needs one succeeded index, a policy and Indexed mode; ignores indexes past completions", () => {
    expect(matchSuccessPolicy(job(3, [{ succeededCount: 0 }]), new Set())).toBeUndefined();
    expect(matchSuccessPolicy(job(3, undefined), new Set([0, 1, 2]))).toBeUndefined();
    const nonIndexed = job(3, [{ succeededCount: 1 }], "NonIndexed");
    expect(matchSuccessPolicy(nonIndexed, new Set([0]))).toBeUndefined();
    // Shrunk from 5 to 3 completions: index 4 no longer counts, and a rule on it is skipped.
    const shrunk = job(3, [{ succeededIndexes: "4" }, { succeededCount: 2 }]);
    expect(matchSuccessPolicy(shrunk, new Set([1, 4]))).toBeUndefined();
    expect(matchSuccessPolicy(shrunk, new Set([0, 1, 4]))).toEqual(at(1));
  });
});

describe("externalJobManager", () => {
  it("is undefined for this controller's Jobs and names any other manager", () => {
    expect(externalJobManager(create(JobSchema, { spec: {} }))).toBeUndefined();
    expect(
      externalJobManager(create(JobSchema, { spec: { managedBy: JOB_CONTROLLER_NAME } })),
    ).toBeUndefined();
    expect(
      externalJobManager(create(JobSchema, { spec: { managedBy: "kueue.x-k8s.io/multikueue" } })),
    ).toBe("kueue.x-k8s.io/multikueue");
  });
});
