// The script format of the interaction tests, in the spirit of cockroachdb/datadriven (which
// etcd-io/raft's testdata/*.txt use). A script is a sequence of blocks:
//
//   # comments and blank lines between blocks are kept as they are
//   command arg1 arg2 key=value key=(1,2,3)
//   optional input lines
//   ----
//   expected output
//   <blank line, or the end of the file>
//
// The output ends at the first blank line. An output that itself contains blank lines is
// written between doubled separators, and then ends at the next doubled separator:
//
//   command
//   ----
//   ----
//   output with
//
//   a blank line
//   ----
//   ----
//
// Rewriting (REWRITE=1) keeps everything but the outputs and picks the doubled form only for
// outputs that need it.

export interface Arg {
  readonly key: string;
  /** The values: `key=v` gives one, `key=(a,b)` gives each; a bare word has none. */
  readonly values: readonly string[];
}

export interface Block {
  /** The 1-based line of the command, for error messages. */
  readonly line: number;
  readonly command: string;
  readonly args: readonly Arg[];
  /** Lines between the command and the separator. */
  readonly input: readonly string[];
  readonly expected: string;
  /** The lines before the command (comments, blank lines), kept verbatim on rewrite. */
  readonly prelude: readonly string[];
  /** The command and input lines as written. */
  readonly source: readonly string[];
}

export interface Script {
  readonly blocks: readonly Block[];
  /** Comments and blank lines after the last block. */
  readonly trailer: readonly string[];
}

const SEPARATOR = "----";

export class ScriptError extends Error {
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`);
    this.name = "ScriptError";
  }
}

/** Splits `name a b=c d=(e,f)` into its command and arguments. */
export function parseCommandLine(
  text: string,
  file: string,
  line: number,
): { command: string; args: Arg[] } {
  const words: string[] = [];
  // A parenthesized list may hold spaces: `voters=(1, 2, 3)`.
  for (const m of text.matchAll(/[^\s()]+=\([^)]*\)|\S+/g)) words.push(m[0]);
  const [command, ...rest] = words;
  if (command === undefined) throw new ScriptError(file, line, "expected a command");
  const args = rest.map((w): Arg => {
    const eq = w.indexOf("=");
    if (eq < 0) return { key: w, values: [] };
    const key = w.slice(0, eq);
    const value = w.slice(eq + 1);
    if (key === "") throw new ScriptError(file, line, `argument "${w}" has no name before "="`);
    if (value.startsWith("(")) {
      if (!value.endsWith(")")) throw new ScriptError(file, line, `argument "${w}" lacks its ")"`);
      const inner = value.slice(1, -1).trim();
      return { key, values: inner === "" ? [] : inner.split(",").map((v) => v.trim()) };
    }
    return { key, values: [value] };
  });
  return { command, args };
}

export function parseScript(text: string, file: string): Script {
  const lines = text.split("\n");
  // A trailing newline does not make an extra empty line.
  if (lines[lines.length - 1] === "") lines.pop();
  const blocks: Block[] = [];
  let prelude: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const first = lines[i] ?? "";
    if (first.trim() === "" || first.startsWith("#")) {
      prelude.push(first);
      i++;
      continue;
    }
    const line = i + 1;
    const { command, args } = parseCommandLine(first, file, line);
    const source = [first];
    i++;
    const input: string[] = [];
    while (i < lines.length && lines[i] !== SEPARATOR) {
      const l = lines[i] ?? "";
      if (l.trim() === "")
        throw new ScriptError(file, line, `"${command}" has no "${SEPARATOR}" line`);
      input.push(l);
      source.push(l);
      i++;
    }
    if (i >= lines.length)
      throw new ScriptError(file, line, `"${command}" has no "${SEPARATOR}" line`);
    i++; // the separator
    const out: string[] = [];
    if (lines[i] === SEPARATOR) {
      // Doubled form: up to the next "----" "----" pair.
      i++;
      for (;;) {
        if (i >= lines.length) {
          throw new ScriptError(
            file,
            line,
            `output of "${command}" lacks its closing "${SEPARATOR}" pair`,
          );
        }
        if (lines[i] === SEPARATOR && lines[i + 1] === SEPARATOR) {
          i += 2;
          break;
        }
        out.push(lines[i] ?? "");
        i++;
      }
    } else {
      while (i < lines.length && (lines[i] ?? "").trim() !== "") {
        out.push(lines[i] ?? "");
        i++;
      }
    }
    blocks.push({ line, command, args, input, expected: out.join("\n"), prelude, source });
    prelude = [];
  }
  return { blocks, trailer: prelude };
}

/** Writes the script back with `outputs[i]` as block i's output. */
export function renderScript(script: Script, outputs: readonly string[]): string {
  const out: string[] = [];
  script.blocks.forEach((b, i) => {
    const output = (outputs[i] ?? "").replace(/\n+$/, "");
    out.push(...b.prelude, ...b.source, SEPARATOR);
    if (output !== "" && output.split("\n").some((l) => l.trim() === "")) {
      out.push(SEPARATOR, output, SEPARATOR, SEPARATOR);
      return;
    }
    if (output !== "") out.push(output);
    // A single-form output ends at a blank line: make sure one follows.
    const next = script.blocks[i + 1]?.prelude ?? script.trailer;
    const more = i + 1 < script.blocks.length || next.length > 0;
    if (more && (next[0] ?? "x").trim() !== "") out.push("");
  });
  out.push(...script.trailer);
  return `${out.join("\n")}\n`;
}
