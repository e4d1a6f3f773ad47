import { describe, expect, it } from "vitest";
import {
  validateLabelName,
  validateLabelSelector,
  validateLabels,
} from "../../src/labels/index.js";
import { root } from "../../src/validation/field-error.js";

const QNAME_RULE =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_RULE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', or 'my_value', or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

describe("validateLabels", () => {
  const labels = root("metadata").child("labels");
  const cases: [string, Record<string, string> | undefined, string[]][] = [
    ["absent", undefined, []],
    ["empty", {}, []],
    ["valid", { app: "web", "app.kubernetes.io/name": "shop", empty: "" }, []],
    [
      "bad key",
      { "-app": "web" },
      [`metadata.labels: Invalid value: "-app": name part ${QNAME_RULE}`],
    ],
    [
      "bad value",
      { app: "web shop" },
      [`metadata.labels: Invalid value: "web shop": ${LABEL_VALUE_RULE}`],
    ],
    [
      "long value",
      { app: "a".repeat(64) },
      [`metadata.labels: Invalid value: "${"a".repeat(64)}": must be no more than 63 characters`],
    ],
    [
      "bad key and value",
      { "Example.com/a": "-" },
      [
        `metadata.labels: Invalid value: "Example.com/a": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
        `metadata.labels: Invalid value: "-": ${LABEL_VALUE_RULE}`,
      ],
    ],
  ];
  it.each(cases)("%s", (_, set, want) => {
    expect(validateLabels(set, labels).map(String)).toEqual(want);
  });

  it("validates a single key", () => {
    expect(validateLabelName("a/b/c", root("k")).map(String)).toEqual([
      `k: Invalid value: "a/b/c": a qualified name ${QNAME_RULE} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ]);
  });
});

describe("validateLabelSelector", () => {
  const selector = root("spec").child("selector");
  const cases: [string, Parameters<typeof validateLabelSelector>[0], string[]][] = [
    ["absent", undefined, []],
    ["empty", {}, []],
    [
      "valid",
      {
        matchLabels: { app: "web" },
        matchExpressions: [
          { key: "tier", operator: "In", values: ["a"] },
          { key: "gpu", operator: "Exists" },
          { key: "x", operator: "DoesNotExist", values: [] },
        ],
      },
      [],
    ],
    [
      "bad matchLabels",
      { matchLabels: { app: "-" } },
      [`spec.selector.matchLabels: Invalid value: "-": ${LABEL_VALUE_RULE}`],
    ],
    [
      "In without values",
      { matchExpressions: [{ key: "a", operator: "In", values: [] }] },
      [
        "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
      ],
    ],
    [
      "NotIn without values",
      { matchExpressions: [{ key: "a", operator: "NotIn" }] },
      [
        "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
      ],
    ],
    [
      "Exists with values",
      {
        matchExpressions: [
          { key: "a", operator: "In", values: ["x"] },
          { key: "a", operator: "Exists", values: ["x"] },
        ],
      },
      [
        "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
      ],
    ],
    [
      "unknown operator",
      { matchExpressions: [{ key: "a", operator: "in", values: ["x"] }] },
      [
        `spec.selector.matchExpressions[0].operator: Invalid value: "in": not a valid selector operator`,
      ],
    ],
    [
      "bad key and value",
      { matchExpressions: [{ key: "-a", operator: "In", values: ["ok", "not ok"] }] },
      [
        `spec.selector.matchExpressions[0].key: Invalid value: "-a": name part ${QNAME_RULE}`,
        `spec.selector.matchExpressions[0].values[1]: Invalid value: "not ok": ${LABEL_VALUE_RULE}`,
      ],
    ],
  ];
  it.each(cases)("%s", (_, object, want) => {
    expect(validateLabelSelector(object, selector).map(String)).toEqual(want);
  });
});
