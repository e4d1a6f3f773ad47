// Job spec.successPolicy and spec.managedBy as Kubernetes 1.32 validates them
// (pkg/apis/batch/validation: validateSuccessPolicy, IsDomainPrefixedPath, ValidateJobSpecUpdate),
// with its messages, and a 1.32 manifest using both decoding unchanged.

import { describe, expect, it } from "vitest";
import type { Job } from "../../src/gen/tug/batch/v1/job_pb.js";
import { parseManifests } from "../../src/scheme/manifest.js";
import { objectToJson } from "../../src/scheme/object-codec.js";
import { checkIndexIntervals } from "../../src/validation/index-intervals.js";
import { createErrors, type Json, template, updateErrors, workload } from "./validation-helpers.js";

const never = template({ restartPolicy: "Never" });
const indexed = { completionMode: "Indexed", completions: 5, parallelism: 5 };

function job(spec: Json): Json {
  return workload("batch/v1", "Job", { template: never, ...spec });
}

function withRules(...rules: Json[]): Json {
  return job({ ...indexed, successPolicy: { rules } });
}

describe.each<[string, Json, string[]]>([
  [
    "rules with indexes, a count, or both",
    withRules(
      { succeededIndexes: "0,2-4" },
      { succeededCount: 3 },
      { succeededIndexes: "1-3", succeededCount: 2 },
    ),
    [],
  ],
  [
    "a successPolicy on a NonIndexed Job",
    job({ completions: 2, successPolicy: { rules: [{ succeededCount: 1 }] } }),
    [
      'spec.successPolicy: Invalid value: {"rules":[{"succeededCount":1}]}: requires indexed completion mode (set completionMode: Indexed)',
    ],
  ],
  [
    "no rules",
    job({ ...indexed, successPolicy: { rules: [] } }),
    [
      "spec.successPolicy.rules: Required value: at least one rules must be specified when the successPolicy is specified",
    ],
  ],
  [
    "21 rules",
    withRules(...Array.from({ length: 21 }, () => ({ succeededCount: 1 }))),
    ["spec.successPolicy.rules: Too many: 21: must have at most 20 items"],
  ],
  [
    "a rule with neither field",
    withRules({}),
    [
      "spec.successPolicy.rules[0]: Required value: at least one of succeededCount or succeededIndexes must be specified",
    ],
  ],
  [
    "succeededCount above completions and above the indexes named",
    withRules({ succeededCount: 6 }, { succeededIndexes: "1,3", succeededCount: 3 }),
    [
      "spec.successPolicy.rules[0].succeededCount: Invalid value: 6: must be less than or equal to 5 (the number of specified completions)",
      "spec.successPolicy.rules[1].succeededCount: Invalid value: 3: must be less than or equal to 2 (the number of indexes in the specified succeededIndexes field)",
    ],
  ],
  [
    "a negative succeededCount",
    withRules({ succeededCount: -1 }),
    [
      "spec.successPolicy.rules[0].succeededCount: Invalid value: -1: must be greater than or equal to 0",
    ],
  ],
  [
    "malformed succeededIndexes",
    withRules(
      { succeededIndexes: "5" },
      { succeededIndexes: "3-1" },
      { succeededIndexes: "1-2,2" },
      { succeededIndexes: "a" },
      { succeededIndexes: "1-2-3" },
    ),
    [
      'spec.successPolicy.rules[0].succeededIndexes: Invalid value: "5": error parsing succeededIndexes: too large index: "5"',
      'spec.successPolicy.rules[1].succeededIndexes: Invalid value: "3-1": error parsing succeededIndexes: non-increasing order, previous: 3, current: 1',
      'spec.successPolicy.rules[2].succeededIndexes: Invalid value: "1-2,2": error parsing succeededIndexes: non-increasing order, previous: 2, current: 2',
      'spec.successPolicy.rules[3].succeededIndexes: Invalid value: "a": error parsing succeededIndexes: cannot convert string to integer for index: "a"',
      `spec.successPolicy.rules[4].succeededIndexes: Invalid value: "1-2-3": error parsing succeededIndexes: the fragment "1-2-3" violates the requirement that an index interval can have at most two parts separated by '-'`,
    ],
  ],
  ["managedBy a domain-prefixed path", job({ managedBy: "kueue.x-k8s.io/multikueue" }), []],
  [
    "managedBy the Job controller's own name",
    job({ managedBy: "kubernetes.io/job-controller" }),
    [],
  ],
  [
    "managedBy without a domain",
    job({ managedBy: "my-controller" }),
    [
      'spec.managedBy: Invalid value: "my-controller": must be a domain-prefixed path (such as "acme.io/foo")',
    ],
  ],
  [
    "managedBy with a bad domain and path",
    job({ managedBy: "Acme.io/a b" }),
    [
      `spec.managedBy: Invalid value: "Acme.io": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      `spec.managedBy: Invalid value: "a b": Invalid path (regex used for validation is '[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')`,
    ],
  ],
  [
    "managedBy longer than 63 bytes",
    job({ managedBy: `example.com/${"x".repeat(52)}` }),
    ["spec.managedBy: Too long: must have at most 63 bytes"],
  ],
])("%s", (_name, json, expected) => {
  it("gets Kubernetes' errors", () => {
    expect(createErrors(json)).toEqual(expected);
  });
});

describe("Job updates", () => {
  it("keeps successPolicy and managedBy immutable", () => {
    const before = job({
      ...indexed,
      managedBy: "example.com/a",
      successPolicy: { rules: [{ succeededCount: 1 }] },
    });
    const after = job({
      ...indexed,
      managedBy: "example.com/b",
      successPolicy: { rules: [{ succeededCount: 2 }] },
    });
    expect(updateErrors(after, before)).toEqual([
      'spec.managedBy: Invalid value: "example.com/b": field is immutable',
      'spec.successPolicy: Invalid value: {"rules":[{"succeededCount":2}]}: field is immutable',
    ]);
    expect(updateErrors(job({ ...indexed }), before)).toEqual([
      "spec.managedBy: Invalid value: null: field is immutable",
      "spec.successPolicy: Invalid value: null: field is immutable",
    ]);
    expect(updateErrors(before, before)).toEqual([]);
  });
});

describe("index intervals", () => {
  it("counts the indexes of well-formed intervals", () => {
    expect(checkIndexIntervals("", 3)).toEqual({ ok: true, total: 0 });
    expect(checkIndexIntervals("0,2-4,7", 8)).toEqual({ ok: true, total: 5 });
    expect(checkIndexIntervals("+1", 3)).toEqual({ ok: true, total: 1 });
  });

  it("rejects an empty part and a negative index", () => {
    expect(checkIndexIntervals("1,", 3)).toEqual({
      ok: false,
      error: 'cannot convert string to integer for index: ""',
    });
    expect(checkIndexIntervals("-1", 3)).toEqual({
      ok: false,
      error: 'cannot convert string to integer for index: ""',
    });
  });
});

describe("a Kubernetes 1.32 manifest", () => {
  it("decodes successPolicy and managedBy and writes them back as Kubernetes JSON", () => {
    const [doc] = parseManifests(`
apiVersion: batch/v1
kind: Job
metadata:
  name: leader-worker
spec:
  managedBy: kubernetes.io/job-controller
  completionMode: Indexed
  completions: 5
  parallelism: 5
  successPolicy:
    rules:
    - succeededIndexes: "0"
    - succeededIndexes: "1-4"
      succeededCount: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox
`);
    const job = doc?.object as Job;
    expect(job.spec?.managedBy).toBe("kubernetes.io/job-controller");
    expect(
      job.spec?.successPolicy?.rules.map((r) => [r.succeededIndexes, r.succeededCount]),
    ).toEqual([
      ["0", undefined],
      ["1-4", 2],
    ]);
    const json = objectToJson(job) as { spec: Json };
    expect(json.spec.successPolicy).toEqual({
      rules: [{ succeededIndexes: "0" }, { succeededIndexes: "1-4", succeededCount: 2 }],
    });
    expect(json.spec.managedBy).toBe("kubernetes.io/job-controller");
  });
});
