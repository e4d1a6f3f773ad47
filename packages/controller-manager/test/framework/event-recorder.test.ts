// ApiEventRecorder: Kubernetes' event names, fields, and aggregation of repeats.

import type { Event } from "@tug/api";
import { ApiError } from "@tug/client";
import { describe, expect, it } from "vitest";
import { ApiEventRecorder } from "../../src/index.js";

interface Call {
  verb: "create" | "patch";
  name: string;
  body: unknown;
}

function fakeApi(options: { patchNotFound?: boolean } = {}) {
  const calls: Call[] = [];
  const api = {
    create: async (_schema: unknown, obj: Event) => {
      calls.push({ verb: "create", name: obj.metadata?.name ?? "", body: obj });
      return obj;
    },
    patch: async (_schema: unknown, name: string, o: { patch: unknown }) => {
      calls.push({ verb: "patch", name, body: o.patch });
      if (options.patchNotFound === true) {
        throw new ApiError({ reason: "NotFound", code: 404, grpcCode: 5, message: "gone" });
      }
      return {};
    },
  };
  return { api: api as unknown as ConstructorParameters<typeof ApiEventRecorder>[0]["api"], calls };
}

const rs = {
  apiVersion: "apps/v1",
  kind: "ReplicaSet",
  metadata: {
    name: "web-abc",
    namespace: "prod",
    uid: "u1",
    resourceVersion: "7",
  } as Event["metadata"],
};

describe("ApiEventRecorder", () => {
  it("creates an Event named <object>.<hex nanoseconds> with Kubernetes' fields", async () => {
    const { api, calls } = fakeApi();
    const at = new Date("2026-01-02T03:04:05.678Z");
    const r = new ApiEventRecorder({
      api,
      component: "replicaset-controller",
      host: "h1",
      now: () => at,
    });
    r.event(rs, "Normal", "SuccessfulCreate", "Created pod: web-abc-x");
    await r.flush();
    expect(calls).toHaveLength(1);
    const e = calls[0]?.body as Event;
    expect(e.metadata?.name).toBe(`web-abc.${(BigInt(at.getTime()) * 1_000_000n).toString(16)}`);
    expect(e.metadata?.namespace).toBe("prod");
    expect(e).toMatchObject({
      reason: "SuccessfulCreate",
      message: "Created pod: web-abc-x",
      type: "Normal",
      count: 1,
      source: { component: "replicaset-controller", host: "h1" },
      involvedObject: { kind: "ReplicaSet", name: "web-abc", namespace: "prod", uid: "u1" },
    });
  });

  it("bumps the count of a repeated event instead of creating another", async () => {
    const { api, calls } = fakeApi();
    const r = new ApiEventRecorder({ api, component: "c" });
    r.event(rs, "Warning", "FailedCreate", "Error creating: quota");
    r.event(rs, "Warning", "FailedCreate", "Error creating: quota");
    r.event(rs, "Warning", "FailedCreate", "Error creating: quota");
    r.event(rs, "Warning", "FailedCreate", "Error creating: other");
    await r.flush();
    expect(calls.map((c) => c.verb)).toEqual(["create", "patch", "patch", "create"]);
    expect(calls[2]?.body).toMatchObject({ count: 3 });
    expect(calls[1]?.name).toBe(calls[0]?.name);
  });

  it("starts a new event when the old one expired", async () => {
    const { api, calls } = fakeApi({ patchNotFound: true });
    const r = new ApiEventRecorder({ api, component: "c" });
    r.event(rs, "Normal", "X", "m");
    r.event(rs, "Normal", "X", "m");
    await r.flush();
    expect(calls.map((c) => c.verb)).toEqual(["create", "patch", "create"]);
  });

  it("reports a failed write and never throws to its caller", async () => {
    const errors: string[] = [];
    const api = {
      create: () => Promise.reject(new Error("apiserver down")),
      patch: () => Promise.reject(new Error("apiserver down")),
    } as unknown as ConstructorParameters<typeof ApiEventRecorder>[0]["api"];
    const r = new ApiEventRecorder({ api, component: "c", onError: (e) => errors.push(String(e)) });
    expect(() => r.event(rs, "Normal", "X", "m")).not.toThrow();
    await r.flush();
    expect(errors).toEqual(["Error: apiserver down"]);
  });
});
