// The pure parts of Service allocation: ranges, their static bands, and the choice of a free slot.

import { describe, expect, it } from "vitest";
import { pickFreeOffset } from "../../src/allocation/free-offset.js";
import { IpRange } from "../../src/allocation/ip-range.js";
import { PortRange } from "../../src/allocation/port-range.js";

/** A deterministic source: the sequence given, then 0 forever. */
function sequence(...values: number[]): () => number {
  return () => values.shift() ?? 0;
}

describe("IpRange", () => {
  it("numbers the usable addresses of 10.96.0.0/12 from 10.96.0.1, with a 256-address static band", () => {
    const r = IpRange.parse("10.96.0.0/12");
    expect(r.size).toBe(2 ** 20 - 2);
    expect(r.staticBand).toBe(256);
    expect(r.ipAt(0)).toBe("10.96.0.1");
    expect(r.offsetOf("10.96.0.10")).toBe(9);
    expect(r.ipAt(r.size - 1)).toBe("10.111.255.254");
    expect(r.offsetOf("10.96.0.0")).toBeUndefined(); // network
    expect(r.offsetOf("10.111.255.255")).toBeUndefined(); // broadcast
    expect(r.offsetOf("10.112.0.1")).toBeUndefined();
    expect(r.offsetOf("10.96.0.300")).toBeUndefined();
  });

  it("normalizes the CIDR and keeps at least 16 static addresses in small ranges", () => {
    const r = IpRange.parse("10.0.0.77/26");
    expect(r.cidr).toBe("10.0.0.64/26");
    expect(r.size).toBe(62);
    expect(r.staticBand).toBe(16);
  });

  it("refuses what is not an IPv4 CIDR, naming the flag", () => {
    expect(() => IpRange.parse("10.96.0.0")).toThrow(/--service-cluster-ip-range: "10.96.0.0"/);
    expect(() => IpRange.parse("fd00::/108")).toThrow(/IPv4 CIDR/);
    expect(() => IpRange.parse("10.96.0.0/31")).toThrow(/prefix of 8 to 30 bits/);
  });
});

describe("PortRange", () => {
  it("parses 30000-32767 with Kubernetes' 86-port static band", () => {
    const r = PortRange.parse("30000-32767");
    expect(r.size).toBe(2768);
    expect(r.staticBand).toBe(86);
    expect(r.offsetOf(30000)).toBe(0);
    expect(r.offsetOf(32768)).toBeUndefined();
    expect(r.toString()).toBe("30000-32767");
  });

  it("refuses a reversed or out-of-bounds range", () => {
    expect(() => PortRange.parse("32767-30000")).toThrow(/--service-node-port-range/);
    expect(() => PortRange.parse("30000-70000")).toThrow(/within 1-65535/);
  });
});

describe("pickFreeOffset", () => {
  it("picks from the dynamic band first", () => {
    expect(pickFreeOffset(100, 10, new Set(), sequence(0))).toBe(10);
    expect(pickFreeOffset(100, 10, new Set(), sequence(0.999))).toBe(99);
  });

  it("scans past used slots and falls back to the static band when the upper one is full", () => {
    const upperFull = new Set(Array.from({ length: 90 }, (_, i) => i + 10));
    expect(pickFreeOffset(100, 10, upperFull, () => 0.5)).toBe(5);
    const allButOne = new Set(Array.from({ length: 100 }, (_, i) => i).filter((i) => i !== 42));
    expect(pickFreeOffset(100, 10, allButOne, Math.random)).toBe(42);
  });

  it("answers undefined when every slot is used", () => {
    expect(pickFreeOffset(3, 1, new Set([0, 1, 2]), Math.random)).toBeUndefined();
  });
});
