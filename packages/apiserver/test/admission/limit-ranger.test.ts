import type { Pod } from "@tug/api";
import { describe, expect, it } from "vitest";
import { LIMIT_RANGER_ANNOTATION, limitRanger } from "../../src/admission/limit-ranger.js";
import { json, obj } from "../registry/support.js";
import { attrs, failure, lookups, podWith } from "./support.js";

const range = (...limits: Record<string, unknown>[]) => ({
  metadata: { name: "limits" },
  spec: { limits },
});

describe("LimitRanger defaults (mutating)", () => {
  it.each([
    {
      name: "defaultRequest and default fill what is missing",
      item: {
        type: "Container",
        default: { cpu: "500m", memory: "256Mi" },
        defaultRequest: { cpu: "100m", memory: "128Mi" },
      },
      containers: [["c", undefined, undefined]] as [
        string,
        Record<string, string>?,
        Record<string, string>?,
      ][],
      want: [
        { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
      ],
      annotation:
        "LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c",
    },
    {
      name: "a container's own values win; a limit-only resource requests its limit",
      item: {
        type: "Container",
        default: { cpu: "500m", memory: "256Mi" },
        defaultRequest: { cpu: "100m", memory: "128Mi" },
      },
      containers: [["c", { memory: "64Mi" }, { cpu: "2" }]] as [
        string,
        Record<string, string>?,
        Record<string, string>?,
      ][],
      want: [{ requests: { cpu: "2", memory: "64Mi" }, limits: { cpu: "2", memory: "256Mi" } }],
      annotation: "LimitRanger plugin set: memory limit for container c",
    },
    {
      name: "default falls back to max, defaultRequest to default",
      item: { type: "Container", max: { cpu: "1" } },
      containers: [["c", undefined, undefined]] as [
        string,
        Record<string, string>?,
        Record<string, string>?,
      ][],
      want: [{ requests: { cpu: "1" }, limits: { cpu: "1" } }],
      annotation: "LimitRanger plugin set: cpu request for container c; cpu limit for container c",
    },
    {
      name: "a Pod item sets no defaults",
      item: { type: "Pod", max: { cpu: "4" } },
      containers: [["c", undefined, undefined]] as [
        string,
        Record<string, string>?,
        Record<string, string>?,
      ][],
      want: [{ requests: {}, limits: {} }],
      annotation: undefined,
    },
  ])("$name", async ({ item, containers, want, annotation }) => {
    const pod = podWith(containers) as unknown as Pod;
    await limitRanger.mutate!(
      attrs("CREATE", "pods", pod),
      lookups({ limitRanges: [range(item)] }),
    );
    expect(
      pod.spec?.containers.map((c) => ({
        requests: { ...c.resources?.requests },
        limits: { ...c.resources?.limits },
      })),
    ).toEqual(want);
    expect(pod.metadata?.annotations[LIMIT_RANGER_ANNOTATION]).toBe(annotation);
  });

  it("defaults init containers too", async () => {
    const pod = podWith([["c"]], {
      initContainers: [{ name: "setup", image: "busybox" }],
    }) as unknown as Pod;
    await limitRanger.mutate!(
      attrs("CREATE", "pods", pod),
      lookups({ limitRanges: [range({ type: "Container", defaultRequest: { cpu: "100m" } })] }),
    );
    expect(pod.spec?.initContainers[0]?.resources?.requests).toEqual({ cpu: "100m" });
    expect(pod.metadata?.annotations[LIMIT_RANGER_ANNOTATION]).toBe(
      "LimitRanger plugin set: cpu request for container c; cpu request for init container setup",
    );
  });

  it("recomputes the QoS class of a pod already prepared for create", async () => {
    const pod = podWith([["c"]], {}) as unknown as Pod;
    const prepared = obj<Pod>({
      ...json(pod),
      status: { phase: "Pending", qosClass: "BestEffort" },
    });
    const item = { type: "Container", default: { cpu: "1", memory: "1Gi" } };
    await limitRanger.mutate!(
      attrs("CREATE", "pods", prepared),
      lookups({ limitRanges: [range(item)] }),
    );
    expect(prepared.status?.qosClass).toBe("Guaranteed");
  });

  it("leaves pod updates alone", async () => {
    const pod = podWith([["c"]]) as unknown as Pod;
    await limitRanger.mutate!(
      attrs("UPDATE", "pods", pod),
      lookups({ limitRanges: [range({ type: "Container", defaultRequest: { cpu: "1" } })] }),
    );
    expect(pod.spec?.containers[0]?.resources?.requests).toEqual({});
  });
});

describe("LimitRanger constraints (validating)", () => {
  type C = [string, Record<string, string>?, Record<string, string>?];
  it.each<{ name: string; item: Record<string, unknown>; containers: C[]; error?: string }>([
    {
      name: "within bounds",
      item: { type: "Container", min: { cpu: "100m" }, max: { cpu: "2" } },
      containers: [["c", { cpu: "500m" }, { cpu: "1" }]],
    },
    {
      name: "limit over max",
      item: { type: "Container", max: { cpu: "2" } },
      containers: [["c", { cpu: "1" }, { cpu: "3" }]],
      error: "maximum cpu usage per Container is 2, but limit is 3",
    },
    {
      name: "no limit under a max",
      item: { type: "Container", max: { memory: "1Gi" } },
      containers: [["c", { memory: "1Gi" }]],
      error: "maximum memory usage per Container is 1Gi.  No limit is specified",
    },
    {
      name: "request under min",
      item: { type: "Container", min: { cpu: "100m" } },
      containers: [["c", { cpu: "50m" }, { cpu: "1" }]],
      error: "minimum cpu usage per Container is 100m, but request is 50m",
    },
    {
      name: "no request over a min",
      item: { type: "Container", min: { cpu: "100m" } },
      containers: [["c"]],
      error: "minimum cpu usage per Container is 100m.  No request is specified",
    },
    {
      name: "ratio over the max",
      item: { type: "Container", maxLimitRequestRatio: { cpu: "2" } },
      containers: [["c", { cpu: "250m" }, { cpu: "1" }]],
      error: "cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000",
    },
    {
      name: "ratio at the max",
      item: { type: "Container", maxLimitRequestRatio: { cpu: "2" } },
      containers: [["c", { cpu: "500m" }, { cpu: "1" }]],
    },
    {
      name: "two failures, two containers",
      item: { type: "Container", max: { cpu: "1" } },
      containers: [
        ["a", { cpu: "1" }, { cpu: "2" }],
        ["b", { cpu: "1" }, { cpu: "3" }],
      ],
      error:
        "[maximum cpu usage per Container is 1, but limit is 2, maximum cpu usage per Container is 1, but limit is 3]",
    },
    {
      name: "Pod total over max",
      item: { type: "Pod", max: { memory: "1Gi" } },
      containers: [
        ["a", { memory: "512Mi" }, { memory: "600Mi" }],
        ["b", { memory: "512Mi" }, { memory: "600Mi" }],
      ],
      error: "maximum memory usage per Pod is 1Gi, but limit is 1200Mi",
    },
  ])("$name", async ({ item, containers, error }) => {
    const pod = podWith(containers);
    const got = await failure(() =>
      limitRanger.validate!(attrs("CREATE", "pods", pod), lookups({ limitRanges: [range(item)] })),
    );
    expect(got).toEqual(
      error === undefined
        ? undefined
        : { reason: "Forbidden", message: `pods "web" is forbidden: ${error}` },
    );
  });

  it.each([
    { storage: "5Gi", error: undefined },
    {
      storage: "20Gi",
      error: "maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 20Gi",
    },
    {
      storage: "500Mi",
      error: "minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi",
    },
  ])("PersistentVolumeClaim of $storage", async ({ storage, error }) => {
    const claim = obj({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "data", namespace: "default" },
      spec: { resources: { requests: { storage } } },
    });
    const world = lookups({
      limitRanges: [
        range({ type: "PersistentVolumeClaim", min: { storage: "1Gi" }, max: { storage: "10Gi" } }),
      ],
    });
    const got = await failure(() =>
      limitRanger.validate!(attrs("CREATE", "persistentvolumeclaims", claim), world),
    );
    expect(got).toEqual(
      error === undefined
        ? undefined
        : { reason: "Forbidden", message: `persistentvolumeclaims "data" is forbidden: ${error}` },
    );
  });
});
