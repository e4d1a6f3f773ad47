// GrpcChannel's session: unreachable targets, a server that goes away and comes back, keepalive
// on a silent network, and responses that break the protocol (raw node:http2 servers).

import * as http2 from "node:http2";
import { afterEach, describe, expect, it } from "vitest";
import { GrpcChannel, type GrpcError, requestNotSent, Status } from "../src/index.js";
import { failure, startEchoServer, startFreezableRelay, Unary } from "./client-support.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A raw HTTP/2 server answering every request with `respond`. */
async function rawServer(respond: (stream: http2.ServerHttp2Stream) => void): Promise<string> {
  const server = http2.createServer();
  server.on("stream", (stream) => {
    stream.on("error", () => {});
    stream.resume();
    respond(stream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const addr = server.address();
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  );
  return `127.0.0.1:${typeof addr === "object" && addr !== null ? addr.port : 0}`;
}

function channelTo(target: string, options?: ConstructorParameters<typeof GrpcChannel>[1]) {
  const c = new GrpcChannel(target, options);
  cleanups.push(() => c.close());
  return c;
}

describe("GrpcChannel sessions", { timeout: 30_000 }, () => {
  it("fails calls to a closed port with UNAVAILABLE, then fast during the back-off", async () => {
    const channel = channelTo("127.0.0.1:1", { initialReconnectBackoffMs: 60_000 });
    const first = await failure(channel.unary(Unary, { text: "a" }));
    expect(first.code).toBe(Status.UNAVAILABLE);
    expect(first.details).toContain("ECONNREFUSED");
    expect(requestNotSent(first)).toBe(true);
    const second = await failure(channel.unary(Unary, { text: "b" }));
    expect(second.code).toBe(Status.UNAVAILABLE);
    // The second failed connect starts the back-off: calls now fail without a connect.
    const third = await failure(channel.unary(Unary, { text: "c" }));
    expect(third.code).toBe(Status.UNAVAILABLE);
    expect(requestNotSent(third)).toBe(true);
    expect(third.details).toMatch(
      /no connection to 127\.0\.0\.1:1 \(.*ECONNREFUSED.*\); next attempt in \d+ ms/,
    );
  });

  it("fails calls in flight with UNAVAILABLE when the server goes, and reconnects when it is back", async () => {
    let server = await startEchoServer();
    const port = Number(server.address.split(":")[1]);
    cleanups.push(() => server.stop());
    const channel = channelTo(server.address);
    expect((await channel.unary(Unary, { text: "1" })).text).toBe("1");
    const inFlight = failure(channel.unary(Unary, { text: "hang", hang: true }));
    await new Promise((r) => setTimeout(r, 100));
    await server.stop();
    const err = await inFlight;
    expect([Status.UNAVAILABLE, Status.CANCELLED]).toContain(err.code);
    // The request had reached the server: sending it again could apply it twice.
    expect(requestNotSent(err)).toBe(false);
    server = await startEchoServer(port);
    expect((await channel.unary(Unary, { text: "2" })).text).toBe("2");
  });

  it("destroys a session whose PINGs go unanswered and fails its calls with UNAVAILABLE", async () => {
    const server = await startEchoServer();
    cleanups.push(() => server.stop());
    const relay = await startFreezableRelay(server.address);
    cleanups.push(() => relay.close());
    const channel = channelTo(relay.address, { keepaliveTimeMs: 200, keepaliveTimeoutMs: 300 });
    expect((await channel.unary(Unary, { text: "up" })).text).toBe("up");
    const stream = channel.serverStream(Unary, { text: "held", hang: true });
    const ended = new Promise<unknown>((resolve) => {
      (async () => {
        try {
          for await (const _ of stream);
          resolve(null);
        } catch (e) {
          resolve(e);
        }
      })();
    });
    await new Promise((r) => setTimeout(r, 100));
    relay.freeze();
    const err = (await ended) as GrpcError;
    expect(err.code).toBe(Status.UNAVAILABLE);
    expect(err.details).toContain("did not acknowledge a PING");
  });

  it("reads a Trailers-Only response's status from its headers", async () => {
    const target = await rawServer((s) =>
      s.respond(
        {
          ":status": 200,
          "content-type": "application/grpc",
          "grpc-status": "7",
          "grpc-message": "no%20way",
        },
        { endStream: true },
      ),
    );
    const err = await failure(channelTo(target).unary(Unary, { text: "x" }));
    expect(err.code).toBe(Status.PERMISSION_DENIED);
    expect(err.details).toBe("no way");
  });

  it("maps a non-200 HTTP status as http-grpc-status-mapping.md says", async () => {
    const target = await rawServer((s) => s.respond({ ":status": 404 }, { endStream: true }));
    const err = await failure(channelTo(target).unary(Unary, { text: "x" }));
    expect(err.code).toBe(Status.UNIMPLEMENTED);
    expect(err.details).toBe("Received HTTP status code 404");
  });

  it("reports trailers without grpc-status as UNKNOWN, a stream with no trailers as INTERNAL", async () => {
    const message = Buffer.from([0, 0, 0, 0, 2, 0x7b, 0x7d]); // "{}"
    const noStatus = await rawServer((s) => {
      s.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      s.on("wantTrailers", () => s.sendTrailers({ "x-other": "1" }));
      s.end(message);
    });
    const unknown = await failure(channelTo(noStatus).unary(Unary, { text: "x" }));
    expect(unknown.code).toBe(Status.UNKNOWN);
    expect(unknown.details).toBe("No status information received");

    const noTrailers = await rawServer((s) => {
      s.respond({ ":status": 200, "content-type": "application/grpc" });
      s.end(message);
    });
    const internal = await failure(channelTo(noTrailers).unary(Unary, { text: "x" }));
    expect(internal.code).toBe(Status.INTERNAL);
  });

  it("reports OK without a message as UNIMPLEMENTED, as grpc-js does", async () => {
    const target = await rawServer((s) =>
      s.respond(
        { ":status": 200, "content-type": "application/grpc", "grpc-status": "0" },
        { endStream: true },
      ),
    );
    const err = await failure(channelTo(target).unary(Unary, { text: "x" }));
    expect(err.code).toBe(Status.UNIMPLEMENTED);
    expect(err.details).toBe("No message received");
  });
});
