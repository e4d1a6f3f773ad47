// acceptByAuthority: a connection reaches Node's HTTP/2 natively (the socket itself, with the
// bytes read to decide put back) unless its first request's :authority carries a scheme to
// cut. Clients that wait for the server's SETTINGS before any request (grpc-js, Go gRPC as in
// etcdctl) get them at once, and the ack of those SETTINGS never reaches nghttp2.

import { once } from "node:events";
import http2 from "node:http2";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { credentials, makeGenericClientConstructor, type ServiceError } from "@grpc/grpc-js";
import { GrpcServer } from "@tug/grpc";
import { afterEach, describe, expect, it } from "vitest";
import {
  acceptByAuthority,
  type ConnectionPath,
  FIRST_HEADERS_WAIT_MS,
} from "../../src/api/authority-scheme.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An HTTP/2 server behind acceptByAuthority that answers each request with its :authority. */
async function start() {
  const paths: ConnectionPath[] = [];
  const h2 = http2.createServer();
  h2.on("stream", (stream, headers) => {
    stream.respond({ ":status": 200 });
    stream.end(String(headers[":authority"]));
  });
  const sockets = new Set<Socket>();
  const tcp: Server = createServer((socket) => {
    sockets.add(socket);
    acceptByAuthority(socket, (connection, path) => {
      paths.push(path);
      h2.emit("connection", connection);
    });
  });
  tcp.listen(0, "127.0.0.1");
  await once(tcp, "listening");
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    h2.close();
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
  });
  return { port: (tcp.address() as AddressInfo).port, paths };
}

async function requests(port: number, authorities: string[]): Promise<string[]> {
  const client = http2.connect(`http://127.0.0.1:${port}`);
  cleanups.push(() => client.destroy());
  const seen: string[] = [];
  for (const authority of authorities) {
    const req = client.request({ ":path": "/", ":authority": authority });
    req.end();
    let body = "";
    req.on("data", (d: Buffer) => {
      body += d.toString();
    });
    await once(req, "end");
    seen.push(body);
  }
  return seen;
}

describe("acceptByAuthority", () => {
  it("gives a host:port connection to HTTP/2 natively, bytes read included", async () => {
    const { port, paths } = await start();
    const seen = await requests(port, ["127.0.0.1:2379", "127.0.0.1:2379", "other:1"]);
    expect(seen).toEqual(["127.0.0.1:2379", "127.0.0.1:2379", "other:1"]);
    expect(paths).toEqual(["native"]);
  });

  it("puts a connection whose first :authority is a URL through the rewriter", async () => {
    const { port, paths } = await start();
    const seen = await requests(port, ["http://127.0.0.1:2379", "http://127.0.0.1:2379"]);
    expect(seen).toEqual(["127.0.0.1:2379", "127.0.0.1:2379"]);
    expect(paths).toEqual(["rewritten"]);
  });

  it("serves grpc-js, which waits for the server's SETTINGS, natively", async () => {
    const paths: ConnectionPath[] = [];
    const json = (v: unknown) => Buffer.from(JSON.stringify(v));
    const parse = (b: Buffer): unknown => JSON.parse(b.toString());
    const echo = {
      path: "/test.Echo/Echo",
      requestStream: false,
      responseStream: false,
      requestSerialize: json,
      requestDeserialize: parse,
      responseSerialize: json,
      responseDeserialize: parse,
      originalName: "Echo",
    };
    const server = new GrpcServer();
    server.addService(
      { Echo: echo },
      {
        Echo: (call: { request: unknown }, cb: (e: null, v: unknown) => void) =>
          cb(null, call.request),
      },
    );
    cleanups.push(() => server.forceShutdown());
    const port = await server.listen("127.0.0.1:0", (socket) =>
      acceptByAuthority(socket, (connection, path) => {
        paths.push(path);
        server.acceptConnection(connection);
      }),
    );
    const Client = makeGenericClientConstructor({ Echo: echo }, "Echo");
    const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
    cleanups.push(() => client.close());
    for (let i = 0; i < 5; i++) {
      const reply = await new Promise<unknown>((resolve, reject) =>
        client.makeUnaryRequest(echo.path, json, parse, { i }, (e: ServiceError | null, v) =>
          e ? reject(e) : resolve(v),
        ),
      );
      expect(reply).toEqual({ i });
    }
    expect(paths).toEqual(["native"]);
  });

  it("sends the server's SETTINGS at once, and gives a silent client the rewriter", async () => {
    const { port, paths } = await start();
    const socket = connect(port, "127.0.0.1");
    cleanups.push(() => socket.destroy());
    await once(socket, "connect");
    // The client connection preface and an empty SETTINGS frame, then nothing.
    socket.write(Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1"));
    socket.write(Buffer.from("000000040000000000", "hex"));
    const [first] = (await once(socket, "data")) as [Buffer];
    // The server's preface: a SETTINGS frame (type 4) on stream 0, before any decision.
    expect(first[3]).toBe(4);
    expect(first.readUInt32BE(5)).toBe(0);
    expect(paths).toEqual([]);
    const deadline = Date.now() + FIRST_HEADERS_WAIT_MS + 10_000;
    while (paths.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(paths).toEqual(["rewritten"]);
  });
});
