import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Quantities, selectors, names and field errors are pure: the API server, the scheduler, the
// CLI and a browser dashboard all use them, so they import nothing from Node, nor generated
// protobuf code (they accept plain shapes that generated messages satisfy).
const src = fileURLToPath(new URL("../../src/", import.meta.url));
const files = [
  "quantity.ts",
  "validation/field-error.ts",
  "validation/names.ts",
  ...readdirSync(join(src, "labels")).map((f) => `labels/${f}`),
  ...readdirSync(join(src, "fields")).map((f) => `fields/${f}`),
];

describe("pure modules", () => {
  it.each(files)("%s imports only relative, non-generated modules", (file) => {
    const text = readFileSync(join(src, file), "utf8");
    const imports = [...text.matchAll(/^\s*(?:import|export)\b[^;]*?from\s+"([^"]+)"/gm)].map(
      (m) => m[1] as string,
    );
    for (const specifier of imports) {
      expect(
        specifier.startsWith("./") || specifier.startsWith("../"),
        `${file}: ${specifier}`,
      ).toBe(true);
      expect(specifier.includes("/gen/"), `${file}: ${specifier}`).toBe(false);
    }
  });
});
