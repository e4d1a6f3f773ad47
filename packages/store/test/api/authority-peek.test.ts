// acceptByAuthority: a connection reaches Node's HTTP/2 natively (the socket itself, with the
// bytes read to decide put back) unless its first request's :authority carries a scheme to
// cut, and a client that waits for the server's SETTINGS before any request (as Go gRPC
// clients do) is not left waiting.

import { once } from "node:events";
import http2 from "node:http2";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
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

  it("answers a client that waits for the server's SETTINGS, through the rewriter", async () => {
    const { port, paths } = await start();
    const socket = connect(port, "127.0.0.1");
    cleanups.push(() => socket.destroy());
    await once(socket, "connect");
    const sentAt = Date.now();
    // The client connection preface and an empty SETTINGS frame, then nothing.
    socket.write(Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1"));
    socket.write(Buffer.from("000000040000000000", "hex"));
    const [first] = (await once(socket, "data")) as [Buffer];
    // The server's preface: a SETTINGS frame (type 4) on stream 0.
    expect(first[3]).toBe(4);
    expect(first.readUInt32BE(5)).toBe(0);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(FIRST_HEADERS_WAIT_MS - 5);
    expect(paths).toEqual(["rewritten"]);
  });
});
