import { describe, expect, it } from "vitest";
import { Requirement, Selector, SelectorError } from "../../src/labels/index.js";
import { root } from "../../src/validation/field-error.js";

const QNAME_RULE =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_RULE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', or 'my_value', or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

function selectorError(f: () => unknown): SelectorError {
  try {
    f();
  } catch (e) {
    if (e instanceof SelectorError) return e;
    throw e;
  }
  throw new Error("expected a SelectorError, nothing was thrown");
}

describe("parse: canonical string form", () => {
  const cases: [string, string][] = [
    ["", ""],
    ["   ", ""],
    ["x=a", "x=a"],
    ["x=a,y=b,z=c", "x=a,y=b,z=c"],
    ["z=c,x=a,y=b", "x=a,y=b,z=c"],
    ["x==a", "x==a"],
    ["x!=a,y=b", "x!=a,y=b"],
    ["  a  =  b  ", "a=b"],
    ["x=,z= ", "x=,z="],
    ["x= ,z= ", "x=,z="],
    ["x", "x"],
    ["!x", "!x"],
    ["! x", "!x"],
    ["x>1", "x>1"],
    ["x<7", "x<7"],
    ["x in (a)", "x in (a)"],
    ["x in (foo, bar )", "x in (bar,foo)"],
    ["x in (b,a,b)", "x in (a,b)"],
    ["x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()"],
    ["x in ( )", "x in ()"],
    ["x in (,)", "x in ()"],
    ["x in (a,)", "x in (,a)"],
    ["x in (,a)", "x in (,a)"],
    ["w in (in, notin)", "w in (in,notin)"],
    ["in=notin", "in=notin"],
    ["notin notin (in)", "notin notin (in)"],
    ["x in (a),x notin (b)", "x in (a),x notin (b)"],
    [
      "app.kubernetes.io/name=web,tier in (frontend)",
      "app.kubernetes.io/name=web,tier in (frontend)",
    ],
    ["a=b,c!=d,e in (x,y),f notin (z),g,!h", "a=b,c!=d,e in (x,y),f notin (z),g,!h"],
    ["\tenv\n=\rprod", "env=prod"],
  ];
  it.each(cases)("%j prints %j", (input, want) => {
    const s = Selector.parse(input);
    expect(s.toString()).toBe(want);
    // The canonical form parses to itself.
    expect(Selector.parse(s.toString()).toString()).toBe(want);
  });

  it("exposes the requirements, sorted by key", () => {
    const s = Selector.parse("b in (y,x),a,!c,d>3");
    expect(s.requirements.map((r) => [r.key, r.operator, r.values])).toEqual([
      ["a", "exists", []],
      ["b", "in", ["x", "y"]],
      ["c", "!", []],
      ["d", "gt", ["3"]],
    ]);
    expect(s.selectable).toBe(true);
  });
});

describe("parse: errors", () => {
  const cases: [string, string][] = [
    [",x", "found ',', expected: !, identifier, or 'end of string'"],
    ["=a", "found '=', expected: !, identifier, or 'end of string'"],
    ["x=a,", "found '', expected: identifier after ','"],
    ["x=a,,y", "found ',', expected: identifier after ','"],
    ["x=a b", "found 'b', expected: ',' or 'end of string'"],
    ["!x=a", "found '=', expected: ',' or 'end of string'"],
    ["!", "unable to parse requirement: found '', expected: identifier"],
    ["!!x", "unable to parse requirement: found '!', expected: identifier"],
    ["x y", "unable to parse requirement: found 'y', expected: '=', '!=', '==', 'in', notin'"],
    ["x (a)", "unable to parse requirement: found '(', expected: '=', '!=', '==', 'in', notin'"],
    ["x in a", "unable to parse requirement: found 'a' expected: '('"],
    ["x in", "unable to parse requirement: found '' expected: '('"],
    ["x in (a", "unable to parse requirement: found '', expected: ',' or ')'"],
    ["x in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'"],
    ["x in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"],
    ["x in (a,=)", "unable to parse requirement: found '=', expected: ',', or identifier"],
    ["x=(a)", "unable to parse requirement: found '(', expected: identifier"],
    ["x==!", "unable to parse requirement: found '!', expected: identifier"],
    [
      "x>a",
      `unable to parse requirement: values[0]: Invalid value: "a": for 'Gt', 'Lt' operators, the value must be an integer`,
    ],
    [
      "x<",
      `unable to parse requirement: values[0]: Invalid value: "": for 'Gt', 'Lt' operators, the value must be an integer`,
    ],
    [
      "x>99999999999999999999",
      `unable to parse requirement: values[0]: Invalid value: "99999999999999999999": for 'Gt', 'Lt' operators, the value must be an integer`,
    ],
    ["-x", `unable to parse requirement: key: Invalid value: "-x": name part ${QNAME_RULE}`],
    [
      "a/b/c=d",
      `unable to parse requirement: key: Invalid value: "a/b/c": a qualified name ${QNAME_RULE} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ],
    [
      "x=a||y=b",
      `unable to parse requirement: values[0][x]: Invalid value: "a||y": ${LABEL_VALUE_RULE}`,
    ],
    ["x<-7", `unable to parse requirement: values[0][x]: Invalid value: "-7": ${LABEL_VALUE_RULE}`],
    [
      "x=a|b",
      `unable to parse requirement: values[0][x]: Invalid value: "a|b": ${LABEL_VALUE_RULE}`,
    ],
    [
      `x=${"a".repeat(64)}`,
      `unable to parse requirement: values[0][x]: Invalid value: "${"a".repeat(64)}": must be no more than 63 characters`,
    ],
    [
      "x in (ok,-bad)",
      `unable to parse requirement: values[0][x]: Invalid value: "-bad": ${LABEL_VALUE_RULE}`,
    ],
  ];
  it.each(cases)("%j", (input, reason) => {
    const err = selectorError(() => Selector.parse(input));
    expect(err.reason).toBe(reason);
    expect(err.kind).toBe("label");
    expect(err.selector).toBe(input);
    expect(err.code).toBe("invalid_argument");
    expect(err.message).toBe(`invalid label selector ${JSON.stringify(input)}: ${reason}`);
  });

  it("carries the field errors of an invalid requirement, under the given path", () => {
    const err = selectorError(() => Selector.parse("Bad Key", root("spec").child("selector")));
    expect(err.errors).toEqual([]);
    const invalid = selectorError(() => Selector.parse("-k=v", root("spec").child("selector")));
    expect(invalid.errors.map(String)).toEqual([
      `spec.selector.key: Invalid value: "-k": name part ${QNAME_RULE}`,
    ]);
  });
});

describe("matches", () => {
  const labels = { x: "a", y: "b", n: "5", e: "" };
  const cases: [string, boolean][] = [
    ["", true],
    ["x=a", true],
    ["x==a", true],
    ["x=b", false],
    ["x!=b", true],
    ["x!=a", false],
    ["z!=a", true],
    ["z=a", false],
    ["x in (a,c)", true],
    ["x in (c)", false],
    ["z in (a)", false],
    ["x notin (a)", false],
    ["x notin (c)", true],
    ["z notin (a)", true],
    ["x", true],
    ["z", false],
    ["!z", true],
    ["!x", false],
    ["x=a,y=b", true],
    ["x=a,y=c", false],
    ["n>4", true],
    ["n>5", false],
    ["n<6", true],
    ["n<5", false],
    ["n>0", true],
    ["x>1", false],
    ["z<1", false],
    ["e=", true],
    ["e", true],
    ["e in (,a)", true],
    ["x=", false],
    ["z=", false],
  ];
  it.each(cases)("%j on {x=a,y=b,n=5,e=} is %s", (selector, want) => {
    expect(Selector.parse(selector).matches(labels)).toBe(want);
  });

  it("treats absent labels as none", () => {
    expect(Selector.parse("!x").matches(undefined)).toBe(true);
    expect(Selector.parse("x").matches(undefined)).toBe(false);
    expect(Selector.parse("x notin (a)").matches({})).toBe(true);
  });

  it("does not mistake inherited properties for labels", () => {
    expect(Selector.parse("constructor").matches({})).toBe(false);
    expect(Selector.parse("toString=x").matches({})).toBe(false);
  });
});

describe("everything and nothing", () => {
  it("everything matches all and prints empty", () => {
    const s = Selector.everything();
    expect(s.matches({})).toBe(true);
    expect(s.matches({ a: "b" })).toBe(true);
    expect(s.isEverything()).toBe(true);
    expect(s.toString()).toBe("");
    expect(s.requirements).toEqual([]);
    expect(s.selectable).toBe(true);
    expect(Selector.parse("").isEverything()).toBe(true);
  });
  it("nothing matches none and is not selectable", () => {
    const s = Selector.nothing();
    expect(s.matches({})).toBe(false);
    expect(s.matches({ a: "b" })).toBe(false);
    expect(s.isEverything()).toBe(false);
    expect(s.selectable).toBe(false);
    expect(s.add(Requirement.create("a", "exists", [])).matches({ a: "b" })).toBe(false);
  });
});

describe("fromSet", () => {
  it("matches exactly the set", () => {
    const s = Selector.fromSet({ tier: "web", app: "shop" });
    expect(s.toString()).toBe("app=shop,tier=web");
    expect(s.matches({ app: "shop", tier: "web", extra: "1" })).toBe(true);
    expect(s.matches({ app: "shop" })).toBe(false);
  });
  it("is everything when empty or absent", () => {
    expect(Selector.fromSet({}).isEverything()).toBe(true);
    expect(Selector.fromSet(undefined).isEverything()).toBe(true);
  });
  it("rejects an invalid value, naming it", () => {
    const err = selectorError(() =>
      Selector.fromSet({ app: "bad value" }, root("spec").child("selector")),
    );
    expect(err.errors.map(String)).toEqual([
      `spec.selector.values[0][app]: Invalid value: "bad value": ${LABEL_VALUE_RULE}`,
    ]);
  });
});

describe("fromObject", () => {
  it("is nothing when absent and everything when empty", () => {
    expect(Selector.fromObject(undefined).selectable).toBe(false);
    expect(Selector.fromObject({}).isEverything()).toBe(true);
    expect(Selector.fromObject({ matchLabels: {}, matchExpressions: [] }).isEverything()).toBe(
      true,
    );
  });
  it("combines matchLabels and matchExpressions", () => {
    const s = Selector.fromObject({
      matchLabels: { app: "web" },
      matchExpressions: [
        { key: "tier", operator: "In", values: ["front", "back"] },
        { key: "env", operator: "NotIn", values: ["dev"] },
        { key: "gpu", operator: "Exists" },
        { key: "legacy", operator: "DoesNotExist", values: [] },
      ],
    });
    expect(s.toString()).toBe("app=web,env notin (dev),gpu,!legacy,tier in (back,front)");
    expect(s.matches({ app: "web", tier: "front", gpu: "1" })).toBe(true);
    expect(s.matches({ app: "web", tier: "front", gpu: "1", env: "dev" })).toBe(false);
    expect(s.matches({ app: "web", tier: "front", gpu: "1", legacy: "y" })).toBe(false);
    expect(s.matches({ app: "web", tier: "middle", gpu: "1" })).toBe(false);
  });
  it("rejects an unknown operator", () => {
    const err = selectorError(() =>
      Selector.fromObject({ matchExpressions: [{ key: "a", operator: "Gt", values: ["1"] }] }),
    );
    expect(err.reason).toBe(
      `"Gt" is not a valid label selector operator; supported operators: "In", "NotIn", "Exists", "DoesNotExist"`,
    );
  });
  it("rejects In without values", () => {
    const err = selectorError(() =>
      Selector.fromObject({ matchExpressions: [{ key: "a", operator: "In" }] }),
    );
    expect(err.reason).toBe(
      `values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty`,
    );
  });
});

describe("Requirement.create", () => {
  const cases: [string, string, string[], string][] = [
    [
      "a",
      "=",
      ["x", "y"],
      `values: Invalid value: []string{"x", "y"}: exact-match compatibility requires one single value`,
    ],
    [
      "a",
      "!=",
      [],
      `values: Invalid value: []string{}: exact-match compatibility requires one single value`,
    ],
    [
      "a",
      "exists",
      ["x"],
      `values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist`,
    ],
    [
      "a",
      "!",
      ["x"],
      `values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist`,
    ],
    [
      "a",
      "gt",
      ["1", "2"],
      `values: Invalid value: []string{"1", "2"}: for 'Gt', 'Lt' operators, exactly one value is required`,
    ],
    [
      "a",
      "like",
      ["x"],
      `operator: Unsupported value: "like": supported values: "in", "notin", "=", "==", "!=", "exists", "!", "gt", "lt"`,
    ],
    [
      "",
      "exists",
      [],
      `key: Invalid value: "": name part must be non-empty; name part ${QNAME_RULE}`,
    ],
  ];
  it.each(cases)("%j %s %j", (key, op, values, reason) => {
    const err = selectorError(() => Requirement.create(key, op, values));
    expect(err.reason).toBe(reason);
  });

  it("prints each operator", () => {
    expect(Requirement.create("a", "lt", ["3"]).toString()).toBe("a<3");
    expect(Requirement.create("a", "==", ["b"]).toString()).toBe("a==b");
    expect(Requirement.create("a", "notin", ["c", "b"]).toString()).toBe("a notin (b,c)");
  });
});

describe("add and requiresExactMatch", () => {
  it("adds requirements and keeps them sorted", () => {
    const s = Selector.parse("b=1").add(Requirement.create("a", "exists", []));
    expect(s.toString()).toBe("a,b=1");
    expect(
      Selector.everything()
        .add(Requirement.create("c", "!", []))
        .toString(),
    ).toBe("!c");
  });
  it("finds the value a key must have", () => {
    const s = Selector.parse("a=1,b in (2),c in (3,4),d!=5,e");
    expect(s.requiresExactMatch("a")).toBe("1");
    expect(s.requiresExactMatch("b")).toBe("2");
    expect(s.requiresExactMatch("c")).toBeUndefined();
    expect(s.requiresExactMatch("d")).toBeUndefined();
    expect(s.requiresExactMatch("e")).toBeUndefined();
    expect(s.requiresExactMatch("z")).toBeUndefined();
  });
});

describe("fromNodeSelectorRequirements", () => {
  it("selects nothing for an empty term", () => {
    expect(Selector.fromNodeSelectorRequirements([]).selectable).toBe(false);
  });
  it("supports In, NotIn, Exists, DoesNotExist, Gt and Lt", () => {
    const s = Selector.fromNodeSelectorRequirements([
      { key: "zone", operator: "In", values: ["b", "a"] },
      { key: "arch", operator: "NotIn", values: ["arm64"] },
      { key: "ssd", operator: "Exists" },
      { key: "spot", operator: "DoesNotExist" },
      { key: "cores", operator: "Gt", values: ["4"] },
      { key: "gen", operator: "Lt", values: ["3"] },
    ]);
    expect(s.toString()).toBe("arch notin (arm64),cores>4,gen<3,!spot,ssd,zone in (a,b)");
    const node = { zone: "a", arch: "amd64", ssd: "", cores: "8", gen: "2" };
    expect(s.matches(node)).toBe(true);
    expect(s.matches({ ...node, cores: "4" })).toBe(false);
    expect(s.matches({ ...node, gen: "x" })).toBe(false);
    expect(s.matches({ ...node, spot: "true" })).toBe(false);
  });
  it("reports every problem under the given path", () => {
    const path = root("spec")
      .child("affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution")
      .child("nodeSelectorTerms")
      .index(0)
      .child("matchExpressions");
    const err = selectorError(() =>
      Selector.fromNodeSelectorRequirements(
        [
          { key: "zone", operator: "Near", values: ["a"] },
          { key: "cores", operator: "Gt", values: ["many"] },
          { key: "ok", operator: "Exists" },
        ],
        path,
      ),
    );
    const at =
      "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions";
    expect(err.errors.map(String)).toEqual([
      `${at}[0].operator: Unsupported value: "Near": supported values: "In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"`,
      `${at}[1].values[0]: Invalid value: "many": for 'Gt', 'Lt' operators, the value must be an integer`,
    ]);
  });
  it("names errors by index without a path", () => {
    const err = selectorError(() =>
      Selector.fromNodeSelectorRequirements([{ key: "a", operator: "In" }]),
    );
    expect(err.reason).toBe(
      `[0].values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty`,
    );
  });
});
