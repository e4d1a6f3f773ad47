// The core must stay pure (STYLE.md, "a pure core, effects as data"): time is ticks and
// randomness is injected, so no IO, no timers, no clocks, no ambient randomness. This test
// scans every source file of packages/raft/src (the generated protobuf code in src/gen
// excepted) and names the file and line of each offence.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = join(dirname(fileURLToPath(import.meta.url)), "../../src");
const EXCLUDED_DIRS = new Set(["gen"]);

/** Bare module specifiers the core may import: protobufjs is pure encoding. */
const ALLOWED_PACKAGES = [/^protobufjs(\/.*)?$/];

/** Modules that mean IO, time or randomness; named so the failure says why. */
const FORBIDDEN_MODULES: readonly { test: RegExp; why: string }[] = [
  { test: /^node:/, why: "a node: built-in" },
  { test: /^(fs|fs\/promises)$/, why: "the filesystem" },
  { test: /^(net|tls|dgram)$/, why: "sockets" },
  { test: /^(http|https|http2)$/, why: "HTTP" },
  { test: /^child_process$/, why: "processes" },
  { test: /^(worker_threads|cluster)$/, why: "threads" },
  { test: /^(timers|timers\/promises)$/, why: "timers" },
  { test: /^crypto$/, why: "ambient randomness" },
  { test: /^(os|process|perf_hooks|async_hooks)$/, why: "the host environment" },
  { test: /^@grpc\//, why: "gRPC" },
];

/** Ambient globals that read a clock, schedule work, draw randomness or touch the process. */
const FORBIDDEN_GLOBALS: readonly { test: RegExp; what: string }[] = [
  { test: /(?<![\w$.])setTimeout\b/g, what: "setTimeout" },
  { test: /(?<![\w$.])setInterval\b/g, what: "setInterval" },
  { test: /(?<![\w$.])setImmediate\b/g, what: "setImmediate" },
  { test: /(?<![\w$.])queueMicrotask\b/g, what: "queueMicrotask" },
  { test: /(?<![\w$.])Date\s*\.\s*now\b/g, what: "Date.now" },
  { test: /(?<![\w$.])new\s+Date\b/g, what: "new Date" },
  { test: /(?<![\w$.])Math\s*\.\s*random\b/g, what: "Math.random" },
  { test: /(?<![\w$.])performance\b/g, what: "performance" },
  { test: /(?<![\w$.])process\b/g, what: "process" },
  { test: /(?<![\w$.])crypto\b/g, what: "crypto" },
  { test: /(?<![\w$.])require\s*\(/g, what: "require()" },
];

interface Offence {
  readonly file: string;
  readonly line: number;
  readonly what: string;
}

/**
 * Blanks comments (and, unless keepStrings, the contents of string and template literals)
 * with spaces, keeping newlines so that offsets still map to the same lines. Template
 * substitutions `${...}` stay code. Regex literals are recognized by the usual heuristic.
 */
function blankNonCode(src: string, keepStrings: boolean): string {
  const out = src.split("");
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== "\n") out[k] = " ";
  };
  // Stack of brace depths at which a template substitution returns to template text.
  const templateStack: number[] = [];
  let braceDepth = 0;
  let i = 0;
  let lastSignificant = "";
  const scanTemplateText = (start: number): number => {
    // From just after ` or }, to the closing ` or the next ${ ; returns the index after it.
    let j = start;
    while (j < src.length) {
      const c = src[j];
      if (c === "\\") {
        j += 2;
        continue;
      }
      if (c === "`") {
        if (!keepStrings) blank(start, j);
        return j + 1;
      }
      if (c === "$" && src[j + 1] === "{") {
        if (!keepStrings) blank(start, j);
        templateStack.push(braceDepth);
        braceDepth++;
        return j + 2;
      }
      j++;
    }
    return j;
  };
  while (i < src.length) {
    const c = src[i] ?? "";
    const next = src[i + 1];
    if (c === "/" && next === "/") {
      const end = src.indexOf("\n", i);
      const stop = end < 0 ? src.length : end;
      blank(i, stop);
      i = stop;
      continue;
    }
    if (c === "/" && next === "*") {
      const end = src.indexOf("*/", i + 2);
      const stop = end < 0 ? src.length : end + 2;
      blank(i, stop);
      i = stop;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== c && src[j] !== "\n") j += src[j] === "\\" ? 2 : 1;
      if (!keepStrings) blank(i + 1, j);
      i = j + 1;
      lastSignificant = c;
      continue;
    }
    if (c === "`") {
      i = scanTemplateText(i + 1);
      lastSignificant = "`";
      continue;
    }
    if (c === "/" && (lastSignificant === "" || "(,=:[!&|?{};+-*%<>~^".includes(lastSignificant))) {
      // A regex literal: skip to its unescaped closing slash (outside a character class).
      let j = i + 1;
      let inClass = false;
      while (j < src.length && src[j] !== "\n") {
        const d = src[j];
        if (d === "\\") {
          j += 2;
          continue;
        }
        if (d === "[") inClass = true;
        else if (d === "]") inClass = false;
        else if (d === "/" && !inClass) break;
        j++;
      }
      if (!keepStrings) blank(i + 1, j);
      i = j + 1;
      lastSignificant = "/";
      continue;
    }
    if (c === "{") braceDepth++;
    if (c === "}") {
      braceDepth--;
      if (templateStack.length > 0 && templateStack[templateStack.length - 1] === braceDepth) {
        templateStack.pop();
        i = scanTemplateText(i + 1);
        lastSignificant = "`";
        continue;
      }
    }
    if (!/\s/.test(c)) lastSignificant = /[\w$]/.test(c) ? "w" : c;
    i++;
  }
  return out.join("");
}

function lineOf(src: string, offset: number): number {
  let line = 1;
  for (let k = 0; k < offset; k++) if (src[k] === "\n") line++;
  return line;
}

/** Every module specifier a file imports or re-exports, with its offset. */
function importsOf(code: string): { spec: string; at: number }[] {
  const found: { spec: string; at: number }[] = [];
  const patterns = [
    /\b(?:import|export)\b[^;"'`]*?\bfrom\s*(["'])([^"']*)\1/g, // import x from "m", export * from "m"
    /\bimport\s*(["'])([^"']*)\1/g, // import "m"
    /\bimport\s*\(\s*(["'])([^"']*)\1/g, // import("m")
    /\brequire\s*\(\s*(["'])([^"']*)\1/g, // require("m")
  ];
  for (const re of patterns) {
    for (const m of code.matchAll(re)) {
      const spec = m[2] ?? "";
      found.push({ spec, at: (m.index ?? 0) + m[0].lastIndexOf(spec) });
    }
  }
  return found;
}

/** The offences in one file's source. */
function checkSource(file: string, src: string): Offence[] {
  const offences: Offence[] = [];
  const withStrings = blankNonCode(src, true);
  for (const { spec, at } of importsOf(withStrings)) {
    if (spec.startsWith("./") || spec.startsWith("../")) continue;
    const bad = FORBIDDEN_MODULES.find((f) => f.test.test(spec));
    if (bad !== undefined) {
      offences.push({ file, line: lineOf(src, at), what: `imports "${spec}" (${bad.why})` });
    } else if (!ALLOWED_PACKAGES.some((re) => re.test(spec))) {
      offences.push({
        file,
        line: lineOf(src, at),
        what: `imports "${spec}", which is not on the core's allow-list (relative paths, protobufjs)`,
      });
    }
  }
  const codeOnly = blankNonCode(src, false);
  for (const g of FORBIDDEN_GLOBALS) {
    for (const m of codeOnly.matchAll(g.test)) {
      offences.push({ file, line: lineOf(src, m.index ?? 0), what: `uses ${g.what}` });
    }
  }
  return offences.sort((a, b) => a.line - b.line);
}

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!EXCLUDED_DIRS.has(name)) files.push(...sourceFiles(path));
    } else if (name.endsWith(".ts")) {
      files.push(path);
    }
  }
  return files;
}

describe("the Raft core is pure: no IO, timers, clocks or ambient randomness", () => {
  const files = sourceFiles(SRC);

  it("finds the core's sources to scan (and skips src/gen)", () => {
    const names = files.map((f) => relative(SRC, f));
    expect(names).toContain("raft.ts");
    expect(names).toContain("raw-node.ts");
    expect(names.some((n) => n.startsWith("gen/"))).toBe(false);
  });

  it("no source file under packages/raft/src imports IO modules or uses timers, clocks or randomness", () => {
    const offences = files.flatMap((f) =>
      checkSource(`packages/raft/src/${relative(SRC, f)}`, readFileSync(f, "utf8")),
    );
    const report = offences.map((o) => `${o.file}:${o.line}: ${o.what}`).join("\n");
    expect(report, `the core must stay pure; offences:\n${report}`).toBe("");
  });
});

describe("the purity checker itself", () => {
  const check = (src: string) => checkSource("x.ts", src).map((o) => `${o.line}: ${o.what}`);

  it("flags forbidden imports with their line, in every import form", () => {
    const src = [
      'import { readFileSync } from "node:fs";',
      'import * as net from "net";',
      "import {",
      "  credentials,",
      '} from "@grpc/grpc-js";',
      'export { x } from "http2";',
      'import "child_process";',
      'const t = await import("timers/promises");',
      'const c = require("crypto");',
      'import type { Worker } from "worker_threads";',
      'import { request } from "undici";',
    ].join("\n");
    expect(check(src)).toEqual([
      '1: imports "node:fs" (a node: built-in)',
      '2: imports "net" (sockets)',
      '5: imports "@grpc/grpc-js" (gRPC)',
      '6: imports "http2" (HTTP)',
      '7: imports "child_process" (processes)',
      '8: imports "timers/promises" (timers)',
      '9: imports "crypto" (ambient randomness)',
      "9: uses require()",
      '10: imports "worker_threads" (threads)',
      '11: imports "undici", which is not on the core\'s allow-list (relative paths, protobufjs)',
    ]);
  });

  it("allows relative imports and protobufjs", () => {
    expect(
      check(
        'import { a } from "./a.js";\nimport type { Writer } from "protobufjs";\nimport x from "../b.js";',
      ),
    ).toEqual([]);
  });

  it("flags timers, clocks, randomness and process, with their line", () => {
    const src = [
      "const a = 1;",
      "setTimeout(() => {}, 10);",
      "const t = Date.now();",
      "const r = Math.random();",
      "const p = performance.now();",
      "if (process.env.X) {}",
      "setInterval(f, 1); setImmediate(f);",
      "const d = new Date();",
    ].join("\n");
    expect(check(src)).toEqual([
      "2: uses setTimeout",
      "3: uses Date.now",
      "4: uses Math.random",
      "5: uses performance",
      "6: uses process",
      "7: uses setInterval",
      "7: uses setImmediate",
      "8: uses new Date",
    ]);
  });

  it("ignores words in comments, strings and templates, and property names", () => {
    const src = [
      "// a process restarts; setTimeout is not used here",
      "/* Date.now() would break determinism",
      "   Math.random() too */",
      'const msg = "the process was restarted";',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: source text under test
      "const t = `no setTimeout in ${name} and process text`;",
      "this.process(1); obj.performance = 2; x.setTimeout;",
      "const re = /process/g;",
    ].join("\n");
    expect(check(src)).toEqual([]);
  });

  it("still sees code inside template substitutions", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: source text under test
    expect(check("const s = `at ${Date.now()} ms`;")).toEqual(["1: uses Date.now"]);
  });

  it("keeps line numbers right after multi-line comments and strings", () => {
    const src = "/*\n\n*/\nconst s = `a\nb`;\nsetTimeout(f);";
    expect(check(src)).toEqual(["6: uses setTimeout"]);
  });
});
