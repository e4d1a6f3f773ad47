import { describe, expect, it } from "vitest";
import { ageSince, humanDuration } from "../../src/printers/age.js";

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

describe("humanDuration (kubectl's AGE)", () => {
  it.each([
    [0, "0s"],
    [45 * s, "45s"],
    [119 * s, "119s"],
    [2 * m, "2m"],
    [3 * m + 12 * s, "3m12s"],
    [9 * m + 59 * s, "9m59s"],
    [14 * m + 30 * s, "14m"],
    [179 * m, "179m"],
    [5 * h, "5h"],
    [7 * h + 30 * m, "7h30m"],
    [8 * h + 30 * m, "8h"],
    [47 * h, "47h"],
    [2 * d + 3 * h, "2d3h"],
    [3 * d, "3d"],
    [12 * d + 5 * h, "12d"],
    [729 * d, "729d"],
    [2 * 365 * d + 30 * d, "2y30d"],
    [9 * 365 * d, "9y"],
  ])("%d ms is %s", (ms, want) => {
    expect(humanDuration(ms)).toBe(want);
  });

  it("treats up to a second in the future as now, and further as invalid", () => {
    expect(humanDuration(-1500)).toBe("0s");
    expect(humanDuration(-2500)).toBe("<invalid>");
  });

  it("measures a timestamp against the injected clock", () => {
    const now = new Date("2024-05-01T12:00:00Z");
    expect(ageSince("2024-05-01T11:56:48Z", now)).toBe("3m12s");
    expect(ageSince("", now)).toBe("<unknown>");
    expect(ageSince("yesterday", now)).toBe("<unknown>");
  });
});
