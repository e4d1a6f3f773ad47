// The server side of client-bench.ts, in its own process so that its CPU is not counted as
// the client's: a grpc-js server whose one unary method answers with the request's bytes.
// Prints its port on stdout.

import { Server, ServerCredentials, type ServiceDefinition } from "@grpc/grpc-js";

const identity = (b: Buffer) => b;

export const benchService = {
  Echo: {
    path: "/bench.Bench/Echo",
    requestStream: false,
    responseStream: false,
    originalName: "Echo",
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
} satisfies ServiceDefinition;

const server = new Server();
server.addService(benchService, {
  Echo: (call: { request: Buffer }, cb: (e: null, r: Buffer) => void) => cb(null, call.request),
});
server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, port) => {
  if (e !== null) throw e;
  process.stdout.write(`${port}\n`);
});
process.on("SIGTERM", () => server.forceShutdown());
