import { once } from "node:events";
import { connect, constants } from "node:http2";
import { createServer, type Server as NetServer, type Socket } from "node:net";
import { Duplex } from "node:stream";
import {
  type ClientDuplexStream,
  type ClientReadableStream,
  type ClientWritableStream,
  credentials,
  Metadata as GrpcJsMetadata,
  type ServiceError,
} from "@grpc/grpc-js";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  GrpcError,
  GrpcServer,
  type GrpcServerOptions,
  Metadata,
  type SendUnaryData,
  type ServerDuplexCall,
  type ServerReadableCall,
  type ServerUnaryCall,
  type ServerWritableCall,
  type ServiceHandlers,
  Status,
} from "../../src/index.js";
import { CallStream } from "../../src/server/call-stream.js";
import { type Num, NumbersClient, numbersService } from "./test-service.js";

type Handlers = ServiceHandlers<typeof numbersService>;
type Client = InstanceType<typeof NumbersClient>;
type UnaryMethod = (
  req: Num,
  md: GrpcJsMetadata,
  options: { deadline?: number },
  cb: (e: ServiceError | null, v?: Num) => void,
) => unknown;

/** The streaming methods of the generic client, typed. */
interface StreamingCalls {
  Count(request: Num): ClientReadableStream<Num>;
  Sum(callback: (e: ServiceError | null, v?: Num) => void): ClientWritableStream<Num>;
  Chat(): ClientDuplexStream<Num, Num>;
}
const streaming = (client: Client) => client as unknown as StreamingCalls;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const echo = (call: ServerUnaryCall<Num>, cb: SendUnaryData<Num>) => cb(null, call.request);
const never = () => undefined;

function handlers(overrides: Partial<Handlers> = {}): Handlers {
  return { Echo: echo, Count: never, Sum: never, Chat: never, ...overrides };
}

async function start(h: Handlers, options?: GrpcServerOptions) {
  const server = new GrpcServer(options);
  server.addService(numbersService, h);
  const port = await server.listen("127.0.0.1:0");
  cleanups.push(() => server.forceShutdown());
  const client = new NumbersClient(`127.0.0.1:${port}`, credentials.createInsecure());
  cleanups.push(() => client.close());
  return { server, port, client };
}

function unary(
  client: Client,
  name: string,
  req: Num,
  md = new GrpcJsMetadata(),
  deadline?: number,
) {
  const fn = (client as unknown as Record<string, UnaryMethod>)[name] as UnaryMethod;
  return new Promise<{ value?: Num; error?: ServiceError; trailers?: GrpcJsMetadata }>(
    (resolve) => {
      let trailers: GrpcJsMetadata | undefined;
      const call = fn.call(client, req, md, deadline === undefined ? {} : { deadline }, (e, v) =>
        setImmediate(() =>
          resolve(e === null ? { value: v, trailers } : { error: e, trailers: e.metadata }),
        ),
      ) as { on(ev: "status", l: (s: { metadata: GrpcJsMetadata }) => void): void };
      call.on("status", (s) => {
        trailers = s.metadata;
      });
    },
  );
}

describe("GrpcServer with a grpc-js client", () => {
  it("answers a unary call, with the request's metadata, peer and response trailers", async () => {
    let seen: { auth: unknown; peer: string; path: string; deadline: Date | number } | undefined;
    const { client } = await start(
      handlers({
        Echo: (call: ServerUnaryCall<Num>, cb: SendUnaryData<Num>) => {
          seen = {
            auth: call.metadata.get("authorization"),
            peer: call.getPeer(),
            path: call.getPath(),
            deadline: call.getDeadline(),
          };
          const trailer = new Metadata();
          trailer.set("x-served-by", "test");
          cb(null, { n: call.request.n * 2, text: call.request.text }, trailer);
        },
      }),
    );
    const md = new GrpcJsMetadata();
    md.set("authorization", "Bearer t0ken");
    const r = await unary(client, "Echo", { n: 21, text: "ünï ✓" }, md);
    expect(r.value).toEqual({ n: 42, text: "ünï ✓" });
    expect(r.trailers?.get("x-served-by")).toEqual(["test"]);
    expect(seen?.auth).toEqual(["Bearer t0ken"]);
    expect(seen?.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(seen?.path).toBe("/test.Numbers/Echo");
    expect(seen?.deadline).toBe(Number.POSITIVE_INFINITY);
  });

  it("sends a handler's error status, percent-encoded text and metadata (Trailers-Only)", async () => {
    const { client } = await start(
      handlers({
        Echo: (_call: ServerUnaryCall<Num>, cb: SendUnaryData<Num>) => {
          const md = new Metadata();
          md.set("detail-bin", Buffer.from([1, 2, 3]));
          cb(new GrpcError(Status.FAILED_PRECONDITION, "lease 50% gone: ✗\nretry", md));
        },
      }),
    );
    const r = await unary(client, "Echo", { n: 1 });
    expect(r.error?.code).toBe(Status.FAILED_PRECONDITION);
    expect(r.error?.details).toBe("lease 50% gone: ✗\nretry");
    expect(r.error?.metadata.get("detail-bin")).toEqual([Buffer.from([1, 2, 3])]);
  });

  it("reads grpc-js-style errors: a thrown Error is UNKNOWN, {code, details} is kept", async () => {
    const { client } = await start(
      handlers({
        Echo: (call: ServerUnaryCall<Num>, cb: SendUnaryData<Num>) => {
          if (call.request.n === 1) throw new Error("handler blew up");
          cb(Object.assign(new Error("x"), { code: Status.NOT_FOUND, details: "no such key" }));
        },
      }),
    );
    const thrown = await unary(client, "Echo", { n: 1 });
    expect(thrown.error?.code).toBe(Status.UNKNOWN);
    expect(thrown.error?.details).toBe("handler blew up");
    const shaped = await unary(client, "Echo", { n: 2 });
    expect(shaped.error?.code).toBe(Status.NOT_FOUND);
    expect(shaped.error?.details).toBe("no such key");
  });

  it("answers UNIMPLEMENTED for a method it does not serve", async () => {
    const { client } = await start(handlers());
    const r = await unary(client, "Missing", { n: 1 });
    expect(r.error?.code).toBe(Status.UNIMPLEMENTED);
    expect(r.error?.details).toBe("The server does not implement the method /test.Numbers/Missing");
  });

  it("refuses a request over the receive limit with RESOURCE_EXHAUSTED and grpc-js's text", async () => {
    let called = false;
    const { client } = await start(
      handlers({
        Echo: (call: ServerUnaryCall<Num>, cb: SendUnaryData<Num>) => {
          called = true;
          cb(null, call.request);
        },
      }),
      { maxReceiveMessageBytes: 100 },
    );
    const big = { n: 1, text: "x".repeat(200) };
    const r = await unary(client, "Echo", big);
    expect(r.error?.code).toBe(Status.RESOURCE_EXHAUSTED);
    const size = Buffer.byteLength(JSON.stringify(big));
    expect(r.error?.details).toBe(`Received message larger than max (${size} vs. 100)`);
    expect(called).toBe(false);
    // The connection stays usable.
    expect((await unary(client, "Echo", { n: 3 })).value).toEqual({ n: 3 });
  });

  it("ends a call at its deadline with DEADLINE_EXCEEDED and tells the handler", async () => {
    let cancelledEvent = false;
    let deadline: Date | number | undefined;
    let finished!: () => void;
    const handlerSawCancel = new Promise<void>((resolve) => {
      finished = resolve;
    });
    const { client } = await start(
      handlers({
        Echo: (call: ServerUnaryCall<Num>) => {
          deadline = call.getDeadline();
          call.on("cancelled", () => {
            cancelledEvent = call.cancelled;
            finished();
          });
        },
      }),
    );
    const before = Date.now();
    const r = await unary(client, "Echo", { n: 1 }, new GrpcJsMetadata(), Date.now() + 300);
    expect(r.error?.code).toBe(Status.DEADLINE_EXCEEDED);
    await handlerSawCancel;
    expect(cancelledEvent).toBe(true);
    expect(deadline).toBeInstanceOf(Date);
    const ms = (deadline as Date).getTime() - before;
    expect(ms).toBeGreaterThan(100);
    expect(ms).toBeLessThan(5000);
  });

  it("tells the handler when the client cancels (RST_STREAM)", async () => {
    let started!: () => void;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    let cancelled!: () => void;
    const sawCancel = new Promise<void>((resolve) => {
      cancelled = resolve;
    });
    const { client } = await start(
      handlers({
        Chat: (call: ServerDuplexCall<Num, Num>) => {
          call.on("cancelled", () => cancelled());
          started();
        },
      }),
    );
    const stream = streaming(client).Chat();
    stream.on("error", () => undefined);
    stream.write({ n: 1 });
    await running;
    stream.cancel();
    await sawCancel;
  });

  it("streams responses with backpressure: write() returns false, then 'drain'", async () => {
    const total = 2000;
    let sawFull = false;
    let drains = 0;
    const { client } = await start(
      handlers({
        Count: (call: ServerWritableCall<Num, Num>) => {
          let i = 0;
          const pump = () => {
            while (i < call.request.n) {
              const ok = call.write({ n: i++, text: "y".repeat(1000) });
              if (!ok) {
                sawFull = true;
                call.once("drain", () => {
                  drains++;
                  pump();
                });
                return;
              }
            }
            call.end();
          };
          pump();
        },
      }),
    );
    const stream = streaming(client).Count({ n: total });
    const got: number[] = [];
    stream.pause();
    // Read nothing for a while: the server must stop on a full buffer, not queue everything.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sawFull).toBe(true);
    stream.on("data", (m: Num) => got.push(m.n));
    stream.resume();
    await once(stream, "end");
    expect(got).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(drains).toBeGreaterThan(0);
  });

  it("sends a burst of writes together (small ones copied, large ones not), in order", async () => {
    // Written while HTTP/2 is busy with the first, the rest reach the call's writev in
    // batches: 50 messages of 1 KB are sent copied into one buffer, 40 of 40 KB corked.
    const sizes = [
      ...Array.from({ length: 50 }, () => 1000),
      ...Array.from({ length: 40 }, () => 40_000),
    ];
    let callbacks = 0;
    const batches: number[] = [];
    const writeMany = CallStream.prototype.writeMany;
    const spy = vi.spyOn(CallStream.prototype, "writeMany").mockImplementation(function (
      this: CallStream,
      values,
      callback,
    ) {
      batches.push(values.length);
      writeMany.call(this, values, callback);
    });
    cleanups.push(() => spy.mockRestore());
    const { client } = await start(
      handlers({
        Count: (call: ServerWritableCall<Num, Num>) => {
          // The small ones, then (once HTTP/2 took them) the large ones.
          const burst = (from: number, to: number, then: () => void) => {
            for (let n = from; n < to; n++) {
              call.write({ n, text: "z".repeat(sizes[n] ?? 0) }, () => {
                callbacks++;
                if (n === to - 1) then();
              });
            }
          };
          burst(0, 50, () => burst(50, sizes.length, () => call.end()));
        },
      }),
    );
    const got: Num[] = [];
    const stream = streaming(client).Count({ n: sizes.length });
    stream.on("data", (m: Num) => got.push(m));
    await once(stream, "end");
    expect(got.map((m) => m.n)).toEqual(sizes.map((_, i) => i));
    expect(got.map((m) => m.text?.length)).toEqual(sizes);
    expect(callbacks).toBe(sizes.length);
    // Both bursts went (mostly) through writev.
    expect(batches.filter((n) => n > 1).length).toBeGreaterThanOrEqual(2);
  });

  it("sums a client stream, and echoes a bidi stream until the client half-closes", async () => {
    const { client } = await start(
      handlers({
        Sum: (call: ServerReadableCall<Num>, cb: SendUnaryData<Num>) => {
          let sum = 0;
          call.on("data", (m: Num) => {
            sum += m.n;
          });
          call.on("end", () => cb(null, { n: sum }));
        },
        Chat: (call: ServerDuplexCall<Num, Num>) => {
          call.on("data", (m: Num) => call.write({ n: m.n + 100 }));
          call.on("end", () => {
            const md = new Metadata();
            md.set("x-count", "done");
            call.end(md);
          });
        },
      }),
    );
    const sum = await new Promise<Num | undefined>((resolve, reject) => {
      const s = streaming(client).Sum((e, v) => (e ? reject(e) : resolve(v)));
      for (let i = 1; i <= 10; i++) s.write({ n: i });
      s.end();
    });
    expect(sum).toEqual({ n: 55 });

    const chat = streaming(client).Chat();
    const replies: number[] = [];
    chat.on("data", (m: Num) => replies.push(m.n));
    const status = new Promise<{ code: number; metadata: GrpcJsMetadata }>((resolve) =>
      chat.on("status", resolve),
    );
    for (const n of [1, 2, 3]) chat.write({ n });
    chat.end();
    const s = await status;
    expect(s.code).toBe(Status.OK);
    expect(s.metadata.get("x-count")).toEqual(["done"]);
    expect(replies).toEqual([101, 102, 103]);
  });

  it("ends a stream with the status of an 'error' the handler emits, after messages", async () => {
    const { client } = await start(
      handlers({
        Chat: (call: ServerDuplexCall<Num, Num>) => {
          call.write({ n: 7 });
          call.emit(
            "error",
            new GrpcError(
              Status.OUT_OF_RANGE,
              "etcdserver: mvcc: required revision has been compacted",
            ),
          );
        },
      }),
    );
    const chat = streaming(client).Chat();
    const replies: number[] = [];
    chat.on("data", (m: Num) => replies.push(m.n));
    const [error] = (await once(chat, "error")) as [ServiceError];
    expect(error.code).toBe(Status.OUT_OF_RANGE);
    expect(error.details).toBe("etcdserver: mvcc: required revision has been compacted");
    expect(replies).toEqual([7]);
  });

  it("sends metadata early with sendMetadata, and refuses a response over maxSendMessageBytes", async () => {
    const { client } = await start(
      handlers({
        Echo: (call: ServerUnaryCall<Num>, cb: SendUnaryData<Num>) => {
          const md = new Metadata();
          md.set("x-early", "yes");
          call.sendMetadata(md);
          cb(null, { n: call.request.n, text: "z".repeat(call.request.n) });
        },
      }),
      { maxSendMessageBytes: 50 },
    );
    const headers = await new Promise<GrpcJsMetadata>((resolve) => {
      const call = (client as unknown as Record<string, UnaryMethod>).Echo?.call(
        client,
        { n: 1 },
        new GrpcJsMetadata(),
        {},
        () => undefined,
      ) as { on(ev: "metadata", l: (m: GrpcJsMetadata) => void): void };
      call.on("metadata", resolve);
    });
    expect(headers.get("x-early")).toEqual(["yes"]);
    const big = await unary(client, "Echo", { n: 100 });
    expect(big.error?.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(big.error?.details).toMatch(/^Sent message larger than max \(\d+ vs\. 50\)$/);
  });

  it("tells a unary handler when the client cancels the call", async () => {
    let arrived!: () => void;
    const inHandler = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let cancelled!: () => void;
    const sawCancel = new Promise<void>((resolve) => {
      cancelled = resolve;
    });
    const { client } = await start(
      handlers({
        Echo: (call: ServerUnaryCall<Num>) => {
          call.on("cancelled", () => cancelled());
          arrived();
        },
      }),
    );
    const call = (client as unknown as Record<string, UnaryMethod>).Echo?.call(
      client,
      { n: 1 },
      new GrpcJsMetadata(),
      {},
      () => undefined,
    ) as { cancel(): void };
    await inHandler;
    call.cancel();
    await sawCancel;
  });

  it("refuses a compressed call (grpc-encoding gzip) with UNIMPLEMENTED", async () => {
    const { port } = await start(handlers());
    const gzipClient = new NumbersClient(`127.0.0.1:${port}`, credentials.createInsecure(), {
      "grpc.default_compression_algorithm": 2,
    });
    cleanups.push(() => gzipClient.close());
    const r = await unary(gzipClient, "Echo", { n: 1 });
    expect(r.error?.code).toBe(Status.UNIMPLEMENTED);
    expect(r.error?.details).toMatch(/grpc-encoding "gzip" is not supported/);
  });
});

/** One request over raw HTTP/2: the response headers, body and trailers as received. */
async function rawRequest(port: number, headers: Record<string, string>, body: Buffer) {
  const session = connect(`http://127.0.0.1:${port}`);
  cleanups.push(() => session.destroy());
  session.on("error", () => undefined);
  const req = session.request({ ":method": "POST", ...headers });
  req.end(body);
  const [response, flags] = (await once(req, "response")) as [Record<string, string>, number];
  let trailers: Record<string, string> | undefined;
  req.on("trailers", (t: Record<string, string>) => {
    trailers = t;
  });
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  await once(req, "close");
  return {
    response,
    endStream: (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0,
    body: Buffer.concat(chunks),
    trailers,
  };
}

const frame = (o: unknown) => {
  const json = Buffer.from(JSON.stringify(o));
  const out = Buffer.alloc(5 + json.length);
  out.writeUInt32BE(json.length, 1);
  json.copy(out, 5);
  return out;
};

describe("GrpcServer on the wire", () => {
  it("answers an error before any message Trailers-Only: one HEADERS with END_STREAM", async () => {
    const { port } = await start(handlers());
    const r = await rawRequest(
      port,
      { ":path": "/test.Numbers/Nope", "content-type": "application/grpc", te: "trailers" },
      frame({ n: 1 }),
    );
    expect(r.endStream).toBe(true);
    expect(r.response[":status"]).toBe(200);
    expect(r.response["grpc-status"]).toBe(String(Status.UNIMPLEMENTED));
    expect(r.trailers).toBeUndefined();
  });

  it("puts the status of a successful call in trailers after the message", async () => {
    const { port } = await start(handlers());
    const r = await rawRequest(
      port,
      { ":path": "/test.Numbers/Echo", "content-type": "application/grpc+proto", te: "trailers" },
      frame({ n: 9 }),
    );
    expect(r.endStream).toBe(false);
    expect(r.response["content-type"]).toBe("application/grpc");
    expect(r.response["grpc-status"]).toBeUndefined();
    expect(r.response.date).toBeUndefined();
    expect(r.body).toEqual(frame({ n: 9 }));
    expect(r.trailers?.["grpc-status"]).toBe("0");
  });

  it("enforces grpc-timeout itself: DEADLINE_EXCEEDED in the trailers, the call cancelled", async () => {
    let cancelled = false;
    const { port } = await start(
      handlers({
        Echo: (call: ServerUnaryCall<Num>) => {
          call.on("cancelled", () => {
            cancelled = call.cancelled;
          });
        },
      }),
    );
    const r = await rawRequest(
      port,
      { ":path": "/test.Numbers/Echo", "content-type": "application/grpc", "grpc-timeout": "200m" },
      frame({ n: 1 }),
    );
    expect(r.response["grpc-status"]).toBe(String(Status.DEADLINE_EXCEEDED));
    expect(r.response["grpc-message"]).toBe("Deadline exceeded");
    expect(cancelled).toBe(true);
  });

  it("answers 415 to a request whose content-type is not application/grpc", async () => {
    const { port } = await start(handlers());
    const r = await rawRequest(
      port,
      { ":path": "/test.Numbers/Echo", "content-type": "application/json" },
      Buffer.from("{}"),
    );
    expect(r.response[":status"]).toBe(415);
    expect(r.response["grpc-message"]).toMatch(/content-type must start with application\/grpc/);
  });

  it("answers INTERNAL to a malformed grpc-timeout, and to a unary call with two requests", async () => {
    const { port } = await start(handlers());
    const badTimeout = await rawRequest(
      port,
      { ":path": "/test.Numbers/Echo", "content-type": "application/grpc", "grpc-timeout": "1.5S" },
      frame({ n: 1 }),
    );
    expect(badTimeout.response["grpc-status"]).toBe(String(Status.INTERNAL));
    expect(badTimeout.response["grpc-message"]).toMatch(/grpc-timeout "1.5S" is malformed/);
    const two = await rawRequest(
      port,
      { ":path": "/test.Numbers/Echo", "content-type": "application/grpc" },
      Buffer.concat([frame({ n: 1 }), frame({ n: 2 })]),
    );
    expect(two.response["grpc-status"]).toBe(String(Status.INTERNAL));
    expect(two.response["grpc-message"]).toMatch(/exactly one request message, got 2/);
  });
});

describe("GrpcServer connections and shutdown", () => {
  it("serves connections handed to it: a socket with bytes already read, and a plain Duplex", async () => {
    const server = new GrpcServer();
    server.addService(numbersService, handlers());
    cleanups.push(() => server.forceShutdown());
    const listeners: NetServer[] = [];
    cleanups.push(() => {
      for (const l of listeners) l.close();
    });
    const listen = async (onSocket: (s: Socket) => void) => {
      const l = createServer(onSocket);
      listeners.push(l);
      l.listen(0, "127.0.0.1");
      await once(l, "listening");
      return (l.address() as { port: number }).port;
    };
    // Reads the client's first bytes itself, then gives them back with the socket.
    const peekPort = await listen((socket) => {
      socket.once("data", (first: Buffer) => {
        socket.pause();
        socket.unshift(first);
        server.acceptConnection(socket);
      });
    });
    // Wraps the socket in a JavaScript Duplex: HTTP/2 cannot read its handle.
    const duplexPort = await listen((socket) => {
      const duplex = new Duplex({
        read() {
          socket.resume();
        },
        write(chunk, _enc, cb) {
          socket.write(chunk, cb);
        },
        final(cb) {
          socket.end(cb);
        },
        destroy(error, cb) {
          socket.destroy();
          cb(error);
        },
      });
      socket.on("data", (c) => {
        if (!duplex.push(c)) socket.pause();
      });
      socket.on("end", () => duplex.push(null));
      socket.on("close", () => duplex.destroy());
      server.acceptConnection(duplex);
    });
    for (const port of [peekPort, duplexPort]) {
      const client = new NumbersClient(`127.0.0.1:${port}`, credentials.createInsecure());
      cleanups.push(() => client.close());
      for (let i = 0; i < 3; i++) {
        expect((await unary(client, "Echo", { n: port + i })).value).toEqual({ n: port + i });
      }
    }
  });

  it("shuts down gracefully: a call in flight finishes, new calls fail, stragglers are cut", async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let arrived!: () => void;
    const inFlight = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const { server, client, port } = await start(
      handlers({
        Echo: (call: ServerUnaryCall<Num>, cb: SendUnaryData<Num>) => {
          arrived();
          void released.then(() => cb(null, call.request));
        },
      }),
    );
    const pending = unary(client, "Echo", { n: 5 });
    await inFlight;
    const stopping = server.shutdown(30_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    release();
    expect((await pending).value).toEqual({ n: 5 });
    await stopping;
    const fresh = new NumbersClient(`127.0.0.1:${port}`, credentials.createInsecure());
    cleanups.push(() => fresh.close());
    const after = await unary(fresh, "Echo", { n: 1 }, new GrpcJsMetadata(), Date.now() + 2000);
    expect(after.error?.code).toBe(Status.UNAVAILABLE);

    // A call that never ends is cut when the grace runs out.
    let cancelled = false;
    const second = await start(
      handlers({
        Chat: (call: ServerDuplexCall<Num, Num>) => {
          call.on("cancelled", () => {
            cancelled = true;
          });
          call.write({ n: 1 });
        },
      }),
    );
    const chat = streaming(second.client).Chat();
    chat.on("error", () => undefined);
    await once(chat, "data");
    await second.server.shutdown(200);
    expect(cancelled).toBe(true);
  });
});
