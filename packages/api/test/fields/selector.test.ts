import { describe, expect, it } from "vitest";
import { escapeValue, Selector, SelectorError, unescapeValue } from "../../src/fields/index.js";

function selectorError(f: () => unknown): SelectorError {
  try {
    f();
  } catch (e) {
    if (e instanceof SelectorError) return e;
    throw e;
  }
  throw new Error("expected a SelectorError, nothing was thrown");
}

describe("parse: canonical form", () => {
  const cases: [string, string][] = [
    ["", ""],
    [",", ""],
    ["metadata.name=x", "metadata.name=x"],
    ["metadata.name==x", "metadata.name=x"],
    ["spec.nodeName!=", "spec.nodeName!="],
    ["spec.nodeName=", "spec.nodeName="],
    [
      "metadata.name=x,spec.nodeName!=,status.phase=Running",
      "metadata.name=x,spec.nodeName!=,status.phase=Running",
    ],
    ["status.phase=Running,metadata.name=x", "metadata.name=x,status.phase=Running"],
    ["a=b,,c=d", "a=b,c=d"],
    ["a=b\\,c", "a=b\\,c"],
    ["a=b\\=c", "a=b\\=c"],
    ["a=b\\\\c", "a=b\\\\c"],
    ["a=!b", "a=!b"],
    ["a=x y", "a=x y"],
  ];
  it.each(cases)("%j prints %j", (input, want) => {
    const s = Selector.parse(input);
    expect(s.toString()).toBe(want);
    expect(Selector.parse(s.toString()).toString()).toBe(want);
  });

  it("exposes the requirements with values unescaped", () => {
    expect(Selector.parse("b!=x\\,y,a==1").requirements).toEqual([
      { field: "a", operator: "=", value: "1" },
      { field: "b", operator: "!=", value: "x,y" },
    ]);
  });
});

describe("parse: errors", () => {
  const cases: [string, string][] = [
    ["metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"],
    ["a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'"],
    ["a!b", "invalid selector: 'a!b'; can't understand 'a!b'"],
    ["a=b=c", "invalid field selector: unescaped character in value: '='"],
    ["a=b\\x", "invalid field selector: invalid escape sequence: \\x"],
    ["a=b\\", "invalid field selector: invalid escape sequence: \\"],
    ["a!==b", "invalid field selector: unescaped character in value: '='"],
  ];
  it.each(cases)("%j", (input, reason) => {
    const err = selectorError(() => Selector.parse(input));
    expect(err.reason).toBe(reason);
    expect(err.kind).toBe("field");
    expect(err.code).toBe("invalid_argument");
    expect(err.message).toBe(`invalid field selector ${JSON.stringify(input)}: ${reason}`);
  });
});

describe("matches", () => {
  const pod: Record<string, string> = {
    "metadata.name": "web-1",
    "metadata.namespace": "default",
    "spec.nodeName": "",
    "status.phase": "Pending",
  };
  const cases: [string, boolean][] = [
    ["", true],
    ["metadata.name=web-1", true],
    ["metadata.name==web-1", true],
    ["metadata.name=web-2", false],
    ["metadata.name!=web-2", true],
    ["spec.nodeName=", true],
    ["spec.nodeName!=", false],
    ["status.phase=Pending,metadata.namespace=default", true],
    ["status.phase=Running,metadata.namespace=default", false],
    ["status.phase!=Running,status.phase!=Succeeded", true],
  ];
  it.each(cases)("%j is %s", (selector, want) => {
    const s = Selector.parse(selector);
    expect(s.matches(pod)).toBe(want);
    expect(s.matches((field) => pod[field] ?? "")).toBe(want);
  });

  it("reads a field missing from the map as empty", () => {
    expect(Selector.parse("spec.hostname=").matches({})).toBe(true);
    expect(Selector.parse("constructor=").matches({})).toBe(true);
  });
});

describe("checkFields", () => {
  const supported = ["metadata.name", "metadata.namespace", "spec.nodeName", "status.phase"];
  it("accepts supported fields", () => {
    expect(() =>
      Selector.parse("spec.nodeName=n1,status.phase!=Failed").checkFields(supported),
    ).not.toThrow();
    expect(() => Selector.everything().checkFields([])).not.toThrow();
  });
  it("names the unsupported field and lists the supported ones", () => {
    const err = selectorError(() =>
      Selector.parse("metadata.name=a,spec.host=n1").checkFields(supported),
    );
    expect(err.reason).toBe(
      "field label not supported: spec.host; supported field labels: metadata.name, metadata.namespace, spec.nodeName, status.phase",
    );
    expect(err.selector).toBe("metadata.name=a,spec.host=n1");
  });
});

describe("builders", () => {
  it("builds one-term selectors", () => {
    expect(Selector.oneTermEqual("spec.nodeName", "n,1").toString()).toBe("spec.nodeName=n\\,1");
    expect(Selector.oneTermNotEqual("status.phase", "Failed").toString()).toBe(
      "status.phase!=Failed",
    );
  });
  it("builds from a set", () => {
    const s = Selector.fromSet({ "metadata.namespace": "ns", "metadata.name": "a" });
    expect(s.toString()).toBe("metadata.name=a,metadata.namespace=ns");
    expect(Selector.fromSet({}).isEverything()).toBe(true);
  });
  it("reports the value a field must have", () => {
    const s = Selector.parse("spec.nodeName=n1,status.phase!=Failed");
    expect(s.requiresExactMatch("spec.nodeName")).toBe("n1");
    expect(s.requiresExactMatch("status.phase")).toBeUndefined();
    expect(s.requiresExactMatch("metadata.name")).toBeUndefined();
  });
  it("does not share mutable requirements", () => {
    const r = [{ field: "a", operator: "=" as const, value: "1" }];
    const s = Selector.of(r);
    r[0]!.value = "2";
    expect(s.toString()).toBe("a=1");
    expect(Object.isFrozen(s.requirements)).toBe(true);
  });
});

describe("escaping", () => {
  const cases: [string, string][] = [
    ["", ""],
    ["plain", "plain"],
    ["a,b", "a\\,b"],
    ["a=b", "a\\=b"],
    ["a\\b", "a\\\\b"],
    ["\\,=", "\\\\\\,\\="],
  ];
  it.each(cases)("%j <-> %j", (raw, escaped) => {
    expect(escapeValue(raw)).toBe(escaped);
    expect(unescapeValue(escaped)).toEqual({ value: raw });
  });
});
