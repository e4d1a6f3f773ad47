// The CRI log format and Docker's stream framing, without an engine.

import { mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CriLogFile, criTimestamp, lastLogTimestamp } from "../src/cri-log-file.js";
import { encodeFrame, FrameDecoder } from "../src/docker-stream.js";
import { rfc3339ToNanos } from "../src/docker-time.js";
import { splitMessage } from "../src/log-copier.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("CRI log file", () => {
  it("writes `<time> <stream> <tag> <content>` lines and reopens after rotation", () => {
    const dir = mkdtempSync(join(tmpdir(), "tug-cri-log-"));
    dirs.push(dir);
    const path = join(dir, "c", "0.log");
    const file = new CriLogFile(path);
    file.write("2016-10-06T00:17:09.669794202Z", "stdout", "F", Buffer.from("The content 1"));
    file.write("2016-10-06T00:17:09.669794203Z", "stderr", "P", Buffer.from("First part"));
    renameSync(path, `${path}.1`);
    file.reopen();
    file.write("2016-10-06T00:17:10.000000000Z", "stderr", "F", Buffer.from("second part"));
    file.close();
    expect(readFileSync(`${path}.1`, "utf8")).toBe(
      "2016-10-06T00:17:09.669794202Z stdout F The content 1\n" +
        "2016-10-06T00:17:09.669794203Z stderr P First part\n",
    );
    expect(readFileSync(path, "utf8")).toBe(
      "2016-10-06T00:17:10.000000000Z stderr F second part\n",
    );
    expect(lastLogTimestamp(path)).toBe("2016-10-06T00:17:10.000000000Z");
    expect(lastLogTimestamp(join(dir, "missing.log"))).toBeUndefined();
  });

  it("formats timestamps with nine fraction digits", () => {
    expect(criTimestamp(new Date("2016-10-06T00:17:09.669Z"))).toBe(
      "2016-10-06T00:17:09.669000000Z",
    );
  });
});

describe("Docker log messages", () => {
  it("splits a timestamped message into entries; one without a newline is partial", () => {
    const [full] = splitMessage(Buffer.from("2016-10-06T00:17:09.669794202Z hello\n"));
    expect(full).toEqual({
      time: "2016-10-06T00:17:09.669794202Z",
      content: Buffer.from("hello"),
      complete: true,
    });
    const [partial] = splitMessage(Buffer.from("2016-10-06T00:17:09.669794202Z no newline"));
    expect(partial?.complete).toBe(false);
    expect(partial?.content.toString()).toBe("no newline");
    const twoLines = "2016-10-06T00:17:09.000000001Z a\r\n2016-10-06T00:17:09.000000002Z b\r\n";
    const tty = splitMessage(Buffer.from(twoLines), true);
    expect(tty.map((e) => [e.time, e.content.toString()])).toEqual([
      ["2016-10-06T00:17:09.000000001Z", "a"],
      ["2016-10-06T00:17:09.000000002Z", "b"],
    ]);
    // Without a TTY a \r is the container's own byte (a file printed with CRLF): kept.
    const plain = splitMessage(Buffer.from(twoLines));
    expect(plain.map((e) => e.content.toString())).toEqual(["a\r", "b\r"]);
  });

  it("decodes multiplexed frames across chunk boundaries", () => {
    const frames: Array<[number, string]> = [];
    const decoder = new FrameDecoder((type, payload) => frames.push([type, payload.toString()]));
    const wire = Buffer.concat([
      encodeFrame(1, Buffer.from("out")),
      encodeFrame(2, Buffer.from("err!")),
    ]);
    for (const byte of wire) decoder.push(Buffer.from([byte]));
    expect(frames).toEqual([
      [1, "out"],
      [2, "err!"],
    ]);
  });

  it("converts Docker times to CRI nanoseconds; the zero time is 0", () => {
    expect(rfc3339ToNanos("2016-10-06T00:17:09.669794202Z")).toBe(1475713029669794202n);
    expect(rfc3339ToNanos("2016-10-06T00:17:09Z")).toBe(1475713029000000000n);
    expect(rfc3339ToNanos("0001-01-01T00:00:00Z")).toBe(0n);
  });
});
