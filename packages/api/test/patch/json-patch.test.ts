import { describe, expect, it } from "vitest";
import {
  applyJsonPatch,
  type JsonPatchOperation,
  MAX_JSON_PATCH_OPERATIONS,
  parseJsonPatch,
} from "../../src/patch/json-patch.js";
import type { JsonValue } from "../../src/patch/json-value.js";
import { PatchError } from "../../src/patch/patch-error.js";

const parse = (text: string): JsonValue => JSON.parse(text) as JsonValue;
const ops = (text: string): JsonPatchOperation[] => parseJsonPatch(JSON.parse(text));

function patchError(run: () => unknown): PatchError {
  try {
    run();
  } catch (error) {
    if (error instanceof PatchError) return error;
    throw error;
  }
  throw new Error("expected a PatchError, but the patch applied");
}

// RFC 6902 Appendix A. A.13 (an operation object with "op" twice) is about JSON text with
// duplicate member names; JSON.parse keeps the last one, so it cannot reach this layer.
describe("applyJsonPatch: RFC 6902 Appendix A", () => {
  const succeeds: [string, string, string, string][] = [
    [
      "A.1 adding an object member",
      '{"foo":"bar"}',
      '[{"op":"add","path":"/baz","value":"qux"}]',
      '{"baz":"qux","foo":"bar"}',
    ],
    [
      "A.2 adding an array element",
      '{"foo":["bar","baz"]}',
      '[{"op":"add","path":"/foo/1","value":"qux"}]',
      '{"foo":["bar","qux","baz"]}',
    ],
    [
      "A.3 removing an object member",
      '{"baz":"qux","foo":"bar"}',
      '[{"op":"remove","path":"/baz"}]',
      '{"foo":"bar"}',
    ],
    [
      "A.4 removing an array element",
      '{"foo":["bar","qux","baz"]}',
      '[{"op":"remove","path":"/foo/1"}]',
      '{"foo":["bar","baz"]}',
    ],
    [
      "A.5 replacing a value",
      '{"baz":"qux","foo":"bar"}',
      '[{"op":"replace","path":"/baz","value":"boo"}]',
      '{"baz":"boo","foo":"bar"}',
    ],
    [
      "A.6 moving a value",
      '{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}',
      '[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]',
      '{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}',
    ],
    [
      "A.7 moving an array element",
      '{"foo":["all","grass","cows","eat"]}',
      '[{"op":"move","from":"/foo/1","path":"/foo/3"}]',
      '{"foo":["all","cows","eat","grass"]}',
    ],
    [
      "A.8 testing a value: success",
      '{"baz":"qux","foo":["a",2,"c"]}',
      '[{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]',
      '{"baz":"qux","foo":["a",2,"c"]}',
    ],
    [
      "A.10 adding a nested member object",
      '{"foo":"bar"}',
      '[{"op":"add","path":"/child","value":{"grandchild":{}}}]',
      '{"foo":"bar","child":{"grandchild":{}}}',
    ],
    [
      "A.11 ignoring unrecognized elements",
      '{"foo":"bar"}',
      '[{"op":"add","path":"/baz","value":"qux","xyz":123}]',
      '{"foo":"bar","baz":"qux"}',
    ],
    [
      "A.14 ~ escape ordering",
      '{"/":9,"~1":10}',
      '[{"op":"test","path":"/~01","value":10}]',
      '{"/":9,"~1":10}',
    ],
    [
      "A.16 adding an array value",
      '{"foo":["bar"]}',
      '[{"op":"add","path":"/foo/-","value":["abc","def"]}]',
      '{"foo":["bar",["abc","def"]]}',
    ],
  ];
  it.each(succeeds)("%s", (_name, document, patch, result) => {
    expect(applyJsonPatch(parse(document), ops(patch))).toEqual(parse(result));
  });

  it("A.9 testing a value: error", () => {
    const error = patchError(() =>
      applyJsonPatch(parse('{"baz":"qux"}'), ops('[{"op":"test","path":"/baz","value":"bar"}]')),
    );
    expect(error.message).toBe(
      'patch operation 0 (test /baz): test failed: the value is "qux", expected "bar"',
    );
    expect(error.reason).toBe("failed");
  });

  it("A.12 adding to a nonexistent target", () => {
    const error = patchError(() =>
      applyJsonPatch(parse('{"foo":"bar"}'), ops('[{"op":"add","path":"/baz/bat","value":"qux"}]')),
    );
    expect(error.message).toBe(
      'patch operation 0 (add /baz/bat): path not found: the document has no member "baz"',
    );
  });

  it("A.15 comparing strings and numbers", () => {
    const error = patchError(() =>
      applyJsonPatch(parse('{"/":9,"~1":10}'), ops('[{"op":"test","path":"/~01","value":"10"}]')),
    );
    expect(error.message).toBe(
      'patch operation 0 (test /~01): test failed: the value is 10, expected "10"',
    );
  });
});

describe("applyJsonPatch", () => {
  const deployment = () =>
    parse(
      '{"metadata":{"name":"web","labels":{"app":"web"}},"spec":{"template":{"spec":{"containers":[{"name":"a"},{"name":"b"}]}}}}',
    );

  it("names the operation index, op and path when a path is missing", () => {
    const patch = ops(
      '[{"op":"test","path":"/metadata/name","value":"web"},{"op":"add","path":"/metadata/labels/tier","value":"fe"},{"op":"replace","path":"/spec/replicas","value":3}]',
    );
    const error = patchError(() => applyJsonPatch(deployment(), patch));
    expect(error.message).toBe(
      'patch operation 2 (replace /spec/replicas): path not found: /spec has no member "replicas"',
    );
    expect(error.operationIndex).toBe(2);
    expect(error.op).toBe("replace");
    expect(error.path).toBe("/spec/replicas");
    expect(error.code).toBe("failed_precondition");
  });

  it("is all or nothing and never mutates the document or the patch", () => {
    const document = deployment();
    const patch = ops(
      '[{"op":"add","path":"/metadata/labels/tier","value":{"x":1}},{"op":"add","path":"/metadata/labels/tier/y","value":2},{"op":"remove","path":"/nope"}]',
    );
    const before = JSON.stringify([document, patch]);
    expect(() => applyJsonPatch(document, patch)).toThrow(
      "patch operation 2 (remove /nope): path not found",
    );
    expect(JSON.stringify([document, patch])).toBe(before);
    const ok = applyJsonPatch(document, patch.slice(0, 2));
    expect(ok).toMatchObject({ metadata: { labels: { app: "web", tier: { x: 1, y: 2 } } } });
    expect(JSON.stringify([document, patch])).toBe(before);
  });

  it("adds, replaces and removes array elements, and appends with -", () => {
    const result = applyJsonPatch(
      deployment(),
      ops(`[
        {"op":"add","path":"/spec/template/spec/containers/0","value":{"name":"init"}},
        {"op":"add","path":"/spec/template/spec/containers/-","value":{"name":"last"}},
        {"op":"replace","path":"/spec/template/spec/containers/1/name","value":"A"},
        {"op":"remove","path":"/spec/template/spec/containers/2"}
      ]`),
    );
    expect(result).toMatchObject({
      spec: {
        template: { spec: { containers: [{ name: "init" }, { name: "A" }, { name: "last" }] } },
      },
    });
  });

  it("copies deeply: changing the copy leaves the source alone", () => {
    const result = applyJsonPatch(
      parse('{"a":{"b":[1]}}'),
      ops('[{"op":"copy","from":"/a","path":"/c"},{"op":"add","path":"/c/b/-","value":2}]'),
    );
    expect(result).toEqual({ a: { b: [1] }, c: { b: [1, 2] } });
  });

  it('replaces and tests the whole document with path ""', () => {
    expect(
      applyJsonPatch(parse('{"a":1}'), ops('[{"op":"replace","path":"","value":[1]}]')),
    ).toEqual([1]);
    expect(applyJsonPatch(parse('{"a":1}'), ops('[{"op":"add","path":"","value":"x"}]'))).toEqual(
      "x",
    );
    expect(
      applyJsonPatch(parse('{"a":1}'), ops('[{"op":"test","path":"","value":{"a":1}}]')),
    ).toEqual({ a: 1 });
    expect(() => applyJsonPatch(parse('{"a":1}'), ops('[{"op":"remove","path":""}]'))).toThrow(
      'patch operation 0 (remove ""): cannot remove the whole document; use "replace" with path ""',
    );
  });

  it("moving a value onto itself changes nothing; moving into its own child fails", () => {
    expect(
      applyJsonPatch(parse('{"a":{"b":1}}'), ops('[{"op":"move","from":"/a","path":"/a"}]')),
    ).toEqual({ a: { b: 1 } });
    expect(() =>
      applyJsonPatch(parse('{"a":{"b":1}}'), ops('[{"op":"move","from":"/a","path":"/a/b/c"}]')),
    ).toThrow(
      'patch operation 0 (move /a/b/c): cannot move /a into its own child; "from" must not be a prefix of "path"',
    );
  });

  it("tests objects regardless of member order, arrays in order", () => {
    const document = parse('{"o":{"a":1,"b":[1,2]}}');
    expect(
      applyJsonPatch(document, ops('[{"op":"test","path":"/o","value":{"b":[1,2],"a":1}}]')),
    ).toEqual(document);
    expect(() =>
      applyJsonPatch(document, ops('[{"op":"test","path":"/o/b","value":[2,1]}]')),
    ).toThrow("patch operation 0 (test /o/b): test failed: the value is [1,2], expected [2,1]");
  });

  it("reports array index errors: past the end, out of range, not an index, - outside add", () => {
    const doc = parse('{"a":[0,1,2]}');
    expect(
      patchError(() => applyJsonPatch(doc, ops('[{"op":"add","path":"/a/4","value":9}]'))).message,
    ).toBe(
      'patch operation 0 (add /a/4): path not found: index 4 is past the end of /a (length 3); use "-" to append',
    );
    expect(applyJsonPatch(doc, ops('[{"op":"add","path":"/a/3","value":9}]'))).toEqual({
      a: [0, 1, 2, 9],
    });
    expect(
      patchError(() => applyJsonPatch(doc, ops('[{"op":"remove","path":"/a/3"}]'))).message,
    ).toBe(
      "patch operation 0 (remove /a/3): path not found: index 3 is out of range for /a (length 3)",
    );
    expect(
      patchError(() => applyJsonPatch(doc, ops('[{"op":"replace","path":"/a/01","value":9}]')))
        .message,
    ).toBe(
      'patch operation 0 (replace /a/01): "01" is not an array index: use a non-negative integer without leading zeros, or "-" to append',
    );
    expect(
      patchError(() => applyJsonPatch(doc, ops('[{"op":"test","path":"/a/-","value":2}]'))).message,
    ).toBe(
      "patch operation 0 (test /a/-): path not found: index - is out of range for /a (length 3)",
    );
  });

  it("reports a missing from path and a path through a scalar", () => {
    const doc = parse('{"a":"text"}');
    expect(
      patchError(() => applyJsonPatch(doc, ops('[{"op":"copy","from":"/x","path":"/y"}]'))).message,
    ).toBe('patch operation 0 (copy /y): "from" path not found: the document has no member "x"');
    expect(
      patchError(() => applyJsonPatch(doc, ops('[{"op":"move","from":"/x","path":"/y"}]'))).message,
    ).toBe('patch operation 0 (move /y): "from" path not found: the document has no member "x"');
    expect(
      patchError(() => applyJsonPatch(doc, ops('[{"op":"add","path":"/a/b","value":1}]'))).message,
    ).toBe("patch operation 0 (add /a/b): path not found: /a is a string, not an object or array");
  });

  it('treats "__proto__" as an ordinary member name', () => {
    const result = applyJsonPatch(
      parse("{}"),
      ops('[{"op":"add","path":"/__proto__","value":{"polluted":true}}]'),
    );
    expect(Object.keys(result as object)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(() =>
      applyJsonPatch(parse("{}"), ops('[{"op":"test","path":"/constructor","value":1}]')),
    ).toThrow('path not found: the document has no member "constructor"');
  });
});

describe("parseJsonPatch", () => {
  const malformed: [string, unknown, string][] = [
    [
      "not an array",
      { op: "add" },
      'a JSON patch must be an array of operations such as [{"op":"replace","path":"/spec/replicas","value":3}], got an object',
    ],
    [
      "an operation that is not an object",
      [1],
      'patch operation 0: must be an object with "op" and "path", got a number',
    ],
    [
      "an unknown op",
      [{ op: "delete", path: "/a" }],
      'patch operation 0 (delete /a): "op" must be one of add, remove, replace, move, copy, test; got "delete"',
    ],
    [
      "a missing op",
      [{ path: "/a" }],
      'patch operation 0 (/a): "op" must be one of add, remove, replace, move, copy, test; got none',
    ],
    [
      "a missing path",
      [{ op: "remove" }],
      'patch operation 0 (remove): "path" must be a string holding a JSON pointer such as "/spec/replicas"; got none',
    ],
    [
      "a missing value",
      [
        { op: "test", path: "/a", value: 1 },
        { op: "add", path: "/a" },
      ],
      'patch operation 1 (add /a): "value" is required for "add"',
    ],
    [
      "a missing from",
      [{ op: "move", path: "/a" }],
      'patch operation 0 (move /a): "from" must be a string holding the JSON pointer to move from; got none',
    ],
    [
      "a path without a leading /",
      [{ op: "remove", path: "a" }],
      'patch operation 0 (remove a): "path": JSON pointer "a" must be "" (the whole document) or start with "/"',
    ],
    [
      "a bad ~ escape in from",
      [{ op: "copy", from: "/a~2", path: "/b" }],
      'patch operation 0 (copy /b): "from": JSON pointer "/a~2" has a "~" not followed by 0 or 1: write "~0" for "~" and "~1" for "/"',
    ],
  ];
  it.each(malformed)("rejects %s", (_name, patch, message) => {
    const error = patchError(() => parseJsonPatch(patch));
    expect(error.message).toBe(message);
    expect(error.reason).toBe("malformed");
    expect(error.code).toBe("invalid_argument");
  });

  it("rejects more operations than kube-apiserver allows", () => {
    const test = { op: "test", path: "", value: null };
    expect(
      parseJsonPatch(Array.from({ length: MAX_JSON_PATCH_OPERATIONS }, () => test)),
    ).toHaveLength(MAX_JSON_PATCH_OPERATIONS);
    const error = patchError(() =>
      parseJsonPatch(Array.from({ length: MAX_JSON_PATCH_OPERATIONS + 1 }, () => test)),
    );
    expect(error.message).toBe(
      "The allowed maximum operations in a JSON patch is 10000, got 10001",
    );
    expect(error.code).toBe("resource_exhausted");
  });

  it("accepts null as a value", () => {
    expect(parseJsonPatch([{ op: "add", path: "/a", value: null }])).toEqual([
      { op: "add", path: "/a", value: null },
    ]);
  });
});
