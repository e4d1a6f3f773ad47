import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Strategies, the delete decision and admission are pure logic between a request and storage:
// the clock, uids and randomness come in through RegistryEnv, the cluster through
// AdmissionLookups. They import nothing from Node, gRPC, etcd or the server.
const src = fileURLToPath(new URL("../../src/", import.meta.url));
const files = ["registry", "admission"].flatMap((dir) =>
  readdirSync(join(src, dir)).map((f) => `${dir}/${f}`),
);
const ALLOWED = [/^@tug\/api$/, /^\.\//, /^\.\.\/registry\//, /^\.\.\/storage\/errors\.js$/];

describe("pure modules", () => {
  it.each(files)("%s imports only @tug/api, its neighbours and the error type", (file) => {
    const text = readFileSync(join(src, file), "utf8");
    const imports = [...text.matchAll(/^\s*(?:import|export)\b[^;]*?from\s+"([^"]+)"/gm)].map(
      (m) => m[1] as string,
    );
    for (const specifier of imports) {
      expect(
        ALLOWED.some((re) => re.test(specifier)),
        `${file}: ${specifier}`,
      ).toBe(true);
    }
  });

  it.each(files)("%s reads no clock and no global randomness", (file) => {
    const code = readFileSync(join(src, file), "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/\/\/.*$/gm, "");
    // defaultRegistryEnv is the one place the real clock and randomness are chosen.
    const body =
      file === "registry/strategy.ts"
        ? code.replace(/export function defaultRegistryEnv[\s\S]*?\n}\n/, "")
        : code;
    expect(body).not.toMatch(/\bDate\.now\(|new Date\(|Math\.random|randomUUID/);
  });
});
