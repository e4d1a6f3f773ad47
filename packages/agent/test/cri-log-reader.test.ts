// CRI log files as tug-cri-docker writes them: entries, partial lines joined per stream, and
// a reader that only returns whole lines.

import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CriLogParser } from "../src/index.js";
import { readFrom } from "../src/server/cri-log-reader.js";

const dir = mkdtempSync(join(tmpdir(), "tug-agent-log-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("CriLogParser", () => {
  it("returns full lines and joins partial entries of the same stream", () => {
    const p = new CriLogParser();
    const lines = p.push(
      [
        "2016-10-06T00:17:09.669794202Z stdout F The content of the log entry 1",
        "2016-10-06T00:17:09.669794203Z stdout P First line of log entry 2",
        "2016-10-06T00:17:09.669794204Z stderr F an error",
        "2016-10-06T00:17:09.669794205Z stdout F , continued",
        "2016-10-06T00:17:09.669794206Z stdout F ",
        "",
      ].join("\n"),
    );
    expect(lines).toEqual([
      {
        time: "2016-10-06T00:17:09.669794202Z",
        stream: "stdout",
        content: "The content of the log entry 1",
      },
      { time: "2016-10-06T00:17:09.669794204Z", stream: "stderr", content: "an error" },
      {
        time: "2016-10-06T00:17:09.669794203Z",
        stream: "stdout",
        content: "First line of log entry 2, continued",
      },
      { time: "2016-10-06T00:17:09.669794206Z", stream: "stdout", content: "" },
    ]);
  });

  it("keeps an unfinished line for the next push", () => {
    const p = new CriLogParser();
    expect(p.push("2016-10-06T00:17:09.1Z stdout F hel")).toEqual([]);
    expect(p.push("lo\n")).toEqual([
      { time: "2016-10-06T00:17:09.1Z", stream: "stdout", content: "hello" },
    ]);
  });
});

describe("readFrom", () => {
  it("reads whole lines from an offset and starts over after truncation", () => {
    const path = join(dir, "0.log");
    writeFileSync(path, "a\nb\npart");
    const first = readFrom(path, 0);
    expect(first).toEqual({ text: "a\nb\n", offset: 4 });
    appendFileSync(path, "ial\n");
    expect(readFrom(path, first.offset)).toEqual({ text: "partial\n", offset: 12 });
    writeFileSync(path, "new\n");
    expect(readFrom(path, 12)).toEqual({ text: "new\n", offset: 4 });
    expect(readFrom(join(dir, "missing.log"), 0)).toEqual({ text: "", offset: 0 });
  });
});
