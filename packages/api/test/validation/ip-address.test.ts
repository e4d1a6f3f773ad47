// IP and CIDR syntax as Kubernetes' validation accepts it.

import { describe, expect, it } from "vitest";
import { isCIDR, isIP, isIPv4, isIPv6 } from "../../src/validation/ip-address.js";

describe("ip addresses", () => {
  it.each(["10.0.0.1", "0.0.0.0", "255.255.255.255"])("%s is IPv4", (ip) => {
    expect(isIPv4(ip)).toBe(true);
  });
  it.each(["10.0.0", "10.0.0.256", "10.0.0.1.2", "a.b.c.d", ""])("%j is not IPv4", (ip) => {
    expect(isIPv4(ip)).toBe(false);
  });
  it.each(["::", "::1", "2001:db8::ffff", "fe80:0:0:0:0:0:0:1", "::ffff:10.0.0.1"])(
    "%s is IPv6",
    (ip) => {
      expect(isIPv6(ip)).toBe(true);
    },
  );
  it.each([
    "1::2::3",
    "2001:db8:::1",
    "1:2:3:4:5:6:7:8:9",
    "12345::",
    "fe80::1%eth0",
    "1:2:3:4:5:6:7",
  ])("%s is not IPv6", (ip) => {
    expect(isIPv6(ip)).toBe(false);
  });
  it("isIP takes either family", () => {
    expect(isIP("10.1.2.3")).toBe(true);
    expect(isIP("fd00::1")).toBe(true);
    expect(isIP("example.com")).toBe(false);
  });
  it.each<[string, boolean]>([
    ["10.244.0.0/16", true],
    ["10.0.0.0/32", true],
    ["10.0.0.0/33", false],
    ["fd00::/64", true],
    ["fd00::/129", false],
    ["10.0.0.0", false],
    ["10.0.0.0/", false],
  ])("isCIDR(%s) is %s", (cidr, expected) => {
    expect(isCIDR(cidr)).toBe(expected);
  });
});
