import { describe, expect, it } from "vitest";
import {
  isCIdentifier,
  isConfigMapKey,
  isDns1035Label,
  isDns1123Label,
  isDns1123Subdomain,
  isEnvVarName,
  isQualifiedName,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
  nameIsDns1035Label,
  nameIsDnsLabel,
  nameIsDnsSubdomain,
} from "../../src/validation/names.js";

// The texts Kubernetes prints, written out in full so that a change of wording fails here.
const SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035 =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name', or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const QNAME_RULE =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', or 'my_value', or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const C_ID =
  "a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_' (e.g. 'my_name', or 'MY_NAME', or 'MyName', regex used for validation is '[A-Za-z_][A-Za-z0-9_]*')";
const ENV =
  "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name', or 'MY_ENV.NAME', or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')";
const CONFIG_KEY =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name', or 'KEY_NAME', or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

type Case = [string, string[]];

describe("isDns1123Subdomain", () => {
  const cases: Case[] = [
    ["a", []],
    ["example.com", []],
    ["my-app-1", []],
    ["0.1.2", []],
    ["a".repeat(63), []],
    [`${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`, []],
    [
      `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(62)}`,
      ["must be no more than 253 characters"],
    ],
    ["Foo", [SUBDOMAIN]],
    ["", [SUBDOMAIN]],
    ["-a", [SUBDOMAIN]],
    ["a-", [SUBDOMAIN]],
    ["a..b", [SUBDOMAIN]],
    [".a", [SUBDOMAIN]],
    ["a_b", [SUBDOMAIN]],
    ["é", [SUBDOMAIN]],
    ["A".repeat(254), ["must be no more than 253 characters", SUBDOMAIN]],
  ];
  it.each(cases)("%j", (value, want) => {
    expect(isDns1123Subdomain(value)).toEqual(want);
  });
});

describe("isDns1123Label", () => {
  const cases: Case[] = [
    ["a", []],
    ["abc-123", []],
    ["123", []],
    ["a".repeat(63), []],
    ["a".repeat(64), ["must be no more than 63 characters"]],
    // Lengths are UTF-8 bytes, as Go counts them: 32 two-byte characters are 64 bytes.
    ["é".repeat(32), ["must be no more than 63 characters", LABEL]],
    ["é".repeat(31), [LABEL]],
    ["a.b", ["must not contain dots"]],
    ["Abc", [LABEL]],
    ["", [LABEL]],
    ["-abc", [LABEL]],
    ["abc-", [LABEL]],
    ["a_b", [LABEL]],
    ["A".repeat(64), ["must be no more than 63 characters", LABEL]],
  ];
  it.each(cases)("%j", (value, want) => {
    expect(isDns1123Label(value)).toEqual(want);
  });
});

describe("isDns1035Label", () => {
  const cases: Case[] = [
    ["a", []],
    ["my-service", []],
    ["a1", []],
    ["1a", [DNS1035]],
    ["123", [DNS1035]],
    ["a.b", [DNS1035]],
    ["My", [DNS1035]],
    ["a-", [DNS1035]],
    ["", [DNS1035]],
    ["a".repeat(64), ["must be no more than 63 characters"]],
  ];
  it.each(cases)("%j", (value, want) => {
    expect(isDns1035Label(value)).toEqual(want);
  });
});

describe("isQualifiedName", () => {
  const cases: Case[] = [
    ["app", []],
    ["App_Name.v1-2", []],
    ["1", []],
    ["example.com/MyName", []],
    ["app.kubernetes.io/name", []],
    [`${"a".repeat(253)}/${"b".repeat(63)}`, []],
    ["a".repeat(64), ["name part must be no more than 63 characters"]],
    ["", ["name part must be non-empty", `name part ${QNAME_RULE}`]],
    ["-a", [`name part ${QNAME_RULE}`]],
    ["a b", [`name part ${QNAME_RULE}`]],
    ["/a", ["prefix part must be non-empty"]],
    ["a/", ["name part must be non-empty", `name part ${QNAME_RULE}`]],
    ["Example.com/a", [`prefix part ${SUBDOMAIN}`]],
    [`${"a".repeat(254)}/b`, ["prefix part must be no more than 253 characters"]],
    [
      "a/b/c",
      [
        `a qualified name ${QNAME_RULE} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
      ],
    ],
  ];
  it.each(cases)("%j", (value, want) => {
    expect(isQualifiedName(value)).toEqual(want);
  });
});

describe("isValidLabelValue", () => {
  const cases: Case[] = [
    ["", []],
    ["v1", []],
    ["My_value.2-b", []],
    ["a".repeat(63), []],
    ["a".repeat(64), ["must be no more than 63 characters"]],
    ["-a", [LABEL_VALUE]],
    ["a/b", [LABEL_VALUE]],
    ["a b", [LABEL_VALUE]],
    ["_".repeat(64), ["must be no more than 63 characters", LABEL_VALUE]],
  ];
  it.each(cases)("%j", (value, want) => {
    expect(isValidLabelValue(value)).toEqual(want);
  });
});

describe("isCIdentifier", () => {
  const cases: Case[] = [
    ["a", []],
    ["_", []],
    ["MY_NAME_2", []],
    ["2a", [C_ID]],
    ["a-b", [C_ID]],
    ["", [C_ID]],
  ];
  it.each(cases)("%j", (value, want) => {
    expect(isCIdentifier(value)).toEqual(want);
  });
});

describe("isEnvVarName", () => {
  const cases: Case[] = [
    ["PATH", []],
    ["my.env-name", []],
    ["_a1", []],
    [".a", []],
    ["1A", [ENV]],
    ["A B", [ENV]],
    ["", [ENV]],
    [".", ["must not be '.'"]],
    ["..", ["must not be '..'"]],
    ["..a", ["must not start with '..'"]],
  ];
  it.each(cases)("%j", (value, want) => {
    expect(isEnvVarName(value)).toEqual(want);
  });
});

describe("isConfigMapKey", () => {
  const cases: Case[] = [
    ["key.name", []],
    ["KEY_NAME", []],
    ["1", []],
    ["a/b", [CONFIG_KEY]],
    ["", [CONFIG_KEY]],
    ["..", ["must not be '..'"]],
    ["..x", ["must not start with '..'"]],
    ["a".repeat(254), ["must be no more than 253 characters"]],
  ];
  it.each(cases)("%j", (value, want) => {
    expect(isConfigMapKey(value)).toEqual(want);
  });
});

describe("isValidPortName", () => {
  const charset = "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
  const letter = "must contain at least one letter (a-z)";
  const cases: Case[] = [
    ["http", []],
    ["h2c", []],
    ["web-1", []],
    ["a".repeat(15), []],
    ["a".repeat(16), ["must be no more than 15 characters"]],
    ["HTTP", [charset, letter]],
    ["123", [letter]],
    ["a--b", ["must not contain consecutive hyphens (--)"]],
    ["-a", ["must not begin or end with a hyphen (-)"]],
    ["a-", ["must not begin or end with a hyphen (-)"]],
    ["", [charset, letter]],
    ["my_port", [charset]],
  ];
  it.each(cases)("%j", (value, want) => {
    expect(isValidPortName(value)).toEqual(want);
  });
});

describe("isValidPortNum", () => {
  const bad = ["must be between 1 and 65535, inclusive"];
  const cases: [number, string[]][] = [
    [1, []],
    [80, []],
    [65535, []],
    [0, bad],
    [65536, bad],
    [-1, bad],
    [1.5, bad],
  ];
  it.each(cases)("%d", (port, want) => {
    expect(isValidPortNum(port)).toEqual(want);
  });
});

describe("object name validators", () => {
  it("accepts a generateName prefix ending in '-'", () => {
    expect(nameIsDnsSubdomain("web-", true)).toEqual([]);
    expect(nameIsDnsLabel("web-", true)).toEqual([]);
    expect(nameIsDns1035Label("web-", true)).toEqual([]);
  });
  it("rejects a full name ending in '-'", () => {
    expect(nameIsDnsSubdomain("web-", false)).toEqual([SUBDOMAIN]);
    expect(nameIsDnsLabel("web-", false)).toEqual([LABEL]);
    expect(nameIsDns1035Label("web-", false)).toEqual([DNS1035]);
  });
  it("still rejects a bad prefix", () => {
    expect(nameIsDnsSubdomain("Web-", true)).toEqual([SUBDOMAIN]);
    expect(nameIsDns1035Label("1web-", true)).toEqual([DNS1035]);
  });
});
