import type { Pod } from "@tug/api";
import { describe, expect, it } from "vitest";
import { type DeleteOptions, decideDelete } from "../../src/registry/deletion.js";
import { strategyFor } from "../../src/registry/strategy.js";
import { json, kind, NOW, obj, testEnv } from "./support.js";

/** mulberry32: a small seeded generator; a seed replays a run exactly. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEEDS = 200;
const POLICIES = ["", "Orphan", "Background", "Foreground"];

describe("delete decisions over random request sequences", () => {
  it(`keep their invariants for ${SEEDS} seeds`, () => {
    const pods = strategyFor(kind("pods"), testEnv());
    let removals = 0;
    let gcDropped = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const random = rng(seed);
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)] as T;
      let stored = obj<Pod>({
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          name: "p",
          namespace: "default",
          uid: "u",
          generation: 1,
          finalizers: random() < 0.3 ? ["example.com/hold"] : [],
        },
        spec: {
          containers: [{ name: "c", image: "i" }],
          nodeName: random() < 0.7 ? "n1" : "",
          terminationGracePeriodSeconds: pick([0, 5, 30, 120]),
        },
        status: { phase: pick(["Pending", "Running", "Running", "Succeeded"]) },
      });
      let now = NOW.getTime();
      for (let step = 0; step < 12; step++) {
        const options: DeleteOptions = {
          ...(random() < 0.6 ? { gracePeriodSeconds: pick([-1, 0, 1, 10, 60, 300]) } : {}),
          propagationPolicy: pick(POLICIES),
        };
        const before = JSON.stringify(json(stored));
        const d = decideDelete(pods, stored, options, new Date(now));
        const where = `seed ${seed} step ${step}: ${JSON.stringify(options)} on ${before}`;
        expect(JSON.stringify(json(stored)), `${where} mutated the stored object`).toBe(before);
        if (d.action === "keep") expect(d.object, where).toBe(stored);
        const oldMeta = stored.metadata!;
        const meta = d.object.metadata!;
        if (d.action === "remove") {
          // Only the garbage collector's own finalizers may be dropped by the delete itself.
          const others = oldMeta.finalizers.filter(
            (f) => f !== "orphan" && f !== "foregroundDeletion",
          );
          expect(others, `${where} removed an object with finalizers`).toEqual([]);
          removals++;
          if (oldMeta.finalizers.length > 0) gcDropped++;
          break;
        }
        expect(meta.deletionTimestamp, where).toBeDefined();
        if (oldMeta.deletionTimestamp !== undefined) {
          expect(
            meta.deletionTimestamp!.seconds <= oldMeta.deletionTimestamp.seconds,
            `${where}: deletion moved later`,
          ).toBe(true);
          expect(
            (meta.deletionGracePeriodSeconds ?? 0) <= (oldMeta.deletionGracePeriodSeconds ?? 0),
            `${where}: grace grew`,
          ).toBe(true);
        }
        stored = d.object as Pod;
        now += Math.floor(random() * 20_000);
      }
    }
    // The runs reach the interesting ends: removals, some after dropping a GC finalizer.
    expect(removals).toBeGreaterThan(SEEDS / 2);
    expect(gcDropped).toBeGreaterThan(0);
  });
});
