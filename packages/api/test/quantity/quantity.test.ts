import { describe, expect, it } from "vitest";
import {
  parseQuantity,
  QUANTITY_FORMAT_WRONG,
  QUANTITY_NUMERIC_WRONG,
  QUANTITY_SUFFIX_WRONG,
  Quantity,
  QuantityError,
  type QuantityFormat,
} from "../../src/quantity.js";

describe("parse and canonical form", () => {
  // [input, canonical text, format after parsing]
  const cases: [string, string, QuantityFormat][] = [
    ["0", "0", "DecimalSI"],
    ["-0", "0", "DecimalSI"],
    ["0Mi", "0", "BinarySI"],
    ["0.000", "0", "DecimalSI"],
    ["1", "1", "DecimalSI"],
    ["+5", "5", "DecimalSI"],
    ["-5", "-5", "DecimalSI"],
    ["007", "7", "DecimalSI"],
    ["1.0", "1", "DecimalSI"],
    ["1000", "1k", "DecimalSI"],
    ["1200", "1200", "DecimalSI"],
    ["12000", "12k", "DecimalSI"],
    ["1500m", "1500m", "DecimalSI"],
    ["1.5", "1500m", "DecimalSI"],
    ["-1.5", "-1500m", "DecimalSI"],
    ["0.1", "100m", "DecimalSI"],
    [".5", "500m", "DecimalSI"],
    ["1.", "1", "DecimalSI"],
    ["1.G", "1G", "DecimalSI"],
    ["100m", "100m", "DecimalSI"],
    ["1000m", "1", "DecimalSI"],
    ["1.001", "1001m", "DecimalSI"],
    ["0.1m", "100u", "DecimalSI"],
    ["1n", "1n", "DecimalSI"],
    ["1000n", "1u", "DecimalSI"],
    ["1k", "1k", "DecimalSI"],
    ["1000k", "1M", "DecimalSI"],
    ["1.5M", "1500k", "DecimalSI"],
    ["1G", "1G", "DecimalSI"],
    ["1T", "1T", "DecimalSI"],
    ["1P", "1P", "DecimalSI"],
    ["1E", "1E", "DecimalSI"],
    ["1000E", "1000E", "DecimalSI"],
    // Finer than a nano-unit rounds up, away from zero.
    ["0.5n", "1n", "DecimalSI"],
    ["0.0000000001", "1n", "DecimalSI"],
    ["-0.0000000001", "-1n", "DecimalSI"],
    ["1.0000000001", "1000000001n", "DecimalSI"],
    ["1.0000000009", "1000000001n", "DecimalSI"],
    // Binary SI keeps its family, with the largest suffix that leaves an integer.
    ["1Ki", "1Ki", "BinarySI"],
    ["-1Ki", "-1Ki", "BinarySI"],
    ["1024Mi", "1Gi", "BinarySI"],
    ["2048Ki", "2Mi", "BinarySI"],
    ["1536Mi", "1536Mi", "BinarySI"],
    ["1.5Gi", "1536Mi", "BinarySI"],
    ["0.5Gi", "512Mi", "BinarySI"],
    ["0.5Mi", "512Ki", "BinarySI"],
    ["100Ki", "100Ki", "BinarySI"],
    ["128Mi", "128Mi", "BinarySI"],
    ["1Ei", "1Ei", "BinarySI"],
    ["1024Ei", "1024Ei", "BinarySI"],
    // ...but below 1024 or with a fraction it prints as decimal SI, so nothing is rounded.
    ["0.5Ki", "512", "BinarySI"],
    ["1.5Ki", "1536", "BinarySI"],
    ["0.1Gi", "107374182400m", "BinarySI"],
    // Binary amounts below one unit are decimal from the start.
    ["0.5", "500m", "DecimalSI"],
    ["0.0001Ki", "102400u", "DecimalSI"],
    // Decimal exponents keep the exponent form.
    ["1e3", "1e3", "DecimalExponent"],
    ["1E3", "1e3", "DecimalExponent"],
    ["1e+3", "1e3", "DecimalExponent"],
    ["1.5e3", "1500", "DecimalExponent"],
    ["12e6", "12e6", "DecimalExponent"],
    ["1e-3", "1e-3", "DecimalExponent"],
    ["1.5e-3", "1500e-6", "DecimalExponent"],
    ["1e0", "1", "DecimalExponent"],
    ["100e-2", "1", "DecimalExponent"],
    ["1e21", "1e21", "DecimalExponent"],
    ["-2e9", "-2e9", "DecimalExponent"],
  ];
  it.each(cases)("%s prints %s", (input, canonical, format) => {
    const q = Quantity.parse(input);
    expect(q.toString()).toBe(canonical);
    expect(q.format).toBe(format);
    expect(JSON.stringify({ q })).toBe(`{"q":"${canonical}"}`);
    expect(parseQuantity(input).equals(q)).toBe(true);
  });
});

describe("exact amounts", () => {
  const cases: [string, bigint][] = [
    ["1", 1_000_000_000n],
    ["1n", 1n],
    ["1u", 1_000n],
    ["250m", 250_000_000n],
    ["1Ki", 1024n * 1_000_000_000n],
    ["1Mi", 1024n ** 2n * 1_000_000_000n],
    ["1Ei", 1024n ** 6n * 1_000_000_000n],
    ["1E", 10n ** 27n],
    ["1.5e-9", 2n],
    ["-1.5e-9", -2n],
    ["123456789.123456789", 123456789123456789n],
  ];
  it.each(cases)("%s is %d nano-units", (input, nanos) => {
    expect(Quantity.parse(input).nanos).toBe(nanos);
  });

  it("adds 100m and 0.9 to exactly 1", () => {
    const sum = Quantity.parse("100m").add(Quantity.parse("0.9"));
    expect(sum.equals(Quantity.fromValue(1))).toBe(true);
    expect(sum.toString()).toBe("1");
  });
  it("adds ten times 0.1 to exactly 1", () => {
    let sum = Quantity.ZERO;
    for (let i = 0; i < 10; i++) sum = sum.add(Quantity.parse("0.1"));
    expect(sum.toString()).toBe("1");
  });
  it("subtracts", () => {
    expect(Quantity.parse("1Gi").sub(Quantity.parse("512Mi")).toString()).toBe("512Mi");
    expect(Quantity.parse("1").sub(Quantity.parse("1500m")).toString()).toBe("-500m");
  });
  it("keeps the receiver's format, or takes the other's when the receiver is zero", () => {
    expect(Quantity.parse("1Ki").add(Quantity.parse("1k")).format).toBe("BinarySI");
    expect(Quantity.parse("1k").add(Quantity.parse("1Ki")).format).toBe("DecimalSI");
    expect(Quantity.ZERO.add(Quantity.parse("1Ki")).toString()).toBe("1Ki");
    expect(Quantity.ZERO.sub(Quantity.parse("1Ki")).toString()).toBe("-1Ki");
  });
  it("negates", () => {
    expect(Quantity.parse("1500m").neg().toString()).toBe("-1500m");
    expect(Quantity.parse("0").neg().isZero()).toBe(true);
  });
});

describe("compare", () => {
  const cases: [string, string, -1 | 0 | 1][] = [
    ["1", "1", 0],
    ["1Ki", "1024", 0],
    ["1k", "1000", 0],
    ["1e3", "1k", 0],
    ["1500m", "1.5", 0],
    ["999m", "1", -1],
    ["1Gi", "1G", 1],
    ["-1", "0", -1],
    ["0", "-1n", 1],
    ["100Mi", "0.1Gi", -1],
  ];
  it.each(cases)("%s vs %s is %d", (a, b, want) => {
    expect(Quantity.parse(a).cmp(Quantity.parse(b))).toBe(want);
    expect(Quantity.parse(b).cmp(Quantity.parse(a))).toBe(-want || 0);
    expect(Quantity.parse(a).equals(Quantity.parse(b))).toBe(want === 0);
  });
  it("reports the sign", () => {
    expect(Quantity.parse("-1m").sign()).toBe(-1);
    expect(Quantity.parse("0Ki").sign()).toBe(0);
    expect(Quantity.parse("1n").sign()).toBe(1);
  });
});

describe("value and milli-value round away from zero", () => {
  const cases: [string, bigint, bigint][] = [
    ["1", 1n, 1000n],
    ["1.5", 2n, 1500n],
    ["100m", 1n, 100n],
    ["1n", 1n, 1n],
    ["1.2345m", 1n, 2n],
    ["0", 0n, 0n],
    ["-1.5", -2n, -1500n],
    ["-100m", -1n, -100n],
    ["-1n", -1n, -1n],
    ["1Ki", 1024n, 1024000n],
    ["128Mi", 134217728n, 134217728000n],
    ["1e3", 1000n, 1000000n],
    ["1E", 10n ** 18n, 10n ** 21n],
  ];
  it.each(cases)("%s: value %d, milli %d", (input, value, milli) => {
    const q = Quantity.parse(input);
    expect(q.value()).toBe(value);
    expect(q.milliValue()).toBe(milli);
  });
  it("scales to any power of ten", () => {
    const q = Quantity.parse("1500");
    expect(q.scaledValue(3)).toBe(2n);
    expect(q.scaledValue(-9)).toBe(1_500_000_000_000n);
    expect(q.scaledValue(-12)).toBe(1_500_000_000_000_000n);
    expect(() => q.scaledValue(0.5)).toThrow(/scale must be an integer/);
  });
  it("approximates as a number", () => {
    expect(Quantity.parse("1500m").toNumber()).toBe(1.5);
    expect(Quantity.parse("-250m").toNumber()).toBe(-0.25);
    expect(Quantity.parse("1Gi").toNumber()).toBe(1073741824);
  });
});

describe("fromJson", () => {
  const cases: [string | number, string][] = [
    ["500m", "500m"],
    [2, "2"],
    [0.5, "500m"],
    [-1.25, "-1250m"],
    [1e21, "1e21"],
    [1e-7, "100e-9"],
    [1024, "1024"],
  ];
  it.each(cases)("%j prints %s", (value, want) => {
    expect(Quantity.fromJson(value).toString()).toBe(want);
  });
  it("rejects numbers without a decimal text", () => {
    expect(() => Quantity.fromJson(Number.POSITIVE_INFINITY)).toThrow(QuantityError);
    expect(() => Quantity.fromJson(Number.NaN)).toThrow(QuantityError);
  });
});

describe("factories", () => {
  it("builds from milli-units and units", () => {
    expect(Quantity.fromMilli(1500).toString()).toBe("1500m");
    expect(Quantity.fromMilli(2000n).toString()).toBe("2");
    expect(Quantity.fromValue(1024, "BinarySI").toString()).toBe("1Ki");
    expect(Quantity.fromValue(1024).toString()).toBe("1024");
    expect(Quantity.fromValue(5000, "DecimalExponent").toString()).toBe("5e3");
    expect(Quantity.fromNanos(1n).toString()).toBe("1n");
  });
  it("rejects numbers that are not integers", () => {
    expect(() => Quantity.fromValue(1.5)).toThrow(
      "value must be a safe integer or a bigint, got 1.5",
    );
    expect(() => Quantity.fromMilli(Number.NaN)).toThrow(/milli must be a safe integer/);
  });
});

describe("bad input", () => {
  const cases: [string, string][] = [
    ["", QUANTITY_FORMAT_WRONG],
    ["abc", QUANTITY_FORMAT_WRONG],
    ["Mi", QUANTITY_FORMAT_WRONG],
    ["+", QUANTITY_FORMAT_WRONG],
    ["1.2.3", QUANTITY_FORMAT_WRONG],
    ["--1", QUANTITY_FORMAT_WRONG],
    [" 1", QUANTITY_FORMAT_WRONG],
    ["1 ", QUANTITY_FORMAT_WRONG],
    ["1x", QUANTITY_FORMAT_WRONG],
    ["1,5", QUANTITY_FORMAT_WRONG],
    ["1Mi ", QUANTITY_FORMAT_WRONG],
    ["0x10", QUANTITY_FORMAT_WRONG],
    [".", QUANTITY_NUMERIC_WRONG],
    ["-.", QUANTITY_NUMERIC_WRONG],
    ["1KI", QUANTITY_FORMAT_WRONG],
    ["1ki", QUANTITY_SUFFIX_WRONG],
    ["1Ki5", QUANTITY_SUFFIX_WRONG],
    ["1e", QUANTITY_SUFFIX_WRONG],
    ["1e+", QUANTITY_SUFFIX_WRONG],
    ["1mm", QUANTITY_SUFFIX_WRONG],
    ["1Gii", QUANTITY_SUFFIX_WRONG],
    ["1e1001", "the exponent must be between -1000 and 1000"],
  ];
  it.each(cases)("%j", (input, reason) => {
    let caught: unknown;
    try {
      Quantity.parse(input);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(QuantityError);
    const err = caught as QuantityError;
    expect(err.reason).toBe(reason);
    expect(err.text).toBe(input);
    expect(err.code).toBe("invalid_argument");
    expect(err.message).toBe(
      `unable to parse quantity ${JSON.stringify(input)}: ${reason}; expected a number with an optional sign and suffix: n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or an exponent e<integer> (e.g. "500m", "1.5", "128Mi", "2Gi", "1e3")`,
    );
  });
  it("quotes Kubernetes' regular expression", () => {
    expect(QUANTITY_FORMAT_WRONG).toBe(
      "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    );
  });
});
