// Runs every testdata/*.txt interaction script (format: datadriven.ts; commands: env.ts) and
// compares each command's output with the one recorded under it. A mismatch fails with the
// file and line of the command. With REWRITE=1 the outputs are recorded afresh, in place:
// read the diff before committing it, the recorded behaviour must be the right one.

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseCommandLine, parseScript, renderScript } from "./datadriven.js";
import { Command, InteractionEnv } from "./env.js";

const testdata = join(dirname(fileURLToPath(import.meta.url)), "testdata");
const rewrite = process.env.REWRITE === "1";

/** The first sentence of the script's opening comment says what it checks: the test's title. */
function title(file: string, source: string): string {
  const lines = source.split("\n");
  const start = lines.findIndex((l) => l.startsWith("#"));
  if (start < 0) return file;
  const paragraph: string[] = [];
  for (const l of lines.slice(start)) {
    if (!l.startsWith("#")) break;
    paragraph.push(l.replace(/^#\s*/, ""));
  }
  const sentence = /^.*?\.(?=\s|$)/.exec(paragraph.join(" "))?.[0] ?? paragraph.join(" ");
  return `${file}: ${sentence}`;
}

describe("raft interaction scripts (testdata/*.txt)", () => {
  const files = readdirSync(testdata)
    .filter((f) => f.endsWith(".txt"))
    .sort();

  it("finds the scripts", () => {
    expect(files.length).toBeGreaterThan(0);
  });

  for (const file of files) {
    const path = join(testdata, file);
    const source = readFileSync(path, "utf8");
    it(title(file, source), () => {
      const name = `testdata/${file}`;
      const script = parseScript(source, name);
      const env = new InteractionEnv();
      const outputs: string[] = [];
      for (const b of script.blocks) {
        const cmd = new Command(b.command, b.args, b.input, { file: name, line: b.line });
        const actual = env.run(cmd);
        outputs.push(actual);
        if (!rewrite) {
          expect(actual, `${name}:${b.line}: output of "${b.source[0]}" differs`).toBe(b.expected);
        }
      }
      if (rewrite) writeFileSync(path, renderScript(script, outputs));
    });
  }
});

describe("interaction script format", () => {
  it("parses arguments: bare words, key=value and key=(list)", () => {
    const { command, args } = parseCommandLine(
      "add-nodes 3 voters=(1, 2,3) index=2 learners=()",
      "f",
      1,
    );
    expect(command).toBe("add-nodes");
    expect(args).toEqual([
      { key: "3", values: [] },
      { key: "voters", values: ["1", "2", "3"] },
      { key: "index", values: ["2"] },
      { key: "learners", values: [] },
    ]);
  });

  it("ends an output at a blank line, or at a doubled separator when it holds blank lines", () => {
    const text = [
      "# c",
      "cmd a",
      "input",
      "----",
      "one",
      "",
      "cmd2",
      "----",
      "----",
      "x",
      "",
      "y",
      "----",
      "----",
      "",
    ];
    const script = parseScript(text.join("\n"), "t.txt");
    expect(script.blocks.map((b) => [b.command, b.input, b.expected, b.line])).toEqual([
      ["cmd", ["input"], "one", 2],
      ["cmd2", [], "x\n\ny", 7],
    ]);
    // Rewriting picks the form each output needs.
    expect(renderScript(script, ["a\n\nb", "c"])).toBe(
      [
        "# c",
        "cmd a",
        "input",
        "----",
        "----",
        "a",
        "",
        "b",
        "----",
        "----",
        "",
        "cmd2",
        "----",
        "c",
        "",
      ].join("\n"),
    );
  });

  it("names the file and line of a block without a separator", () => {
    expect(() => parseScript("ok\n----\nok\n\nbroken 1\n", "t.txt")).toThrow(
      /t\.txt:5: "broken" has no "----"/,
    );
  });

  it("rewriting a script with its recorded outputs gives it back unchanged", () => {
    for (const file of readdirSync(testdata).filter((f) => f.endsWith(".txt"))) {
      const source = readFileSync(join(testdata, file), "utf8");
      const script = parseScript(source, file);
      expect(
        renderScript(
          script,
          script.blocks.map((b) => b.expected),
        ),
        file,
      ).toBe(source);
    }
  });
});
