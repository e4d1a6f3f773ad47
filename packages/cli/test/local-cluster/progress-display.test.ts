import { describe, expect, it } from "vitest";
import { lastLines } from "../../src/local-cluster/log-tail.js";
import {
  formatElapsed,
  ProgressDisplay,
  renderRow,
} from "../../src/local-cluster/progress-display.js";

describe("progress display", () => {
  it("formats elapsed time as people read it", () => {
    expect(formatElapsed(1234)).toBe("1.2s");
    expect(formatElapsed(12_900)).toBe("12s");
    expect(formatElapsed(65_000)).toBe("1m05s");
  });

  it("renders a row with its mark, phase, elapsed time and detail", () => {
    const row = {
      name: "store-1",
      phase: "healthy" as const,
      startedAt: 1000,
      finishedAt: 3500,
      detail: "pid 7",
    };
    expect(renderRow(row, 9, 9999)).toBe("✓ store-1    healthy    2.5s  pid 7");
    expect(renderRow({ ...row, phase: "starting", finishedAt: undefined }, 7, 2000)).toBe(
      "… store-1  starting   1.0s  pid 7",
    );
  });

  it("prints one plain line per change when stdout is not a terminal", () => {
    let now = 0;
    const out: string[] = [];
    const display = new ProgressDisplay(
      { write: (t) => out.push(t) },
      false,
      ["a", "bb"],
      () => now,
    );
    display.set("a", "starting", "pid 1");
    now = 1500;
    display.set("a", "healthy", "pid 1");
    display.set("bb", "failed", "see below");
    display.close();
    expect(out.join("")).toBe(
      "… a   starting   0.0s  pid 1\n✓ a   healthy    1.5s  pid 1\n✗ bb  failed     1.5s  see below\n",
    );
    expect(out.join("")).not.toContain("\x1b");
  });

  it("redraws all lines in place on a terminal", () => {
    const out: string[] = [];
    const display = new ProgressDisplay({ write: (t) => out.push(t) }, true, ["a", "b"], () => 0);
    display.set("b", "starting");
    display.close();
    expect(out[0]).not.toContain("\x1b[2A");
    expect(out[1]?.startsWith("\x1b[2A")).toBe(true);
    expect(out.at(-1)).toContain("… b  starting");
  });
});

describe("lastLines", () => {
  it("keeps the last non-empty lines", () => {
    expect(lastLines("a\nb\n\nc\n", 2)).toEqual(["b", "c"]);
    expect(lastLines("", 5)).toEqual([]);
  });
});
