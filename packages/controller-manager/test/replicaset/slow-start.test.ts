// slowStartBatch: batches of 1, 2, 4, ...; the first failing batch ends the run.

import { describe, expect, it } from "vitest";
import { slowStartBatch } from "../../src/index.js";

describe("slowStartBatch", () => {
  it("creates in doubling batches", async () => {
    // A batch's calls all start before any of them finishes: a call that finds none in flight
    // opens a new batch.
    const batches: number[] = [];
    let inFlight = 0;
    const result = await slowStartBatch(10, 1, async () => {
      if (inFlight === 0) batches.push(0);
      batches[batches.length - 1] = (batches.at(-1) ?? 0) + 1;
      inFlight++;
      await new Promise((r) => setTimeout(r, 1));
      inFlight--;
    });
    expect(result).toEqual({ successes: 10 });
    expect(batches).toEqual([1, 2, 4, 3]);
  });

  it("stops after the first batch with a failure", async () => {
    let calls = 0;
    const result = await slowStartBatch(10, 1, async () => {
      calls++;
      if (calls === 3) throw new Error("quota exceeded");
    });
    // Batches 1 and 2 ran (3 calls); the third call failed; nothing after.
    expect(calls).toBe(3);
    expect(result.successes).toBe(2);
    expect(String(result.error)).toContain("quota exceeded");
  });

  it("starts no batch once told to stop", async () => {
    let calls = 0;
    const result = await slowStartBatch(
      10,
      1,
      async () => {
        calls++;
      },
      () => calls >= 3,
    );
    expect(calls).toBe(3);
    expect(result.successes).toBe(3);
  });

  it("does nothing for 0", async () => {
    expect(await slowStartBatch(0, 1, () => Promise.reject(new Error("no")))).toEqual({
      successes: 0,
    });
  });
});
