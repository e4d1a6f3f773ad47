import type { JsonObject } from "@tug/api";
import { describe, expect, it } from "vitest";
import {
  customColumnCell,
  parseCustomColumns,
  printJsonPath,
} from "../../src/printers/jsonpath.js";

const list: JsonObject = {
  kind: "List",
  items: [
    {
      metadata: { name: "web", labels: { "app.kubernetes.io/name": "web" } },
      status: {
        podIP: "10.0.0.5",
        conditions: [
          { type: "Ready", status: "True" },
          { type: "Initialized", status: "True" },
        ],
      },
      spec: { containers: [{ name: "a", ports: [{ containerPort: 80 }] }, { name: "b" }] },
    },
    {
      metadata: { name: "db" },
      status: { podIP: "10.0.0.6", conditions: [{ type: "Ready", status: "False" }] },
    },
  ],
};

describe("jsonpath (kubectl's subset)", () => {
  it("reads fields, indexes and wildcards, space-separating several results", () => {
    expect(printJsonPath("{.items[*].metadata.name}", list)).toBe("web db");
    expect(printJsonPath("{.items[0].status.podIP}", list)).toBe("10.0.0.5");
    expect(printJsonPath("{.items[-1].metadata.name}", list)).toBe("db");
    expect(printJsonPath(".items[1].metadata.name", list)).toBe("db");
    expect(printJsonPath("{.items[0].metadata.labels['app.kubernetes.io/name']}", list)).toBe(
      "web",
    );
    expect(printJsonPath("{.items[0].spec.containers[0].ports}", list)).toBe(
      '[{"containerPort":80}]',
    );
    expect(printJsonPath("{.items[5].metadata.name}", list)).toBe("");
  });

  it("filters and ranges, with literal text", () => {
    expect(printJsonPath('{.items[*].status.conditions[?(@.type=="Ready")].status}', list)).toBe(
      "True False",
    );
    expect(
      printJsonPath('{range .items[*]}{.metadata.name}{"\\t"}{.status.podIP}{"\\n"}{end}', list),
    ).toBe("web\t10.0.0.5\ndb\t10.0.0.6\n");
    expect(printJsonPath("names: {.items[*].metadata.name}!", list)).toBe("names: web db!");
  });

  it("explains templates it cannot read", () => {
    expect(() => printJsonPath("{range .items[*]}{.metadata.name}", list)).toThrow(
      /\{range\} without \{end\}/,
    );
    expect(() => printJsonPath("{.items[x]}", list)).toThrow(/cannot read "\[x\]"/);
    expect(() => printJsonPath("{.items", list)).toThrow(/unclosed "\{"/);
  });
});

describe("custom-columns", () => {
  it("reads NAME:PATH pairs and prints <none> for missing values", () => {
    const columns = parseCustomColumns("NAME:.metadata.name,CONTAINERS:.spec.containers[*].name");
    const [pod] = list.items as JsonObject[];
    expect(columns.map((c) => c.header)).toEqual(["NAME", "CONTAINERS"]);
    expect(columns.map((c) => customColumnCell(c, pod ?? {}))).toEqual(["web", "a,b"]);
    expect(customColumnCell(columns[1] ?? columns[0]!, (list.items as JsonObject[])[1] ?? {})).toBe(
      "<none>",
    );
    expect(() => parseCustomColumns("NAME")).toThrow(/expected <header>:<json-path-expr>/);
  });
});
