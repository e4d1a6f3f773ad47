// The lessor is a pure state machine (STYLE.md, "a pure core"): no Node built-ins, no timers,
// no clock, no randomness of its own in its sources. Time and randomness are passed in.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const dir = join(import.meta.dirname, "../../src/lease");

describe("lease sources", () => {
  const files = readdirSync(dir).filter((f) => f.endsWith(".ts"));
  it("exist", () => {
    expect(files).toContain("lessor.ts");
  });
  it.each(files)("%s imports nothing impure", (f) => {
    const src = readFileSync(join(dir, f), "utf8");
    expect(src).not.toMatch(/from\s+["']node:/);
    expect(src).not.toMatch(/\brequire\(/);
    expect(src).not.toMatch(
      /\b(setTimeout|setInterval|setImmediate|Date\.now|new Date|performance\.now|Math\.random)\b/,
    );
    expect(src).not.toMatch(/\bprocess\./);
  });
});
