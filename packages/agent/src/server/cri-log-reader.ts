// Reads container logs in the CRI format (see tug-cri-docker's cri-log-file.ts):
//   <RFC 3339 nano timestamp> <stdout|stderr> <F|P> <content>
// Partial entries (P) are joined with the entries that follow on the same stream until an F
// entry ends the line, so a reader gets the lines the program wrote.

import { closeSync, openSync, readSync, statSync } from "node:fs";

/** One line the container wrote. */
export interface LogLine {
  time: string;
  stream: "stdout" | "stderr";
  /** The line, without its newline. */
  content: string;
}

/** Splits CRI log text into entries, joining partial ones; keeps unfinished partials in `pending`. */
export class CriLogParser {
  private readonly pending = new Map<string, { time: string; parts: string[] }>();
  private rest = "";

  /** Feeds text; returns the lines completed by it. */
  push(text: string): LogLine[] {
    const data = this.rest + text;
    const lines = data.split("\n");
    this.rest = lines.pop() ?? "";
    const out: LogLine[] = [];
    for (const raw of lines) {
      if (raw === "") continue;
      const a = raw.indexOf(" ");
      const b = raw.indexOf(" ", a + 1);
      const c = raw.indexOf(" ", b + 1);
      if (a < 0 || b < 0) continue;
      const time = raw.slice(0, a);
      const stream = raw.slice(a + 1, b) === "stderr" ? "stderr" : "stdout";
      const tag = c < 0 ? raw.slice(b + 1) : raw.slice(b + 1, c);
      const content = c < 0 ? "" : raw.slice(c + 1);
      const p = this.pending.get(stream) ?? { time, parts: [] };
      p.parts.push(content);
      if (tag === "P") {
        this.pending.set(stream, p);
        continue;
      }
      this.pending.delete(stream);
      out.push({ time: p.time, stream, content: p.parts.join("") });
    }
    return out;
  }
}

/** Reads `path` from byte `offset` to its end; returns the text and the new offset. */
export function readFrom(path: string, offset: number): { text: string; offset: number } {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return { text: "", offset };
  }
  if (size < offset) offset = 0; // rotated or truncated: start over
  if (size === offset) return { text: "", offset };
  const buf = Buffer.alloc(size - offset);
  const fd = openSync(path, "r");
  try {
    readSync(fd, buf, 0, buf.length, offset);
  } finally {
    closeSync(fd);
  }
  // Only whole UTF-8 text up to the last newline counts; the rest is read next time.
  const lastNewline = buf.lastIndexOf(0x0a);
  if (lastNewline < 0) return { text: "", offset };
  return {
    text: buf.subarray(0, lastNewline + 1).toString("utf8"),
    offset: offset + lastNewline + 1,
  };
}

/** Formats a line for output: its content, optionally prefixed with its timestamp. */
export function formatLine(line: LogLine, timestamps: boolean): string {
  return timestamps ? `${line.time} ${line.content}\n` : `${line.content}\n`;
}
