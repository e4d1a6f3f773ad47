import { Metadata as GrpcJsMetadata, status as grpcJsStatus } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import {
  GrpcError,
  Metadata,
  Status,
  statusFromHeader,
  statusName,
  statusOfError,
} from "../../src/index.js";

describe("status codes", () => {
  it("match grpc-js's numbers and names", () => {
    for (const [name, code] of Object.entries(Status)) {
      expect(grpcJsStatus[name as keyof typeof grpcJsStatus], name).toBe(code);
      expect(statusName(code)).toBe(name);
    }
    expect(Object.keys(Status)).toHaveLength(17);
    expect(statusName(99)).toBe("UNKNOWN");
  });

  it("read a grpc-status header, unknown or malformed values as UNKNOWN", () => {
    expect(statusFromHeader("0")).toBe(Status.OK);
    expect(statusFromHeader("14")).toBe(Status.UNAVAILABLE);
    for (const bad of [undefined, "", "17", "99", "-1", "1x", "001"]) {
      expect(statusFromHeader(bad), String(bad)).toBe(Status.UNKNOWN);
    }
  });
});

describe("GrpcError", () => {
  it("is shaped like grpc-js's ServiceError", () => {
    const md = new Metadata();
    md.set("k", "v");
    const e = new GrpcError(Status.NOT_FOUND, "etcdserver: requested lease not found", md);
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe(5);
    expect(e.details).toBe("etcdserver: requested lease not found");
    expect(e.message).toBe("5 NOT_FOUND: etcdserver: requested lease not found");
    expect(e.metadata.get("k")).toEqual(["v"]);
    expect(new GrpcError(Status.INTERNAL, "x").metadata.empty).toBe(true);
  });

  it("statusOfError reads any grpc-js-shaped error as grpc-js's server does", () => {
    expect(statusOfError(new GrpcError(Status.ABORTED, "again"))).toMatchObject({
      code: Status.ABORTED,
      details: "again",
    });
    expect(statusOfError(new Error("boom"))).toEqual({ code: Status.UNKNOWN, details: "boom" });
    expect(statusOfError(Object.assign(new Error("m"), { code: 3 }))).toEqual({
      code: 3,
      details: "m",
    });
    expect(statusOfError(Object.assign(new Error("m"), { code: 42, details: "d" }))).toEqual({
      code: Status.UNKNOWN,
      details: "d",
    });
    expect(statusOfError("text")).toEqual({ code: Status.UNKNOWN, details: "text" });
    const md = new GrpcJsMetadata();
    md.set("tug-status-bin", Buffer.from("s"));
    expect(statusOfError({ code: 5, details: "gone", metadata: md })).toEqual({
      code: 5,
      details: "gone",
      trailers: { "tug-status-bin": "cw==" },
    });
  });
});
