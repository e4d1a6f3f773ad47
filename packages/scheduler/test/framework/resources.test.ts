import { describe, expect, it } from "vitest";
import { newPodInfo } from "../../src/framework/pod-info.js";
import { podRequests, ResourceParseError } from "../../src/framework/resources.js";
import { makePod } from "../support/fixtures.js";

describe("podRequests", () => {
  it("sums containers and counts defaults only for scoring", () => {
    const pod = makePod("p", {
      spec: {
        containers: [
          { name: "a", resources: { requests: { cpu: "250m", memory: "64Mi" } } },
          { name: "b", resources: { requests: { memory: "1Gi" } } },
        ],
      },
    });
    const r = podRequests(pod);
    expect(r.requests.milliCpu).toBe(250);
    expect(r.requests.memory).toBe(64 * 2 ** 20 + 2 ** 30);
    // b requests no cpu: 100m counted for scoring.
    expect(r.nonZeroMilliCpu).toBe(350);
    expect(r.nonZeroMemory).toBe(64 * 2 ** 20 + 2 ** 30);
  });

  it("takes the larger of the containers' sum and the largest init container, plus overhead", () => {
    const pod = makePod("p", {
      spec: {
        initContainers: [
          { name: "init", resources: { requests: { cpu: "2", "example.com/gpu": "1" } } },
        ],
        containers: [{ name: "a", resources: { requests: { cpu: "500m", memory: "1Gi" } } }],
        overhead: { cpu: "100m" },
      },
    });
    const r = podRequests(pod);
    expect(r.requests.milliCpu).toBe(2100);
    expect(r.requests.memory).toBe(2 ** 30);
    expect(r.requests.scalar?.get("example.com/gpu")).toBe(1);
  });

  it("adds restartable init containers (sidecars) to the running sum", () => {
    const pod = makePod("p", {
      spec: {
        initContainers: [
          { name: "side", restartPolicy: "Always", resources: { requests: { cpu: "200m" } } },
          { name: "init", resources: { requests: { cpu: "1" } } },
        ],
        containers: [{ name: "a", resources: { requests: { cpu: "500m" } } }],
      },
    });
    // max(500m + 200m, 1 + 200m)
    expect(podRequests(pod).requests.milliCpu).toBe(1200);
  });

  it("names the field of a request that is not a quantity", () => {
    const pod = makePod("p", {
      spec: { containers: [{ name: "a", resources: { requests: { cpu: "lots" } } }] },
    });
    expect(() => podRequests(pod)).toThrow(ResourceParseError);
    expect(() => podRequests(pod)).toThrow(/spec\.containers\[0\]\.resources\.requests\[cpu\]/);
    expect(() => newPodInfo(pod)).toThrow(/spec\.containers\[0\]/);
  });
});
