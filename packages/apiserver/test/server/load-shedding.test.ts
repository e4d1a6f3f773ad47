// Load shedding (kube-apiserver's max-in-flight filter): the limiter on its own, the gRPC
// service refusing over-limit calls with 429 while watches and the other kind go through, the
// client retrying a refused read after retryAfterSeconds, and a real API server under a burst
// far above its limit answering every call (success or 429) instead of breaking connections.

import { create } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { Client, credentials, status as grpcStatus, Metadata } from "@grpc/grpc-js";
import { PodSchema } from "@tug/api";
import { ApiClient, apiServiceDefinition, apiv1, STATUS_METADATA_KEY } from "@tug/client";
import { GrpcServer } from "@tug/grpc";
import { afterEach, describe, expect, it } from "vitest";
import type { ApiHandlers, WatchSink } from "../../src/server/api-handlers.js";
import { type CallRecord, grpcImplementation } from "../../src/server/grpc-service.js";
import {
  DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT,
  DEFAULT_MAX_REQUESTS_INFLIGHT,
  MaxInFlight,
  TOO_MANY_REQUESTS_MESSAGE,
} from "../../src/server/max-in-flight.js";
import { msUntilTimeoutAnswer, REQUEST_TIMEOUT_MESSAGE } from "../../src/server/request-timeout.js";
import { failure } from "../support/api-failure.js";
import { startTugStore } from "../support/stores.js";
import { startHarness } from "./harness.js";

describe("MaxInFlight", () => {
  it("has kube-apiserver's defaults", () => {
    expect(DEFAULT_MAX_REQUESTS_INFLIGHT).toBe(400);
    expect(DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT).toBe(200);
  });

  it("admits up to each kind's limit, counts refusals, and frees a slot once per release", () => {
    const m = new MaxInFlight({ maxRequestsInflight: 2, maxMutatingRequestsInflight: 1 });
    const r1 = m.tryAcquire("readOnly");
    const r2 = m.tryAcquire("readOnly");
    expect(r1).toBeDefined();
    expect(r2).toBeDefined();
    expect(m.tryAcquire("readOnly")).toBeUndefined();
    expect(m.droppedCount("readOnly")).toBe(1);
    // The other kind has its own limit.
    const w = m.tryAcquire("mutating");
    expect(w).toBeDefined();
    expect(m.tryAcquire("mutating")).toBeUndefined();
    expect(m.droppedCount("mutating")).toBe(1);
    r1?.();
    r1?.();
    expect(m.inFlight("readOnly")).toBe(1);
    expect(m.tryAcquire("readOnly")).toBeDefined();
    expect(m.tryAcquire("readOnly")).toBeUndefined();
  });

  it("takes 0 as no limit and refuses a negative limit", () => {
    const m = new MaxInFlight({ maxRequestsInflight: 0 });
    for (let i = 0; i < 1000; i++) expect(m.tryAcquire("readOnly")).toBeDefined();
    expect(() => new MaxInFlight({ maxMutatingRequestsInflight: -1 })).toThrow(/not a count/);
  });
});

/** A service whose List and Create wait until released, and whose Watch stays open. */
function gatedHandlers() {
  const gates: (() => void)[] = [];
  const gate = () => new Promise<void>((resolve) => gates.push(resolve));
  const handlers = {
    list: async () => {
      await gate();
      return create(apiv1.ListResponseSchema, { resourceVersion: "7" });
    },
    create: async () => {
      await gate();
      return create(apiv1.ObjectResponseSchema, {
        object: anyPack(PodSchema, create(PodSchema, { metadata: { name: "a" } })),
      });
    },
    watch: async (_req: apiv1.WatchRequest, _send: WatchSink, signal: AbortSignal) => {
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
    },
    resolve: () => {
      throw new Error("not a resource");
    },
  };
  return {
    handlers: handlers as unknown as ApiHandlers,
    waiting: () => gates.length,
    releaseAll: () => {
      for (const g of gates.splice(0)) g();
    },
  };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("msUntilTimeoutAnswer", () => {
  it("answers 5% of the time given before the deadline, within 50 ms to 1 s", () => {
    expect(msUntilTimeoutAnswer(Number.POSITIVE_INFINITY, 0)).toBeUndefined();
    expect(msUntilTimeoutAnswer(10_000, 0)).toBe(9_500);
    expect(msUntilTimeoutAnswer(new Date(60_000), 0)).toBe(59_000);
    expect(msUntilTimeoutAnswer(200, 0)).toBe(150);
    expect(msUntilTimeoutAnswer(10, 0)).toBe(0);
    expect(msUntilTimeoutAnswer(1_000, 5_000)).toBe(0);
  });
});

describe("the gRPC service with in-flight limits", () => {
  const cleanup: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function serve(limits: { read: number; mutating: number }) {
    const g = gatedHandlers();
    const records: CallRecord[] = [];
    const server = new GrpcServer();
    server.addService(
      apiServiceDefinition,
      grpcImplementation(
        g.handlers,
        (r) => records.push(r),
        () => undefined,
        new MaxInFlight({
          maxRequestsInflight: limits.read,
          maxMutatingRequestsInflight: limits.mutating,
        }),
      ),
    );
    const port = await server.listen("127.0.0.1:0");
    cleanup.push(() => server.forceShutdown());
    const client = new ApiClient({ servers: [`127.0.0.1:${port}`] });
    cleanup.push(() => client.close());
    return { ...g, client, records };
  }

  it("refuses a read over the limit with 429 at once, while writes and watches go on", async () => {
    const s = await serve({ read: 1, mutating: 1 });
    const first = s.client.list(PodSchema, { namespace: "default" });
    await until(() => s.waiting() === 1, "the first list to be in flight");
    // Deadline shorter than retryAfterSeconds: the client gives the 429 back without retrying.
    const refused = await failure(
      s.client.list(PodSchema, { namespace: "default", timeoutMs: 500 }),
    );
    expect(refused.reason).toBe("TooManyRequests");
    expect(refused.code).toBe(429);
    expect(refused.grpcCode).toBe(grpcStatus.RESOURCE_EXHAUSTED);
    expect(refused.message).toBe(TOO_MANY_REQUESTS_MESSAGE);
    expect(refused.details.retryAfterSeconds).toBe(1);
    // Watches are long-running: not counted.
    const watch = s.client.watch(PodSchema, { namespace: "default" });
    // Mutating requests have their own limit.
    const write = s.client.create(
      PodSchema,
      create(PodSchema, { metadata: { name: "a", namespace: "default" } }),
    );
    await until(() => s.waiting() === 2, "the create to be in flight");
    s.releaseAll();
    await first;
    await write;
    watch.cancel();
    expect(s.records.filter((r) => r.dropped !== undefined)).toEqual([
      expect.objectContaining({ verb: "list", code: 429, dropped: "readOnly" }),
    ]);
  });

  it("has the client send a refused read again after retryAfterSeconds", async () => {
    const s = await serve({ read: 1, mutating: 1 });
    const first = s.client.list(PodSchema, { namespace: "default" });
    await until(() => s.waiting() === 1, "the first list to be in flight");
    const second = s.client.list(PodSchema, { namespace: "default", timeoutMs: 20_000 });
    await until(() => s.records.some((r) => r.dropped === "readOnly"), "a refused list");
    s.releaseAll();
    await first;
    await until(() => s.waiting() === 1, "the retried list to be in flight");
    s.releaseAll();
    expect((await second).resourceVersion).toBe("7");
  });

  it("answers a call still running near its deadline with a Timeout Status", async () => {
    const s = await serve({ read: 1, mutating: 1 });
    const late = await failure(
      s.client.list(PodSchema, { namespace: "default", timeoutMs: 2_000 }),
    );
    expect(late.fromServer).toBe(true);
    expect(late.reason).toBe("Timeout");
    expect(late.code).toBe(504);
    expect(late.message).toBe(REQUEST_TIMEOUT_MESSAGE);
    s.releaseAll();
  });

  it("does not send a refused write again", async () => {
    const s = await serve({ read: 1, mutating: 1 });
    const pod = (name: string) => create(PodSchema, { metadata: { name, namespace: "default" } });
    const first = s.client.create(PodSchema, pod("a"));
    await until(() => s.waiting() === 1, "the first create to be in flight");
    const refused = await failure(s.client.create(PodSchema, pod("b"), { timeoutMs: 20_000 }));
    expect(refused.reason).toBe("TooManyRequests");
    s.releaseAll();
    await first;
    expect(s.records.filter((r) => r.verb === "create")).toHaveLength(2);
  });
});

describe("tug-apiserver under a burst far above its limit", () => {
  it("answers every call, with the list or with 429, and keeps its connection", async () => {
    const records: CallRecord[] = [];
    const h = await startHarness(startTugStore, {
      maxRequestsInflight: 20,
      observe: (r) => records.push(r),
    });
    try {
      for (let i = 0; i < 50; i++) {
        await h.client.create(
          PodSchema,
          create(PodSchema, {
            metadata: { name: `p${i}`, namespace: "default" },
            spec: { containers: [{ name: "app", image: "busybox" }] },
          }),
        );
      }
      // Raw gRPC calls (ApiClient would retry the 429s), all at once, generous deadlines.
      const raw = new Client(h.servers[0]?.address ?? "", credentials.createInsecure());
      const def = apiServiceDefinition.List;
      if (def === undefined) throw new Error("the service has no List");
      const request = create(apiv1.ListRequestSchema, {
        ref: { group: "", version: "v1", resource: "pods", namespace: "default" },
      });
      const outcomes = await Promise.all(
        Array.from(
          { length: 1500 },
          () =>
            new Promise<string>((resolve) => {
              raw.makeUnaryRequest(
                def.path,
                def.requestSerialize,
                def.responseDeserialize as (b: Buffer) => apiv1.ListResponse,
                request,
                new Metadata(),
                { deadline: Date.now() + 60_000 },
                (err, res) =>
                  resolve(
                    err === null
                      ? `ok ${res?.items.length}`
                      : err.code === grpcStatus.RESOURCE_EXHAUSTED
                        ? "TooManyRequests"
                        : // A Status from the server (e.g. the store too slow on a loaded
                          // machine) is an answer too; a broken session has none.
                          err.metadata.get(STATUS_METADATA_KEY).length > 0
                          ? "another Status"
                          : `${err.code} ${err.details}`,
                  ),
              );
            }),
        ),
      );
      raw.close();
      const counts = new Map<string, number>();
      for (const o of outcomes) counts.set(o, (counts.get(o) ?? 0) + 1);
      // Only full lists and Statuses: no broken session, no call the server did not answer.
      const unexpected = outcomes.filter(
        (o) => o !== "TooManyRequests" && o !== "ok 50" && o !== "another Status",
      );
      expect(unexpected).toEqual([]);
      expect(counts.get("ok 50")).toBeGreaterThan(0);
      expect(counts.get("TooManyRequests")).toBeGreaterThan(0);
      expect(records.filter((r) => r.dropped === "readOnly").length).toBe(
        counts.get("TooManyRequests"),
      );
      // The connection is still good.
      expect((await h.client.list(PodSchema, { namespace: "default" })).items).toHaveLength(50);
    } finally {
      await h.stop();
    }
  });
});
