// Zones and their health, as kube-controller-manager's node lifecycle controller judges them:
// when many nodes of a zone fail at once, the fault is more likely the network or the control
// plane than the nodes, so eviction slows down or stops.
// https://kubernetes.io/docs/concepts/architecture/nodes/#rate-limits-on-eviction

import type { Node } from "@tug/api";

export const ZONE_LABEL = "topology.kubernetes.io/zone";
export const REGION_LABEL = "topology.kubernetes.io/region";

/** --unhealthy-zone-threshold: share of NotReady nodes (at least 3) that makes a zone unhealthy. */
export const UNHEALTHY_ZONE_THRESHOLD = 0.55;
/** --large-cluster-size-threshold: above this many nodes a partially disrupted zone keeps evicting. */
export const LARGE_CLUSTER_SIZE_THRESHOLD = 50;
/** --node-eviction-rate: nodes per second tainted for eviction in a healthy zone. */
export const NODE_EVICTION_RATE = 0.1;
/** --secondary-node-eviction-rate: nodes per second in an unhealthy zone of a large cluster. */
export const SECONDARY_NODE_EVICTION_RATE = 0.01;

export type ZoneState = "Normal" | "PartialDisruption" | "FullDisruption";

/** The zone key of a node (GetZoneKey): "region:\0:zone", "" when it has neither label. */
export function zoneKey(node: Node): string {
  const labels = node.metadata?.labels ?? {};
  const region = labels[REGION_LABEL] ?? "";
  const zone = labels[ZONE_LABEL] ?? "";
  return region === "" && zone === "" ? "" : `${region}:\x00:${zone}`;
}

/**
 * A zone's state from its nodes' readiness (ComputeZoneState): no ready node but some not ready
 * is a full disruption; more than 2 not ready making up at least `threshold` of the zone is a
 * partial one.
 */
export function computeZoneState(
  ready: readonly boolean[],
  threshold = UNHEALTHY_ZONE_THRESHOLD,
): ZoneState {
  const notReady = ready.filter((r) => !r).length;
  const readyCount = ready.length - notReady;
  if (readyCount === 0 && notReady > 0) return "FullDisruption";
  if (notReady > 2 && notReady / ready.length >= threshold) return "PartialDisruption";
  return "Normal";
}

/**
 * Nodes per second a zone in `state` may have tainted for eviction (setLimiterInZone and the
 * reduced-rate functions): the primary rate when healthy or wholly down (the zone is gone, its
 * pods belong elsewhere), the secondary rate when partly down in a large cluster, 0 when partly
 * down in a small one.
 */
export function evictionRate(
  state: ZoneState,
  zoneSize: number,
  rates: { primary: number; secondary: number; largeClusterThreshold: number },
): number {
  if (state !== "PartialDisruption") return rates.primary;
  return zoneSize > rates.largeClusterThreshold ? rates.secondary : 0;
}

/**
 * A token bucket with burst 1 (flowcontrol.NewTokenBucketRateLimiter(qps, 1)): the first take
 * succeeds, the next one 1/qps seconds later. A rate of 0 admits nothing.
 */
export class TokenBucket {
  private nextMs: number;

  constructor(
    private qps: number,
    nowMs: number,
  ) {
    this.nextMs = nowMs;
  }

  setRate(qps: number): void {
    this.qps = qps;
  }

  /** Takes a token if one is there; otherwise says how long until one is (Infinity at rate 0). */
  tryTake(nowMs: number): { ok: true } | { ok: false; waitMs: number } {
    if (this.qps <= 0) return { ok: false, waitMs: Number.POSITIVE_INFINITY };
    if (nowMs >= this.nextMs) {
      this.nextMs = nowMs + 1000 / this.qps;
      return { ok: true };
    }
    return { ok: false, waitMs: this.nextMs - nowMs };
  }
}
