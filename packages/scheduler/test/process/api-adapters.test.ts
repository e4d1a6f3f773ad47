import type { Event, Pod } from "@tug/api";
import { ApiError } from "@tug/client";
import { describe, expect, it } from "vitest";
import {
  apiBinder,
  apiEventRecorder,
  apiPodConditionWriter,
  MAX_BIND_RETRIES,
  type SchedulerApi,
} from "../../src/process/api-adapters.js";
import { makePod } from "../support/fixtures.js";

function fakeApi() {
  const binds: unknown[][] = [];
  const events: Event[] = [];
  const updates: Event[] = [];
  const api = {
    bindWithoutResult: async (...args: unknown[]) => {
      binds.push(args);
    },
    create: async (_kind: unknown, obj: unknown) => {
      events.push(obj as Event);
      return obj;
    },
    update: async (_kind: unknown, obj: unknown) => {
      updates.push(obj as Event);
      return obj;
    },
  } as unknown as SchedulerApi;
  return { api, binds, events, updates };
}

describe("API adapters", () => {
  it("binds through the API's Bind with the pod's uid", async () => {
    const { api, binds } = fakeApi();
    await apiBinder(api).bind(makePod("web"), "n1");
    expect(binds).toEqual([["default", "web", "n1", { uid: "uid-web" }]]);
  });

  it("retries a bind the API server shed with 429 after its Retry-After, other errors not", async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const tooMany = new ApiError({
      reason: "TooManyRequests",
      code: 429,
      grpcCode: 8,
      message: "Too many requests, please try again later.",
      details: { retryAfterSeconds: 2 },
    });
    const api = {
      bindWithoutResult: async () => {
        calls++;
        if (calls <= 2) throw tooMany;
        if (calls === 3) return;
        throw new ApiError({ reason: "Conflict", code: 409, grpcCode: 10, message: "bound" });
      },
    } as unknown as SchedulerApi;
    const binder = apiBinder(api, { sleep: async (ms) => void sleeps.push(ms) });
    await binder.bind(makePod("web"), "n1");
    expect(calls).toBe(3);
    expect(sleeps).toEqual([2000, 2000]);
    await expect(binder.bind(makePod("web"), "n1")).rejects.toThrow("bound");
    expect(calls).toBe(4);
  });

  it("gives up on 429 after MAX_BIND_RETRIES retries, waiting at least 1 s each", async () => {
    const sleeps: number[] = [];
    const api = {
      bindWithoutResult: async () => {
        throw new ApiError({ reason: "TooManyRequests", code: 429, grpcCode: 8, message: "busy" });
      },
    } as unknown as SchedulerApi;
    const binder = apiBinder(api, { sleep: async (ms) => void sleeps.push(ms) });
    await expect(binder.bind(makePod("web"), "n1")).rejects.toThrow("busy");
    expect(sleeps).toEqual(Array(MAX_BIND_RETRIES).fill(1000));
  });

  it("records FailedScheduling and Scheduled events as kube-scheduler does", async () => {
    const { api, events } = fakeApi();
    const recorder = apiEventRecorder(api, {
      component: "default-scheduler",
      instance: "host_1",
      onError: () => {},
      now: () => new Date("2026-01-01T00:00:00Z"),
    });
    recorder.failedScheduling(makePod("web"), "0/3 nodes are available: 3 Insufficient cpu.");
    recorder.scheduled(makePod("web"), "n1");
    await new Promise((r) => setImmediate(r));
    expect(events.map((e) => [e.type, e.reason, e.message])).toEqual([
      ["Warning", "FailedScheduling", "0/3 nodes are available: 3 Insufficient cpu."],
      ["Normal", "Scheduled", "Successfully assigned default/web to n1"],
    ]);
    const first = events[0] as Event;
    expect(first.involvedObject).toMatchObject({
      kind: "Pod",
      name: "web",
      namespace: "default",
      uid: "uid-web",
    });
    expect(first.source?.component).toBe("default-scheduler");
    expect(first.metadata?.name).toMatch(/^web\.[0-9a-f]+$/);
    expect(first.metadata?.name).not.toBe(events[1]?.metadata?.name);
  });

  it("counts a repeated event on the first one for 10 minutes, then starts a new one", async () => {
    const { api, events, updates } = fakeApi();
    let clock = Date.parse("2026-01-01T00:00:00Z");
    const recorder = apiEventRecorder(api, {
      component: "default-scheduler",
      instance: "i",
      onError: () => {},
      now: () => new Date(clock),
    });
    const message = "0/3 nodes are available: 3 Insufficient cpu.";
    recorder.failedScheduling(makePod("web"), message);
    clock += 10_000;
    recorder.failedScheduling(makePod("web"), message);
    clock += 20_000;
    recorder.failedScheduling(makePod("web"), message);
    recorder.failedScheduling(makePod("web"), "0/4 nodes are available: 4 Insufficient cpu.");
    await new Promise((r) => setImmediate(r));
    expect(events).toHaveLength(2);
    expect(updates.map((e) => [e.metadata?.name, e.count])).toEqual([
      [events[0]?.metadata?.name, 2],
      [events[0]?.metadata?.name, 3],
    ]);
    clock += 10 * 60_000;
    recorder.failedScheduling(makePod("web"), message);
    await new Promise((r) => setImmediate(r));
    expect(events).toHaveLength(3);
  });

  it("reports a failed event write instead of throwing", async () => {
    const failures: unknown[] = [];
    const api = { create: () => Promise.reject(new Error("forbidden")) } as unknown as SchedulerApi;
    apiEventRecorder(api, {
      component: "s",
      instance: "i",
      onError: (e) => failures.push(e),
    }).failedScheduling(makePod("p"), "m");
    await new Promise((r) => setImmediate(r));
    expect(String(failures[0])).toContain("forbidden");
  });

  it("marks a pod PodScheduled=False once per reason and message", async () => {
    const written: Pod[] = [];
    const api = {
      updateStatus: async (_kind: unknown, obj: Pod) => {
        written.push(obj);
        return obj;
      },
    } as unknown as SchedulerApi;
    const writer = apiPodConditionWriter(api, () => {});
    const pod = makePod("p");
    writer.unschedulable(pod, "Unschedulable", "0/1 nodes are available: 1 Insufficient cpu.");
    await new Promise((r) => setImmediate(r));
    expect(written).toHaveLength(1);
    const marked = written[0] as Pod;
    expect(marked.status?.conditions).toMatchObject([
      {
        type: "PodScheduled",
        status: "False",
        reason: "Unschedulable",
        message: "0/1 nodes are available: 1 Insufficient cpu.",
      },
    ]);
    // The pod as the informer then delivers it: same condition, nothing to write.
    writer.unschedulable(marked, "Unschedulable", "0/1 nodes are available: 1 Insufficient cpu.");
    writer.unschedulable(marked, "Unschedulable", "0/2 nodes are available: 2 Insufficient cpu.");
    await new Promise((r) => setImmediate(r));
    expect(written).toHaveLength(2);
    expect(written[1]?.status?.conditions).toHaveLength(1);
    expect(pod.status?.conditions ?? []).toHaveLength(0);
  });
});
