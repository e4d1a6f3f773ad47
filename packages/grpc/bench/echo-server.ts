// The server side of client-bench.ts, in its own process so that its CPU is not counted as
// the client's: a grpc-js server whose one unary method answers with the request's bytes.
// Prints its port on stdout.

import { Server, ServerCredentials } from "@grpc/grpc-js";
import { echo, echoService } from "./bench-support.js";

const server = new Server();
server.addService(echoService, { Echo: echo });
server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, port) => {
  if (e !== null) throw e;
  process.stdout.write(`${port}\n`);
});
process.on("SIGTERM", () => server.forceShutdown());
