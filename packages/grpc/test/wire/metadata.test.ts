import { describe, expect, it } from "vitest";
import { Metadata } from "../../src/index.js";

describe("Metadata", () => {
  it("keeps values per lowercased key, in order", () => {
    const m = new Metadata();
    m.add("X-Trace", "a");
    m.add("x-trace", "b");
    m.set("other", "c");
    expect(m.get("X-TRACE")).toEqual(["a", "b"]);
    expect(m.getMap()).toEqual({ "x-trace": "a", other: "c" });
    m.set("x-trace", "z");
    expect(m.get("x-trace")).toEqual(["z"]);
    m.remove("X-Trace");
    expect(m.get("x-trace")).toEqual([]);
    expect(m.empty).toBe(false);
    m.remove("other");
    expect(m.empty).toBe(true);
  });

  it("refuses keys and values the spec does not allow, naming the fix", () => {
    const m = new Metadata();
    expect(() => m.set("bad key", "v")).toThrow(/0-9, a-z/);
    expect(() => m.set("data-bin", "text")).toThrow(/must be a Buffer/);
    expect(() => m.set("text", Buffer.from("x"))).toThrow(/-bin/);
    expect(() => m.set("text", "line\nbreak")).toThrow(/printable ASCII/);
  });

  it("writes binary values as base64 and several values as an array", () => {
    const m = new Metadata();
    m.set("authorization", "Bearer t");
    m.add("status-bin", Buffer.from([0, 1, 2, 255]));
    m.add("status-bin", Buffer.from("hi"));
    expect(m.toHttp2Headers()).toEqual({
      authorization: "Bearer t",
      "status-bin": ["AAEC/w==", "aGk="],
    });
  });

  it("reads custom metadata from request headers, leaving protocol headers out", () => {
    const m = Metadata.fromHttp2Headers({
      ":path": "/pkg.Svc/Method",
      ":authority": "127.0.0.1:2379",
      "content-type": "application/grpc",
      te: "trailers",
      "grpc-timeout": "5S",
      "grpc-accept-encoding": "identity,gzip",
      "user-agent": "grpc-node-js/1.14.7",
      authorization: "Bearer abc",
      "trace-bin": "AAEC/w==, aGk=",
    });
    expect(m.toJSON()).toEqual({
      "user-agent": ["grpc-node-js/1.14.7"],
      authorization: ["Bearer abc"],
      "trace-bin": [Buffer.from([0, 1, 2, 255]), Buffer.from("hi")],
    });
  });

  it("clones and merges without sharing value lists", () => {
    const a = new Metadata();
    a.set("k", "1");
    const b = a.clone();
    b.add("k", "2");
    expect(a.get("k")).toEqual(["1"]);
    a.merge(b);
    expect(a.get("k")).toEqual(["1", "1", "2"]);
  });
});
