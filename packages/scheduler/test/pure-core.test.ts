// The scheduling core (framework, queue, loop) is pure logic: no Node.js modules, no gRPC, so it
// runs on fakes in tests and anywhere in process. Only src/process/ touches the outside world.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = join(dirname(fileURLToPath(import.meta.url)), "../src");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "process" ? [] : sources(path);
    return name.endsWith(".ts") && name !== "index.ts" ? [path] : [];
  });
}

describe("the scheduling core", () => {
  it("imports nothing from node:, @grpc or the process layer", () => {
    const files = sources(SRC);
    expect(files.length).toBeGreaterThan(15);
    const offenders: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/from "([^"]+)"/g)) {
        const spec = m[1] as string;
        if (spec.startsWith("node:") || spec.startsWith("@grpc/") || spec.includes("/process/")) {
          offenders.push(`${relative(SRC, file)} imports ${spec}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});
