import type { Pod } from "@tug/api";
import { describe, expect, it } from "vitest";
import type { AdmissionAttributes } from "../../src/admission/attributes.js";
import { AdmissionChain, defaultAdmissionChain } from "../../src/admission/chain.js";
import { attrs, failure, lookups, podWith } from "./support.js";

describe("admission chain", () => {
  it("runs Kubernetes' plugins in Kubernetes' order", () => {
    expect(defaultAdmissionChain().plugins.map((p) => p.name)).toEqual([
      "NamespaceLifecycle",
      "LimitRanger",
      "ServiceAccount",
      "DefaultTolerationSeconds",
      "ResourceQuota",
    ]);
  });

  it("runs every mutating plugin, then the server's step, then every validating plugin", async () => {
    const log: string[] = [];
    const plugin = (name: string) => ({
      name,
      mutate: async () => {
        log.push(`mutate ${name}`);
      },
      validate: async () => {
        log.push(`validate ${name}`);
        return undefined;
      },
    });
    const chain = new AdmissionChain([plugin("a"), plugin("b")]);
    await chain.admit(attrs("CREATE", "pods", podWith([["c"]])), lookups(), () => {
      log.push("defaults and validation");
    });
    expect(log).toEqual([
      "mutate a",
      "mutate b",
      "defaults and validation",
      "validate a",
      "validate b",
    ]);
  });

  it("admits a pod end to end: defaults from the LimitRange, account, tolerations, quota charge", async () => {
    const world = lookups({
      limitRanges: [
        {
          metadata: { name: "l" },
          spec: {
            limits: [
              { type: "Container", defaultRequest: { cpu: "100m" }, default: { cpu: "200m" } },
            ],
          },
        },
      ],
      quotas: [
        {
          metadata: { name: "q", resourceVersion: "3" },
          spec: { hard: { "requests.cpu": "1" } },
          status: { hard: { "requests.cpu": "1" }, used: { "requests.cpu": "800m" } },
        },
      ],
    });
    const pod = podWith([["c"]]) as unknown as Pod;
    const seen: AdmissionAttributes[] = [];
    const outcome = await defaultAdmissionChain().admit(
      attrs("CREATE", "pods", pod),
      world,
      (a) => {
        seen.push(a);
      },
    );
    expect(seen).toHaveLength(1);
    expect(pod.spec?.containers[0]?.resources?.requests).toEqual({ cpu: "100m" });
    expect(pod.spec?.serviceAccountName).toBe("default");
    expect(pod.spec?.tolerations.map((t) => t.key)).toEqual([
      "node.kubernetes.io/not-ready",
      "node.kubernetes.io/unreachable",
    ]);
    expect(outcome.quotaCharges).toEqual([
      {
        namespace: "default",
        name: "q",
        resourceVersion: "3",
        delta: { "requests.cpu": "100m" },
        used: { "requests.cpu": "900m" },
      },
    ]);
  });

  it("stops at the first refusal", async () => {
    let reached = false;
    const got = await failure(() =>
      defaultAdmissionChain().admit(
        attrs("CREATE", "pods", podWith([["c"]]), { namespace: "missing" }),
        lookups(),
        () => {
          reached = true;
        },
      ),
    );
    expect(got).toEqual({ reason: "NotFound", message: 'namespaces "missing" not found' });
    expect(reached).toBe(false);
  });
});
