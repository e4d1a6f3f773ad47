// Pod readiness, availability and Kubernetes' deletion order (ActivePodsWithRanks).

import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type Pod, PodSchema } from "@tug/api";
import { describe, expect, it } from "vitest";
import { isPodActive, isPodAvailable, podsToDelete } from "../../src/index.js";

function pod(
  name: string,
  o: {
    node?: string;
    phase?: string;
    ready?: boolean;
    readySinceMs?: number;
    restarts?: number;
    createdMs?: number;
    deleting?: boolean;
  } = {},
): Pod {
  return create(PodSchema, {
    metadata: {
      name,
      namespace: "default",
      creationTimestamp: timestampFromMs(o.createdMs ?? 1_000),
      ...(o.deleting === true ? { deletionTimestamp: timestampFromMs(5_000) } : {}),
    },
    spec: { nodeName: o.node ?? "n1" },
    status: {
      phase: o.phase ?? "Running",
      conditions:
        o.ready === undefined
          ? []
          : [
              {
                type: "Ready",
                status: o.ready ? "True" : "False",
                lastTransitionTime: timestampFromMs(o.readySinceMs ?? 1_000),
              },
            ],
      containerStatuses: [{ name: "main", restartCount: o.restarts ?? 0 }],
    },
  });
}

const names = (pods: Pod[]) => pods.map((p) => p.metadata?.name);

describe("isPodActive / isPodAvailable", () => {
  it("finished and terminating pods are not active", () => {
    expect(isPodActive(pod("a"))).toBe(true);
    expect(isPodActive(pod("b", { phase: "Succeeded" }))).toBe(false);
    expect(isPodActive(pod("c", { phase: "Failed" }))).toBe(false);
    expect(isPodActive(pod("d", { deleting: true }))).toBe(false);
  });

  it("a pod is available once ready for minReadySeconds", () => {
    const p = pod("a", { ready: true, readySinceMs: 10_000 });
    expect(isPodAvailable(p, 0, 10_000)).toBe(true);
    expect(isPodAvailable(p, 5, 14_999)).toBe(false);
    expect(isPodAvailable(p, 5, 15_000)).toBe(true);
    expect(isPodAvailable(pod("b", { ready: false }), 0, 99_999)).toBe(false);
  });
});

describe("podsToDelete (most deletable first)", () => {
  it.each([
    ["unassigned before assigned", pod("x", { node: "", ready: true }), pod("y", { ready: true })],
    [
      "Pending before Running",
      pod("x", { phase: "Pending", ready: true }),
      pod("y", { phase: "Running", ready: true }),
    ],
    [
      "Unknown before Running",
      pod("x", { phase: "Unknown", ready: true }),
      pod("y", { phase: "Running", ready: true }),
    ],
    ["not ready before ready", pod("x", { ready: false }), pod("y", { ready: true })],
    [
      "ready for less time first",
      pod("x", { ready: true, readySinceMs: 9_000 }),
      pod("y", { ready: true, readySinceMs: 2_000 }),
    ],
    ["more restarts first", pod("x", { ready: true, restarts: 3 }), pod("y", { ready: true })],
    [
      "newer before older",
      pod("x", { ready: true, createdMs: 9_000 }),
      pod("y", { ready: true, createdMs: 2_000 }),
    ],
  ])("%s", (_what, first, second) => {
    expect(names(podsToDelete([second, first], [first, second], 1))).toEqual(["x"]);
    expect(names(podsToDelete([first, second], [first, second], 1))).toEqual(["x"]);
  });

  it("prefers a pod on a node crowded with related pods", () => {
    const crowded = pod("x", { node: "busy", ready: true });
    const alone = pod("y", { node: "quiet", ready: true });
    const related = [crowded, alone, pod("z1", { node: "busy" }), pod("z2", { node: "busy" })];
    expect(names(podsToDelete([alone, crowded], related, 1))).toEqual(["x"]);
  });

  it("returns every pod when asked for as many or more", () => {
    const pods = [pod("a"), pod("b")];
    expect(podsToDelete(pods, pods, 5)).toHaveLength(2);
  });
});
