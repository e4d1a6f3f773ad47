// Toleration matching, tolerationSeconds, zone states and the tainting rate: the pure parts of
// node lifecycle and taint eviction, against the rules of
// https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/.

import { create } from "@bufbuild/protobuf";
import { NodeSchema, TaintSchema, TolerationSchema } from "@tug/api";
import { describe, expect, it } from "vitest";
import {
  matchingTolerations,
  minTolerationMs,
  toleratesTaint,
} from "../../src/nodelifecycle/taints.js";
import {
  computeZoneState,
  evictionRate,
  TokenBucket,
  zoneKey,
} from "../../src/nodelifecycle/zone-state.js";

const unreachable = create(TaintSchema, {
  key: "node.kubernetes.io/unreachable",
  effect: "NoExecute",
});
const dedicated = create(TaintSchema, { key: "dedicated", value: "gpu", effect: "NoExecute" });

describe("toleratesTaint", () => {
  it("matches key and effect with Exists, and the value too with Equal (the default)", () => {
    expect(
      toleratesTaint(
        create(TolerationSchema, { key: unreachable.key, operator: "Exists" }),
        unreachable,
      ),
    ).toBe(true);
    expect(
      toleratesTaint(create(TolerationSchema, { key: "dedicated", value: "gpu" }), dedicated),
    ).toBe(true);
    expect(
      toleratesTaint(create(TolerationSchema, { key: "dedicated", value: "cpu" }), dedicated),
    ).toBe(false);
    expect(
      toleratesTaint(
        create(TolerationSchema, {
          key: "dedicated",
          operator: "Equal",
          value: "gpu",
          effect: "NoSchedule",
        }),
        dedicated,
      ),
    ).toBe(false);
  });

  it("an empty key with Exists tolerates every taint; an unknown operator none", () => {
    expect(toleratesTaint(create(TolerationSchema, { operator: "Exists" }), dedicated)).toBe(true);
    expect(
      toleratesTaint(
        create(TolerationSchema, { key: "dedicated", operator: "Gt", value: "gpu" }),
        dedicated,
      ),
    ).toBe(false);
  });
});

describe("matchingTolerations and minTolerationMs", () => {
  it("is undefined when one taint is tolerated by nothing: evict at once", () => {
    const tolerations = [create(TolerationSchema, { key: unreachable.key, operator: "Exists" })];
    expect(matchingTolerations([unreachable, dedicated], tolerations)).toBeUndefined();
  });

  it("takes the shortest tolerationSeconds, negative as 0, unset as forever", () => {
    const forever = create(TolerationSchema, { key: unreachable.key, operator: "Exists" });
    const brief = create(TolerationSchema, {
      key: "dedicated",
      operator: "Exists",
      tolerationSeconds: 30,
    });
    const negative = create(TolerationSchema, { operator: "Exists", tolerationSeconds: -5 });
    expect(minTolerationMs(matchingTolerations([unreachable], [forever]) ?? [])).toBe(Infinity);
    expect(
      minTolerationMs(matchingTolerations([unreachable, dedicated], [forever, brief]) ?? []),
    ).toBe(30_000);
    expect(minTolerationMs([negative, brief])).toBe(0);
  });
});

describe("zones", () => {
  it("keys nodes by region and zone labels", () => {
    const node = (labels: Record<string, string>) => create(NodeSchema, { metadata: { labels } });
    expect(zoneKey(node({}))).toBe("");
    expect(zoneKey(node({ "topology.kubernetes.io/zone": "a" }))).toBe(":\x00:a");
    expect(
      zoneKey(node({ "topology.kubernetes.io/region": "r", "topology.kubernetes.io/zone": "a" })),
    ).toBe("r:\x00:a");
  });

  it("is fully disrupted with no ready node, partially with more than 2 and 55% not ready", () => {
    expect(computeZoneState([false])).toBe("FullDisruption");
    expect(computeZoneState([true, false])).toBe("Normal");
    expect(computeZoneState([true, false, false])).toBe("Normal");
    expect(computeZoneState([true, true, false, false, false])).toBe("PartialDisruption");
    expect(computeZoneState([true, true, true, false, false, false])).toBe("Normal");
    expect(computeZoneState([])).toBe("Normal");
  });

  it("slows eviction in a partly disrupted zone: secondary rate when large, none when small", () => {
    const rates = { primary: 0.1, secondary: 0.01, largeClusterThreshold: 50 };
    expect(evictionRate("Normal", 3, rates)).toBe(0.1);
    expect(evictionRate("FullDisruption", 3, rates)).toBe(0.1);
    expect(evictionRate("PartialDisruption", 51, rates)).toBe(0.01);
    expect(evictionRate("PartialDisruption", 50, rates)).toBe(0);
  });
});

describe("TokenBucket", () => {
  it("admits one at once, then one per 1/qps seconds; nothing at rate 0", () => {
    const bucket = new TokenBucket(0.1, 1_000);
    expect(bucket.tryTake(1_000)).toEqual({ ok: true });
    expect(bucket.tryTake(1_000)).toEqual({ ok: false, waitMs: 10_000 });
    expect(bucket.tryTake(10_999)).toEqual({ ok: false, waitMs: 1 });
    expect(bucket.tryTake(11_000)).toEqual({ ok: true });
    // Idle for long: still one token, not a burst.
    expect(bucket.tryTake(100_000)).toEqual({ ok: true });
    expect(bucket.tryTake(100_000).ok).toBe(false);
    bucket.setRate(0);
    expect(bucket.tryTake(1_000_000)).toEqual({ ok: false, waitMs: Infinity });
  });
});
