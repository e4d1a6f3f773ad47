// The Job controller's pure decisions: pods to run, back-off, failure and success, pod outcomes.

import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type Job, JobSchema, type Pod, PodSchema } from "@tug/api";
import { describe, expect, it } from "vitest";
import {
  BACKOFF_LIMIT_EXCEEDED,
  backoffDelayMs,
  DEADLINE_EXCEEDED,
  formatIndexes,
  indexesToStart,
  isPodFailedForJob,
  isPodTerminating,
  jobFailure,
  jobSucceeded,
  nextBackoffRecord,
  parseIndexes,
  podCompletionIndex,
  remainingBackoffMs,
  wantedActivePods,
} from "../../src/job/job-state.js";

function job(spec: Partial<NonNullable<Job["spec"]>>, startMs?: number): Job {
  return create(JobSchema, {
    spec,
    status: startMs === undefined ? {} : { startTime: timestampFromMs(startMs) },
  });
}

function pod(phase: string, deleting = false): Pod {
  return create(PodSchema, {
    metadata: deleting ? { deletionTimestamp: timestampFromMs(1) } : {},
    status: { phase },
  });
}

describe("wantedActivePods", () => {
  it("is at most parallelism and at most the completions still missing", () => {
    expect(wantedActivePods(job({ completions: 3, parallelism: 2 }), 0)).toBe(2);
    expect(wantedActivePods(job({ completions: 3, parallelism: 2 }), 2)).toBe(1);
    expect(wantedActivePods(job({ completions: 3, parallelism: 2 }), 3)).toBe(0);
    expect(wantedActivePods(job({ completions: 3, parallelism: 2 }), 5)).toBe(0);
    expect(wantedActivePods(job({ completions: 5, parallelism: 0 }), 0)).toBe(0);
  });

  it("without completions runs parallelism pods until the first success (work queue)", () => {
    expect(wantedActivePods(job({ parallelism: 4 }), 0)).toBe(4);
    expect(wantedActivePods(job({ parallelism: 4 }), 1)).toBe(0);
  });
});

describe("back-off", () => {
  it("doubles from 10 s up to 6 min", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 100].map((n) => backoffDelayMs(n))).toEqual([
      0, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 360_000, 360_000,
    ]);
    expect(backoffDelayMs(3, 20, 50)).toBe(50);
  });

  it("counts failures since the last success and waits from the last failure", () => {
    let record = nextBackoffRecord(undefined, ["failed", "failed"], 1_000);
    expect(record).toEqual({ failuresSinceSuccess: 2, lastFailureMs: 1_000 });
    expect(remainingBackoffMs(record, 1_000)).toBe(20_000);
    expect(remainingBackoffMs(record, 15_000)).toBe(6_000);
    expect(remainingBackoffMs(record, 21_000)).toBe(0);
    record = nextBackoffRecord(record, ["succeeded"], 2_000);
    expect(record).toBeUndefined();
    expect(remainingBackoffMs(record, 2_000)).toBe(0);
    expect(nextBackoffRecord(undefined, ["succeeded", "failed"], 5)).toEqual({
      failuresSinceSuccess: 1,
      lastFailureMs: 5,
    });
  });
});

describe("jobFailure", () => {
  it("fails after more than backoffLimit failures (default 6)", () => {
    expect(jobFailure(job({ backoffLimit: 2 }), 2, 0)).toBeUndefined();
    expect(jobFailure(job({ backoffLimit: 2 }), 3, 0)).toBe(BACKOFF_LIMIT_EXCEEDED);
    expect(jobFailure(job({ backoffLimit: 0 }), 1, 0)).toBe(BACKOFF_LIMIT_EXCEEDED);
    expect(jobFailure(job({}), 6, 0)).toBeUndefined();
    expect(jobFailure(job({}), 7, 0)).toBe(BACKOFF_LIMIT_EXCEEDED);
  });

  it("fails activeDeadlineSeconds after startTime", () => {
    const j = job({ activeDeadlineSeconds: 30 }, 100_000);
    expect(jobFailure(j, 0, 129_999)).toBeUndefined();
    expect(jobFailure(j, 0, 130_000)).toBe(DEADLINE_EXCEEDED);
    expect(jobFailure(job({ activeDeadlineSeconds: 30 }), 0, 1e12)).toBeUndefined();
  });
});

describe("jobSucceeded", () => {
  it("needs completions successes, or one success and nothing active without completions", () => {
    expect(jobSucceeded(job({ completions: 3 }), 2, 0)).toBe(false);
    expect(jobSucceeded(job({ completions: 3 }), 3, 1)).toBe(true);
    expect(jobSucceeded(job({}), 1, 1)).toBe(false);
    expect(jobSucceeded(job({}), 1, 0)).toBe(true);
    expect(jobSucceeded(job({}), 0, 0)).toBe(false);
  });
});

describe("pod outcomes", () => {
  it("counts a pod deleted before it succeeded as failed, unless podReplacementPolicy is Failed", () => {
    expect(isPodFailedForJob(pod("Failed"), job({}))).toBe(true);
    expect(isPodFailedForJob(pod("Running"), job({}))).toBe(false);
    expect(isPodFailedForJob(pod("Running", true), job({}))).toBe(true);
    expect(isPodFailedForJob(pod("Succeeded", true), job({}))).toBe(false);
    expect(isPodFailedForJob(pod("Running", true), job({ podReplacementPolicy: "Failed" }))).toBe(
      false,
    );
    expect(isPodTerminating(pod("Running", true))).toBe(true);
    expect(isPodTerminating(pod("Failed", true))).toBe(false);
  });
});

describe("Indexed completion mode", () => {
  it("writes and reads completed indexes in Kubernetes' compressed form", () => {
    expect(formatIndexes([5, 1, 3, 4, 7, 3])).toBe("1,3-5,7");
    expect(formatIndexes([])).toBe("");
    expect([...parseIndexes("1,3-5,7")]).toEqual([1, 3, 4, 5, 7]);
    expect([...parseIndexes("")]).toEqual([]);
    expect([...parseIndexes("2,x,4-")]).toEqual([2]);
  });

  it("starts the lowest indexes neither completed nor running, within parallelism", () => {
    expect(indexesToStart(5, 2, new Set(), new Set())).toEqual([0, 1]);
    expect(indexesToStart(5, 3, new Set([0, 2]), new Set([1]))).toEqual([3, 4]);
    expect(indexesToStart(5, 2, new Set([0]), new Set([1, 2]))).toEqual([]);
    expect(indexesToStart(3, 5, new Set([0, 1, 2]), new Set())).toEqual([]);
  });

  it("reads a pod's index from its annotation, only within completions", () => {
    const indexed = (value: string) =>
      create(PodSchema, {
        metadata: { annotations: { "batch.kubernetes.io/job-completion-index": value } },
      });
    expect(podCompletionIndex(indexed("2"), 3)).toBe(2);
    expect(podCompletionIndex(indexed("3"), 3)).toBeUndefined();
    expect(podCompletionIndex(indexed("-1"), 3)).toBeUndefined();
    expect(podCompletionIndex(create(PodSchema, {}), 3)).toBeUndefined();
  });
});
