// A finished call must not stay reachable from its HTTP/2 stream: Node's finished server
// streams survive scavenges until the next Mark-Compact (see CallStream.detachFromStream), and
// whatever they reach is promoted with them. These tests hold every stream the server opens
// and check, with forced GCs, that the call objects and requests a handler was given are
// collected all the same, however the call ended: a response, a reset by the client, a
// deadline, a streaming handler's end with trailing metadata. They also check what must not
// change: trailers still arrive, and a handler that answers after the client went away is
// ignored without harm.

import type { Http2Server, ServerHttp2Stream } from "node:http2";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import {
  type ClientReadableStream,
  type ClientUnaryCall,
  credentials,
  Metadata as GrpcJsMetadata,
  type ServiceError,
} from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import {
  GrpcServer,
  Metadata,
  type SendUnaryData,
  type ServerUnaryCall,
  type ServerWritableCall,
  type ServiceHandlers,
  Status,
} from "../../src/index.js";
import { type Num, NumbersClient, numbersService } from "./test-service.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Generous: forced GCs and loopback calls, on a machine that other work shares. */
const WAIT_MS = 10_000;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const never = () => undefined;

/** The grpc-js client's methods these tests call, typed. */
interface Calls {
  Echo(
    request: Num,
    metadata: GrpcJsMetadata,
    options: { deadline?: number },
    callback: (e: ServiceError | null, v?: Num) => void,
  ): ClientUnaryCall;
  Count(request: Num): ClientReadableStream<Num>;
}

/** A server whose every HTTP/2 stream is kept here, strongly, for the test's length. */
async function start(overrides: Partial<ServiceHandlers<typeof numbersService>>) {
  const server = new GrpcServer();
  server.addService(numbersService, {
    Echo: never,
    Count: never,
    Sum: never,
    Chat: never,
    ...overrides,
  });
  const streams: ServerHttp2Stream[] = [];
  (server as unknown as { http2: Http2Server }).http2.on("stream", (s: ServerHttp2Stream) =>
    streams.push(s),
  );
  const port = await server.listen("127.0.0.1:0");
  cleanups.push(() => server.forceShutdown());
  const client = new NumbersClient(`127.0.0.1:${port}`, credentials.createInsecure());
  cleanups.push(() => client.close());
  return { client: client as unknown as Calls, streams };
}

interface UnaryResult {
  value?: Num;
  error?: ServiceError;
  trailers?: GrpcJsMetadata;
}

/** A unary Echo; resolves once its status (with the trailers) has arrived. */
function echo(client: Calls, request: Num, deadline?: number): Promise<UnaryResult> {
  return new Promise((resolve) => {
    const result: UnaryResult = {};
    let pending = 2;
    const done = () => {
      if (--pending === 0) resolve(result);
    };
    const call = client.Echo(
      request,
      new GrpcJsMetadata(),
      deadline === undefined ? {} : { deadline },
      (e, v) => {
        if (e === null) result.value = v;
        else result.error = e;
        done();
      },
    );
    call.on("status", (s) => {
      result.trailers = s.metadata;
      done();
    });
  });
}

/** Forces GCs until every ref is cleared; fails with the names of those that stay. */
async function expectCollected(refs: Map<string, WeakRef<object>>): Promise<void> {
  expect(refs.size).toBeGreaterThan(0);
  const until = Date.now() + WAIT_MS;
  let alive: string[] = [];
  do {
    await new Promise((resolve) => setTimeout(resolve, 5));
    gc();
    alive = [...refs].filter(([, ref]) => ref.deref() !== undefined).map(([name]) => name);
  } while (alive.length > 0 && Date.now() < until);
  expect(alive).toEqual([]);
}

/** Waits until every stream the server opened has closed, and checks how many there were. */
async function allClosed(streams: readonly ServerHttp2Stream[], count: number): Promise<void> {
  const until = Date.now() + WAIT_MS;
  while ((streams.length < count || streams.some((s) => !s.closed)) && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(streams.map((s) => s.closed)).toEqual(Array(count).fill(true));
}

describe("a finished call lets go of what it held, though its HTTP/2 stream is kept", () => {
  it("a unary call answered with trailing metadata; the trailers still arrive", async () => {
    const refs = new Map<string, WeakRef<object>>();
    const { client, streams } = await start({
      Echo: (call: ServerUnaryCall<Num>, callback: SendUnaryData<Num>) => {
        refs.set("call", new WeakRef(call));
        refs.set("request", new WeakRef(call.request));
        const trailer = new Metadata();
        trailer.set("x-served-by", "release-test");
        callback(null, { n: call.request.n + 1 }, trailer);
      },
    });
    const r = await echo(client, { n: 1 });
    expect(r.value).toEqual({ n: 2 });
    expect(r.trailers?.get("x-served-by")).toEqual(["release-test"]);
    await allClosed(streams, 1);
    await expectCollected(refs);
  });

  it("a unary call the client resets; the handler's late answer is ignored", async () => {
    const refs = new Map<string, WeakRef<object>>();
    let late: (() => void) | undefined;
    let sawCancel!: () => void;
    const cancelled = new Promise<void>((resolve) => {
      sawCancel = resolve;
    });
    const { client, streams } = await start({
      Echo: (call: ServerUnaryCall<Num>, callback: SendUnaryData<Num>) => {
        const name = call.request.n === 0 ? "second" : "reset";
        refs.set(`${name} call`, new WeakRef(call));
        refs.set(`${name} request`, new WeakRef(call.request));
        if (call.request.n === 0) {
          // The health check after the reset: answered at once.
          callback(null, call.request);
          return;
        }
        late = () => callback(null, { n: 99 });
        call.on("cancelled", sawCancel);
      },
    });
    const result = new Promise<ServiceError | null>((resolve) => {
      const call = client.Echo({ n: 1 }, new GrpcJsMetadata(), {}, (e) => resolve(e));
      const poll = setInterval(() => {
        if (late !== undefined) {
          clearInterval(poll);
          call.cancel();
        }
      }, 5);
    });
    expect((await result)?.code).toBe(Status.CANCELLED);
    await cancelled;
    await allClosed(streams, 1);
    // The handler answers after the client went away: nothing is sent, nothing throws.
    (late as () => void)();
    late = undefined;
    // The server serves on; both calls are collected, the stream of each kept.
    const r = await echo(client, { n: 0 });
    expect(r.value).toEqual({ n: 0 });
    await allClosed(streams, 2);
    await expectCollected(refs);
  });

  it("a unary call that reaches its deadline", async () => {
    const refs = new Map<string, WeakRef<object>>();
    let held: ServerUnaryCall<Num> | undefined;
    const { client, streams } = await start({
      Echo: (call: ServerUnaryCall<Num>) => {
        refs.set("call", new WeakRef(call));
        refs.set("request", new WeakRef(call.request));
        held = call;
        call.on("cancelled", () => {
          held = undefined;
        });
      },
    });
    const r = await echo(client, { n: 1 }, Date.now() + 200);
    expect(r.error?.code).toBe(Status.DEADLINE_EXCEEDED);
    await allClosed(streams, 1);
    expect(held).toBeUndefined();
    await expectCollected(refs);
  });

  it("a server-streaming call ended with trailing metadata after its messages", async () => {
    const refs = new Map<string, WeakRef<object>>();
    const { client, streams } = await start({
      Count: (call: ServerWritableCall<Num, Num>) => {
        refs.set("call", new WeakRef(call));
        refs.set("request", new WeakRef(call.request));
        for (let i = 0; i < call.request.n; i++) call.write({ n: i });
        const trailer = new Metadata();
        trailer.set("x-count", String(call.request.n));
        call.end(trailer);
      },
    });
    const stream = client.Count({ n: 3 });
    const messages: number[] = [];
    stream.on("data", (m: Num) => messages.push(m.n));
    const status = await new Promise<{ code: number; metadata: GrpcJsMetadata }>((resolve) =>
      stream.on("status", resolve),
    );
    expect(status.code).toBe(Status.OK);
    expect(status.metadata.get("x-count")).toEqual(["3"]);
    expect(messages).toEqual([0, 1, 2]);
    await allClosed(streams, 1);
    await expectCollected(refs);
  });
});
