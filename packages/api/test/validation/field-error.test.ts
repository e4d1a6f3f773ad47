import { describe, expect, it } from "vitest";
import {
  aggregateMessage,
  FieldError,
  FieldErrorAggregate,
  FieldPath,
  goQuote,
  root,
  throwIfAny,
} from "../../src/validation/field-error.js";
import { isDns1123Subdomain } from "../../src/validation/names.js";

describe("FieldPath", () => {
  const cases: [string, FieldPath, string][] = [
    ["root", root("spec"), "spec"],
    ["child", root("spec").child("containers"), "spec.containers"],
    ["several names at once", root("spec", "template", "spec"), "spec.template.spec"],
    ["child with more names", root("spec").child("template", "metadata"), "spec.template.metadata"],
    [
      "index then child",
      root("spec").child("containers").index(0).child("name"),
      "spec.containers[0].name",
    ],
    ["key", root("metadata").child("labels").key("foo"), "metadata.labels[foo]"],
    [
      "key with dots and slash",
      root("data").key("app.kubernetes.io/name"),
      "data[app.kubernetes.io/name]",
    ],
    ["index of index", root("a").index(1).index(2), "a[1][2]"],
    ["empty root", root("").child("a"), "a"],
    ["empty root subscript", root("").index(3), "[3]"],
  ];
  it.each(cases)("%s", (_, path, want) => {
    expect(path.toString()).toBe(want);
  });

  it("leaves the parent unchanged when extended", () => {
    const spec = root("spec");
    spec.child("a");
    spec.index(1);
    expect(spec.toString()).toBe("spec");
    expect(FieldPath.root("x").toString()).toBe("x");
  });
});

describe("FieldError messages", () => {
  const name = root("metadata").child("name");
  const cases: [string, FieldError, string][] = [
    [
      "required",
      FieldError.required(root("spec").child("containers").index(0).child("name")),
      "spec.containers[0].name: Required value",
    ],
    [
      "required with detail",
      FieldError.required(name, "name or generateName is required"),
      "metadata.name: Required value: name or generateName is required",
    ],
    [
      "invalid with the kubernetes subdomain text",
      FieldError.invalid(name, "Foo", isDns1123Subdomain("Foo").join("; ")),
      `metadata.name: Invalid value: "Foo": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    ],
    [
      "invalid number",
      FieldError.invalid(root("spec").child("replicas"), -1, "must be greater than or equal to 0"),
      "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
    ],
    ["invalid float", FieldError.invalid(root("x"), 1.5, "d"), "x: Invalid value: 1.5: d"],
    ["invalid boolean", FieldError.invalid(root("x"), true, "d"), "x: Invalid value: true: d"],
    ["invalid null", FieldError.invalid(root("x"), null, "d"), "x: Invalid value: null: d"],
    [
      "invalid undefined",
      FieldError.invalid(root("x"), undefined, "d"),
      "x: Invalid value: null: d",
    ],
    [
      "invalid string list",
      FieldError.invalid(root("values"), ["a", "b"], "d"),
      'values: Invalid value: []string{"a", "b"}: d',
    ],
    [
      "invalid object",
      FieldError.invalid(root("x"), { a: 1 }, "d"),
      'x: Invalid value: {"a":1}: d',
    ],
    ["invalid without detail", FieldError.invalid(root("x"), "v", ""), 'x: Invalid value: "v"'],
    [
      "invalid quotes escapes",
      FieldError.invalid(root("x"), 'a"b\\c\n', "d"),
      'x: Invalid value: "a\\"b\\\\c\\n": d',
    ],
    [
      "not supported",
      FieldError.notSupported(root("spec").child("restartPolicy"), "Sometimes", [
        "Always",
        "Never",
        "OnFailure",
      ]),
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"',
    ],
    [
      "not supported, nothing supported",
      FieldError.notSupported(root("x"), "y", []),
      'x: Unsupported value: "y"',
    ],
    [
      "duplicate",
      FieldError.duplicate(root("spec").child("containers").index(1).child("name"), "app"),
      'spec.containers[1].name: Duplicate value: "app"',
    ],
    [
      "duplicate number",
      FieldError.duplicate(root("spec").child("ports").index(1).child("port"), 80),
      "spec.ports[1].port: Duplicate value: 80",
    ],
    [
      "not found",
      FieldError.notFound(root("spec").child("volumeMounts").index(0).child("name"), "data"),
      'spec.volumeMounts[0].name: Not found: "data"',
    ],
    [
      "forbidden",
      FieldError.forbidden(
        root("spec"),
        "pod updates may not change fields other than `spec.containers[*].image`",
      ),
      "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`",
    ],
    [
      "too long hides the value",
      FieldError.tooLong(root("metadata").child("annotations"), "x".repeat(10), 262144),
      "metadata.annotations: Too long: must have at most 262144 bytes",
    ],
    [
      "too many",
      FieldError.tooMany(root("spec").child("containers"), 5, 3),
      "spec.containers: Too many: 5: must have at most 3 items",
    ],
    [
      "too many, one item (Kubernetes does not singularize)",
      FieldError.tooMany(root("x"), 2, 1),
      "x: Too many: 2: must have at most 1 items",
    ],
    [
      "too many, count omitted",
      FieldError.tooMany(root("x"), -1, 3),
      "x: Too many: must have at most 3 items",
    ],
    [
      "too many, no max",
      FieldError.tooMany(root("x"), 4, -1),
      "x: Too many: 4: has too many items",
    ],
    [
      "internal",
      FieldError.internal(root("spec"), new Error("boom")),
      "spec: Internal error: boom",
    ],
    [
      "internal from a string",
      FieldError.internal(root("spec"), "bad"),
      "spec: Internal error: bad",
    ],
  ];
  it.each(cases)("%s", (_, err, want) => {
    expect(err.message).toBe(want);
    expect(String(err)).toBe(want);
    expect(err.body).toBe(want.slice(err.field.length + 2));
  });

  it("carries the Kubernetes error type and the path", () => {
    const e = FieldError.notSupported(root("a").index(2), "x", ["y"]);
    expect(e.type).toBe("FieldValueNotSupported");
    expect(e.field).toBe("a[2]");
    expect(e.badValue).toBe("x");
    expect(e.detail).toBe('supported values: "y"');
  });
});

describe("goQuote", () => {
  const cases: [string, string][] = [
    ["", '""'],
    ["abc", '"abc"'],
    ["a b", '"a b"'],
    ["tab\there", '"tab\\there"'],
    ["\u0000", '"\\x00"'],
    ["\u007f", '"\\x7f"'],
    ["\u0007\b\f\r\v", '"\\a\\b\\f\\r\\v"'],
    ["héllo 世界", '"héllo 世界"'],
    ["\u00a0", '"\\u00a0"'],
    ["\u2028", '"\\u2028"'],
    ["😀", '"😀"'],
  ];
  it.each(cases)("%j", (input, want) => {
    expect(goQuote(input)).toBe(want);
  });
});

describe("aggregate", () => {
  const a = FieldError.required(root("a"));
  const b = FieldError.invalid(root("b"), "x", "bad");
  it("prints nothing for no errors", () => {
    expect(aggregateMessage([])).toBe("");
  });
  it("prints one error bare", () => {
    expect(aggregateMessage([a])).toBe("a: Required value");
  });
  it("joins several as [a, b]", () => {
    expect(aggregateMessage([a, b])).toBe('[a: Required value, b: Invalid value: "x": bad]');
  });
  it("drops duplicate messages", () => {
    expect(aggregateMessage([a, a])).toBe("a: Required value");
    expect(aggregateMessage([a, b, FieldError.required(root("a"))])).toBe(
      '[a: Required value, b: Invalid value: "x": bad]',
    );
  });
  it("throws an aggregate carrying the distinct errors", () => {
    expect(() => throwIfAny([])).not.toThrow();
    let caught: unknown;
    try {
      throwIfAny([a, b, a]);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(FieldErrorAggregate);
    const agg = caught as FieldErrorAggregate;
    expect(agg.code).toBe("invalid_argument");
    expect(agg.errors).toEqual([a, b]);
    expect(agg.message).toBe('[a: Required value, b: Invalid value: "x": bad]');
  });
});
