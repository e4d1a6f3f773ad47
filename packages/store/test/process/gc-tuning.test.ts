import { describe, expect, it } from "vitest";
import { applyGcTuning, gcTuning, HEAP_GROWING_PERCENT } from "../../src/process/gc-tuning.js";

describe("applyGcTuning", () => {
  it("sets V8's heap growing factor when node's command line does not", () => {
    const set: string[] = [];
    const t = applyGcTuning(["--conditions=source", "--import", "tsx"], (f) => set.push(f));
    expect(set).toEqual([`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
    expect(t).toEqual({ heapGrowingPercent: HEAP_GROWING_PERCENT, source: "tug-store" });
    expect(gcTuning()).toEqual(t);
  });

  it("leaves a factor given on node's command line alone, in any of V8's spellings", () => {
    for (const [argv, percent] of [
      [["--heap-growing-percent=50"], 50],
      [["--heap_growing_percent=80", "--trace-gc"], 80],
      [["--trace-gc", "--heap-growing-percent", "120"], 120],
    ] as const) {
      const set: string[] = [];
      expect(applyGcTuning(argv, (f) => set.push(f))).toEqual({
        heapGrowingPercent: percent,
        source: "node flag",
      });
      expect(set).toEqual([]);
    }
  });
});
