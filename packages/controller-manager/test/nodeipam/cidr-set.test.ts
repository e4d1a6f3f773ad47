// The node subnet allocator: parsing, formatting, allocation order, occupancy and exhaustion.

import { describe, expect, it } from "vitest";
import { CidrSet, formatCidr, parseCidr } from "../../src/nodeipam/cidr-set.js";

describe("parseCidr and formatCidr", () => {
  it("round-trips IPv4 and IPv6, masking host bits", () => {
    expect(formatCidr(parseCidr("10.244.3.7/16"))).toBe("10.244.0.0/16");
    expect(formatCidr(parseCidr("fd00:10:244::/48"))).toBe("fd00:10:244::/48");
    expect(formatCidr(parseCidr("::/0"))).toBe("::/0");
    expect(formatCidr(parseCidr("2001:db8:0:1:0:0:0:0/64"))).toBe("2001:db8:0:1::/64");
  });

  it("names the field and the fix on bad input", () => {
    expect(() => parseCidr("10.244.0.0", "--cluster-cidr")).toThrow(
      '--cluster-cidr: invalid CIDR "10.244.0.0": give an address and a prefix length, e.g. 10.244.0.0/16',
    );
    expect(() => parseCidr("10.300.0.0/16")).toThrow(/invalid CIDR/);
    expect(() => parseCidr("10.0.0.0/33")).toThrow(/invalid CIDR/);
    expect(() => parseCidr("fd00::1::/64")).toThrow(/invalid CIDR/);
  });
});

describe("CidrSet", () => {
  it("hands out /24s of 10.244.0.0/16 in order, skipping those taken", () => {
    const set = new CidrSet("10.244.0.0/16", 24);
    expect(set.size).toBe(256);
    expect(set.occupy("10.244.1.0/24")).toBe(true);
    expect(set.allocateNext()).toBe("10.244.0.0/24");
    expect(set.allocateNext()).toBe("10.244.2.0/24");
    expect(set.isTaken("10.244.1.0/24")).toBe(true);
    // Not ours: outside the range, or another size.
    expect(set.occupy("10.245.0.0/24")).toBe(false);
    expect(set.occupy("10.244.0.0/25")).toBe(false);
  });

  it("does not reuse a released range at once, and runs out", () => {
    const set = new CidrSet("10.10.0.0/23", 24);
    expect(set.allocateNext()).toBe("10.10.0.0/24");
    set.release("10.10.0.0/24");
    expect(set.allocateNext()).toBe("10.10.1.0/24");
    expect(set.allocateNext()).toBe("10.10.0.0/24");
    expect(set.allocateNext()).toBeUndefined();
  });

  it("cuts IPv6 too", () => {
    const set = new CidrSet("fd00::/56", 64);
    expect(set.allocateNext()).toBe("fd00::/64");
    expect(set.allocateNext()).toBe("fd00:0:0:1::/64");
  });

  it("refuses masks shorter than the cluster prefix or more than 2^16 subnets", () => {
    expect(() => new CidrSet("10.244.0.0/16", 8)).toThrow(
      "--node-cidr-mask-size: 8 must lie between the cluster CIDR's prefix length 16 and 32",
    );
    expect(() => new CidrSet("10.0.0.0/8", 30)).toThrow(/more than 65536 node subnets/);
  });
});
