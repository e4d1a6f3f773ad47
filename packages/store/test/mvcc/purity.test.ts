// The keyspace is a pure state machine (STYLE.md, "a pure core"): no Node built-ins, no
// timers, no clock, no randomness in its sources.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const dir = join(import.meta.dirname, "../../src/mvcc");

describe("mvcc sources", () => {
  const files = readdirSync(dir).filter((f) => f.endsWith(".ts"));
  it("exist", () => {
    expect(files).toContain("keyspace.ts");
  });
  it.each(files)("%s imports nothing impure", (f) => {
    const src = readFileSync(join(dir, f), "utf8");
    expect(src).not.toMatch(/from\s+["']node:/);
    expect(src).not.toMatch(/\brequire\(/);
    expect(src).not.toMatch(
      /\b(setTimeout|setInterval|setImmediate|Date\.now|performance\.now|Math\.random)\b/,
    );
    expect(src).not.toMatch(/\bprocess\./);
  });
});
