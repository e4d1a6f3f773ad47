// The server side of server-bench.ts, in its own process so that its CPU can be read from
// /proc: one unary echo method served by @tug/grpc's GrpcServer ("tug"), by grpc-js's Server
// ("grpc-js"), or by a bare node:http2 handler that frames the reply by hand ("http2", the
// floor: what Node's HTTP/2 itself costs); "tug" also serves bench-support's server-streaming
// method (stream-bench.ts). Prints its port on stdout.
//
//   tsx --conditions=source packages/grpc/bench/server-bench-target.ts tug|grpc-js|http2 [exit-on-stdin-end]
//
// With exit-on-stdin-end it exits (normally, so that --cpu-prof writes its profile) when its
// stdin closes.

import { createServer } from "node:http2";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { GrpcServer } from "../src/index.js";
import { echo, echoService, streamMessages, streamService } from "./bench-support.js";

const kind = process.argv[2];
if (process.argv[3] === "exit-on-stdin-end") {
  process.stdin.on("end", () => process.exit(0));
  process.stdin.resume();
}
if (kind === "tug") {
  const server = new GrpcServer();
  server.addService(echoService, { Echo: echo });
  server.addService(streamService, { Stream: streamMessages });
  console.log(await server.listen("127.0.0.1:0"));
} else if (kind === "grpc-js") {
  const server = new Server();
  server.addService(echoService, { Echo: echo });
  server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, port) => {
    if (e !== null) throw e;
    console.log(port);
  });
} else if (kind === "http2") {
  const server = createServer();
  server.on("stream", (stream) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      stream.respond(
        { ":status": 200, "content-type": "application/grpc" },
        { waitForTrailers: true },
      );
      stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(Buffer.concat(chunks));
    });
  });
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    console.log(typeof address === "object" && address !== null ? address.port : 0);
  });
} else {
  throw new Error(`server kind must be tug, grpc-js or http2, got ${JSON.stringify(kind)}`);
}
