import { describe, expect, it } from "vitest";
import { formatTimeout, parseTimeout } from "../../src/index.js";

describe("grpc-timeout", () => {
  it("parses every unit into milliseconds", () => {
    expect(parseTimeout("2H")).toBe(7_200_000);
    expect(parseTimeout("3M")).toBe(180_000);
    expect(parseTimeout("5S")).toBe(5000);
    expect(parseTimeout("250m")).toBe(250);
    expect(parseTimeout("1500u")).toBe(1.5);
    expect(parseTimeout("2000000n")).toBe(2);
    expect(parseTimeout("99999999S")).toBe(99_999_999_000);
  });

  it("refuses what the grammar does not allow", () => {
    for (const bad of ["", "5", "S", "5s", "123456789m", "-1S", "1.5S", " 5S", "5 S"]) {
      expect(parseTimeout(bad), bad).toBeUndefined();
    }
  });

  it("formats in the finest unit that fits 8 digits, never rounding down", () => {
    expect(formatTimeout(0)).toBe("0n");
    expect(formatTimeout(-5)).toBe("0n");
    expect(formatTimeout(50)).toBe("50000000n");
    expect(formatTimeout(100)).toBe("100000u");
    expect(formatTimeout(1.0000001)).toBe("1000001n");
    expect(formatTimeout(5000)).toBe("5000000u");
    expect(formatTimeout(200_000)).toBe("200000m");
    expect(formatTimeout(100_000_000)).toBe("100000S");
    expect(formatTimeout(Number.MAX_SAFE_INTEGER)).toBe("99999999H");
  });

  it("round-trips to at least the time given", () => {
    for (const ms of [0.001, 0.5, 1, 7.25, 999, 12_345, 86_400_000, 1e12]) {
      const back = parseTimeout(formatTimeout(ms)) ?? -1;
      expect(back).toBeGreaterThanOrEqual(ms);
      expect(back).toBeLessThanOrEqual(ms * 1.0001 + 0.000_001);
    }
  });
});
