import { describe, expect, it } from "vitest";
import { applyJsonPatch } from "../../src/patch/json-patch.js";
import { formatJsonPointer, parseJsonPointer } from "../../src/patch/json-pointer.js";
import type { JsonValue } from "../../src/patch/json-value.js";

// RFC 6901 §5: the example document and what each pointer evaluates to.
const RFC_6901_DOCUMENT = JSON.parse(
  '{"foo":["bar","baz"],"":0,"a/b":1,"c%d":2,"e^f":3,"g|h":4,"i\\\\j":5,"k\\"l":6," ":7,"m~n":8}',
) as JsonValue;
const RFC_6901_EXAMPLES: [string, JsonValue][] = [
  ["", RFC_6901_DOCUMENT],
  ["/foo", ["bar", "baz"]],
  ["/foo/0", "bar"],
  ["/", 0],
  ["/a~1b", 1],
  ["/c%d", 2],
  ["/e^f", 3],
  ["/g|h", 4],
  ["/i\\j", 5],
  ['/k"l', 6],
  ["/ ", 7],
  ["/m~0n", 8],
];

describe("JSON pointer (RFC 6901)", () => {
  it.each(RFC_6901_EXAMPLES)("%j evaluates as in section 5", (pointer, value) => {
    // A "test" operation evaluates the pointer and compares; it throws if either is wrong.
    expect(applyJsonPatch(RFC_6901_DOCUMENT, [{ op: "test", path: pointer, value }])).toEqual(
      RFC_6901_DOCUMENT,
    );
  });

  it("unescapes ~1 before ~0", () => {
    expect(parseJsonPointer("/~01")).toEqual(["~1"]);
    expect(parseJsonPointer("/a~1b/~0/")).toEqual(["a/b", "~", ""]);
    expect(parseJsonPointer("")).toEqual([]);
  });

  it("formats tokens back into the same pointer", () => {
    for (const pointer of ["", "/", "/~01", "/a~1b/~0/", "/spec/containers/0/name"]) {
      expect(formatJsonPointer(parseJsonPointer(pointer))).toBe(pointer);
    }
  });

  it("rejects a pointer without a leading / and a bad ~ escape", () => {
    expect(() => parseJsonPointer("spec")).toThrow(
      'JSON pointer "spec" must be "" (the whole document) or start with "/"',
    );
    expect(() => parseJsonPointer("/a~")).toThrow(
      'JSON pointer "/a~" has a "~" not followed by 0 or 1',
    );
  });
});
