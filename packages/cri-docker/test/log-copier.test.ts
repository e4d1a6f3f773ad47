// LogCopier against a fake engine container: what reaches the CRI log file when the engine
// fails the read that catches up after the container's exit.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import { afterEach, describe, expect, it } from "vitest";
import { encodeFrame, STDOUT } from "../src/docker-stream.js";
import { LogCopier } from "../src/log-copier.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const T1 = "2026-12-06T10:00:00.000000001Z";
const T2 = "2026-12-06T10:00:00.000000002Z";

/** A container whose followed log gives `frames` and ends, that has exited, and whose
 * catch-up read (logs without follow) fails as an engine under load may fail it. */
function exitedContainer(frames: Buffer[]): Docker.Container {
  const fake = {
    logs: async (opts: { follow?: boolean }) => {
      if (opts.follow !== true) throw new Error("socket hang up");
      const stream = new PassThrough();
      for (const f of frames) stream.write(f);
      stream.end();
      return stream;
    },
    wait: async () => ({ StatusCode: 0 }),
  };
  return fake as unknown as Docker.Container;
}

describe("LogCopier", () => {
  it("writes what it followed, the held partial last line too, when the catch-up read fails", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tug-log-copier-"));
    dirs.push(dir);
    const path = join(dir, "c", "0.log");
    const errors: unknown[] = [];
    const copier = new LogCopier(
      exitedContainer([
        encodeFrame(STDOUT, Buffer.from(`${T1} hello\n`)),
        encodeFrame(STDOUT, Buffer.from(`${T2} no newline`)),
      ]),
      path,
      false,
      (e) => errors.push(e),
    );
    await copier.done;
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toContain("socket hang up");
    expect(readFileSync(path, "utf8")).toBe(`${T1} stdout F hello\n${T2} stdout F no newline\n`);
  });
});
