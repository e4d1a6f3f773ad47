// GrpcChannel against a real grpc-js server: unary calls, metadata, statuses, deadlines,
// cancel, size limits, server-streaming and bidi with backpressure.

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GrpcChannel, type GrpcError, Metadata, Status } from "../src/index.js";
import {
  Bidi,
  type EchoResponse,
  type EchoServer,
  failure,
  ServerStream,
  startEchoServer,
  Unary,
} from "./client-support.js";

/** Polls until `check` holds; generous, since the machine is loaded. */
async function eventually(
  check: () => boolean,
  what: string,
  timeoutMs = 10_000,
  everyMs = 20,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

describe("GrpcChannel against grpc-js", { timeout: 30_000 }, () => {
  let server: EchoServer;
  let channel: GrpcChannel;
  beforeAll(async () => {
    server = await startEchoServer();
    channel = new GrpcChannel(server.address);
  });
  afterAll(async () => {
    channel?.close();
    await server?.stop();
  });
  afterEach(() => {
    server.seen.cancelled = 0;
  });

  it("makes unary calls, many at once on one session, with metadata and grpc-timeout", async () => {
    const metadata = new Metadata();
    metadata.set("x-tenant", "blue");
    metadata.set("trace-bin", Buffer.from([0, 1, 2, 255]));
    const before = Date.now();
    const res = await channel.unary(
      Unary,
      { text: "hello" },
      { metadata, deadline: before + 5_000 },
    );
    expect(res.text).toBe("hello");
    expect(server.seen.lastMetadata["x-tenant"]).toBe("blue");
    expect(server.seen.lastMetadata["trace-bin"]).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(server.seen.lastDeadline).toBeGreaterThan(before);
    expect(server.seen.lastDeadline).toBeLessThanOrEqual(before + 5_100);

    const many = await Promise.all(
      Array.from({ length: 200 }, (_, i) => channel.unary(Unary, { text: `n${i}` })),
    );
    expect(many.map((r) => r.text)).toEqual(Array.from({ length: 200 }, (_, i) => `n${i}`));
  });

  it("fails with the server's status, details and trailing metadata, shaped like grpc-js's", async () => {
    const err = await failure(channel.unary(Unary, { text: "nope", failWith: Status.NOT_FOUND }));
    expect(err.code).toBe(Status.NOT_FOUND);
    expect(err.details).toBe("failed: nope ✓ 100%");
    expect(err.message).toBe("5 NOT_FOUND: failed: nope ✓ 100%");
    expect(err.metadata.get("why")).toEqual(["asked"]);
    expect(err).toBeInstanceOf(Error);
  });

  it("ends a call at its deadline with DEADLINE_EXCEEDED and resets the stream", async () => {
    const start = Date.now();
    const err = await failure(
      channel.unary(Unary, { text: "slow", hang: true }, { deadline: start + 300 }),
    );
    expect(err.code).toBe(Status.DEADLINE_EXCEEDED);
    expect(Date.now() - start).toBeGreaterThanOrEqual(290);
    // grpc-js's server enforces grpc-timeout as well; either way the call is gone server-side.
    await eventually(() => server.seen.cancelled === 1, "the server to see the call end");
  });

  it("cancels a call through its AbortSignal with CANCELLED and RST_STREAM", async () => {
    const ac = new AbortController();
    const hanging = server.seen.hanging;
    const p = failure(channel.unary(Unary, { text: "wait", hang: true }, { signal: ac.signal }));
    await eventually(() => server.seen.hanging > hanging, "the call to reach the server");
    ac.abort();
    const err = await p;
    expect(err.code).toBe(Status.CANCELLED);
    expect(err.details).toBe("Cancelled on client");
    await eventually(() => server.seen.cancelled === 1, "the server to see the cancel");
  });

  it("refuses a response over maxReceiveMessageBytes with RESOURCE_EXHAUSTED", async () => {
    const small = new GrpcChannel(server.address, { maxReceiveMessageBytes: 1024 });
    try {
      expect((await small.unary(Unary, { text: "ok", count: 10 })).text).toBe("ok");
      const err = await failure(small.unary(Unary, { text: "big", count: 5000 }));
      expect(err.code).toBe(Status.RESOURCE_EXHAUSTED);
      expect(err.details).toMatch(/^Received message larger than max \(\d+ vs\. 1024\)$/);
    } finally {
      small.close();
    }
  });

  it("streams server responses in order to an iterating reader", async () => {
    const got: EchoResponse[] = [];
    for await (const r of channel.serverStream(ServerStream, { text: "s", count: 50 })) {
      got.push(r);
    }
    expect(got.map((r) => r.index)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("holds a fast server back while the reader does not read, then delivers everything", async () => {
    server.seen.backpressured = 0;
    server.seen.written = 0;
    const total = 4000; // ~16 MiB: more than the HTTP/2 windows and the iterator's buffer
    const call = channel.serverStream(ServerStream, { text: "bp", count: total });
    const it = call[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value?.index).toBe(0);
    await eventually(() => server.seen.backpressured > 0, "the server's writes to be held back");
    // Held back: once the windows and buffers are full the server stalls, well short of the end.
    let stalledAt = -1;
    await eventually(
      () => {
        const now = server.seen.written;
        const stalled = now === stalledAt;
        stalledAt = now;
        return stalled;
      },
      "the server to stall",
      20_000,
      300,
    );
    expect(stalledAt).toBeLessThan(total / 2);
    let next = 1;
    for (;;) {
      const r = await it.next();
      if (r.done) break;
      expect(r.value.index).toBe(next++);
    }
    expect(next).toBe(total);
  });

  it("cancels a server stream when the reader stops iterating", async () => {
    const call = channel.serverStream(ServerStream, { text: "stop", count: 100_000 });
    let n = 0;
    for await (const _ of call) if (++n === 3) break;
    expect(call.done).toBe(true);
    await eventually(() => server.seen.cancelled === 1, "the server to see the cancel");
  });

  it("runs a bidi stream with handlers: writes, responses, half-close, OK", async () => {
    const texts: string[] = [];
    const ended = new Promise<GrpcError | null>((resolve) => {
      const call = channel.stream(Bidi, undefined, {
        onMessage: (r) => texts.push(r.text),
        onEnd: resolve,
      });
      for (const t of ["a", "b", "c"]) expect(call.write({ text: t })).toBe(true);
      call.end();
    });
    expect(await ended).toBeNull();
    expect(texts).toEqual(["A", "B", "C"]);
  });

  it("cancels a bidi stream: the handlers see CANCELLED, the server sees the cancel", async () => {
    let call: ReturnType<typeof channel.stream<{ text: string }, EchoResponse>> | undefined;
    const ended = new Promise<GrpcError | null>((resolve) => {
      call = channel.stream(Bidi, undefined, {
        onMessage: () => call?.cancel(),
        onEnd: resolve,
      });
      call.write({ text: "x" });
    });
    const err = await ended;
    expect(err?.code).toBe(Status.CANCELLED);
    await eventually(() => server.seen.cancelled === 1, "the server to see the cancel");
  });
});
