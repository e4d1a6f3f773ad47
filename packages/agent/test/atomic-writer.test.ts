// Projected volume files are swapped atomically through the ..data symlink, with their modes,
// and a write of unchanged content changes nothing.

import {
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeAtomically } from "../src/volumes/atomic-writer.js";

const root = mkdtempSync(join(tmpdir(), "tug-agent-atomic-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("writeAtomically", () => {
  it("writes files behind ..data, swaps the payload on change and drops stale names", () => {
    const dir = join(root, "vol");
    expect(
      writeAtomically(dir, [
        { path: "a", content: Buffer.from("one"), mode: 0o644 },
        { path: "sub/b", content: Buffer.from("two"), mode: 0o400 },
      ]),
    ).toBe(true);
    expect(readFileSync(join(dir, "a"), "utf8")).toBe("one");
    expect(readFileSync(join(dir, "sub/b"), "utf8")).toBe("two");
    expect(lstatSync(join(dir, "a")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, "a"))).toBe("..data/a");
    expect(statSync(join(dir, "sub/b")).mode & 0o777).toBe(0o400);
    const firstPayload = readlinkSync(join(dir, "..data"));

    expect(
      writeAtomically(dir, [
        { path: "a", content: Buffer.from("one"), mode: 0o644 },
        { path: "sub/b", content: Buffer.from("two"), mode: 0o400 },
      ]),
    ).toBe(false);
    expect(readlinkSync(join(dir, "..data"))).toBe(firstPayload);

    expect(writeAtomically(dir, [{ path: "a", content: Buffer.from("uno"), mode: 0o644 }])).toBe(
      true,
    );
    expect(readFileSync(join(dir, "a"), "utf8")).toBe("uno");
    expect(readlinkSync(join(dir, "..data"))).not.toBe(firstPayload);
    expect(readdirSync(dir).sort()).toEqual(
      ["..data", readlinkSync(join(dir, "..data")), "a"].sort(),
    );
  });

  it("refuses paths that leave the volume", () => {
    expect(() =>
      writeAtomically(join(root, "bad"), [{ path: "../x", content: Buffer.from(""), mode: 0o644 }]),
    ).toThrow(/must be relative and must not contain '\.\.'/);
  });
});
